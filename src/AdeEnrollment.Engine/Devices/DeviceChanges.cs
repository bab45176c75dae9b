using AdeEnrollment.Engine.Storage;

namespace AdeEnrollment.Engine.Devices;

/// <summary>
/// Which device properties Apple's record of a device changes against what the store holds: the detail of a Modified
/// event (and whether there is one).
/// </summary>
internal static class DeviceChanges
{
    /// <summary>
    /// The names of the properties <paramref name="now"/> changes against <paramref name="before"/>, joined with ", "
    /// (empty: nothing changed); AbmState changes when the stored device was removed from ABM.
    /// </summary>
    public static string Of(SyncDeviceRecord before, bool wasRemoved, SyncDeviceRecord now)
    {
        List<string>? changed = null;
        void Compare(string? a, string? b, string name)
        {
            if (!string.Equals(a, b, StringComparison.Ordinal)) (changed ??= []).Add(name);
        }

        void CompareValue<T>(T? a, T? b, string name) where T : struct
        {
            if (!Nullable.Equals(a, b)) (changed ??= []).Add(name);
        }

        Compare(before.Model, now.Model, "Model");
        Compare(before.Description, now.Description, "Description");
        Compare(before.Color, now.Color, "Color");
        Compare(before.AssetTag, now.AssetTag, "AssetTag");
        Compare(before.Os, now.Os, "OS");
        Compare(before.DeviceFamily, now.DeviceFamily, "DeviceFamily");
        Compare(before.ProfileUuid, now.ProfileUuid, "EnrollmentProfile");
        Compare(before.ProfileStatus, now.ProfileStatus, "ProfileStatus");
        Compare(before.AssignedBy, now.AssignedBy, "AssignedBy");
        CompareValue(Ms(before.ProfileAssignedAt), Ms(now.ProfileAssignedAt), "ProfileAssignedAt");
        CompareValue(Ms(before.ProfilePushedAt), Ms(now.ProfilePushedAt), "ProfilePushedAt");
        CompareValue(Ms(before.AssignedAt), Ms(now.AssignedAt), "AssignedAt");
        CompareValue(Ms(before.MdmMigrationDeadline), Ms(now.MdmMigrationDeadline), "MdmMigrationDeadline");
        CompareValue(before.IsReplacementDevice, now.IsReplacementDevice, "IsReplacementDevice");
        if (wasRemoved)
        {
            (changed ??= []).Add("AbmState");
        }

        return changed is null ? "" : string.Join(", ", changed);
    }

    // Times are compared as the store keeps them: to the millisecond.
    private static long? Ms(DateTimeOffset? time) => time?.ToUnixTimeMilliseconds();
}

namespace AdeEnrollment.Engine.Devices;

/// <summary>What a sync page says about one device (Apple's fields, already parsed).</summary>
internal sealed record DeviceRecord(
    string SerialNumber,
    string? Model,
    string? Description,
    string? Color,
    string? AssetTag,
    string? Os,
    string? DeviceFamily,
    string? ProfileUuid,
    string? ProfileStatus,
    DateTimeOffset? ProfileAssignTime,
    DateTimeOffset? ProfilePushTime,
    DateTimeOffset? DeviceAssignedDate,
    string? DeviceAssignedBy,
    string? OpType,
    DateTimeOffset? OpDate);

/// <summary>Counts of what one page changed in the store.</summary>
internal struct PageCounts
{
    public int Added;
    public int Modified;
    public int Removed;

    /// <summary>Serials that arrived without a profile (candidates for the default profile).</summary>
    public List<string>? WithoutProfile;
}

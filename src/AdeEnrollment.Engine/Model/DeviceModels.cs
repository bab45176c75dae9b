using AdeEnrollment.Engine.Rules;
namespace AdeEnrollment.Engine.Model;

/// <summary>Apple's view of the profile on a device (profile_status).</summary>
public enum AdeProfileStatus
{
    Empty,
    Assigned,
    Pushed,
    Removed,
}

public enum AdeAbmState
{
    /// <summary>Apple assigns the device to this token's MDM server.</summary>
    Assigned,

    /// <summary>Released or unassigned in ABM; kept until <see cref="AdeDevice.PurgeAfter"/>.</summary>
    RemovedFromAbm,
}

/// <summary>A device as the engine knows it from syncs with Apple.</summary>
public sealed class AdeDevice
{
    internal AdeDevice() { }

    public string SerialNumber { get; internal init; } = "";

    public string? Model { get; internal init; }

    public string? Description { get; internal init; }

    public string? Color { get; internal init; }

    public string? AssetTag { get; internal init; }

    public string? OS { get; internal init; }

    public string? DeviceFamily { get; internal init; }

    /// <summary>The platform read from DeviceFamily (or OS); null when Apple did not say (assignment then needs -Force).</summary>
    public Model.DevicePlatform? Platform => DevicePlatforms.Of(DeviceFamily, OS);

    /// <summary>The enrollment profile's name, or an empty string when none: always filled (it feeds dynamic groups).</summary>
    public string EnrollmentProfileName { get; internal init; } = "";

    public Guid? ProfileId { get; internal init; }

    public AdeProfileStatus ProfileStatus { get; internal init; }

    public DateTimeOffset? ProfileAssignedAt { get; internal init; }

    public DateTimeOffset? ProfilePushedAt { get; internal init; }

    /// <summary>When the device was assigned to the MDM server in ABM (device_assigned_date).</summary>
    public DateTimeOffset? AssignedAt { get; internal init; }

    public string? AssignedBy { get; internal init; }

    public AdeAbmState AbmState { get; internal init; }

    public DateTimeOffset? RemovedAt { get; internal init; }

    public DateTimeOffset? PurgeAfter { get; internal init; }

    /// <summary>The date by which Apple requires the device to finish migrating to this MDM server (mdm_migration_deadline).</summary>
    public DateTimeOffset? MdmMigrationDeadline { get; internal init; }

    /// <summary>Apple marks the device as a replacement (AppleCare) for another one; null when Apple did not say.</summary>
    public bool? IsReplacementDevice { get; internal init; }

    /// <summary>When AdeEnrollment last asked Apple to assign a profile to the device.</summary>
    public DateTimeOffset? LastAssignmentAt { get; internal init; }

    /// <summary>The profile of the last assignment attempt.</summary>
    public string? LastAssignmentProfile { get; internal init; }

    /// <summary>Apple's answer to the last assignment attempt: SUCCESS, FAILED, THROTTLED or NOT_ACCESSIBLE.</summary>
    public string? LastAssignmentResult { get; internal init; }

    /// <summary>When the device was released (disowned) from the organisation with Unregister-AdeDevice.</summary>
    public DateTimeOffset? ReleasedAt { get; internal init; }

    public string Token { get; internal init; } = "";

    public Guid TokenId { get; internal init; }

    public IReadOnlyList<string> ScopeTags { get; internal init; } = ValueList<string>.Empty;

    public override string ToString() => SerialNumber;
}

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
    public Profiles.DevicePlatform? Platform => Profiles.DevicePlatforms.Of(DeviceFamily, OS);

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

    public string Token { get; internal init; } = "";

    public Guid TokenId { get; internal init; }

    public IReadOnlyList<string> ScopeTags { get; internal init; } = ValueList<string>.Empty;

    public override string ToString() => SerialNumber;
}

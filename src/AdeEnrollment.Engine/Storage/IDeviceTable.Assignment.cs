namespace AdeEnrollment.Engine.Storage;

/// <summary>Table device, the assignment side: what assigning a profile reads and records on devices.</summary>
internal partial interface IDeviceTable
{
    /// <summary>
    /// For a batch of serials (at most a thousand) on one token, what an assignment needs to know of each device the
    /// store has: the profile it holds, when Apple last failed it, and its platform facts. Serials the store does not
    /// know on the token are absent from the result.
    /// </summary>
    IReadOnlyList<DeviceAssignmentState> GetAssignmentStates(Guid tokenId, IReadOnlyCollection<string> serials);

    /// <summary>
    /// Records Apple's answers to one assignment request on the devices: every device gets the attempt (when, which
    /// profile, Apple's answer as given); <see cref="AssignmentEffect.Assigned"/> also sets the profile (its id,
    /// Apple's UUID, status 'assigned', assign time) and clears an earlier failure; <see cref="AssignmentEffect.Failed"/>
    /// sets the failure time. Serials the store does not know on the token are skipped.
    /// </summary>
    void RecordAssignments(AssignmentRecord record);

    /// <summary>
    /// Before an assignment of many devices: when much of table device changed since the query planner last sampled
    /// it (a full sync that just brought in every device), samples it again, so that each batch is planned as a
    /// thousand key lookups rather than from a picture of a nearly empty table. Returns whether it sampled. A store
    /// whose planner keeps no such picture (SQLite here: its plans come from the schema) does nothing.
    /// </summary>
    bool RefreshPlannerStatistics();

    /// <summary>The serials of the devices still in ABM (not removed) that hold the profile.</summary>
    IReadOnlyList<string> GetProfileHolders(Guid profileId);

    /// <summary>Devices still in ABM that hold the profile, and of those the ones that already received it (status 'pushed').</summary>
    ProfileHolderCounts CountProfileHolders(Guid profileId);

    /// <summary>Devices already removed from ABM stop referring to the profile (before it is deleted); returns how many.</summary>
    int ReleaseProfileFromRemovedDevices(Guid profileId);
}

/// <summary>One device's facts for an assignment. <see cref="ProfileName"/>: the profile it holds now (null: none).</summary>
internal sealed record DeviceAssignmentState(string SerialNumber, string? ProfileName, DateTimeOffset? AssignFailedAt, string? DeviceFamily, string? Os);

/// <summary>Apple's answers to one assignment request, one outcome per answer (each serial in one outcome only).</summary>
internal sealed record AssignmentRecord(
    Guid TokenId,
    Guid ProfileId,
    string ProfileName,
    string AppleProfileUuid,
    DateTimeOffset At,
    IReadOnlyList<AssignmentOutcome> Outcomes);

/// <summary>The devices that got one answer from Apple (<see cref="Result"/>, stored as the last attempt's result) and what it does to them.</summary>
internal sealed record AssignmentOutcome(string Result, AssignmentEffect Effect, IReadOnlyCollection<string> Serials);

internal enum AssignmentEffect
{
    /// <summary>Only the attempt is recorded (Apple throttled the request, or the device is not accessible).</summary>
    AttemptOnly,

    /// <summary>The device holds the profile now.</summary>
    Assigned,

    /// <summary>Apple failed the device: no new attempt for a while.</summary>
    Failed,
}

internal readonly record struct ProfileHolderCounts(long Holders, long Pushed);

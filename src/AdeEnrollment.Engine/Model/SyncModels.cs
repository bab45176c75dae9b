using AdeEnrollment.Engine.Sync;

namespace AdeEnrollment.Engine.Model;

public enum AdeSyncStatus
{
    Succeeded,
    Failed,

    /// <summary>Sync-AdeDevice -IfDue found that no sync is due yet; nothing was asked of Apple.</summary>
    NotDue,

    /// <summary>The sync is running (history only).</summary>
    Running,

    /// <summary>
    /// The sync was stopped (Ctrl+C, a stopped pipeline) before it finished. Not a failure: the pages it committed are
    /// kept and the next sync continues from them, without the full sync that follows a failed one.
    /// </summary>
    Stopped,
}

/// <summary>The result of one sync (or of an -IfDue check that found nothing due).</summary>
public sealed class AdeSyncResult
{
    internal AdeSyncResult() { }

    public string Token { get; internal init; } = "";

    public Guid TokenId { get; internal init; }

    public AdeSyncKind Kind { get; internal init; }

    public AdeSyncTrigger Trigger { get; internal init; }

    public AdeSyncStatus Status { get; internal init; }

    public int Added { get; internal init; }

    public int Modified { get; internal init; }

    public int Removed { get; internal init; }

    /// <summary>Devices deleted because their 45 days after removal from ABM had passed.</summary>
    public int Purged { get; internal init; }

    /// <summary>Devices that arrived without a profile and were given the token's default profile.</summary>
    public int DefaultProfileAssigned { get; internal init; }

    /// <summary>
    /// Devices that arrived without a profile and got none because their platform has no default profile on the
    /// token (or their platform is unknown, or the iOS default is a Shared iPad profile and they are not iPads), per platform.
    /// </summary>
    public IReadOnlyList<AdePlatformCount> WithoutDefaultProfile { get; internal init; } = ValueList<AdePlatformCount>.Empty;

    public int Pages { get; internal init; }

    public DateTimeOffset StartedAt { get; internal init; }

    public TimeSpan Duration { get; internal init; }

    public long DeviceCount { get; internal init; }

    /// <summary>When the next manual sync is allowed. Null in the history of Get-AdeSyncStatus (it is not kept there).</summary>
    public DateTimeOffset? NextManualSyncAt { get; internal init; }

    /// <summary>When the next full sync is allowed. Null in the history of Get-AdeSyncStatus.</summary>
    public DateTimeOffset? NextFullSyncAt { get; internal init; }

    /// <summary>When Sync-AdeDevice -IfDue (a scheduler) will really sync this token next. Not kept in the history.</summary>
    public DateTimeOffset? NextAutomaticSyncAt { get; internal init; }

    /// <summary>Apple delivers about 3000 devices a minute to an MDM: how long the token's devices still assigned in ABM take to arrive.</summary>
    public double ExpectedAbmDeliveryMinutes { get; internal init; }

    /// <summary>
    /// Devices that a completed Apple Business activity (Set-AdeOrgDeviceServer) moved to or from this token's MDM
    /// server within the last day, which Apple's DEP sync has not shown yet: Apple shows them after a delay, and a
    /// later sync brings them. Not kept in the history.
    /// </summary>
    public int PendingFromActivities { get; internal init; }

    /// <summary>The error ID of a failed sync.</summary>
    public string? ErrorId { get; internal init; }

    public string? ErrorMessage { get; internal init; }

    public override string ToString() => $"{Token} {Kind} {Status}";
}

/// <summary>Get-AdeSyncStatus: the sync state of one token.</summary>
public sealed class AdeSyncState
{
    internal AdeSyncState() { }

    public string Token { get; internal init; } = "";

    public Guid TokenId { get; internal init; }

    public DateTimeOffset? LastSyncAt { get; internal init; }

    public AdeSyncStatus? LastStatus { get; internal init; }

    public DateTimeOffset? LastSuccessfulSyncAt { get; internal init; }

    public DateTimeOffset? LastFullSyncAt { get; internal init; }

    public bool InProgress { get; internal init; }

    public DateTimeOffset? LeaseStartedAt { get; internal init; }

    public DateTimeOffset? LeaseExpiresAt { get; internal init; }

    public bool NextSyncIsFull { get; internal init; }

    public DateTimeOffset NextManualSyncAt { get; internal init; }

    public DateTimeOffset NextFullSyncAt { get; internal init; }

    public DateTimeOffset NextAutomaticSyncAt { get; internal init; }

    public long DeviceCount { get; internal init; }

    /// <summary>As a sync result's: the token's devices still assigned in ABM at 3000 a minute.</summary>
    public double ExpectedAbmDeliveryMinutes { get; internal init; }

    /// <summary>The last 20 syncs, newest first.</summary>
    public IReadOnlyList<AdeSyncResult> History { get; internal init; } = ValueList<AdeSyncResult>.Empty;

    public override string ToString() => Token;
}

/// <summary>A count of devices of one platform ("Unknown" when Apple did not say).</summary>
public sealed class AdePlatformCount
{
    internal AdePlatformCount() { }

    public string Platform { get; internal init; } = "";

    public int Count { get; internal init; }

    public override string ToString() => $"{Platform}: {Counted.N(Count)}";
}

namespace AdeEnrollment.Engine.Sync;

public enum AdeSyncKind
{
    Full,
    Delta,
}

public enum AdeSyncTrigger
{
    /// <summary>The first sync of a token (always full).</summary>
    First,

    /// <summary>Sync-AdeDevice without -IfDue.</summary>
    Manual,

    /// <summary>Sync-AdeDevice -IfDue: a scheduler's sync, due every 12 hours.</summary>
    Automatic,

    /// <summary>The full sync that follows a failed delta sync or a cursor Apple no longer accepts.</summary>
    Recovery,
}

/// <summary>What a token's sync history says about the next sync (read from the store, per token).</summary>
public sealed record SyncHistoryState(
    DateTimeOffset? LastSyncStartedAt,
    DateTimeOffset? LastSuccessfulSyncAt,
    DateTimeOffset? LastFullSyncAt,
    bool NextMustBeFull);

/// <summary>The decision for one request to sync.</summary>
public sealed record SyncDecision(bool Run, AdeSyncKind Kind, AdeSyncTrigger Trigger, DateTimeOffset? AllowedAt, string? RefusedBy);

/// <summary>
/// Intune's sync rules (SPEC §5), as pure functions of the token's history and the clock:
/// first sync full; full at most once every 7 days; manual delta at most once per 15 minutes; automatic (-IfDue) every
/// 12 hours; after a failed delta sync the next sync is full whatever triggers it, not held back by the 7-day rule.
/// </summary>
public static class SyncPolicy
{
    public static readonly TimeSpan ManualInterval = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan FullInterval = TimeSpan.FromDays(7);
    public static readonly TimeSpan AutomaticInterval = TimeSpan.FromHours(12);
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromMinutes(15);

    public const string ManualSyncTooSoon = nameof(ManualSyncTooSoon);
    public const string FullSyncTooSoon = nameof(FullSyncTooSoon);
    public const string NotDue = nameof(NotDue);

    public static SyncDecision Decide(SyncHistoryState state, DateTimeOffset now, bool full, bool ifDue)
    {
        if (state.LastSyncStartedAt is null)
        {
            return new SyncDecision(true, AdeSyncKind.Full, AdeSyncTrigger.First, null, null);
        }

        // Never more than one attempt per 15 minutes, whatever asks for it: protects Apple's service.
        var manualAllowed = state.LastSyncStartedAt.Value + ManualInterval;
        if (ifDue)
        {
            var dueAt = (state.LastSuccessfulSyncAt ?? state.LastSyncStartedAt.Value) + AutomaticInterval;
            if (state.NextMustBeFull)
            {
                dueAt = manualAllowed; // recovery: retry as soon as the rate limit allows
            }

            var allowed = dueAt > manualAllowed ? dueAt : manualAllowed;
            if (now < allowed)
            {
                return new SyncDecision(false, state.NextMustBeFull ? AdeSyncKind.Full : AdeSyncKind.Delta, AdeSyncTrigger.Automatic, allowed, NotDue);
            }

            return state.NextMustBeFull
                ? new SyncDecision(true, AdeSyncKind.Full, AdeSyncTrigger.Recovery, null, null)
                : new SyncDecision(true, AdeSyncKind.Delta, AdeSyncTrigger.Automatic, null, null);
        }

        if (full && !state.NextMustBeFull && state.LastFullSyncAt is not null && now < state.LastFullSyncAt.Value + FullInterval)
        {
            return new SyncDecision(false, AdeSyncKind.Full, AdeSyncTrigger.Manual, Max(state.LastFullSyncAt.Value + FullInterval, manualAllowed), FullSyncTooSoon);
        }

        if (now < manualAllowed)
        {
            return new SyncDecision(false, state.NextMustBeFull || full ? AdeSyncKind.Full : AdeSyncKind.Delta, AdeSyncTrigger.Manual, manualAllowed, ManualSyncTooSoon);
        }

        if (state.NextMustBeFull)
        {
            return new SyncDecision(true, AdeSyncKind.Full, AdeSyncTrigger.Recovery, null, null);
        }

        if (full)
        {
            return new SyncDecision(true, AdeSyncKind.Full, AdeSyncTrigger.Manual, null, null);
        }

        return new SyncDecision(true, AdeSyncKind.Delta, AdeSyncTrigger.Manual, null, null);
    }

    /// <summary>When the next manual delta sync and the next full sync are allowed (for results and Get-AdeSyncStatus).</summary>
    public static (DateTimeOffset NextManual, DateTimeOffset NextFull) NextAllowed(SyncHistoryState state, DateTimeOffset now)
    {
        var manual = state.LastSyncStartedAt is null ? now : Max(now, state.LastSyncStartedAt.Value + ManualInterval);
        var full = state.LastFullSyncAt is null || state.NextMustBeFull ? manual : Max(manual, state.LastFullSyncAt.Value + FullInterval);
        return (manual, full);
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}

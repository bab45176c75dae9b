using AdeEnrollment.Engine.Model;
namespace AdeEnrollment.Engine.Rules;

/// <summary>What a token's sync history says about the next sync (read from the store, per token).</summary>
public sealed record SyncHistoryState(
    DateTimeOffset? LastSyncStartedAt,
    DateTimeOffset? LastSuccessfulSyncAt,
    DateTimeOffset? LastFullSyncAt,
    bool NextMustBeFull);

/// <summary>
/// The decision for one request to sync. <paramref name="ClockSkew"/>: the history holds times in the future (the
/// clock went backwards); they were not allowed to hold the sync back, and the caller should say so once.
/// </summary>
public sealed record SyncDecision(bool Run, AdeSyncKind Kind, AdeSyncTrigger Trigger, DateTimeOffset? AllowedAt, string? RefusedBy, bool ClockSkew = false);

/// <summary>
/// Intune's sync rules (about_AdeEnrollment.md, "Device sync"), as pure functions of the token's history and the clock:
/// first sync full; full at most once every 7 days; manual delta at most once per 15 minutes; automatic (-IfDue) every
/// 12 hours; after a failed delta sync the next sync is full whatever triggers it, not held back by the 7-day rule.
/// Recorded times from the future (a clock that went backwards) hold nothing back (<see cref="WithoutClockSkew"/>).
/// </summary>
public static class SyncPolicy
{
    public static readonly TimeSpan ManualInterval = TimeSpan.FromMinutes(15);
    public static readonly TimeSpan FullInterval = TimeSpan.FromDays(7);
    public static readonly TimeSpan AutomaticInterval = TimeSpan.FromHours(12);
    public static readonly TimeSpan LeaseDuration = TimeSpan.FromMinutes(15);

    /// <summary>How far a recorded time may lie in the future before it counts as a clock problem, not as history.</summary>
    public static readonly TimeSpan MaxClockSkew = TimeSpan.FromMinutes(5);

    public const string ManualSyncTooSoon = nameof(ManualSyncTooSoon);
    public const string FullSyncTooSoon = nameof(FullSyncTooSoon);
    public const string NotDue = nameof(NotDue);

    /// <summary>
    /// A recorded sync time more than <see cref="MaxClockSkew"/> ahead of <paramref name="now"/> cannot be history: the
    /// clock went backwards (or was ahead when the time was recorded). Such a time must not lock a token out for as long
    /// as the clock was wrong, so it is read as "long enough ago" and holds nothing back. True when a time was dropped.
    /// </summary>
    public static bool HasClockSkew(SyncHistoryState state, DateTimeOffset now)
        => IsFuture(state.LastSyncStartedAt, now) || IsFuture(state.LastSuccessfulSyncAt, now) || IsFuture(state.LastFullSyncAt, now);

    /// <summary>The history with every time from the future replaced by a time that holds nothing back.</summary>
    public static SyncHistoryState WithoutClockSkew(SyncHistoryState state, DateTimeOffset now)
    {
        if (!HasClockSkew(state, now))
        {
            return state;
        }

        // Long enough ago for every rule (the 7-day full rule is the longest), but still "a sync happened".
        var past = now - FullInterval;
        return state with
        {
            LastSyncStartedAt = IsFuture(state.LastSyncStartedAt, now) ? past : state.LastSyncStartedAt,
            LastSuccessfulSyncAt = IsFuture(state.LastSuccessfulSyncAt, now) ? past : state.LastSuccessfulSyncAt,
            LastFullSyncAt = IsFuture(state.LastFullSyncAt, now) ? past : state.LastFullSyncAt,
        };
    }

    private static bool IsFuture(DateTimeOffset? time, DateTimeOffset now) => time > now + MaxClockSkew;

    /// <summary>
    /// Whether a sync's lease ending at <paramref name="expiresAt"/> still holds the token at <paramref name="now"/>.
    /// A lease never ends more than <see cref="LeaseDuration"/> after it was taken; one that ends further ahead than
    /// that (and <see cref="MaxClockSkew"/>) was taken before the clock went backwards, and holding the token until the
    /// clock catches up would lock it out for as long as the clock was wrong: it counts as lapsed, as an expired one does.
    /// </summary>
    public static bool LeaseHolds(DateTimeOffset? expiresAt, DateTimeOffset now)
        => expiresAt > now && expiresAt <= now + LeaseDuration + MaxClockSkew;

    /// <summary>
    /// What removing the token, or one of its profiles, meets while a sync holds the token's lease (in this or another
    /// process): SyncInProgress. The sync writes its devices, and offers the default profiles it read when it started,
    /// page after page; what it needs may not disappear under it. Null when no lease holds.
    /// </summary>
    public static Errors.AdeException? RefusalWhileSyncRuns(string tokenName, string? leaseId, DateTimeOffset? expiresAt, DateTimeOffset now)
        => leaseId is not null && LeaseHolds(expiresAt, now)
            ? Errors.ErrorCatalog.SyncInProgress(tokenName, expiresAt!.Value - LeaseDuration, expiresAt.Value)
            : null;

    public static SyncDecision Decide(SyncHistoryState state, DateTimeOffset now, bool full, bool ifDue)
    {
        if (HasClockSkew(state, now))
        {
            return DecideInTime(WithoutClockSkew(state, now), now, full, ifDue) with { ClockSkew = true };
        }

        return DecideInTime(state, now, full, ifDue);
    }

    private static SyncDecision DecideInTime(SyncHistoryState state, DateTimeOffset now, bool full, bool ifDue)
    {
        if (state.LastSyncStartedAt is null)
        {
            return new SyncDecision(true, AdeSyncKind.Full, AdeSyncTrigger.First, null, null);
        }

        // Never more than one attempt per 15 minutes, whatever asks for it: protects Apple's service.
        var manualAllowed = state.LastSyncStartedAt.Value + ManualInterval;
        if (ifDue)
        {
            // a token whose first sync never finished, or whose last attempt did not finish (failed: a Recovery sync; stopped:
            // continued): as soon as the rate limit allows. A successful run records its end, after its start; a full sync
            // it demanded (its default profiles could not be offered) runs at the usual cadence, not every 15 minutes.
            var unfinished = state.LastSuccessfulSyncAt is null || state.LastSyncStartedAt > state.LastSuccessfulSyncAt;
            var dueAt = unfinished ? manualAllowed : state.LastSuccessfulSyncAt!.Value + AutomaticInterval;

            var allowed = dueAt > manualAllowed ? dueAt : manualAllowed;
            if (now < allowed)
            {
                // the kind and trigger of the sync that will run when it is due
                return state.NextMustBeFull
                    ? new SyncDecision(false, AdeSyncKind.Full, AdeSyncTrigger.Recovery, allowed, NotDue)
                    : new SyncDecision(false, AdeSyncKind.Delta, AdeSyncTrigger.Automatic, allowed, NotDue);
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
        state = WithoutClockSkew(state, now);
        var manual = state.LastSyncStartedAt is null ? now : Max(now, state.LastSyncStartedAt.Value + ManualInterval);
        var full = state.LastFullSyncAt is null || state.NextMustBeFull ? manual : Max(manual, state.LastFullSyncAt.Value + FullInterval);
        return (manual, full);
    }

    /// <summary>When Sync-AdeDevice -IfDue will really sync this token next (now, when it is due already).</summary>
    public static DateTimeOffset NextAutomatic(SyncHistoryState state, DateTimeOffset now)
    {
        var d = Decide(state, now, full: false, ifDue: true);
        return d.Run ? now : d.AllowedAt ?? now;
    }

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;
}

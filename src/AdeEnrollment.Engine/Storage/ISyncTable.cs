using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Storage;

/// <summary>
/// The home of table sync_state and sync_history (the sync lease, cursors and each sync's record). Facts only: whether
/// a lease may be taken, when a sync is due and what a lapsed lease means are the sync service's decisions.
/// </summary>
internal partial interface ISyncTable
{
    /// <summary>The token's sync state, or null before its first sync.</summary>
    SyncStateRow? GetState(Guid tokenId);

    /// <summary>The sync states of these tokens, by token id; a token that never started a sync (or is no token) is left out.</summary>
    IReadOnlyDictionary<Guid, SyncStateRow> GetStates(IReadOnlyCollection<Guid> tokenIds);

    /// <summary>Creates the token's (empty) sync state; returns it.</summary>
    SyncStateRow CreateState(Guid tokenId);

    /// <summary>Forgets the last success and last full sync times when they are later than <paramref name="limit"/> (a clock that went backwards).</summary>
    void DropTimesAfter(Guid tokenId, DateTimeOffset limit);

    /// <summary>Makes the token's next sync a full one (its default profiles could not be offered to the devices of this one).</summary>
    void DemandFullSync(Guid tokenId);

    /// <summary>Takes the lease: records <paramref name="leaseId"/>, when it expires, the history row of the run and when it started.</summary>
    void TakeLease(Guid tokenId, string leaseId, DateTimeOffset expiresAt, long historyId, DateTimeOffset startedAt);

    /// <summary>
    /// Ends the lease <paramref name="leaseId"/> (null: whatever lease the token holds). A successful run records
    /// <paramref name="succeededAt"/> and clears the full-sync demand; a failed or lapsed one (null) demands a full sync
    /// next; with <paramref name="keepFullDemand"/> (a stopped delta) the demand stays as it was. Returns false when the
    /// token held another lease (or none), and then changes nothing.
    /// </summary>
    bool ReleaseLease(Guid tokenId, string? leaseId, DateTimeOffset? succeededAt, bool keepFullDemand = false);

    /// <summary>
    /// Stores the cursor of a committed page, if <paramref name="leaseId"/> is still the token's lease and unexpired at
    /// <paramref name="now"/>; <paramref name="fullCompletedAt"/> (when not null) becomes the last full sync time.
    /// Returns false (and changes nothing) when the lease is no longer held. <paramref name="page"/> (when given) adds
    /// the committed page's counts to its Running history row, so that a run killed later still shows what it committed.
    /// </summary>
    bool SaveCursor(Guid tokenId, string leaseId, DateTimeOffset now, SyncCursor cursor, DateTimeOffset? fullCompletedAt, SyncPageCounts? page = null);

    /// <summary>Adds a Running history row; returns its id (ids increase with every row).</summary>
    long StartHistory(Guid tokenId, AdeSyncKind kind, AdeSyncTrigger trigger, DateTimeOffset startedAt);

    /// <summary>
    /// A run begins: <see cref="StartHistory"/>, then <see cref="TakeLease"/> for that row (on a server store, one
    /// statement). Returns the history row's id.
    /// </summary>
    long StartRun(Guid tokenId, AdeSyncKind kind, AdeSyncTrigger trigger, DateTimeOffset startedAt, string leaseId, DateTimeOffset expiresAt)
    {
        var id = StartHistory(tokenId, kind, trigger, startedAt);
        TakeLease(tokenId, leaseId, expiresAt, id, startedAt);
        return id;
    }

    /// <summary>
    /// Records how a Running history row ended (Succeeded or Failed). A row that is no longer Running (a lapsed
    /// lease already marked it Failed) is left as it is: returns false.
    /// </summary>
    bool FinishHistory(long historyId, SyncHistoryEnd end);

    /// <summary>
    /// Marks a Running history row whose lease lapsed (its process died or hung) Failed with this error, keeping the
    /// counts its committed pages added (<see cref="SaveCursor"/>). Returns false for a row no longer Running.
    /// </summary>
    bool FailLapsedRun(long historyId, DateTimeOffset finishedAt, string errorId, string errorMessage);

    /// <summary>
    /// A run ends: <see cref="FinishHistory"/> for its row, then <see cref="ReleaseLease"/> of <paramref name="leaseId"/>
    /// (on a server store, one statement). Returns the token's state after it, or null when the token held another lease
    /// or none (the lease is then left as it is; the history row is recorded either way).
    /// </summary>
    SyncStateRow? FinishRun(Guid tokenId, string leaseId, long historyId, SyncHistoryEnd end, DateTimeOffset? succeededAt, bool keepFullDemand = false)
    {
        FinishHistory(historyId, end);
        return ReleaseLease(tokenId, leaseId, succeededAt, keepFullDemand) ? GetState(tokenId) : null;
    }

    /// <summary>The token's last <paramref name="count"/> history rows, newest first.</summary>
    IReadOnlyList<SyncHistoryRow> GetHistory(Guid tokenId, int count);
}

/// <summary>Where a token's sync continues: Apple's cursor, whether it belongs to a full fetch in progress, and that fetch's history id.</summary>
internal sealed record SyncCursor(string Cursor, SyncCursorKind Kind, long? FullSyncId);

/// <summary>One committed page's counts, added to its run's history row (<see cref="ISyncTable.SaveCursor"/>).</summary>
internal sealed record SyncPageCounts(long HistoryId, int Added, int Modified, int Removed, int DefaultAssigned);

/// <summary>What an Apple cursor continues: a full fetch in progress, or the delta sync.</summary>
internal enum SyncCursorKind
{
    Fetch,
    Sync,
}

/// <summary>One row of sync_state.</summary>
internal sealed record SyncStateRow(
    DateTimeOffset? LastStartedAt,
    DateTimeOffset? LastSuccessAt,
    DateTimeOffset? LastFullAt,
    bool NextMustBeFull,
    SyncCursor? Cursor,
    string? LeaseId,
    DateTimeOffset? LeaseExpiresAt,
    long? LeaseHistoryId)
{
    public static readonly SyncStateRow Empty = new(null, null, null, false, null, null, null, null);
}

/// <summary>How a sync ended, for its history row. <see cref="Kind"/> or <see cref="Trigger"/> null keeps what the row started with.</summary>
internal sealed record SyncHistoryEnd(
    AdeSyncStatus Status,
    DateTimeOffset FinishedAt,
    AdeSyncKind? Kind,
    AdeSyncTrigger? Trigger,
    int Added,
    int Modified,
    int Removed,
    int Purged,
    int DefaultAssigned,
    int Pages,
    string? ErrorId,
    string? ErrorMessage);

/// <summary>One row of sync_history.</summary>
internal sealed record SyncHistoryRow(
    long Id,
    AdeSyncKind Kind,
    AdeSyncTrigger Trigger,
    AdeSyncStatus Status,
    DateTimeOffset StartedAt,
    DateTimeOffset? FinishedAt,
    int Added,
    int Modified,
    int Removed,
    int Purged,
    int DefaultAssigned,
    int Pages,
    string? ErrorId,
    string? ErrorMessage);

using AdeEnrollment.Engine.Model;
using Npgsql;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>
/// PostgreSQL: table sync_state and sync_history (the sync lease, cursors and each sync's record). The lease is a row
/// of sync_state: every process and host of the store reads and changes it inside a write, and writes are serialised
/// by the store's write lock (<see cref="PostgresProvider"/>), so "free or expired, then take it" holds at commit.
/// </summary>
internal sealed partial class PostgresSyncTable(NpgsqlConnection connection, NpgsqlTransaction? transaction) : ISyncTable
{
    private readonly NpgsqlConnection connection = connection;
    private readonly NpgsqlTransaction? transaction = transaction;

    public SyncStateRow? GetState(Guid tokenId)
    {
        using var command = connection.Command(transaction, $"SELECT {StateColumns} FROM sync_state WHERE token_id = @t", ("t", tokenId.ToString())).Prepared();
        using var r = command.ExecuteReader();
        return r.Read() ? StateOf(r) : null;
    }

    public IReadOnlyDictionary<Guid, SyncStateRow> GetStates(IReadOnlyCollection<Guid> tokenIds)
    {
        var states = new Dictionary<Guid, SyncStateRow>(tokenIds.Count);
        if (tokenIds.Count == 0)
        {
            return states;
        }

        using var command = connection.Command(transaction,
            """
            SELECT token_id, last_started_at, last_success_at, last_full_at, next_must_be_full, cursor, cursor_kind, full_sync_id,
                   lease_id, lease_expires_at, lease_history_id
            FROM sync_state WHERE token_id = ANY(@t)
            """, ("t", tokenIds.Select(i => i.ToString()).ToArray()));
        using var r = command.ExecuteReader();
        var token = r.GetOrdinal("token_id");
        while (r.Read())
        {
            states[Guid.Parse(r.GetString(token))] = StateOf(r);
        }

        return states;
    }

    /// <summary>The state of a row that holds sync_state's columns by name (also the token list's -IfDue read).</summary>
    internal static SyncStateRow StateOf(NpgsqlDataReader r)
    {
        var cursor = r.GetStringOrNull(r.GetOrdinal("cursor"));
        var kind = r.GetStringOrNull(r.GetOrdinal("cursor_kind"));
        return new SyncStateRow(
            Time(r, "last_started_at"),
            Time(r, "last_success_at"),
            Time(r, "last_full_at"),
            r.GetInt64(r.GetOrdinal("next_must_be_full")) != 0,
            cursor is null ? null : new SyncCursor(cursor, kind == "fetch" ? SyncCursorKind.Fetch : SyncCursorKind.Sync, r.GetInt64OrNull(r.GetOrdinal("full_sync_id"))),
            r.GetStringOrNull(r.GetOrdinal("lease_id")),
            Time(r, "lease_expires_at"),
            r.GetInt64OrNull(r.GetOrdinal("lease_history_id")));
    }

    public SyncStateRow CreateState(Guid tokenId)
    {
        connection.ExecutePrepared(transaction, "INSERT INTO sync_state (token_id) VALUES (@t)", ("t", tokenId.ToString()));
        return SyncStateRow.Empty;
    }

    public void DemandFullSync(Guid tokenId)
        => connection.Execute(transaction, "UPDATE sync_state SET next_must_be_full = 1 WHERE token_id = @t", ("t", tokenId.ToString()));

    public void DropTimesAfter(Guid tokenId, DateTimeOffset limit)
        => connection.Execute(transaction,
            """
            UPDATE sync_state SET last_success_at = CASE WHEN last_success_at > @limit THEN NULL ELSE last_success_at END,
                                  last_full_at = CASE WHEN last_full_at > @limit THEN NULL ELSE last_full_at END
            WHERE token_id = @t
            """, ("limit", ToUnixMs(limit)), ("t", tokenId.ToString()));

    // The statements a run starts and ends with, alone (StartHistory, TakeLease, FinishHistory, ReleaseLease) or one
    // after the other in one statement (StartRun, FinishRun).
    private const string InsertRunningHistory =
        "INSERT INTO sync_history (token_id, kind, trigger_kind, status, started_at) VALUES (@t, @k, @tr, 'Running', @now) RETURNING id";

    private const string EndHistory =
        """
        UPDATE sync_history SET status = @s, finished_at = @at, kind = coalesce(@k::text, kind), trigger_kind = coalesce(@tr::text, trigger_kind),
               added = @a, modified = @m, removed = @r, purged = @p, default_assigned = @da, pages = @pg, error_id = @e::text, error_message = @msg::text
        WHERE id = @h AND status = 'Running'
        """;

    private const string StateColumns =
        """
        last_started_at, last_success_at, last_full_at, next_must_be_full, cursor, cursor_kind, full_sync_id,
        lease_id, lease_expires_at, lease_history_id
        """;

    private static string SetLease(string historyId)
        => $"UPDATE sync_state SET lease_id = @l, lease_expires_at = @exp, lease_history_id = {historyId}, last_started_at = @now WHERE token_id = @t";

    private static string ReleaseLeaseWhere(string leaseCondition)
        => $"""
            UPDATE sync_state SET last_success_at = coalesce(@ok::bigint, last_success_at),
                   next_must_be_full = CASE WHEN @ok::bigint IS NOT NULL THEN 0 WHEN @stop::boolean THEN next_must_be_full ELSE 1 END,
                   lease_id = NULL, lease_expires_at = NULL, lease_history_id = NULL
            WHERE token_id = @t AND {leaseCondition}
            """;

    private static (string, object?)[] RunStart(Guid tokenId, AdeSyncKind kind, AdeSyncTrigger trigger, DateTimeOffset startedAt)
        => [("t", tokenId.ToString()), ("k", kind.ToString()), ("tr", trigger.ToString()), ("now", ToUnixMs(startedAt))];

    private static (string, object?)[] Lease(Guid tokenId, string leaseId, DateTimeOffset expiresAt, DateTimeOffset startedAt)
        => [("t", tokenId.ToString()), ("l", leaseId), ("exp", ToUnixMs(expiresAt)), ("now", ToUnixMs(startedAt))];

    private static (string, object?)[] RunEnd(long historyId, SyncHistoryEnd end)
        => [("s", end.Status.ToString()), ("at", ToUnixMs(end.FinishedAt)), ("k", end.Kind?.ToString()), ("tr", end.Trigger?.ToString()),
            ("a", (long)end.Added), ("m", (long)end.Modified), ("r", (long)end.Removed), ("p", (long)end.Purged), ("da", (long)end.DefaultAssigned),
            ("pg", (long)end.Pages), ("e", end.ErrorId), ("msg", end.ErrorMessage), ("h", historyId)];

    private static (string, object?)[] Release(Guid tokenId, string? leaseId, DateTimeOffset? succeededAt, bool keepFullDemand)
        => [("ok", succeededAt is { } at ? ToUnixMs(at) : null), ("stop", keepFullDemand), ("t", tokenId.ToString()), ("l", leaseId)];

    public void TakeLease(Guid tokenId, string leaseId, DateTimeOffset expiresAt, long historyId, DateTimeOffset startedAt)
        => connection.Execute(transaction, SetLease("@h"), [.. Lease(tokenId, leaseId, expiresAt, startedAt), ("h", historyId)]);

    public bool ReleaseLease(Guid tokenId, string? leaseId, DateTimeOffset? succeededAt, bool keepFullDemand = false)
        => connection.Execute(transaction, ReleaseLeaseWhere("lease_id IS NOT NULL AND (@l::text IS NULL OR lease_id = @l::text)"), Release(tokenId, leaseId, succeededAt, keepFullDemand)) > 0;

    public bool SaveCursor(Guid tokenId, string leaseId, DateTimeOffset now, SyncCursor cursor, DateTimeOffset? fullCompletedAt, SyncPageCounts? page = null)
        => page is null
            ? connection.ExecutePrepared(transaction, SaveCursorStatement, CursorParameters(tokenId, leaseId, now, cursor, fullCompletedAt)) > 0
            // one round trip: the history row's counts move only with the cursor (the lease still held)
            : connection.ScalarPrepared<long>(transaction,
                $"""
                WITH saved AS ({SaveCursorStatement} RETURNING 1),
                     counted AS (UPDATE sync_history SET added = added + @a, modified = modified + @m, removed = removed + @r,
                                        default_assigned = default_assigned + @d, pages = pages + 1
                                 WHERE id = @h AND status = 'Running' AND EXISTS (SELECT 1 FROM saved))
                SELECT count(*) FROM saved
                """,
                [.. CursorParameters(tokenId, leaseId, now, cursor, fullCompletedAt), ("a", page.Added), ("m", page.Modified), ("r", page.Removed),
                    ("d", page.DefaultAssigned), ("h", page.HistoryId)]) > 0;

    private const string SaveCursorStatement =
        """
        UPDATE sync_state SET cursor = @c, cursor_kind = @k, full_sync_id = @f::bigint, last_full_at = coalesce(@full::bigint, last_full_at)
        WHERE token_id = @t AND lease_id = @l AND lease_expires_at > @now
        """;

    private static (string, object?)[] CursorParameters(Guid tokenId, string leaseId, DateTimeOffset now, SyncCursor cursor, DateTimeOffset? fullCompletedAt)
        => [("c", cursor.Cursor), ("k", cursor.Kind == SyncCursorKind.Fetch ? "fetch" : "sync"), ("f", cursor.FullSyncId),
            ("full", fullCompletedAt is { } at ? ToUnixMs(at) : null), ("t", tokenId.ToString()), ("l", leaseId), ("now", ToUnixMs(now))];

    public long StartHistory(Guid tokenId, AdeSyncKind kind, AdeSyncTrigger trigger, DateTimeOffset startedAt)
        => connection.Scalar<long>(transaction, InsertRunningHistory, RunStart(tokenId, kind, trigger, startedAt));

    public long StartRun(Guid tokenId, AdeSyncKind kind, AdeSyncTrigger trigger, DateTimeOffset startedAt, string leaseId, DateTimeOffset expiresAt)
        => connection.ScalarPrepared<long>(transaction,
            $"WITH run AS ({InsertRunningHistory}), lease AS ({SetLease("(SELECT id FROM run)")}) SELECT id FROM run",
            [.. RunStart(tokenId, kind, trigger, startedAt), ("l", leaseId), ("exp", ToUnixMs(expiresAt))]);

    public bool FinishHistory(long historyId, SyncHistoryEnd end)
        => connection.Execute(transaction, EndHistory, RunEnd(historyId, end)) > 0;

    public SyncStateRow? FinishRun(Guid tokenId, string leaseId, long historyId, SyncHistoryEnd end, DateTimeOffset? succeededAt, bool keepFullDemand = false)
    {
        using var command = connection.Command(transaction,
            $"WITH run AS ({EndHistory}) {ReleaseLeaseWhere("lease_id = @l")} RETURNING {StateColumns}",
            [.. RunEnd(historyId, end), .. Release(tokenId, leaseId, succeededAt, keepFullDemand)]).Prepared();
        using var r = command.ExecuteReader();
        return r.Read() ? StateOf(r) : null;
    }

    public bool FailLapsedRun(long historyId, DateTimeOffset finishedAt, string errorId, string errorMessage)
        => connection.Execute(transaction, "UPDATE sync_history SET status = 'Failed', finished_at = @at, error_id = @e, error_message = @msg WHERE id = @h AND status = 'Running'",
            ("at", ToUnixMs(finishedAt)), ("e", errorId), ("msg", errorMessage), ("h", historyId)) > 0;

    public IReadOnlyList<SyncHistoryRow> GetHistory(Guid tokenId, int count)
    {
        using var command = connection.Command(transaction,
            """
            SELECT id, kind, trigger_kind, status, started_at, finished_at, added, modified, removed, purged, default_assigned, pages, error_id, error_message
            FROM sync_history WHERE token_id = @t ORDER BY id DESC LIMIT @n
            """, ("t", tokenId.ToString()), ("n", (long)count));
        using var r = command.ExecuteReader();
        var list = new List<SyncHistoryRow>();
        int Ordinal(string name) => r.GetOrdinal(name);
        int Int(string name) => checked((int)r.GetInt64(Ordinal(name)));
        while (r.Read())
        {
            list.Add(new SyncHistoryRow(
                r.GetInt64(Ordinal("id")),
                Enum.Parse<AdeSyncKind>(r.GetString(Ordinal("kind"))),
                Enum.Parse<AdeSyncTrigger>(r.GetString(Ordinal("trigger_kind"))),
                Enum.Parse<AdeSyncStatus>(r.GetString(Ordinal("status"))),
                ToTime(r.GetInt64(Ordinal("started_at"))),
                Time(r, "finished_at"),
                Int("added"), Int("modified"), Int("removed"), Int("purged"), Int("default_assigned"), Int("pages"),
                r.GetStringOrNull(Ordinal("error_id")),
                r.GetStringOrNull(Ordinal("error_message"))));
        }

        return list;
    }

    private static DateTimeOffset? Time(NpgsqlDataReader r, string column)
    {
        var i = r.GetOrdinal(column);
        return r.IsDBNull(i) ? null : ToTime(r.GetInt64(i));
    }
}

using AdeEnrollment.Engine.Model;
using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: table sync_state and sync_history (the sync lease, cursors and each sync's record).</summary>
internal sealed partial class SqliteSyncTable(SqliteConnection connection, SqliteTransaction? transaction) : ISyncTable
{
    private readonly SqliteConnection connection = connection;
    private readonly SqliteTransaction? transaction = transaction;

    public SyncStateRow? GetState(Guid tokenId)
    {
        using var command = Command(
            """
            SELECT last_started_at, last_success_at, last_full_at, next_must_be_full, cursor, cursor_kind, full_sync_id,
                   lease_id, lease_expires_at, lease_history_id
            FROM sync_state WHERE token_id = $t
            """, ("$t", tokenId.ToString()));
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

        using var command = Command(
            """
            SELECT token_id, last_started_at, last_success_at, last_full_at, next_must_be_full, cursor, cursor_kind, full_sync_id,
                   lease_id, lease_expires_at, lease_history_id
            FROM sync_state WHERE token_id IN (SELECT value FROM json_each($t))
            """, ("$t", System.Text.Json.JsonSerializer.Serialize(tokenIds.Select(i => i.ToString()))));
        using var r = command.ExecuteReader();
        var token = r.GetOrdinal("token_id");
        while (r.Read())
        {
            states[Guid.Parse(r.GetString(token))] = StateOf(r);
        }

        return states;
    }

    private static SyncStateRow StateOf(SqliteDataReader r)
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
        Execute("INSERT INTO sync_state (token_id) VALUES ($t)", ("$t", tokenId.ToString()));
        return SyncStateRow.Empty;
    }

    public void DemandFullSync(Guid tokenId)
        => Execute("UPDATE sync_state SET next_must_be_full = 1 WHERE token_id = $t", ("$t", tokenId.ToString()));

    public void DropTimesAfter(Guid tokenId, DateTimeOffset limit)
        => Execute(
            """
            UPDATE sync_state SET last_success_at = CASE WHEN last_success_at > $limit THEN NULL ELSE last_success_at END,
                                  last_full_at = CASE WHEN last_full_at > $limit THEN NULL ELSE last_full_at END
            WHERE token_id = $t
            """, ("$limit", ToUnixMs(limit)), ("$t", tokenId.ToString()));

    public void TakeLease(Guid tokenId, string leaseId, DateTimeOffset expiresAt, long historyId, DateTimeOffset startedAt)
        => Execute("UPDATE sync_state SET lease_id = $l, lease_expires_at = $exp, lease_history_id = $h, last_started_at = $now WHERE token_id = $t",
            ("$l", leaseId), ("$exp", ToUnixMs(expiresAt)), ("$h", historyId), ("$now", ToUnixMs(startedAt)), ("$t", tokenId.ToString()));

    public bool ReleaseLease(Guid tokenId, string? leaseId, DateTimeOffset? succeededAt, bool keepFullDemand = false)
        => Execute(
            """
            UPDATE sync_state SET last_success_at = coalesce($ok, last_success_at),
                   next_must_be_full = CASE WHEN $ok IS NOT NULL THEN 0 WHEN $stop = 1 THEN next_must_be_full ELSE 1 END,
                   lease_id = NULL, lease_expires_at = NULL, lease_history_id = NULL
            WHERE token_id = $t AND lease_id IS NOT NULL AND ($l IS NULL OR lease_id = $l)
            """, ("$ok", succeededAt is { } at ? ToUnixMs(at) : null), ("$stop", keepFullDemand ? 1L : 0L), ("$t", tokenId.ToString()), ("$l", leaseId)) > 0;

    public bool SaveCursor(Guid tokenId, string leaseId, DateTimeOffset now, SyncCursor cursor, DateTimeOffset? fullCompletedAt, SyncPageCounts? page = null)
    {
        var saved = Execute(
            """
            UPDATE sync_state SET cursor = $c, cursor_kind = $k, full_sync_id = $f, last_full_at = coalesce($full, last_full_at)
            WHERE token_id = $t AND lease_id = $l AND lease_expires_at > $now
            """,
            ("$c", cursor.Cursor), ("$k", cursor.Kind == SyncCursorKind.Fetch ? "fetch" : "sync"), ("$f", cursor.FullSyncId),
            ("$full", fullCompletedAt is { } at ? ToUnixMs(at) : null), ("$t", tokenId.ToString()), ("$l", leaseId), ("$now", ToUnixMs(now))) > 0;
        if (saved && page is not null)
        {
            Execute(
                """
                UPDATE sync_history SET added = added + $a, modified = modified + $m, removed = removed + $r,
                       default_assigned = default_assigned + $d, pages = pages + 1
                WHERE id = $h AND status = 'Running'
                """, ("$a", page.Added), ("$m", page.Modified), ("$r", page.Removed), ("$d", page.DefaultAssigned), ("$h", page.HistoryId));
        }

        return saved;
    }

    public long StartHistory(Guid tokenId, AdeSyncKind kind, AdeSyncTrigger trigger, DateTimeOffset startedAt)
    {
        using var command = Command(
            "INSERT INTO sync_history (token_id, kind, trigger_kind, status, started_at) VALUES ($t, $k, $tr, 'Running', $now) RETURNING id",
            ("$t", tokenId.ToString()), ("$k", kind.ToString()), ("$tr", trigger.ToString()), ("$now", ToUnixMs(startedAt)));
        return (long)command.ExecuteScalar()!;
    }

    public bool FinishHistory(long historyId, SyncHistoryEnd end)
        => Execute(
            """
            UPDATE sync_history SET status = $s, finished_at = $at, kind = coalesce($k, kind), trigger_kind = coalesce($tr, trigger_kind),
                   added = $a, modified = $m, removed = $r, purged = $p, default_assigned = $da, pages = $pg, error_id = $e, error_message = $msg
            WHERE id = $h AND status = 'Running'
            """,
            ("$s", end.Status.ToString()), ("$at", ToUnixMs(end.FinishedAt)), ("$k", end.Kind?.ToString()), ("$tr", end.Trigger?.ToString()),
            ("$a", end.Added), ("$m", end.Modified), ("$r", end.Removed), ("$p", end.Purged), ("$da", end.DefaultAssigned), ("$pg", end.Pages),
            ("$e", end.ErrorId), ("$msg", end.ErrorMessage), ("$h", historyId)) > 0;

    public bool FailLapsedRun(long historyId, DateTimeOffset finishedAt, string errorId, string errorMessage)
        => Execute("UPDATE sync_history SET status = 'Failed', finished_at = $at, error_id = $e, error_message = $msg WHERE id = $h AND status = 'Running'",
            ("$at", ToUnixMs(finishedAt)), ("$e", errorId), ("$msg", errorMessage), ("$h", historyId)) > 0;

    public IReadOnlyList<SyncHistoryRow> GetHistory(Guid tokenId, int count)
    {
        using var command = Command(
            """
            SELECT id, kind, trigger_kind, status, started_at, finished_at, added, modified, removed, purged, default_assigned, pages, error_id, error_message
            FROM sync_history WHERE token_id = $t ORDER BY id DESC LIMIT $n
            """, ("$t", tokenId.ToString()), ("$n", count));
        using var r = command.ExecuteReader();
        var list = new List<SyncHistoryRow>();
        int Ordinal(string name) => r.GetOrdinal(name);
        int Int(string name) => r.GetInt32(Ordinal(name));
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

    private static DateTimeOffset? Time(SqliteDataReader r, string column)
    {
        var i = r.GetOrdinal(column);
        return r.IsDBNull(i) ? null : ToTime(r.GetInt64(i));
    }

    private SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.Command(sql, parameters);
        command.Transaction = transaction;
        return command;
    }

    private int Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        return command.ExecuteNonQuery();
    }
}

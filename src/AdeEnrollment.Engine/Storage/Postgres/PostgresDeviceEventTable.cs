using System.Runtime.CompilerServices;
using AdeEnrollment.Engine.Model;
using Npgsql;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>PostgreSQL: table device_event (the device journal and its retention).</summary>
internal sealed partial class PostgresDeviceEventTable(NpgsqlConnection connection, NpgsqlTransaction? transaction) : IDeviceEventTable
{
    private readonly NpgsqlConnection connection = connection;
    private readonly NpgsqlTransaction? transaction = transaction;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
    public int Append(Guid tokenId, DateTimeOffset at, IReadOnlyCollection<NewDeviceEventRow> events)
    {
        if (events.Count == 0)
        {
            return 0;
        }

        // Writes of different tokens run side by side (WriteForToken), and an identity hands out ids when rows are
        // inserted, not when they commit: a page that took ids 1-1000 could commit after one that took 1001-2000, and a
        // reader that had seen 2000 would never be shown 1-1000. So ids are taken under the journal's own lock, held to
        // the end of the transaction: the next writer's ids come after this one's commit. It is taken here, just before
        // the insert; after it a transaction touches only its own token's rows and the journal's expired rows (which a
        // writer waiting for this lock has not touched yet: pruning follows its appends), so no two wait in a circle.
        connection.ExecutePrepared(transaction, "SELECT pg_advisory_xact_lock(@k)", ("k", PostgresProvider.JournalLockKey));

        // One INSERT … SELECT over three array parameters for the whole batch (a sync page journals up to a thousand
        // events): ordered by position, so the ids follow the batch's order.
        var serials = new string[events.Count];
        var kinds = new string[events.Count];
        var details = new string?[events.Count];
        var i = 0;
        foreach (var e in events)
        {
            (serials[i], kinds[i], details[i]) = (e.SerialNumber, e.Kind.ToString(), e.Detail);
            i++;
        }

        return connection.ExecutePrepared(transaction,
            """
            INSERT INTO device_event (token_id, serial_number, at, kind, detail)
            SELECT @t, u.s, @at, u.k, u.d FROM unnest(@s::text[], @k::text[], @d::text[]) WITH ORDINALITY AS u(s, k, d, n) ORDER BY u.n
            """,
            ("t", tokenId.ToString()), ("at", ToUnixMs(at)), ("s", serials), ("k", kinds), ("d", details));
    }

    public IEnumerable<DeviceEventRow> Query(DeviceEventFilter filter)
    {
        var (sql, parameters) = QueryStatement(filter);
        using var command = connection.Command(transaction, sql, parameters);
        using var r = command.ExecuteReader();
        var map = new DeviceEventRowMapper(r);
        while (r.Read())
        {
            yield return map.Read();
        }
    }

    /// <summary>The statement of <see cref="Query"/>: only the filters given are in its WHERE clause.</summary>
    internal static (string Sql, (string Name, object? Value)[] Parameters) QueryStatement(DeviceEventFilter filter)
    {
        var filters = new List<string>();
        var parameters = new List<(string Name, object? Value)>();
        if (filter.TokenId is { } tokenId)
        {
            filters.Add("e.token_id = @t");
            parameters.Add(("t", tokenId.ToString()));
        }

        if (filter.SerialNumber is { } serial)
        {
            filters.Add("e.serial_number = @s");
            parameters.Add(("s", serial));
        }

        if (filter.Since is { } since)
        {
            filters.Add("e.at >= @since");
            parameters.Add(("since", ToUnixMs(since)));
        }

        if (filter.AfterId is { } after)
        {
            filters.Add("e.id > @after");
            parameters.Add(("after", after));
        }

        if (filter.Kinds is { Count: > 0 } kinds)
        {
            filters.Add("e.kind = ANY(@k)");
            parameters.Add(("k", kinds.Select(k => k.ToString()).ToArray()));
        }

        // A serial without a token: the index is (token_id, serial_number, id), so the journal's tokens are walked one
        // index seek each (a loose scan: at most a store's 2,000 tokens, also those deleted since) and each is probed.
        var byTokens = filter.SerialNumber is not null && filter.TokenId is null;
        if (byTokens)
        {
            filters.Add("e.token_id = ANY (ARRAY(SELECT id FROM journal_tokens WHERE id IS NOT NULL))");
        }

        return (
            $"""
            {(byTokens ? JournalSql.Tokens : "")}
            SELECT e.id, e.at, e.kind, e.serial_number, e.detail, e.token_id, t.name AS token_name
            FROM device_event e LEFT JOIN token t ON t.id = e.token_id
            {(filters.Count == 0 ? "" : "WHERE " + string.Join(" AND ", filters))}
            ORDER BY e.id
            """, [.. parameters]);
    }

    public int DeleteBefore(DateTimeOffset cutoff)
        // Not prepared: a generic plan of `at < $1` reckons with a third of the journal and scans all of it.
        => connection.Execute(transaction, "DELETE FROM device_event WHERE at < @cutoff", ("cutoff", ToUnixMs(cutoff)));
}

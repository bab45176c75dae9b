using System.Buffers;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;
using AdeEnrollment.Engine.Model;
using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: table device_event (the device journal and its retention).</summary>
internal sealed partial class SqliteDeviceEventTable(SqliteConnection connection, SqliteTransaction? transaction) : IDeviceEventTable
{
    private readonly SqliteConnection connection = connection;
    private readonly SqliteTransaction? transaction = transaction;

    /// <summary>The stored name of each event kind, by value.</summary>
    private static readonly string[] KindNames = BuildKindNames();

    private static string[] BuildKindNames()
    {
        var values = Enum.GetValues<AdeDeviceEventKind>();
        var names = new string[values.Max(v => (int)v) + 1];
        foreach (var v in values)
        {
            names[(int)v] = v.ToString();
        }

        return names;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
    public int Append(Guid tokenId, DateTimeOffset at, IReadOnlyCollection<NewDeviceEventRow> events)
    {
        if (events.Count == 0)
        {
            return 0;
        }

        if (Uniform(events) is { } same)
        {
            // Every row of the batch says the same (a full sync's "Added", an assignment's answers): the batch is a
            // plain array of serials, cheaper to build here and to read in SQLite than one [serial, kind, detail] triple per row.
            using var uniform = Command(
                """
                INSERT INTO device_event (token_id, serial_number, at, kind, detail)
                SELECT $t, j.value, $at, $kind, $detail FROM json_each($serials) j ORDER BY j.key
                """,
                ("$t", tokenId.ToString()), ("$at", ToUnixMs(at)), ("$kind", same.Kind.ToString()), ("$detail", same.Detail),
                ("$serials", JsonArray(events, e => e.SerialNumber)));
            return uniform.ExecuteNonQuery();
        }

        // One INSERT … SELECT over a JSON array of [serial, kind, detail] for the whole batch, in the batch's order (one
        // statement: SQLite bumps the AUTOINCREMENT sequence once, not per row). Written with one Utf8JsonWriter.
        var buffer = new ArrayBufferWriter<byte>(events.Count * 48 + 2);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var e in events)
            {
                writer.WriteStartArray();
                writer.WriteStringValue(e.SerialNumber);
                writer.WriteStringValue(KindNames[(int)e.Kind]);
                if (e.Detail is null)
                {
                    writer.WriteNullValue();
                }
                else
                {
                    writer.WriteStringValue(e.Detail);
                }

                writer.WriteEndArray();
            }

            writer.WriteEndArray();
        }

        var json = Encoding.UTF8.GetString(buffer.WrittenSpan);
        using var command = Command(
            """
            INSERT INTO device_event (token_id, serial_number, at, kind, detail)
            SELECT $t, json_extract(j.value, '$[0]'), $at, json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]')
            FROM json_each($events) j ORDER BY j.key
            """,
            ("$t", tokenId.ToString()), ("$at", ToUnixMs(at)), ("$events", json));
        return command.ExecuteNonQuery();
    }

    /// <summary>The first row when every row has its kind and detail; null otherwise.</summary>
    private static NewDeviceEventRow? Uniform(IReadOnlyCollection<NewDeviceEventRow> events)
    {
        NewDeviceEventRow? first = null;
        foreach (var e in events)
        {
            first ??= e;
            if (e.Kind != first.Kind || !string.Equals(e.Detail, first.Detail, StringComparison.Ordinal))
            {
                return null;
            }
        }

        return first;
    }

    public IEnumerable<DeviceEventRow> Query(DeviceEventFilter filter)
    {
        var (sql, parameters) = QueryStatement(filter);
        using var command = Command(sql, parameters);
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
            filters.Add("e.token_id = $t");
            parameters.Add(("$t", tokenId.ToString()));
        }

        if (filter.SerialNumber is { } serial)
        {
            filters.Add("e.serial_number = $s");
            parameters.Add(("$s", serial));
        }

        if (filter.Since is { } since)
        {
            filters.Add("e.at >= $since");
            parameters.Add(("$since", ToUnixMs(since)));
        }

        if (filter.AfterId is { } after)
        {
            filters.Add("e.id > $after");
            parameters.Add(("$after", after));
        }

        if (filter.Kinds is { Count: > 0 } kinds)
        {
            filters.Add("e.kind IN (SELECT value FROM json_each($k))");
            parameters.Add(("$k", JsonSerializer.Serialize(kinds.Select(k => k.ToString()).ToArray())));
        }

        // A serial without a token: the index is (token_id, serial_number, id), so the journal's tokens are walked one
        // index seek each (a loose scan: at most a store's 2,000 tokens, also those deleted since) and each is probed.
        var byTokens = filter.SerialNumber is not null && filter.TokenId is null;
        if (byTokens)
        {
            filters.Add("e.token_id IN (SELECT id FROM journal_tokens)");
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
    {
        using var command = Command("DELETE FROM device_event WHERE at < $cutoff", ("$cutoff", ToUnixMs(cutoff)));
        return command.ExecuteNonQuery();
    }

    private SqliteCommand Command(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.Command(sql, parameters);
        command.Transaction = transaction;
        return command;
    }
}

using System.Text.Json;
using AdeEnrollment.Engine.Model;
using Npgsql;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>
/// PostgreSQL: table device. One partial class split by area like its SQLite twin: this file holds the queries and the
/// device actions, <c>.Sync.cs</c> the page writes of a sync, <c>.Assignment.cs</c> the assignment records.
/// <para>
/// A set of serials (or of devices' details) goes to the server as array parameters in one statement
/// (<c>= ANY(@serials)</c>, <c>unnest</c>), never one round trip per device. Text is ordered with COLLATE "C" (byte
/// order, as SQLite's BINARY), whatever the database's collation.
/// </para>
/// </summary>
internal sealed partial class PostgresDeviceTable(NpgsqlConnection connection, NpgsqlTransaction? transaction) : IDeviceTable
{
    /// <summary>
    /// The columns of <see cref="DeviceDetailsRow"/> as a row source: <c>FROM {DetailRowsSql} AS x</c> yields one row
    /// per detail, with columns s, model, descr, color, asset, os, family, pu, ps, pat, ppt, dad, dab, mmd, rep (times
    /// in unix milliseconds, rep 1/0/null) and ord (the detail's position, from 1). Bind with <see cref="AddDetailArrays"/>.
    /// </summary>
    internal const string DetailRowsSql =
        """
        unnest(@d_s::text[], @d_model::text[], @d_desc::text[], @d_color::text[], @d_asset::text[], @d_os::text[], @d_family::text[],
               @d_pu::text[], @d_ps::text[], @d_pat::bigint[], @d_ppt::bigint[], @d_dad::bigint[], @d_dab::text[], @d_mmd::bigint[], @d_rep::bigint[])
            WITH ORDINALITY AS x(s, model, descr, color, asset, os, family, pu, ps, pat, ppt, dad, dab, mmd, rep, ord)
        """;

    private const string DeviceColumnsSql =
        """
        d.serial_number, d.model, d.description, d.color, d.asset_tag, d.os, d.device_family,
        p.name AS profile_name, d.profile_id, d.profile_status, d.profile_assign_time, d.profile_push_time,
        d.device_assigned_date, d.device_assigned_by, d.removed_at, d.purge_after,
        t.name AS token_name, t.id AS token_id, t.scope_tags AS token_scope_tags,
        d.mdm_migration_deadline, d.is_replacement_device, d.last_attempt_at, d.last_attempt_profile,
        d.last_attempt_result, d.released_at
        """;

    private readonly NpgsqlConnection connection = connection;
    private readonly NpgsqlTransaction? transaction = transaction;

    /// <summary>
    /// Adds the parameters of <see cref="DetailRowsSql"/> to <paramref name="command"/>: one array per field of
    /// <paramref name="details"/>, in the same order.
    /// </summary>
    internal static void AddDetailArrays(NpgsqlCommand command, IReadOnlyList<DeviceDetailsRow> details)
    {
        void Text(string name, Func<DeviceDetailsRow, string?> field)
            => command.Parameters.Add(PostgresExtensions.ArrayParameter(name, details.Select(field).ToArray()));

        void Number(string name, Func<DeviceDetailsRow, long?> field)
            => command.Parameters.Add(PostgresExtensions.ArrayParameter(name, details.Select(field).ToArray()));

        Text("d_s", d => d.SerialNumber);
        Text("d_model", d => d.Model);
        Text("d_desc", d => d.Description);
        Text("d_color", d => d.Color);
        Text("d_asset", d => d.AssetTag);
        Text("d_os", d => d.Os);
        Text("d_family", d => d.DeviceFamily);
        Text("d_pu", d => d.ProfileUuid);
        Text("d_ps", d => d.ProfileStatus);
        Number("d_pat", d => Ms(d.ProfileAssignTime));
        Number("d_ppt", d => Ms(d.ProfilePushTime));
        Number("d_dad", d => Ms(d.AssignedAt));
        Text("d_dab", d => d.AssignedBy);
        Number("d_mmd", d => Ms(d.MdmMigrationDeadline));
        Number("d_rep", d => d.IsReplacementDevice is { } r ? (r ? 1L : 0L) : null);
    }

    public IEnumerable<AdeDevice> Query(DeviceFilter filter)
    {
        var (sql, parameters) = QueryStatement(filter,
            filter is { SerialNumbers: not null, TokenId: null } ? connection.Scalar<long>(transaction, "SELECT count(*) FROM token") : 0);
        using var command = connection.Command(transaction, sql, parameters);
        if (filter.SerialNumber is not null)
        {
            // One device by serial, the most repeated query (a script looking devices up one by one): prepared on its
            // pooled connection (kept there, the pool does not reset it), later lookups skip the parse and the plan.
            // A device query with other filters is not: a generic plan for a token's or a profile's devices could
            // outlive the table's growth (PostgresExtensions.Prepared says which statements are).
            command.Prepare();
        }

        using var reader = command.ExecuteReader();
        var map = new DeviceRowMapper(reader);
        while (reader.Read())
        {
            yield return map.Read();
        }
    }

    /// <summary>
    /// The statement of <see cref="Query"/>: only the filters given are in its WHERE clause. <paramref name="tokens"/>:
    /// how many tokens the store holds, for a batch of serials without a token (probe each token, or read every device).
    /// </summary>
    internal static (string Sql, (string Name, object? Value)[] Parameters) QueryStatement(DeviceFilter filter, long tokens = 0)
    {
        // Only the filters given are in the WHERE clause, so the planner sees plain predicates it can use an index for.
        var filters = new List<string>(8);
        var parameters = new List<(string Name, object? Value)>(4);
        if (filter.TokenId is { } tokenId)
        {
            filters.Add("d.token_id = @t");
            parameters.Add(("t", tokenId.ToString()));
        }

        if (filter.SerialNumber is { } serial)
        {
            filters.Add("d.serial_number = @s");
            parameters.Add(("s", serial));
            if (filter.TokenId is null)
            {
                // The tokens as the key's list: one probe of (token_id, serial_number) per token.
                filters.Add("d.token_id = ANY (ARRAY(SELECT id FROM token))");
            }
        }

        // A batch of serials without a token: each serial probes the (token_id, serial_number) key of each token, as one
        // serial does; past the probe limit, one read of every device. The probe is a subquery per serial that the
        // planner may not merge into the join (OFFSET 0): merged, it planned a read of every row of the tokens whenever
        // the table had no statistics yet (right after a first sync), and two key arrays at once (serial_number =
        // ANY(…) AND token_id = ANY(…)) were planned as a read of every device even with statistics.
        var from = "device d JOIN token t ON t.id = d.token_id";
        if (filter.SerialNumbers is { } serials)
        {
            parameters.Add(("ss", serials.Distinct(StringComparer.Ordinal).ToArray()));
            if (filter.TokenId is null && SerialLookup.ProbePerToken(serials.Count, tokens))
            {
                from = """
                       unnest(@ss::text[]) AS w(serial_number)
                       CROSS JOIN LATERAL (SELECT * FROM device x WHERE x.serial_number = w.serial_number AND x.token_id = ANY (ARRAY(SELECT id FROM token)) OFFSET 0) d
                       JOIN token t ON t.id = d.token_id
                       """;
            }
            else
            {
                filters.Add("d.serial_number = ANY (@ss)");
            }
        }

        if (filter.ProfileId is { } profileId)
        {
            filters.Add("d.profile_id = @p");
            parameters.Add(("p", profileId.ToString()));
        }

        if (filter.Unassigned)
        {
            filters.Add("d.profile_id IS NULL");
        }

        if (filter.RemovedFromAbm)
        {
            filters.Add("d.removed_at IS NOT NULL");
        }

        if (filter.LastAssignmentResult is { } result)
        {
            filters.Add("d.last_attempt_result = @lar");
            parameters.Add(("lar", result));
        }

        if (filter.ReplacementDevice)
        {
            filters.Add("d.is_replacement_device = 1");
        }

        if (filter.MigrationDeadlineBefore is { } deadline)
        {
            filters.Add("d.mdm_migration_deadline < @mmd");
            parameters.Add(("mmd", ToUnixMs(deadline)));
        }

        // Token names compare case-insensitively (SQLite's NOCASE), serials byte by byte. The reader is enumerated
        // lazily: rows arrive from the server as the caller asks for them, never the whole set in memory.
        return (
            $"""
            SELECT {DeviceColumnsSql}
            FROM {from} LEFT JOIN profile p ON p.id = d.profile_id
            {(filters.Count == 0 ? "" : "WHERE " + string.Join(" AND ", filters))}
            ORDER BY lower(t.name COLLATE "C"), t.name COLLATE "C", d.serial_number COLLATE "C"
            """,
            [.. parameters]);
    }

    /// <summary>The stored state of the given serials: the sync's read (<see cref="GetForSync"/>) without the last op date.</summary>
    public IReadOnlyDictionary<string, DeviceStateRow> States(Guid tokenId, IReadOnlyCollection<string> serials)
        => GetForSync(tokenId, serials).ToDictionary(kv => kv.Key, kv => kv.Value.State, StringComparer.Ordinal);

    public IReadOnlyList<string> SerialsStartingWith(Guid? tokenId, string prefix, int limit)
    {
        // starts_with compares bytes, whatever the database's collation
        using var command = connection.Command(transaction,
            """
            SELECT DISTINCT serial_number FROM device
            WHERE (@t::text IS NULL OR token_id = @t::text) AND starts_with(serial_number, @p)
            ORDER BY serial_number LIMIT @n
            """,
            ("t", tokenId?.ToString()), ("p", prefix), ("n", limit));
        using var r = command.ExecuteReader();
        var serials = new List<string>();
        while (r.Read())
        {
            serials.Add(r.GetString(0));
        }

        return serials;
    }

    public IReadOnlyList<DeviceRefRow> Find(IReadOnlyCollection<string> serials)
    {
        var found = new List<DeviceRefRow>(serials.Count);
        if (serials.Count == 0)
        {
            return found;
        }

        var tokens = connection.Scalar<long>(transaction, "SELECT count(*) FROM token");
        using var command = connection.Command(transaction,
            $"""
            SELECT d.serial_number, d.token_id, t.name AS token_name, coalesce(p.name, '') AS profile_name, d.removed_at IS NOT NULL AS removed
            FROM device d JOIN token t ON t.id = d.token_id LEFT JOIN profile p ON p.id = d.profile_id
            WHERE d.serial_number = ANY(@s){(SerialLookup.ProbePerToken(serials.Count, tokens) ? " AND d.token_id = ANY (ARRAY(SELECT id FROM token))" : "")}
            """,
            ("s", serials.ToArray()));
        using var r = command.ExecuteReader();
        int serial = r.GetOrdinal("serial_number"), token = r.GetOrdinal("token_id"), tokenName = r.GetOrdinal("token_name"), profile = r.GetOrdinal("profile_name"), removed = r.GetOrdinal("removed");
        while (r.Read())
        {
            found.Add(new DeviceRefRow(r.GetString(serial), Guid.Parse(r.GetString(token)), r.GetString(tokenName), r.GetString(profile), r.GetBoolean(removed)));
        }

        return found;
    }

    public int ApplyDetails(Guid tokenId, IReadOnlyList<DeviceDetailsRow> details, DateTimeOffset now)
    {
        if (details.Count == 0)
        {
            return 0;
        }

        // One statement for the whole list. A serial given twice is written once, with its last details (what
        // writing them one after the other leaves).
        using var command = connection.Command(transaction,
            $"""
            UPDATE device d SET model = coalesce(x.model, d.model), description = coalesce(x.descr, d.description), color = coalesce(x.color, d.color),
                   asset_tag = coalesce(x.asset, d.asset_tag), os = coalesce(x.os, d.os), device_family = coalesce(x.family, d.device_family),
                   profile_id = CASE WHEN x.pu IS NULL THEN NULL WHEN x.pu = d.profile_uuid THEN d.profile_id
                                     ELSE (SELECT p.id FROM profile p WHERE p.token_id = @t AND p.apple_profile_uuid = x.pu LIMIT 1) END,
                   profile_uuid = x.pu, profile_status = x.ps, profile_assign_time = x.pat, profile_push_time = x.ppt,
                   device_assigned_date = coalesce(x.dad, d.device_assigned_date), device_assigned_by = coalesce(x.dab, d.device_assigned_by),
                   mdm_migration_deadline = x.mmd, is_replacement_device = x.rep, updated_at = @now
            FROM (SELECT DISTINCT ON (s) * FROM {DetailRowsSql} ORDER BY s, ord DESC) x
            WHERE d.token_id = @t AND d.serial_number = x.s
            """,
            ("t", tokenId.ToString()), ("now", ToUnixMs(now)));
        AddDetailArrays(command, details);
        return command.ExecuteNonQuery();
    }

    public int Delete(Guid tokenId, IReadOnlyCollection<string> serials)
        => serials.Count == 0 ? 0 : connection.Execute(transaction,
            "DELETE FROM device WHERE token_id = @t AND serial_number = ANY(@s)", ("t", tokenId.ToString()), ("s", serials.ToArray()));

    public int MarkProfileCleared(Guid tokenId, IReadOnlyCollection<string> serials, DateTimeOffset now)
        => serials.Count == 0 ? 0 : connection.Execute(transaction,
            """
            UPDATE device SET profile_id = NULL, profile_uuid = NULL, profile_status = 'removed', updated_at = @now
            WHERE token_id = @t AND serial_number = ANY(@s)
            """, ("now", ToUnixMs(now)), ("t", tokenId.ToString()), ("s", serials.ToArray()));

    public int MarkReleased(Guid tokenId, IReadOnlyCollection<string> serials, DateTimeOffset now, DateTimeOffset purgeAfter)
        => serials.Count == 0 ? 0 : connection.Execute(transaction,
            """
            UPDATE device SET released_at = @now, removed_at = coalesce(removed_at, @now), purge_after = coalesce(purge_after, @purge), updated_at = @now
            WHERE token_id = @t AND serial_number = ANY(@s)
            """, ("now", ToUnixMs(now)), ("purge", ToUnixMs(purgeAfter)), ("t", tokenId.ToString()), ("s", serials.ToArray()));

    public IReadOnlyList<DeviceFamilyCount> CountWithoutProfile(Guid tokenId, DateTimeOffset before)
    {
        using var command = connection.Command(transaction,
            """
            SELECT coalesce(device_family, '') AS family, count(*) AS devices FROM device
            WHERE token_id = @t AND removed_at IS NULL AND profile_id IS NULL AND coalesce(profile_status, '') <> 'removed'
              AND coalesce(device_assigned_date, updated_at) < @before
            GROUP BY 1 ORDER BY coalesce(device_family, '') COLLATE "C"
            """, ("t", tokenId.ToString()), ("before", ToUnixMs(before)));
        using var r = command.ExecuteReader();
        int family = r.GetOrdinal("family"), devices = r.GetOrdinal("devices");
        var counts = new List<DeviceFamilyCount>();
        while (r.Read())
        {
            counts.Add(new DeviceFamilyCount(r.GetString(family), r.GetInt64(devices)));
        }

        return counts;
    }

    public (long Count, DateTimeOffset? Latest) AssignFailedSince(Guid tokenId, DateTimeOffset since)
    {
        using var command = connection.Command(transaction,
            "SELECT count(*) AS held, max(assign_failed_at) AS latest FROM device WHERE token_id = @t AND removed_at IS NULL AND assign_failed_at > @since",
            ("t", tokenId.ToString()), ("since", ToUnixMs(since)));
        using var r = command.ExecuteReader();
        r.Read();
        int held = r.GetOrdinal("held"), latest = r.GetOrdinal("latest");
        return (r.GetInt64(held), r.IsDBNull(latest) ? null : ToTime(r.GetInt64(latest)));
    }

    private static long? Ms(DateTimeOffset? t) => t is null ? null : ToUnixMs(t.Value);
}

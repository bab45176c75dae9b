using System.Text.Json;
using AdeEnrollment.Engine.Model;
using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: table device (the devices Apple reported for each token and what was assigned to them).</summary>
internal sealed partial class SqliteDeviceTable(SqliteConnection connection, SqliteTransaction? transaction) : IDeviceTable
{
    private readonly SqliteConnection connection = connection;
    private readonly SqliteTransaction? transaction = transaction;

    /// <summary>
    /// The parameters of Apple's fields of a device, in the order <see cref="BindDetails"/> binds them: a statement
    /// that writes a <see cref="DeviceDetailsRow"/> names these first in its parameter list, then its own.
    /// </summary>
    internal static readonly string[] DetailParameters =
        ["$s", "$model", "$desc", "$color", "$asset", "$os", "$family", "$pu", "$ps", "$pat", "$ppt", "$dad", "$dab", "$mmd", "$rep"];

    /// <summary>Binds Apple's fields of <paramref name="d"/> to a statement prepared with <see cref="DetailParameters"/> first.</summary>
    internal static void BindDetails(SqliteStatement statement, DeviceDetailsRow d)
    {
        statement.Bind(0, d.SerialNumber);
        statement.Bind(1, d.Model);
        statement.Bind(2, d.Description);
        statement.Bind(3, d.Color);
        statement.Bind(4, d.AssetTag);
        statement.Bind(5, d.Os);
        statement.Bind(6, d.DeviceFamily);
        statement.Bind(7, d.ProfileUuid);
        statement.Bind(8, d.ProfileStatus);
        statement.Bind(9, Ms(d.ProfileAssignTime));
        statement.Bind(10, Ms(d.ProfilePushTime));
        statement.Bind(11, Ms(d.AssignedAt));
        statement.Bind(12, d.AssignedBy);
        statement.Bind(13, Ms(d.MdmMigrationDeadline));
        statement.Bind(14, d.IsReplacementDevice is { } r ? (r ? 1L : 0L) : null);
    }

    public IEnumerable<AdeDevice> Query(DeviceFilter filter)
    {
        var (sql, parameters) = QueryStatement(filter, filter is { SerialNumbers: not null, TokenId: null } ? TokenCount() : 0);
        using var command = Command(sql, parameters);
        using var reader = command.ExecuteReader();
        var map = new DeviceRowMapper(reader);
        while (reader.Read())
        {
            yield return map.Read();
        }
    }

    /// <summary>
    /// The statement of <see cref="Query"/>. <paramref name="tokens"/>: how many tokens the store holds, for a batch of
    /// serials without a token (probe each token, or read every device).
    /// </summary>
    internal static (string Sql, (string Name, object? Value)[] Parameters) QueryStatement(DeviceFilter filter, long tokens = 0)
    {
        // Only the filters given are in the WHERE clause: "($s IS NULL OR d.serial_number = $s)" would keep SQLite from
        // using an index, and one serial among 200,000 would be a scan of every device.
        var filters = new List<string>(5);
        var parameters = new List<(string Name, object? Value)>(3);
        if (filter.TokenId is { } tokenId)
        {
            filters.Add("d.token_id = $t");
            parameters.Add(("$t", tokenId.ToString()));
        }

        if (filter.SerialNumber is { } serial)
        {
            filters.Add("d.serial_number = $s");
            parameters.Add(("$s", serial));
        }

        // A batch of serials: probed per token like one serial, unless that is more probes than reading every device.
        var probeSerials = false;
        if (filter.SerialNumbers is { } serials)
        {
            filters.Add("d.serial_number IN (SELECT value FROM json_each($ss))");
            parameters.Add(("$ss", JsonSerializer.Serialize(serials)));
            probeSerials = filter.TokenId is null && SerialLookup.ProbePerToken(serials.Count, tokens);
        }

        if (filter.ProfileId is { } profileId)
        {
            filters.Add("d.profile_id = $p");
            parameters.Add(("$p", profileId.ToString()));
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
            filters.Add("d.last_attempt_result = $lar");
            parameters.Add(("$lar", result));
        }

        if (filter.ReplacementDevice)
        {
            filters.Add("d.is_replacement_device = 1");
        }

        if (filter.MigrationDeadlineBefore is { } deadline)
        {
            filters.Add("d.mdm_migration_deadline < $mmd");
            parameters.Add(("$mmd", ToUnixMs(deadline)));
        }

        // A serial without a token: the tokens are the outer loop and each probes the (token_id, serial_number) key.
        var tokensFirst = (filter.SerialNumber is not null && filter.TokenId is null) || probeSerials;
        return (
            $"""
            SELECT d.serial_number, d.model, d.description, d.color, d.asset_tag, d.os, d.device_family,
                   p.name AS profile_name, d.profile_id, d.profile_status, d.profile_assign_time, d.profile_push_time,
                   d.device_assigned_date, d.device_assigned_by, d.removed_at, d.purge_after,
                   t.name AS token_name, t.id AS token_id, t.scope_tags AS token_scope_tags,
                   d.mdm_migration_deadline, d.is_replacement_device, d.last_attempt_at, d.last_attempt_profile,
                   d.last_attempt_result, d.released_at
            FROM {(tokensFirst ? "token t CROSS JOIN device d ON d.token_id = t.id" : "device d JOIN token t ON t.id = d.token_id")}
                 LEFT JOIN profile p ON p.id = d.profile_id
            {(filters.Count == 0 ? "" : "WHERE " + string.Join(" AND ", filters))}
            ORDER BY t.name, d.serial_number
            """,
            [.. parameters]);
    }

    /// <summary>The stored state of the given serials: the sync's read (<see cref="GetForSync"/>) without the last op date.</summary>
    public IReadOnlyDictionary<string, DeviceStateRow> States(Guid tokenId, IReadOnlyCollection<string> serials)
        => GetForSync(tokenId, serials).ToDictionary(kv => kv.Key, kv => kv.Value.State, StringComparer.Ordinal);

    public IReadOnlyList<string> SerialsStartingWith(Guid? tokenId, string prefix, int limit)
    {
        // serials are letters and digits: every one that starts with the prefix sorts between it and the prefix + '~'
        using var command = Command(
            """
            SELECT DISTINCT serial_number FROM device
            WHERE ($t IS NULL OR token_id = $t) AND serial_number >= $lo AND serial_number < $hi
            ORDER BY serial_number LIMIT $n
            """,
            ("$t", tokenId?.ToString()), ("$lo", prefix), ("$hi", prefix + "~"), ("$n", limit));
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

        using var command = Command(
            SerialLookup.ProbePerToken(serials.Count, TokenCount())
                ? """
                  SELECT d.serial_number, d.token_id, t.name AS token_name, coalesce(p.name, '') AS profile_name, d.removed_at IS NOT NULL AS removed
                  FROM json_each($s) j CROSS JOIN token t CROSS JOIN device d ON d.token_id = t.id AND d.serial_number = j.value
                       LEFT JOIN profile p ON p.id = d.profile_id
                  """
                : """
                  SELECT d.serial_number, d.token_id, t.name AS token_name, coalesce(p.name, '') AS profile_name, d.removed_at IS NOT NULL AS removed
                  FROM device d JOIN token t ON t.id = d.token_id LEFT JOIN profile p ON p.id = d.profile_id
                  WHERE d.serial_number IN (SELECT value FROM json_each($s))
                  """,
            ("$s", JsonSerializer.Serialize(serials)));
        using var r = command.ExecuteReader();
        int serial = r.GetOrdinal("serial_number"), token = r.GetOrdinal("token_id"), tokenName = r.GetOrdinal("token_name"), profile = r.GetOrdinal("profile_name"), removed = r.GetOrdinal("removed");
        while (r.Read())
        {
            found.Add(new DeviceRefRow(r.GetString(serial), Guid.Parse(r.GetString(token)), r.GetString(tokenName), r.GetString(profile), r.GetInt64(removed) != 0));
        }

        return found;
    }

    public int ApplyDetails(Guid tokenId, IReadOnlyList<DeviceDetailsRow> details, DateTimeOffset now)
    {
        if (details.Count == 0)
        {
            return 0;
        }

        using var update = new SqliteStatement(connection,
            """
            UPDATE device SET model = coalesce($model, model), description = coalesce($desc, description), color = coalesce($color, color),
                   asset_tag = coalesce($asset, asset_tag), os = coalesce($os, os), device_family = coalesce($family, device_family),
                   profile_id = CASE WHEN $pu IS NULL THEN NULL WHEN $pu = profile_uuid THEN profile_id
                                     ELSE (SELECT id FROM profile WHERE token_id = $t AND apple_profile_uuid = $pu) END,
                   profile_uuid = $pu, profile_status = $ps, profile_assign_time = $pat, profile_push_time = $ppt,
                   device_assigned_date = coalesce($dad, device_assigned_date), device_assigned_by = coalesce($dab, device_assigned_by),
                   mdm_migration_deadline = $mmd, is_replacement_device = $rep, updated_at = $now
            WHERE token_id = $t AND serial_number = $s
            """, [.. DetailParameters, "$t", "$now"]);
        update.Bind(DetailParameters.Length, tokenId.ToString());
        update.Bind(DetailParameters.Length + 1, ToUnixMs(now));
        var n = 0;
        foreach (var d in details)
        {
            BindDetails(update, d);
            n += update.Execute();
        }

        return n;
    }

    public int Delete(Guid tokenId, IReadOnlyCollection<string> serials)
        => serials.Count == 0 ? 0 : Execute(
            "DELETE FROM device WHERE token_id = $t AND serial_number IN (SELECT value FROM json_each($s))",
            ("$t", tokenId.ToString()), ("$s", JsonSerializer.Serialize(serials)));

    public int MarkProfileCleared(Guid tokenId, IReadOnlyCollection<string> serials, DateTimeOffset now)
        => serials.Count == 0 ? 0 : Execute(
            """
            UPDATE device SET profile_id = NULL, profile_uuid = NULL, profile_status = 'removed', updated_at = $now
            WHERE token_id = $t AND serial_number IN (SELECT value FROM json_each($s))
            """, ("$now", ToUnixMs(now)), ("$t", tokenId.ToString()), ("$s", JsonSerializer.Serialize(serials)));

    public int MarkReleased(Guid tokenId, IReadOnlyCollection<string> serials, DateTimeOffset now, DateTimeOffset purgeAfter)
        => serials.Count == 0 ? 0 : Execute(
            """
            UPDATE device SET released_at = $now, removed_at = coalesce(removed_at, $now), purge_after = coalesce(purge_after, $purge), updated_at = $now
            WHERE token_id = $t AND serial_number IN (SELECT value FROM json_each($s))
            """, ("$now", ToUnixMs(now)), ("$purge", ToUnixMs(purgeAfter)), ("$t", tokenId.ToString()), ("$s", JsonSerializer.Serialize(serials)));

    public IReadOnlyList<DeviceFamilyCount> CountWithoutProfile(Guid tokenId, DateTimeOffset before)
    {
        using var command = Command(
            """
            SELECT coalesce(device_family, '') AS family, count(*) AS devices FROM device
            WHERE token_id = $t AND removed_at IS NULL AND profile_id IS NULL AND coalesce(profile_status, '') <> 'removed'
              AND coalesce(device_assigned_date, updated_at) < $before
            GROUP BY 1 ORDER BY 1
            """, ("$t", tokenId.ToString()), ("$before", ToUnixMs(before)));
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
        using var command = Command("SELECT count(*) AS held, max(assign_failed_at) AS latest FROM device WHERE token_id = $t AND removed_at IS NULL AND assign_failed_at > $since",
            ("$t", tokenId.ToString()), ("$since", ToUnixMs(since)));
        using var r = command.ExecuteReader();
        r.Read();
        int held = r.GetOrdinal("held"), latest = r.GetOrdinal("latest");
        return (r.GetInt64(held), r.IsDBNull(latest) ? null : ToTime(r.GetInt64(latest)));
    }

    private long TokenCount()
    {
        using var command = Command("SELECT count(*) FROM token");
        return (long)command.ExecuteScalar()!;
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

    private static long? Ms(DateTimeOffset? t) => t is null ? null : ToUnixMs(t.Value);
}

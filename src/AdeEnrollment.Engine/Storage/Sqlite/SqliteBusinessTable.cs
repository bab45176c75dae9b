using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: tables business_account, business_activity and business_request.</summary>
internal sealed partial class SqliteBusinessTable(SqliteConnection connection, SqliteTransaction? transaction) : IBusinessTable
{
    private readonly SqliteConnection connection = connection;
    private readonly SqliteTransaction? transaction = transaction;

    // ---- accounts ---------------------------------------------------------------------------------------------------

    public IReadOnlyList<BusinessAccountRow> Accounts()
    {
        using var cmd = connection.Command(
            "SELECT id, client_id, key_id, scope, token_uri, service_uri, created_at, gets_per_minute, posts_per_hour, devices_per_activity FROM business_account ORDER BY client_id");
        using var r = cmd.ExecuteReader();
        int id = r.GetOrdinal("id"), client = r.GetOrdinal("client_id"), key = r.GetOrdinal("key_id"), scope = r.GetOrdinal("scope"),
            tokenUri = r.GetOrdinal("token_uri"), serviceUri = r.GetOrdinal("service_uri"), created = r.GetOrdinal("created_at"),
            gets = r.GetOrdinal("gets_per_minute"), posts = r.GetOrdinal("posts_per_hour"), devices = r.GetOrdinal("devices_per_activity");
        var list = new List<BusinessAccountRow>();
        while (r.Read())
        {
            list.Add(new BusinessAccountRow(Guid.Parse(r.GetString(id)), r.GetString(client), r.GetString(key), r.GetString(scope),
                r.GetString(tokenUri), r.GetString(serviceUri), SqliteExtensions.ToTime(r.GetInt64(created)),
                r.IsDBNull(gets) ? null : r.GetInt32(gets), r.IsDBNull(posts) ? null : r.GetInt32(posts), r.IsDBNull(devices) ? null : r.GetInt32(devices)));
        }

        return list;
    }

    public bool AccountExists(string clientId)
        => connection.Scalar<long>("SELECT COUNT(*) FROM business_account WHERE client_id = $c", ("$c", clientId)) > 0;

    public void InsertAccount(BusinessAccountRow row, byte[] sealedPrivateKey)
        => connection.Execute(
            """
            INSERT INTO business_account (id, client_id, key_id, scope, private_key, token_uri, service_uri, created_at, gets_per_minute, posts_per_hour, devices_per_activity)
            VALUES ($id, $c, $k, $s, $p, $t, $u, $at, $gets, $posts, $devices)
            """,
            ("$id", row.Id.ToString()), ("$c", row.ClientId), ("$k", row.KeyId), ("$s", row.Scope), ("$p", sealedPrivateKey),
            ("$t", row.TokenUri), ("$u", row.ServiceUri), ("$at", SqliteExtensions.ToUnixMs(row.CreatedAt)), ("$gets", row.GetsPerMinute), ("$posts", row.PostsPerHour),
            ("$devices", row.DevicesPerActivity));

    public byte[]? PrivateKey(Guid accountId)
    {
        using var cmd = connection.Command("SELECT private_key FROM business_account WHERE id = $id", ("$id", accountId.ToString()));
        using var r = cmd.ExecuteReader();
        return r.Read() ? (byte[])r.GetValue(r.GetOrdinal("private_key")) : null;
    }

    public bool DeleteAccount(Guid accountId)
    {
        connection.Execute("DELETE FROM business_request WHERE account_id = $id", ("$id", accountId.ToString()));
        connection.Execute("DELETE FROM business_activity WHERE account_id = $id", ("$id", accountId.ToString()));
        return connection.Execute("DELETE FROM business_account WHERE id = $id", ("$id", accountId.ToString())) > 0;
    }

    public DateTimeOffset? BlockedUntil(Guid accountId, string method)
        => connection.Scalar<long?>($"SELECT {BusinessBlock.Column(method)} FROM business_account WHERE id = $id", ("$id", accountId.ToString())) is { } ms
            ? SqliteExtensions.ToTime(ms) : null;

    public void SetBlockedUntil(Guid accountId, string method, DateTimeOffset? until)
        => connection.Execute($"UPDATE business_account SET {BusinessBlock.Column(method)} = $u WHERE id = $id",
            ("$u", until is { } u ? SqliteExtensions.ToUnixMs(u) : null), ("$id", accountId.ToString()));

    public void SetLimits(Guid accountId, int? getsPerMinute, int? postsPerHour, int? devicesPerActivity)
        => connection.Execute("UPDATE business_account SET gets_per_minute = $gets, posts_per_hour = $posts, devices_per_activity = $devices WHERE id = $id",
            ("$gets", getsPerMinute), ("$posts", postsPerHour), ("$devices", devicesPerActivity), ("$id", accountId.ToString()));

    // ---- requests ---------------------------------------------------------------------------------------------------

    public IReadOnlyList<DateTimeOffset> Requests(Guid accountId, string method, DateTimeOffset since)
        => Times("SELECT at AS t FROM business_request WHERE account_id = $a AND method = $m AND at > $since ORDER BY at",
            ("$a", accountId.ToString()), ("$m", method), ("$since", SqliteExtensions.ToUnixMs(since)));

    public void AddRequest(Guid accountId, string method, DateTimeOffset at)
        => connection.Execute("INSERT INTO business_request (account_id, method, at) VALUES ($a, $m, $at)",
            ("$a", accountId.ToString()), ("$m", method), ("$at", SqliteExtensions.ToUnixMs(at)));

    public bool RemoveRequest(Guid accountId, string method, DateTimeOffset at)
        => connection.Execute(
            "DELETE FROM business_request WHERE rowid = (SELECT rowid FROM business_request WHERE account_id = $a AND method = $m AND at = $at LIMIT 1)",
            ("$a", accountId.ToString()), ("$m", method), ("$at", SqliteExtensions.ToUnixMs(at))) > 0;

    public void PruneRequests(Guid accountId, string method, DateTimeOffset before)
        => connection.Execute("DELETE FROM business_request WHERE account_id = $a AND method = $m AND at <= $before",
            ("$a", accountId.ToString()), ("$m", method), ("$before", SqliteExtensions.ToUnixMs(before)));

    // ---- the serial -> server index of one inventory read -------------------------------------------------------------

    public void AddDeviceServers(Guid runId, IReadOnlyList<(string SerialNumber, string ServerId)> page, DateTimeOffset at)
    {
        using var insert = connection.Command(
            "INSERT INTO business_device_server (run_id, serial_number, server_id, created_at) VALUES ($r, $s, $id, $at) ON CONFLICT (run_id, serial_number) DO UPDATE SET server_id = excluded.server_id",
            ("$r", runId.ToString()), ("$s", ""), ("$id", ""), ("$at", SqliteExtensions.ToUnixMs(at)));
        insert.Prepare();
        foreach (var (serial, server) in page)
        {
            insert.Parameters["$s"].Value = serial;
            insert.Parameters["$id"].Value = server;
            insert.ExecuteNonQuery();
        }
    }

    public IReadOnlyDictionary<string, string> DeviceServers(Guid runId, IReadOnlyCollection<string> serialNumbers)
    {
        var found = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        using var select = connection.Command("SELECT server_id FROM business_device_server WHERE run_id = $r AND serial_number = $s", ("$r", runId.ToString()), ("$s", ""));
        select.Prepare();
        foreach (var serial in serialNumbers)
        {
            select.Parameters["$s"].Value = serial;
            if (select.ExecuteScalar() is string server)
            {
                found[serial] = server;
            }
        }

        return found;
    }

    public void DropDeviceServers(Guid runId, DateTimeOffset staleBefore)
        => connection.Execute("DELETE FROM business_device_server WHERE run_id = $r OR created_at < $stale",
            ("$r", runId.ToString()), ("$stale", SqliteExtensions.ToUnixMs(staleBefore)));

    // ---- activities -------------------------------------------------------------------------------------------------

    public void InsertActivity(BusinessActivityRow row)
        => connection.Execute(
            """
            INSERT INTO business_activity (id, account_id, activity_type, server_id, server_name, token_id, device_count, serials, status, sub_status, results, created_at, completed_at, checked_at)
            VALUES ($id, $acc, $type, $sid, $sname, $tid, $n, $serials, $status, $sub, $results, $at, $done, $checked)
            """,
            ("$id", row.Id), ("$acc", row.AccountId.ToString()), ("$type", row.ActivityType), ("$sid", row.ServerId), ("$sname", row.ServerName),
            ("$tid", row.TokenId?.ToString()), ("$n", row.DeviceCount), ("$serials", JsonSerializer.Serialize(row.Serials.ToArray(), BusinessTableJson.Default.StringArray)),
            ("$status", row.Status), ("$sub", row.SubStatus), ("$results", ResultsJson(row.Results)), ("$at", SqliteExtensions.ToUnixMs(row.CreatedAt)),
            ("$done", row.CompletedAt is { } d ? SqliteExtensions.ToUnixMs(d) : null), ("$checked", row.CheckedAt is { } c ? SqliteExtensions.ToUnixMs(c) : null));

    public void UpdateActivity(string id, string status, string? subStatus, DateTimeOffset? completedAt, IReadOnlyList<BusinessDeviceResultRow>? results, DateTimeOffset checkedAt)
        => connection.Execute(
            "UPDATE business_activity SET status = $s, sub_status = $sub, completed_at = $done, results = COALESCE($r, results), checked_at = $now WHERE id = $id COLLATE NOCASE",
            ("$s", status), ("$sub", subStatus), ("$done", completedAt is { } d ? SqliteExtensions.ToUnixMs(d) : null), ("$r", ResultsJson(results)),
            ("$now", SqliteExtensions.ToUnixMs(checkedAt)), ("$id", id));

    public IReadOnlyList<BusinessActivitySummaryRow> RecentActivities(int limit)
    {
        using var cmd = connection.Command("SELECT id, activity_type, server_name, device_count, status, created_at FROM business_activity ORDER BY created_at DESC, id LIMIT $n", ("$n", limit));
        using var r = cmd.ExecuteReader();
        var list = new List<BusinessActivitySummaryRow>();
        while (r.Read())
        {
            list.Add(new BusinessActivitySummaryRow(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), r.GetInt32(3), r.GetString(4), SqliteExtensions.ToTime(r.GetInt64(5))));
        }

        return list;
    }

    public IReadOnlyList<string> ActivityServerNames()
    {
        using var cmd = connection.Command("SELECT DISTINCT server_name FROM business_activity WHERE server_name IS NOT NULL ORDER BY server_name");
        using var r = cmd.ExecuteReader();
        var list = new List<string>();
        while (r.Read())
        {
            list.Add(r.GetString(0));
        }

        return list;
    }

    public IReadOnlyList<BusinessActivityRow> Activities(string? id = null, Guid? accountId = null)
    {
        using var cmd = connection.Command(
            """
            SELECT id, account_id, activity_type, server_id, server_name, token_id, device_count, serials, status, sub_status, results, created_at, completed_at, checked_at
            FROM business_activity WHERE ($id IS NULL OR id = $id COLLATE NOCASE) AND ($acc IS NULL OR account_id = $acc) ORDER BY created_at DESC, id
            """, ("$id", id), ("$acc", accountId?.ToString()));
        using var r = cmd.ExecuteReader();
        int oId = r.GetOrdinal("id"), oAcc = r.GetOrdinal("account_id"), oType = r.GetOrdinal("activity_type"), oSid = r.GetOrdinal("server_id"),
            oSname = r.GetOrdinal("server_name"), oTid = r.GetOrdinal("token_id"), oN = r.GetOrdinal("device_count"), oSerials = r.GetOrdinal("serials"),
            oStatus = r.GetOrdinal("status"), oSub = r.GetOrdinal("sub_status"), oResults = r.GetOrdinal("results"), oAt = r.GetOrdinal("created_at"),
            oDone = r.GetOrdinal("completed_at"), oChecked = r.GetOrdinal("checked_at");
        var list = new List<BusinessActivityRow>();
        while (r.Read())
        {
            list.Add(new BusinessActivityRow(
                r.GetString(oId),
                Guid.Parse(r.GetString(oAcc)),
                r.GetString(oType),
                r.GetStringOrNull(oSid),
                r.GetStringOrNull(oSname),
                r.GetStringOrNull(oTid) is { } t ? Guid.Parse(t) : null,
                r.GetInt32(oN),
                JsonSerializer.Deserialize(r.GetString(oSerials), BusinessTableJson.Default.StringArray) ?? [],
                r.GetString(oStatus),
                r.GetStringOrNull(oSub),
                r.GetStringOrNull(oResults) is { } json ? JsonSerializer.Deserialize(json, BusinessTableJson.Default.ListBusinessDeviceResultRow) : null,
                SqliteExtensions.ToTime(r.GetInt64(oAt)),
                r.GetInt64OrNull(oDone) is { } done ? SqliteExtensions.ToTime(done) : null,
                r.GetInt64OrNull(oChecked) is { } ch ? SqliteExtensions.ToTime(ch) : null));
        }

        return list;
    }

    private List<DateTimeOffset> Times(string sql, params (string Name, object? Value)[] parameters)
    {
        using var cmd = connection.Command(sql, parameters);
        using var r = cmd.ExecuteReader();
        var t = r.GetOrdinal("t");
        var list = new List<DateTimeOffset>();
        while (r.Read())
        {
            list.Add(SqliteExtensions.ToTime(r.GetInt64(t)));
        }

        return list;
    }

    private static string? ResultsJson(IReadOnlyList<BusinessDeviceResultRow>? results)
        => results is null ? null : JsonSerializer.Serialize(results.ToList(), BusinessTableJson.Default.ListBusinessDeviceResultRow);
}

/// <summary>The JSON columns of business_activity (serials; per-device results with SerialNumber, Status, Detail).</summary>
[JsonSerializable(typeof(string[]))]
[JsonSerializable(typeof(List<BusinessDeviceResultRow>))]
internal sealed partial class BusinessTableJson : JsonSerializerContext
{
}

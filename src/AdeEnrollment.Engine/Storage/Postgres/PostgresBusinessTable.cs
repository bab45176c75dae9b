using System.Text.Json;
using Npgsql;
using AdeEnrollment.Engine.Storage.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>
/// PostgreSQL: tables business_account, business_activity, business_request and business_device_server. A page of the
/// serial → server index goes in and out as array parameters (one statement per page, not one per device). Client
/// IDs, serials and activity IDs compare with lower() where SQLite compares them NOCASE.
/// </summary>
internal sealed partial class PostgresBusinessTable(NpgsqlConnection connection, NpgsqlTransaction? transaction) : IBusinessTable
{
    // ---- accounts ---------------------------------------------------------------------------------------------------

    public IReadOnlyList<BusinessAccountRow> Accounts()
    {
        using var cmd = connection.Command(transaction,
            "SELECT id, client_id, key_id, scope, token_uri, service_uri, created_at, gets_per_minute, posts_per_hour, devices_per_activity FROM business_account ORDER BY lower(client_id), client_id");
        using var r = cmd.ExecuteReader();
        int id = r.GetOrdinal("id"), client = r.GetOrdinal("client_id"), key = r.GetOrdinal("key_id"), scope = r.GetOrdinal("scope"),
            tokenUri = r.GetOrdinal("token_uri"), serviceUri = r.GetOrdinal("service_uri"), created = r.GetOrdinal("created_at"),
            gets = r.GetOrdinal("gets_per_minute"), posts = r.GetOrdinal("posts_per_hour"), devices = r.GetOrdinal("devices_per_activity");
        var list = new List<BusinessAccountRow>();
        while (r.Read())
        {
            list.Add(new BusinessAccountRow(Guid.Parse(r.GetString(id)), r.GetString(client), r.GetString(key), r.GetString(scope),
                r.GetString(tokenUri), r.GetString(serviceUri), ToTime(r.GetInt64(created)),
                r.IsDBNull(gets) ? null : (int)r.GetInt64(gets), r.IsDBNull(posts) ? null : (int)r.GetInt64(posts),
                r.IsDBNull(devices) ? null : (int)r.GetInt64(devices)));
        }

        return list;
    }

    public bool AccountExists(string clientId)
        => connection.Scalar<long>(transaction, "SELECT count(*) FROM business_account WHERE lower(client_id) = lower(@c)", ("c", clientId)) > 0;

    public void InsertAccount(BusinessAccountRow row, byte[] sealedPrivateKey)
        => connection.Execute(transaction,
            """
            INSERT INTO business_account (id, client_id, key_id, scope, private_key, token_uri, service_uri, created_at, gets_per_minute, posts_per_hour, devices_per_activity)
            VALUES (@id, @c, @k, @s, @p, @t, @u, @at, @gets::bigint, @posts::bigint, @devices::bigint)
            """,
            ("id", row.Id.ToString()), ("c", row.ClientId), ("k", row.KeyId), ("s", row.Scope), ("p", sealedPrivateKey),
            ("t", row.TokenUri), ("u", row.ServiceUri), ("at", ToUnixMs(row.CreatedAt)), ("gets", (long?)row.GetsPerMinute), ("posts", (long?)row.PostsPerHour),
            ("devices", (long?)row.DevicesPerActivity));

    public byte[]? PrivateKey(Guid accountId)
    {
        using var cmd = connection.Command(transaction, "SELECT private_key FROM business_account WHERE id = @id", ("id", accountId.ToString()));
        return cmd.ExecuteScalar() as byte[];
    }

    public bool DeleteAccount(Guid accountId)
    {
        connection.Execute(transaction, "DELETE FROM business_request WHERE account_id = @id", ("id", accountId.ToString()));
        connection.Execute(transaction, "DELETE FROM business_activity WHERE account_id = @id", ("id", accountId.ToString()));
        return connection.Execute(transaction, "DELETE FROM business_account WHERE id = @id", ("id", accountId.ToString())) > 0;
    }

    public DateTimeOffset? BlockedUntil(Guid accountId, string method)
        => connection.Scalar<long?>(transaction, $"SELECT {BusinessBlock.Column(method)} FROM business_account WHERE id = @id", ("id", accountId.ToString())) is { } ms
            ? ToTime(ms) : null;

    public void SetBlockedUntil(Guid accountId, string method, DateTimeOffset? until)
        => connection.Execute(transaction, $"UPDATE business_account SET {BusinessBlock.Column(method)} = @u::bigint WHERE id = @id",
            ("u", until is { } u ? ToUnixMs(u) : null), ("id", accountId.ToString()));

    public void SetLimits(Guid accountId, int? getsPerMinute, int? postsPerHour, int? devicesPerActivity)
        => connection.Execute(transaction,
            "UPDATE business_account SET gets_per_minute = @gets::bigint, posts_per_hour = @posts::bigint, devices_per_activity = @devices::bigint WHERE id = @id",
            ("gets", (long?)getsPerMinute), ("posts", (long?)postsPerHour), ("devices", (long?)devicesPerActivity), ("id", accountId.ToString()));

    // ---- requests ---------------------------------------------------------------------------------------------------

    public IReadOnlyList<DateTimeOffset> Requests(Guid accountId, string method, DateTimeOffset since)
        => Times("SELECT at AS t FROM business_request WHERE account_id = @a AND method = @m AND at > @since ORDER BY at",
            ("a", accountId.ToString()), ("m", method), ("since", ToUnixMs(since)));

    public void AddRequest(Guid accountId, string method, DateTimeOffset at)
        => connection.Execute(transaction, "INSERT INTO business_request (account_id, method, at) VALUES (@a, @m, @at)",
            ("a", accountId.ToString()), ("m", method), ("at", ToUnixMs(at)));

    public bool RemoveRequest(Guid accountId, string method, DateTimeOffset at)
        => connection.Execute(transaction,
            "DELETE FROM business_request WHERE ctid = (SELECT ctid FROM business_request WHERE account_id = @a AND method = @m AND at = @at LIMIT 1)",
            ("a", accountId.ToString()), ("m", method), ("at", ToUnixMs(at))) > 0;

    public void PruneRequests(Guid accountId, string method, DateTimeOffset before)
        => connection.Execute(transaction, "DELETE FROM business_request WHERE account_id = @a AND method = @m AND at <= @before",
            ("a", accountId.ToString()), ("m", method), ("before", ToUnixMs(before)));

    // ---- the serial -> server index of one inventory read -------------------------------------------------------------

    public void AddDeviceServers(Guid runId, IReadOnlyList<(string SerialNumber, string ServerId)> page, DateTimeOffset at)
    {
        if (page.Count == 0)
        {
            return;
        }

        // One statement for the page: the serials and servers as two arrays, the last one of a serial winning as in a
        // row-by-row upsert (ON CONFLICT cannot touch one row twice in a statement).
        var serials = new string[page.Count];
        var servers = new string[page.Count];
        for (var i = 0; i < page.Count; i++)
        {
            (serials[i], servers[i]) = page[i];
        }

        using var cmd = connection.Command(transaction,
            """
            INSERT INTO business_device_server (run_id, serial_number, server_id, created_at)
            SELECT DISTINCT ON (lower(s)) @r, s, v, @at
            FROM unnest(@serials::text[], @servers::text[]) WITH ORDINALITY AS p(s, v, n)
            ORDER BY lower(s), n DESC
            ON CONFLICT (run_id, lower(serial_number)) DO UPDATE SET server_id = excluded.server_id
            """,
            ("r", runId.ToString()), ("at", ToUnixMs(at)), ("serials", serials), ("servers", servers));
        cmd.ExecuteNonQuery();
    }

    /// <summary>
    /// The server of each serial of a page, each serial looked up on the index (run_id, lower(serial_number)) by itself
    /// (a LATERAL subquery with LIMIT 1, which the planner cannot flatten into a join): an index probe per serial whatever
    /// the planner statistics say. A plain join of the page's serials with the table was planned, while the inventory
    /// filled the table faster than autovacuum sampled it, as a read of all of the run's rows per page (the index on
    /// run_id alone, the serials as a filter): quadratic over the inventory, 55–61 ms of server time per page at 200,000
    /// instead of about 1 ms. A serial without a server (or of another run) has no row.
    /// </summary>
    internal const string DeviceServersSql =
        """
        SELECT q.s AS serial_number, b.server_id
        FROM unnest(@serials::text[]) AS q(s)
        CROSS JOIN LATERAL (SELECT server_id FROM business_device_server
                            WHERE run_id = @r AND lower(serial_number) = lower(q.s) LIMIT 1) b
        """;

    public IReadOnlyDictionary<string, string> DeviceServers(Guid runId, IReadOnlyCollection<string> serialNumbers)
    {
        var found = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (serialNumbers.Count == 0)
        {
            return found;
        }

        using var cmd = connection.Command(transaction, DeviceServersSql, ("r", runId.ToString()), ("serials", serialNumbers.ToArray()));
        using var r = cmd.ExecuteReader();
        int serial = r.GetOrdinal("serial_number"), server = r.GetOrdinal("server_id");
        while (r.Read())
        {
            found[r.GetString(serial)] = r.GetString(server);
        }

        return found;
    }

    public void DropDeviceServers(Guid runId, DateTimeOffset staleBefore)
        => connection.Execute(transaction, "DELETE FROM business_device_server WHERE run_id = @r OR created_at < @stale",
            ("r", runId.ToString()), ("stale", ToUnixMs(staleBefore)));

    // ---- activities -------------------------------------------------------------------------------------------------

    public void InsertActivity(BusinessActivityRow row)
        => connection.Execute(transaction,
            """
            INSERT INTO business_activity (id, account_id, activity_type, server_id, server_name, token_id, device_count, serials, status, sub_status, results, created_at, completed_at, checked_at)
            VALUES (@id, @acc, @type, @sid::text, @sname::text, @tid::text, @n, @serials, @status, @sub::text, @results::text, @at, @done::bigint, @checked::bigint)
            """,
            ("id", row.Id), ("acc", row.AccountId.ToString()), ("type", row.ActivityType), ("sid", row.ServerId), ("sname", row.ServerName),
            ("tid", row.TokenId?.ToString()), ("n", (long)row.DeviceCount), ("serials", JsonSerializer.Serialize(row.Serials.ToArray(), BusinessTableJson.Default.StringArray)),
            ("status", row.Status), ("sub", row.SubStatus), ("results", ResultsJson(row.Results)), ("at", ToUnixMs(row.CreatedAt)),
            ("done", row.CompletedAt is { } d ? ToUnixMs(d) : null), ("checked", row.CheckedAt is { } c ? ToUnixMs(c) : null));

    public void UpdateActivity(string id, string status, string? subStatus, DateTimeOffset? completedAt, IReadOnlyList<BusinessDeviceResultRow>? results, DateTimeOffset checkedAt)
        => connection.Execute(transaction,
            "UPDATE business_activity SET status = @s, sub_status = @sub::text, completed_at = @done::bigint, results = coalesce(@r::text, results), checked_at = @now WHERE lower(id) = lower(@id)",
            ("s", status), ("sub", subStatus), ("done", completedAt is { } d ? ToUnixMs(d) : null), ("r", ResultsJson(results)),
            ("now", ToUnixMs(checkedAt)), ("id", id));

    public IReadOnlyList<BusinessActivitySummaryRow> RecentActivities(int limit)
    {
        using var cmd = connection.Command(transaction, "SELECT id, activity_type, server_name, device_count, status, created_at FROM business_activity ORDER BY created_at DESC, id LIMIT @n", ("n", limit));
        using var r = cmd.ExecuteReader();
        var list = new List<BusinessActivitySummaryRow>();
        while (r.Read())
        {
            list.Add(new BusinessActivitySummaryRow(r.GetString(0), r.GetString(1), r.IsDBNull(2) ? null : r.GetString(2), (int)r.GetInt64(3), r.GetString(4), ToTime(r.GetInt64(5))));
        }

        return list;
    }

    public IReadOnlyList<string> ActivityServerNames()
    {
        using var cmd = connection.Command(transaction, "SELECT DISTINCT server_name FROM business_activity WHERE server_name IS NOT NULL ORDER BY server_name");
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
        using var cmd = connection.Command(transaction,
            """
            SELECT id, account_id, activity_type, server_id, server_name, token_id, device_count, serials, status, sub_status, results, created_at, completed_at, checked_at
            FROM business_activity WHERE (@id::text IS NULL OR lower(id) = lower(@id::text)) AND (@acc::text IS NULL OR account_id = @acc::text) ORDER BY created_at DESC, id
            """, ("id", id), ("acc", accountId?.ToString()));
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
                (int)r.GetInt64(oN),
                JsonSerializer.Deserialize(r.GetString(oSerials), BusinessTableJson.Default.StringArray) ?? [],
                r.GetString(oStatus),
                r.GetStringOrNull(oSub),
                r.GetStringOrNull(oResults) is { } json ? JsonSerializer.Deserialize(json, BusinessTableJson.Default.ListBusinessDeviceResultRow) : null,
                ToTime(r.GetInt64(oAt)),
                r.GetInt64OrNull(oDone) is { } done ? ToTime(done) : null,
                r.GetInt64OrNull(oChecked) is { } ch ? ToTime(ch) : null));
        }

        return list;
    }

    private List<DateTimeOffset> Times(string sql, params (string Name, object? Value)[] parameters)
    {
        using var cmd = connection.Command(transaction, sql, parameters);
        using var r = cmd.ExecuteReader();
        var t = r.GetOrdinal("t");
        var list = new List<DateTimeOffset>();
        while (r.Read())
        {
            list.Add(ToTime(r.GetInt64(t)));
        }

        return list;
    }

    private static string? ResultsJson(IReadOnlyList<BusinessDeviceResultRow>? results)
        => results is null ? null : JsonSerializer.Serialize(results.ToList(), BusinessTableJson.Default.ListBusinessDeviceResultRow);
}

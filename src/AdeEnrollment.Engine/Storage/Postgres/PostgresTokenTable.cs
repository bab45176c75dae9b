using System.Text.Json;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Rules;
using Npgsql;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;
using static AdeEnrollment.Engine.Storage.IdNameReader;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>
/// PostgreSQL: table token. The unique index on lower(name) is a backstop; the rule that two names are one is the
/// service's (TextRules.NameTaken over <see cref="Names"/>). The list is ordered as SQLite orders it.
/// </summary>
internal sealed partial class PostgresTokenTable(NpgsqlConnection connection, NpgsqlTransaction? transaction) : ITokenTable
{
    private const string Columns = """
        id, name, apple_id, consumer_key_hash, credentials, expires_at, request_id, enrollment_url, scope_tags, service_uri,
        server_name, server_uuid, org_name, org_type, admin_id, invalid_reason, terms_not_signed_at, created_at, modified_at
        """;

    public long Count() => connection.Scalar<long>(transaction, "SELECT count(*) FROM token");

    public TokenRow? Get(Guid id)
    {
        using var command = connection.Command(transaction, $"SELECT {Columns} FROM token WHERE id = @id", ("id", id.ToString())).Prepared();
        using var r = command.ExecuteReader();
        if (!r.Read())
        {
            return null;
        }

        var terms = r.GetOrdinal("terms_not_signed_at");
        return new TokenRow(
            Guid.Parse(r.GetString(r.GetOrdinal("id"))),
            r.GetString(r.GetOrdinal("name")),
            r.GetString(r.GetOrdinal("apple_id")),
            r.GetString(r.GetOrdinal("consumer_key_hash")),
            r.GetFieldValue<byte[]>(r.GetOrdinal("credentials")),
            ToTime(r.GetInt64(r.GetOrdinal("expires_at"))),
            Guid.Parse(r.GetString(r.GetOrdinal("request_id"))),
            r.GetStringOrNull(r.GetOrdinal("enrollment_url")),
            Tags(r.GetString(r.GetOrdinal("scope_tags"))),
            new Uri(r.GetString(r.GetOrdinal("service_uri"))),
            Server(r),
            r.GetStringOrNull(r.GetOrdinal("invalid_reason")),
            r.IsDBNull(terms) ? null : ToTime(r.GetInt64(terms)),
            ToTime(r.GetInt64(r.GetOrdinal("created_at"))),
            ToTime(r.GetInt64(r.GetOrdinal("modified_at"))));
    }

    public IReadOnlyList<TokenListRow> List(Guid? id = null)
        => ListWhere("@id::text IS NULL OR t.id = @id::text", "@id::text IS NULL OR dp.token_id = @id::text", ("id", id?.ToString()), withStates: false)
            .ConvertAll(x => x.Token);

    public IReadOnlyList<TokenListRow> ListOf(IReadOnlyCollection<Guid> ids)
        => ids.Count == 0 ? [] : ListWhere("t.id = ANY(@ids)", "dp.token_id = ANY(@ids)", ("ids", ids.Select(i => i.ToString()).ToArray()), withStates: false)
            .ConvertAll(x => x.Token);

    /// <remarks>
    /// One token (a sync's read of its token in the lease transaction) is asked by key: that statement's generic plan
    /// costs what a custom one does, so the server plans it once per connection. The array form is planned again for
    /// each call (its custom plans know the array's length and come out cheaper than the generic one): ≈ 0.8 ms of
    /// server time per call, once per token of a scheduler's pass.
    /// </remarks>
    public IReadOnlyList<(TokenListRow Token, SyncStateRow? State)> ListOfWithSyncStates(IReadOnlyCollection<Guid> ids) => ids.Count switch
    {
        0 => [],
        1 => ListWhere("t.id = @id", "dp.token_id = @id", ("id", ids.First().ToString()), withStates: true),
        _ => ListWhere("t.id = ANY(@ids)", "dp.token_id = ANY(@ids)", ("ids", ids.Select(i => i.ToString()).ToArray()), withStates: true),
    };

    // One statement: a round trip to the server costs more than the join. Device counts are read from
    // ade_token_devices, which triggers keep exact (PostgresSchema migration 9): counting the listed tokens' devices
    // read every one of their rows (200,000 for a list of 2,000 tokens of 100 devices), and a server whose visibility
    // map lags behind the inserts visits the table for each. Default profiles come from one grouped read joined once,
    // as arrays per token. With the sync states (a scheduler's -IfDue batch), the whole sync_state row comes along.
    private List<(TokenListRow Token, SyncStateRow? State)> ListWhere(string tokenFilter, string defaultsFilter, (string, object?) parameter, bool withStates)
    {
        using var command = connection.Command(transaction,
            $"""
            SELECT t.id, t.name, t.apple_id, t.expires_at, t.request_id, t.enrollment_url, t.scope_tags, t.service_uri,
                   t.server_name, t.server_uuid, t.org_name, t.org_type, t.admin_id, t.invalid_reason, t.created_at, t.modified_at,
                   (SELECT count(*) FROM profile p WHERE p.token_id = t.id) AS profile_count,
                   coalesce(dc.devices, 0) AS device_count,
                   (SELECT count(*) FROM device d WHERE d.token_id = t.id AND d.removed_at IS NOT NULL) AS removed_count,
                   dps.platforms AS default_platforms, dps.profile_ids AS default_profile_ids, dps.names AS default_profile_names,
                   s.last_started_at, s.last_success_at, s.last_full_at, coalesce(s.next_must_be_full, 0) AS next_must_be_full
                   {(withStates ? ", s.token_id AS state_token_id, s.cursor, s.cursor_kind, s.full_sync_id, s.lease_id, s.lease_expires_at, s.lease_history_id" : "")}
            FROM token t LEFT JOIN sync_state s ON s.token_id = t.id
            LEFT JOIN ade_token_devices dc ON dc.token_id = t.id
            LEFT JOIN (SELECT dp.token_id, array_agg(dp.platform) AS platforms, array_agg(dp.profile_id) AS profile_ids, array_agg(p.name) AS names
                       FROM token_default_profile dp JOIN profile p ON p.id = dp.profile_id WHERE {defaultsFilter} GROUP BY dp.token_id) dps ON dps.token_id = t.id
            WHERE {tokenFilter}
            ORDER BY lower(t.name COLLATE "C"), t.name COLLATE "C"
            """,
            parameter);
        if (withStates)
        {
            command.Prepared(); // a sync's read of its token in the lease transaction, and each -IfDue batch
        }

        using var r = command.ExecuteReader();
        var (idCol, name, apple, expires, request, url, tags, service, created, modified, profiles, devices, started, success, full, must) =
            (r.GetOrdinal("id"), r.GetOrdinal("name"), r.GetOrdinal("apple_id"), r.GetOrdinal("expires_at"), r.GetOrdinal("request_id"),
             r.GetOrdinal("enrollment_url"), r.GetOrdinal("scope_tags"), r.GetOrdinal("service_uri"), r.GetOrdinal("created_at"),
             r.GetOrdinal("modified_at"), r.GetOrdinal("profile_count"), r.GetOrdinal("device_count"), r.GetOrdinal("last_started_at"),
             r.GetOrdinal("last_success_at"), r.GetOrdinal("last_full_at"), r.GetOrdinal("next_must_be_full"));
        var (invalid, platforms, profileIds, profileNames) =
            (r.GetOrdinal("invalid_reason"), r.GetOrdinal("default_platforms"), r.GetOrdinal("default_profile_ids"), r.GetOrdinal("default_profile_names"));
        var removed = r.GetOrdinal("removed_count");
        var stateToken = withStates ? r.GetOrdinal("state_token_id") : -1;
        var list = new List<(TokenListRow, SyncStateRow?)>();
        while (r.Read())
        {
            var tokenId = Guid.Parse(r.GetString(idCol));
            var row = new TokenListRow(
                tokenId,
                r.GetString(name),
                r.GetString(apple),
                ToTime(r.GetInt64(expires)),
                Guid.Parse(r.GetString(request)),
                r.GetStringOrNull(url),
                Tags(r.GetString(tags)),
                new Uri(r.GetString(service)),
                Server(r),
                r.GetStringOrNull(invalid),
                ToTime(r.GetInt64(created)),
                ToTime(r.GetInt64(modified)),
                (int)r.GetInt64(profiles),
                (int)r.GetInt64(devices),
                (int)r.GetInt64(removed),
                r.IsDBNull(platforms) ? [] : DefaultProfiles(r.GetFieldValue<string[]>(platforms), r.GetFieldValue<string[]>(profileIds), r.GetFieldValue<string[]>(profileNames)),
                new SyncHistoryState(Time(r, started), Time(r, success), Time(r, full), r.GetInt64(must) != 0));
            list.Add((row, withStates && !r.IsDBNull(stateToken) ? PostgresSyncTable.StateOf(r) : null));
        }

        return list;
    }

    /// <summary>A token's default profiles from its aggregated arrays, ordered by platform; a platform this version does not know is left out.</summary>
    private static List<TokenDefaultProfileRow> DefaultProfiles(string[] platforms, string[] profileIds, string[] names)
    {
        var rows = new List<TokenDefaultProfileRow>(platforms.Length);
        for (var i = 0; i < platforms.Length; i++)
        {
            if (Enum.TryParse<DevicePlatform>(platforms[i], out var p))
            {
                rows.Add(new TokenDefaultProfileRow(p, Guid.Parse(profileIds[i]), names[i]));
            }
        }

        rows.Sort((a, b) => a.Platform.CompareTo(b.Platform));
        return rows;
    }

    public IReadOnlyList<(Guid Id, string Name)> Names()
    {
        using var command = connection.Command(transaction, "SELECT id, name FROM token");
        using var r = command.ExecuteReader();
        return IdNames(r);
    }

    public string? NameOfConsumerKeyHash(string consumerKeyHash, Guid? except = null)
        => connection.Scalar<string>(transaction, "SELECT name FROM token WHERE consumer_key_hash = @h AND (@id::text IS NULL OR id <> @id::text)",
            ("h", consumerKeyHash), ("id", except?.ToString()));

    public void Insert(TokenRow row)
        => connection.Execute(transaction,
            $"""
            INSERT INTO token ({Columns})
            VALUES (@id, @name, @apple, @ck, @cred, @exp, @req, @url, @tags, @svc, @sname, @suuid, @org, @otype, @admin, @invalid, @terms::bigint, @created, @modified)
            """,
            ("id", row.Id.ToString()), ("name", row.Name), ("apple", row.AppleId), ("ck", row.ConsumerKeyHash), ("cred", row.Credentials),
            ("exp", ToUnixMs(row.ExpiresAt)), ("req", row.RequestId.ToString()), ("url", row.EnrollmentUrl), ("tags", JsonSerializer.Serialize(row.ScopeTags)),
            ("svc", row.ServiceUri.ToString()), ("sname", row.Server.ServerName), ("suuid", row.Server.ServerUuid), ("org", row.Server.OrgName),
            ("otype", row.Server.OrgType), ("admin", row.Server.AdminId), ("invalid", row.InvalidReason),
            ("terms", row.TermsNotSignedAt is { } t ? ToUnixMs(t) : null), ("created", ToUnixMs(row.CreatedAt)), ("modified", ToUnixMs(row.ModifiedAt)));

    public void UpdateSettings(Guid id, string? name, IReadOnlyList<string>? scopeTags, string? enrollmentUrl, DateTimeOffset modifiedAt)
        => connection.Execute(transaction,
            """
            UPDATE token SET name = coalesce(@name::text, name), scope_tags = coalesce(@tags::text, scope_tags),
                             enrollment_url = coalesce(@url::text, enrollment_url), modified_at = @now
            WHERE id = @id
            """,
            ("name", name), ("tags", scopeTags is null ? null : JsonSerializer.Serialize(scopeTags)), ("url", enrollmentUrl),
            ("now", ToUnixMs(modifiedAt)), ("id", id.ToString()));

    public void Renew(Guid id, byte[] credentials, string consumerKeyHash, DateTimeOffset expiresAt, string appleId, TokenServerFacts server, DateTimeOffset modifiedAt)
        => connection.Execute(transaction,
            """
            UPDATE token SET credentials = @cred, consumer_key_hash = @ck, expires_at = @exp, apple_id = @apple,
                             invalid_reason = NULL, modified_at = @now,
                             server_name = coalesce(@sname::text, server_name), server_uuid = coalesce(@suuid::text, server_uuid),
                             org_name = coalesce(@org::text, org_name), org_type = coalesce(@otype::text, org_type),
                             admin_id = coalesce(@admin::text, admin_id)
            WHERE id = @id
            """,
            ("sname", server.ServerName), ("suuid", server.ServerUuid), ("org", server.OrgName), ("otype", server.OrgType), ("admin", server.AdminId),
            ("cred", credentials), ("ck", consumerKeyHash), ("exp", ToUnixMs(expiresAt)), ("apple", appleId), ("now", ToUnixMs(modifiedAt)),
            ("id", id.ToString()));

    public void SetServerName(Guid id, string serverName)
        => connection.Execute(transaction, "UPDATE token SET server_name = @n WHERE id = @id", ("n", serverName), ("id", id.ToString()));

    public void SetInvalidReason(Guid id, string? reason)
        => connection.Execute(transaction, "UPDATE token SET invalid_reason = @r::text WHERE id = @id", ("r", reason), ("id", id.ToString()));

    public void SetTermsNotSignedAt(Guid id, DateTimeOffset at)
        => connection.Execute(transaction, "UPDATE token SET terms_not_signed_at = @at WHERE id = @id", ("at", ToUnixMs(at)), ("id", id.ToString()));

    // prepared: every successful sync runs it (it writes only a token Apple had refused)
    public bool ClearAppleRefusals(Guid id)
        => connection.ExecutePrepared(transaction,
            "UPDATE token SET invalid_reason = NULL, terms_not_signed_at = NULL WHERE id = @id AND (invalid_reason IS NOT NULL OR terms_not_signed_at IS NOT NULL)",
            ("id", id.ToString())) > 0;

    public void Touch(Guid id, DateTimeOffset modifiedAt)
        => connection.Execute(transaction, "UPDATE token SET modified_at = @now WHERE id = @id", ("now", ToUnixMs(modifiedAt)), ("id", id.ToString()));

    public void Delete(Guid id)
    {
        // SQLite's schema cascades sync state, history and default profiles with ON DELETE CASCADE; so does this one.
        connection.Execute(transaction, "DELETE FROM token WHERE id = @id", ("id", id.ToString()));
    }

    /// <summary>The profile side: a change of a token's default profiles changes the token; false when there is no such token.</summary>
    public bool MarkModified(Guid tokenId, DateTimeOffset at)
        => connection.Execute(transaction, "UPDATE token SET modified_at = @at WHERE id = @t", ("at", ToUnixMs(at)), ("t", tokenId.ToString())) > 0;

    private static IReadOnlyList<string> Tags(string json) => ValueList.Of(JsonSerializer.Deserialize<string[]>(json) ?? []);

    private static TokenServerFacts Server(NpgsqlDataReader r)
        => new(r.GetStringOrNull(r.GetOrdinal("server_name")), r.GetStringOrNull(r.GetOrdinal("server_uuid")), r.GetStringOrNull(r.GetOrdinal("org_name")),
            r.GetStringOrNull(r.GetOrdinal("org_type")), r.GetStringOrNull(r.GetOrdinal("admin_id")));

    private static DateTimeOffset? Time(NpgsqlDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : ToTime(r.GetInt64(ordinal));
}

using System.Text.Json;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Rules;
using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;
using static AdeEnrollment.Engine.Storage.IdNameReader;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: table token (the stored ADE tokens, their credentials, default profiles by platform and Apple's state).</summary>
internal sealed partial class SqliteTokenTable(SqliteConnection connection, SqliteTransaction? transaction) : ITokenTable
{
    private readonly SqliteConnection connection = connection;
    private readonly SqliteTransaction? transaction = transaction;

    public long Count() => connection.Scalar<long>("SELECT count(*) FROM token");

    public TokenRow? Get(Guid id)
    {
        using var command = connection.Command(
            """
            SELECT id, name, apple_id, consumer_key_hash, credentials, expires_at, request_id, enrollment_url, scope_tags, service_uri,
                   server_name, server_uuid, org_name, org_type, admin_id, invalid_reason, terms_not_signed_at, created_at, modified_at
            FROM token WHERE id = $id
            """,
            ("$id", id.ToString()));
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
            r.GetValue(r.GetOrdinal("credentials")) as byte[] ?? [],
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
        => id is null
            ? ListWhere(" ORDER BY t.name", null, [])
            // One statement per case: "$id IS NULL OR t.id = $id" would scan every token even for one (Sync-AdeDevice, per token).
            : ListWhere(" WHERE t.id = $id", " WHERE dp.token_id = $id", [("$id", id.ToString())]);

    public IReadOnlyList<TokenListRow> ListOf(IReadOnlyCollection<Guid> ids)
        => ids.Count == 0 ? [] : ListWhere(" WHERE t.id IN (SELECT value FROM json_each($ids)) ORDER BY t.name",
            " WHERE dp.token_id IN (SELECT value FROM json_each($ids))", [("$ids", JsonSerializer.Serialize(ids.Select(i => i.ToString())))]);

    /// <summary>Two statements of the caller's read: SQLite answers in-process, so joining them would save nothing.</summary>
    public IReadOnlyList<(TokenListRow Token, SyncStateRow? State)> ListOfWithSyncStates(IReadOnlyCollection<Guid> ids)
    {
        var listed = ListOf(ids);
        var states = new SqliteSyncTable(connection, transaction).GetStates(ids);
        return listed.Select(t => (t, states.TryGetValue(t.Id, out var st) ? st : null)).ToList();
    }

    private List<TokenListRow> ListWhere(string tokenFilter, string? defaultsFilter, (string, object?)[] args)
    {
        var defaults = DefaultProfiles(defaultsFilter, args);
        using var command = connection.Command(
            """
            SELECT t.id, t.name, t.apple_id, t.expires_at, t.request_id, t.enrollment_url, t.scope_tags, t.service_uri,
                   t.server_name, t.server_uuid, t.org_name, t.org_type, t.admin_id, t.invalid_reason, t.created_at, t.modified_at,
                   (SELECT count(*) FROM profile p WHERE p.token_id = t.id) AS profile_count,
                   (SELECT count(*) FROM device d WHERE d.token_id = t.id) AS device_count,
                   (SELECT count(*) FROM device d WHERE d.token_id = t.id AND d.removed_at IS NOT NULL) AS removed_count,
                   s.last_started_at, s.last_success_at, s.last_full_at, coalesce(s.next_must_be_full, 0) AS next_must_be_full
            FROM token t LEFT JOIN sync_state s ON s.token_id = t.id
            """ + tokenFilter,
            args);
        using var r = command.ExecuteReader();
        var o = new ListOrdinals(r);
        var list = new List<TokenListRow>();
        while (r.Read())
        {
            var tokenId = Guid.Parse(r.GetString(o.Id));
            list.Add(new TokenListRow(
                tokenId,
                r.GetString(o.Name),
                r.GetString(o.AppleId),
                ToTime(r.GetInt64(o.ExpiresAt)),
                Guid.Parse(r.GetString(o.RequestId)),
                r.GetStringOrNull(o.EnrollmentUrl),
                Tags(r.GetString(o.ScopeTags)),
                new Uri(r.GetString(o.ServiceUri)),
                new TokenServerFacts(r.GetStringOrNull(o.ServerName), r.GetStringOrNull(o.ServerUuid), r.GetStringOrNull(o.OrgName),
                    r.GetStringOrNull(o.OrgType), r.GetStringOrNull(o.AdminId)),
                r.GetStringOrNull(o.InvalidReason),
                ToTime(r.GetInt64(o.CreatedAt)),
                ToTime(r.GetInt64(o.ModifiedAt)),
                r.GetInt32(o.ProfileCount),
                r.GetInt32(o.DeviceCount),
                r.GetInt32(o.RemovedCount),
                defaults.TryGetValue(tokenId, out var d) ? d : [],
                new SyncHistoryState(Time(r, o.LastStarted), Time(r, o.LastSuccess), Time(r, o.LastFull), r.GetInt64(o.NextMustBeFull) != 0)));
        }

        return list;
    }

    /// <summary>Default profiles by token (of one token or all), each token's ordered by platform.</summary>
    private Dictionary<Guid, List<TokenDefaultProfileRow>> DefaultProfiles(string? filter, (string, object?)[] args)
    {
        using var command = connection.Command(
            """
            SELECT dp.token_id, dp.platform, dp.profile_id, p.name
            FROM token_default_profile dp JOIN profile p ON p.id = dp.profile_id
            """ + (filter ?? ""),
            filter is null ? [] : args);
        using var r = command.ExecuteReader();
        var (token, platform, profile, name) = (r.GetOrdinal("token_id"), r.GetOrdinal("platform"), r.GetOrdinal("profile_id"), r.GetOrdinal("name"));
        var map = new Dictionary<Guid, List<TokenDefaultProfileRow>>();
        while (r.Read())
        {
            if (!Enum.TryParse<DevicePlatform>(r.GetString(platform), out var p))
            {
                continue; // a platform this version does not know
            }

            var tokenId = Guid.Parse(r.GetString(token));
            if (!map.TryGetValue(tokenId, out var rows))
            {
                map[tokenId] = rows = [];
            }

            // A profile id that is not a GUID (written outside the module) reads as Guid.Empty: its name is still listed.
            rows.Add(new TokenDefaultProfileRow(p, Guid.TryParse(r.GetString(profile), out var profileId) ? profileId : Guid.Empty, r.GetString(name)));
        }

        foreach (var rows in map.Values)
        {
            rows.Sort((a, b) => a.Platform.CompareTo(b.Platform));
        }

        return map;
    }

    public IReadOnlyList<(Guid Id, string Name)> Names()
    {
        using var command = connection.Command("SELECT id, name FROM token");
        using var r = command.ExecuteReader();
        return IdNames(r);
    }

    public string? NameOfConsumerKeyHash(string consumerKeyHash, Guid? except = null)
        => connection.Scalar<string>("SELECT name FROM token WHERE consumer_key_hash = $h AND ($id IS NULL OR id <> $id)",
            ("$h", consumerKeyHash), ("$id", except?.ToString()));

    public void Insert(TokenRow row)
        => connection.Execute(
            """
            INSERT INTO token (id, name, apple_id, consumer_key_hash, credentials, expires_at, request_id, enrollment_url, scope_tags, service_uri,
                               server_name, server_uuid, org_name, org_type, admin_id, invalid_reason, terms_not_signed_at, created_at, modified_at)
            VALUES ($id, $name, $apple, $ck, $cred, $exp, $req, $url, $tags, $svc, $sname, $suuid, $org, $otype, $admin, $invalid, $terms, $created, $modified)
            """,
            ("$id", row.Id.ToString()), ("$name", row.Name), ("$apple", row.AppleId), ("$ck", row.ConsumerKeyHash), ("$cred", row.Credentials),
            ("$exp", ToUnixMs(row.ExpiresAt)), ("$req", row.RequestId.ToString()), ("$url", row.EnrollmentUrl), ("$tags", JsonSerializer.Serialize(row.ScopeTags)),
            ("$svc", row.ServiceUri.ToString()), ("$sname", row.Server.ServerName), ("$suuid", row.Server.ServerUuid), ("$org", row.Server.OrgName),
            ("$otype", row.Server.OrgType), ("$admin", row.Server.AdminId), ("$invalid", row.InvalidReason),
            ("$terms", row.TermsNotSignedAt is { } t ? ToUnixMs(t) : null), ("$created", ToUnixMs(row.CreatedAt)), ("$modified", ToUnixMs(row.ModifiedAt)));

    public void UpdateSettings(Guid id, string? name, IReadOnlyList<string>? scopeTags, string? enrollmentUrl, DateTimeOffset modifiedAt)
        => connection.Execute(
            """
            UPDATE token SET name = coalesce($name, name), scope_tags = coalesce($tags, scope_tags),
                             enrollment_url = coalesce($url, enrollment_url), modified_at = $now
            WHERE id = $id
            """,
            ("$name", name), ("$tags", scopeTags is null ? null : JsonSerializer.Serialize(scopeTags)), ("$url", enrollmentUrl),
            ("$now", ToUnixMs(modifiedAt)), ("$id", id.ToString()));

    public void Renew(Guid id, byte[] credentials, string consumerKeyHash, DateTimeOffset expiresAt, string appleId, TokenServerFacts server, DateTimeOffset modifiedAt)
        => connection.Execute(
            """
            UPDATE token SET credentials = $cred, consumer_key_hash = $ck, expires_at = $exp, apple_id = $apple,
                             invalid_reason = NULL, modified_at = $now,
                             server_name = coalesce($sname, server_name), server_uuid = coalesce($suuid, server_uuid),
                             org_name = coalesce($org, org_name), org_type = coalesce($otype, org_type),
                             admin_id = coalesce($admin, admin_id)
            WHERE id = $id
            """,
            ("$sname", server.ServerName), ("$suuid", server.ServerUuid), ("$org", server.OrgName), ("$otype", server.OrgType), ("$admin", server.AdminId),
            ("$cred", credentials), ("$ck", consumerKeyHash), ("$exp", ToUnixMs(expiresAt)), ("$apple", appleId), ("$now", ToUnixMs(modifiedAt)),
            ("$id", id.ToString()));

    public void SetServerName(Guid id, string serverName)
        => connection.Execute("UPDATE token SET server_name = $n WHERE id = $id", ("$n", serverName), ("$id", id.ToString()));

    public void SetInvalidReason(Guid id, string? reason)
        => connection.Execute("UPDATE token SET invalid_reason = $r WHERE id = $id", ("$r", reason), ("$id", id.ToString()));

    public void SetTermsNotSignedAt(Guid id, DateTimeOffset at)
        => connection.Execute("UPDATE token SET terms_not_signed_at = $at WHERE id = $id", ("$at", ToUnixMs(at)), ("$id", id.ToString()));

    public bool ClearAppleRefusals(Guid id)
        => connection.Execute(
            "UPDATE token SET invalid_reason = NULL, terms_not_signed_at = NULL WHERE id = $id AND (invalid_reason IS NOT NULL OR terms_not_signed_at IS NOT NULL)",
            ("$id", id.ToString())) > 0;

    public void Touch(Guid id, DateTimeOffset modifiedAt)
        => connection.Execute("UPDATE token SET modified_at = $now WHERE id = $id", ("$now", ToUnixMs(modifiedAt)), ("$id", id.ToString()));

    public void Delete(Guid id) => connection.Execute("DELETE FROM token WHERE id = $id", ("$id", id.ToString()));

    private static IReadOnlyList<string> Tags(string json) => ValueList.Of(JsonSerializer.Deserialize<string[]>(json) ?? []);

    private static TokenServerFacts Server(SqliteDataReader r)
        => new(r.GetStringOrNull(r.GetOrdinal("server_name")), r.GetStringOrNull(r.GetOrdinal("server_uuid")), r.GetStringOrNull(r.GetOrdinal("org_name")),
            r.GetStringOrNull(r.GetOrdinal("org_type")), r.GetStringOrNull(r.GetOrdinal("admin_id")));

    private static DateTimeOffset? Time(SqliteDataReader r, int ordinal) => r.IsDBNull(ordinal) ? null : ToTime(r.GetInt64(ordinal));

    /// <summary>The token list's column ordinals, looked up once per reader.</summary>
    private readonly struct ListOrdinals(SqliteDataReader r)
    {
        public readonly int Id = r.GetOrdinal("id"), Name = r.GetOrdinal("name"), AppleId = r.GetOrdinal("apple_id"), ExpiresAt = r.GetOrdinal("expires_at"),
            RequestId = r.GetOrdinal("request_id"), EnrollmentUrl = r.GetOrdinal("enrollment_url"), ScopeTags = r.GetOrdinal("scope_tags"),
            ServiceUri = r.GetOrdinal("service_uri"), ServerName = r.GetOrdinal("server_name"), ServerUuid = r.GetOrdinal("server_uuid"),
            OrgName = r.GetOrdinal("org_name"), OrgType = r.GetOrdinal("org_type"), AdminId = r.GetOrdinal("admin_id"),
            InvalidReason = r.GetOrdinal("invalid_reason"), CreatedAt = r.GetOrdinal("created_at"), ModifiedAt = r.GetOrdinal("modified_at"),
            ProfileCount = r.GetOrdinal("profile_count"), DeviceCount = r.GetOrdinal("device_count"), RemovedCount = r.GetOrdinal("removed_count"), LastStarted = r.GetOrdinal("last_started_at"),
            LastSuccess = r.GetOrdinal("last_success_at"), LastFull = r.GetOrdinal("last_full_at"), NextMustBeFull = r.GetOrdinal("next_must_be_full");
    }
}

using System.Text.Json;
using AdeEnrollment.Engine.Model;
using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;
using static AdeEnrollment.Engine.Storage.IdNameReader;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: table profile and token_default_profile (enrollment profiles and each token's default per platform).</summary>
internal sealed partial class SqliteProfileTable(SqliteConnection connection, SqliteTransaction? transaction) : IProfileTable
{
    private readonly SqliteConnection connection = connection;
    private readonly SqliteTransaction? transaction = transaction;

    private const string ProfileColumns = """
        p.id AS id, p.token_id AS token_id, p.name AS name, p.settings AS settings, p.apple_profile_uuid AS apple_profile_uuid,
        p.apple_defined_hash AS apple_defined_hash, p.created_at AS created_at, p.modified_at AS modified_at
        """;

    public void Insert(ProfileRow row)
        => Execute(
            """
            INSERT INTO profile (id, token_id, name, settings, apple_profile_uuid, apple_defined_hash, created_at, modified_at)
            VALUES ($id, $t, $n, $s, $u, $h, $c, $m)
            """,
            ("$id", row.Id.ToString()), ("$t", row.TokenId.ToString()), ("$n", row.Name), ("$s", row.Settings), ("$u", row.AppleProfileUuid),
            ("$h", row.AppleDefinedHash), ("$c", ToUnixMs(row.CreatedAt)), ("$m", ToUnixMs(row.ModifiedAt)));

    public ProfileRow? Get(Guid id)
    {
        using var command = Command($"SELECT {ProfileColumns} FROM profile p WHERE p.id = $id", ("$id", id.ToString()));
        using var r = command.ExecuteReader();
        return r.Read() ? new ProfileColumnReader(r).Read(r) : null;
    }

    public IReadOnlyList<ProfileListRow> List(ProfileListQuery query)
    {
        using var command = Command(
            $"""
            SELECT {ProfileColumns}, t.name AS token_name, t.scope_tags AS token_scope_tags,
                   EXISTS (SELECT 1 FROM token_default_profile dp WHERE dp.profile_id = p.id) AS is_default,
                   CASE WHEN $count = 1 THEN (SELECT count(*) FROM device d WHERE d.profile_id = p.id) ELSE 0 END AS device_count
            FROM profile p JOIN token t ON t.id = p.token_id
            WHERE ($t IS NULL OR p.token_id = $t) AND ($id IS NULL OR p.id = $id)
              AND ($def = 0 OR EXISTS (SELECT 1 FROM token_default_profile dp WHERE dp.profile_id = p.id))
            ORDER BY t.name, p.name
            """,
            ("$t", query.TokenId?.ToString()), ("$id", query.Id?.ToString()), ("$def", query.DefaultOnly ? 1 : 0), ("$count", query.CountDevices ? 1 : 0));
        using var r = command.ExecuteReader();
        var columns = new ProfileColumnReader(r);
        int tokenName = r.GetOrdinal("token_name"), scopeTags = r.GetOrdinal("token_scope_tags"), isDefault = r.GetOrdinal("is_default"), deviceCount = r.GetOrdinal("device_count");
        var list = new List<ProfileListRow>();
        while (r.Read())
        {
            list.Add(new ProfileListRow(
                columns.Read(r),
                r.GetString(tokenName),
                JsonSerializer.Deserialize<string[]>(r.GetString(scopeTags)) ?? [],
                r.GetInt64(isDefault) == 1,
                r.GetInt64(deviceCount)));
        }

        return list;
    }

    public long CountForToken(Guid tokenId)
        => Scalar("SELECT count(*) FROM profile WHERE token_id = $t", ("$t", tokenId.ToString()));

    public IReadOnlyList<(Guid Id, string Name)> Names(Guid tokenId)
    {
        using var command = Command("SELECT id, name FROM profile WHERE token_id = $t", ("$t", tokenId.ToString()));
        using var r = command.ExecuteReader();
        return IdNames(r);
    }

    public bool Update(Guid id, string name, string settings, DateTimeOffset modifiedAt)
        => Execute("UPDATE profile SET name = $n, settings = $s, modified_at = $m WHERE id = $id",
            ("$n", name), ("$s", settings), ("$m", ToUnixMs(modifiedAt)), ("$id", id.ToString())) > 0;

    public bool Delete(Guid id) => Execute("DELETE FROM profile WHERE id = $id", ("$id", id.ToString())) > 0;

    public void SetAppleDefinition(Guid id, string? appleProfileUuid, string? definedHash)
        => Execute("UPDATE profile SET apple_profile_uuid = $u, apple_defined_hash = $h WHERE id = $id",
            ("$u", appleProfileUuid), ("$h", definedHash), ("$id", id.ToString()));

    public bool IsDefault(Guid profileId)
        => Scalar("SELECT count(*) FROM token_default_profile WHERE profile_id = $p", ("$p", profileId.ToString())) > 0;

    public IReadOnlyDictionary<DevicePlatform, Guid> GetDefaults(Guid tokenId)
    {
        using var command = Command("SELECT platform, profile_id FROM token_default_profile WHERE token_id = $t", ("$t", tokenId.ToString()));
        using var r = command.ExecuteReader();
        int platform = r.GetOrdinal("platform"), profile = r.GetOrdinal("profile_id");
        var defaults = new Dictionary<DevicePlatform, Guid>();
        while (r.Read())
        {
            defaults[Enum.Parse<DevicePlatform>(r.GetString(platform))] = Guid.Parse(r.GetString(profile));
        }

        return defaults;
    }

    public void SetDefault(Guid tokenId, DevicePlatform platform, Guid profileId)
        => Execute(
            """
            INSERT INTO token_default_profile (token_id, platform, profile_id) VALUES ($t, $pl, $p)
            ON CONFLICT (token_id, platform) DO UPDATE SET profile_id = excluded.profile_id
            """,
            ("$t", tokenId.ToString()), ("$pl", platform.ToString()), ("$p", profileId.ToString()));

    public int ClearDefaults(Guid tokenId, DevicePlatform? platform = null)
        => Execute("DELETE FROM token_default_profile WHERE token_id = $t AND ($pl IS NULL OR platform = $pl)",
            ("$t", tokenId.ToString()), ("$pl", platform?.ToString()));

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

    private long Scalar(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = Command(sql, parameters);
        return command.ExecuteScalar() is long n ? n : 0;
    }

    /// <summary>The profile columns of a reader, by name (ordinals looked up once per reader).</summary>
    private readonly struct ProfileColumnReader(SqliteDataReader r)
    {
        private readonly int id = r.GetOrdinal("id"), tokenId = r.GetOrdinal("token_id"), name = r.GetOrdinal("name"), settings = r.GetOrdinal("settings"),
            uuid = r.GetOrdinal("apple_profile_uuid"), hash = r.GetOrdinal("apple_defined_hash"), created = r.GetOrdinal("created_at"), modified = r.GetOrdinal("modified_at");

        public ProfileRow Read(SqliteDataReader r) => new(
            Guid.Parse(r.GetString(id)),
            Guid.Parse(r.GetString(tokenId)),
            r.GetString(name),
            r.GetString(settings),
            r.GetStringOrNull(uuid),
            r.GetStringOrNull(hash),
            ToTime(r.GetInt64(created)),
            ToTime(r.GetInt64(modified)));
    }
}

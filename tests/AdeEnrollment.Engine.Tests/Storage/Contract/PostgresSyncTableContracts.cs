using AdeEnrollment.Engine.Tests.TestSupport;
using Npgsql;

namespace AdeEnrollment.Engine.Tests.Storage.Contract;

/// <summary>The sync table contract (lease, cursors, history, page writes, the journal of a page) on PostgreSQL.</summary>
public sealed class PostgresSyncTableContract : SyncTableContract
{
    private TestPostgresSchema? schema;

    protected override TestStore CreateStore() => PostgresTestStores.Create(out schema);

    private TestPostgresSchema Schema
    {
        get
        {
            _ = Store;
            return schema!;
        }
    }

    protected override Guid SeedProfile(Guid tokenId, string name, string? appleUuid)
    {
        var id = Guid.NewGuid();
        Schema.Execute("INSERT INTO profile (id, token_id, name, settings, apple_profile_uuid, created_at, modified_at) VALUES (@id, @t, @n, '{}', @u::text, 0, 0)",
            ("id", id.ToString()), ("t", tokenId.ToString()), ("n", name), ("u", appleUuid));
        return id;
    }

    protected override IReadOnlyDictionary<string, Dictionary<string, object?>> DeviceRows(Guid tokenId)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(TestPostgres.ConnectionString) { SearchPath = Schema.Name }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand("SELECT * FROM device WHERE token_id = @t", connection);
        command.Parameters.AddWithValue("t", tokenId.ToString());
        using var r = command.ExecuteReader();
        var rows = new Dictionary<string, Dictionary<string, object?>>(StringComparer.Ordinal);
        while (r.Read())
        {
            var row = Enumerable.Range(0, r.FieldCount).ToDictionary(r.GetName, i => r.IsDBNull(i) ? null : r.GetValue(i));
            rows[(string)row["serial_number"]!] = row;
        }

        return rows;
    }
}

public sealed class PostgresDeviceEventTableContract : DeviceEventTableContract
{
    protected override TestStore CreateStore() => PostgresTestStores.Create();
}

public sealed class PostgresHealthReadsContract : HealthReadsContract
{
    private TestPostgresSchema? schema;

    protected override TestStore CreateStore() => PostgresTestStores.Create(out schema);

    protected override void SeedSyncState(Guid tokenId, DateTimeOffset? lastSuccess, string? leaseId, DateTimeOffset? leaseExpires)
    {
        _ = Store;
        schema!.Execute("INSERT INTO sync_state (token_id, last_success_at, lease_id, lease_expires_at) VALUES (@t, @s::bigint, @l::text, @e::bigint)",
            ("t", tokenId.ToString()), ("s", lastSuccess?.ToUnixTimeMilliseconds()), ("l", leaseId), ("e", leaseExpires?.ToUnixTimeMilliseconds()));
    }
}

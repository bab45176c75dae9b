using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Storage.Postgres;
using AdeEnrollment.Engine.Tests.TestSupport;
using Npgsql;

namespace AdeEnrollment.Engine.Tests.Storage.Contract;

/// <summary>The sync table contract (lease, cursors, history, page writes, the journal of a page) on PostgreSQL.</summary>
public sealed class PostgresSyncTableContract : SyncTableContract
{
    protected override TestStore CreateStore() => PostgresTestStores.Create();

    private TestPostgresSchema Schema => Store.PostgresSchema!;

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

    /// <summary>
    /// A sync page's read of the stored state is an index probe per serial (its index condition holds the serial, not
    /// only the token) even when the planner statistics are missing (never sampled) or wrong (sampled before the token
    /// had its devices): during a token's first sync they are one or the other, and a plan that reads the token's key
    /// range per page makes the sync quadratic.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void GetForSync_probes_an_index_per_serial_whatever_the_statistics(bool sampledBeforeTheSync)
    {
        var token = Store.AddToken("Big").Token.Id;
        var small = Store.AddToken("Small").Token.Id;
        Schema.Execute("ALTER TABLE device SET (autovacuum_enabled = false)");
        SeedDevices(small, "O", 1000);
        if (sampledBeforeTheSync)
        {
            Schema.Execute("ANALYZE device");
        }

        SeedDevices(token, "S", 20000);
        var page = Enumerable.Range(1, 1000).Select(i => "S" + (i * 20).ToString("D5", System.Globalization.CultureInfo.InvariantCulture)).ToArray();

        var plan = PostgresPlans.Explain(Schema, PostgresDeviceTable.SyncReadSql, ("t", token.ToString()), ("s", page));

        var reads = plan.Reads("device");
        Assert.True(reads.Count > 0 && reads.All(n =>
            n is { Type: "Index Scan", IndexCond: { } cond } && cond.Contains("serial_number", StringComparison.Ordinal)),
            plan.Describe());
    }

    private void SeedDevices(Guid tokenId, string prefix, int count)
        => Schema.Execute(
            "INSERT INTO device (token_id, serial_number, updated_at) SELECT @t, @p || lpad(i::text, 5, '0'), 0 FROM generate_series(1, @n) i",
            ("t", tokenId.ToString()), ("p", prefix), ("n", count));
}

public sealed class PostgresDeviceEventTableContract : DeviceEventTableContract
{
    protected override TestStore CreateStore() => PostgresTestStores.Create();

    /// <summary>
    /// A journal lookup by serial alone seeks the token-first index once per token of the journal and probes it with
    /// token and serial; no node reads the journal sequentially, whatever the planner statistics say.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Query_ByASerialAlone_SeeksPerToken_AndNeverScansTheJournal(bool analyzed)
    {
        var schema = Store.PostgresSchema!;
        schema.Execute("ALTER TABLE device_event SET (autovacuum_enabled = false)");
        schema.Execute(
            "INSERT INTO device_event (token_id, serial_number, at, kind) SELECT 'token-' || (i % 40), 'S' || i, i, 'Added' FROM generate_series(1, 20000) i");
        if (analyzed)
        {
            schema.Execute("ANALYZE device_event");
        }

        var (sql, parameters) = PostgresDeviceEventTable.QueryStatement(new DeviceEventFilter(SerialNumber: "S77"));
        var plan = PostgresPlans.Explain(schema, sql, parameters);

        Assert.True(plan.Reads("device_event").Count > 0 && plan.Reads("device_event").All(n => n.Type != "Seq Scan"), plan.Describe());
        Assert.True(plan.Any(n => n.Index == "device_event_token_serial" && n.IndexCond is { } c
            && c.Contains("serial_number", StringComparison.Ordinal) && c.Contains("token_id", StringComparison.Ordinal)), plan.Describe());
    }
}

public sealed class PostgresHealthReadsContract : HealthReadsContract
{
    protected override TestStore CreateStore() => PostgresTestStores.Create();

    protected override void SeedSyncState(Guid tokenId, DateTimeOffset? lastSuccess, string? leaseId, DateTimeOffset? leaseExpires)
    {
        Store.PostgresSchema!.Execute("INSERT INTO sync_state (token_id, last_success_at, lease_id, lease_expires_at) VALUES (@t, @s::bigint, @l::text, @e::bigint)",
            ("t", tokenId.ToString()), ("s", lastSuccess?.ToUnixTimeMilliseconds()), ("l", leaseId), ("e", leaseExpires?.ToUnixTimeMilliseconds()));
    }
}

using AdeEnrollment.Engine.Storage.Postgres;
using AdeEnrollment.Engine.Tests.TestSupport;

namespace AdeEnrollment.Engine.Tests.Storage.Contract;

/// <summary>The Business table contract on PostgreSQL (the serial → server index pages go in and out as arrays).</summary>
public sealed class PostgresBusinessTableContract : BusinessTableContract
{
    protected override TestStore CreateStore() => PostgresTestStores.Create();

    private TestPostgresSchema Schema => Store.PostgresSchema!;

    /// <summary>
    /// An inventory page's read of the serial → server index is an index probe per serial on (run_id, lower(serial_number))
    /// even when the planner statistics are missing (never sampled) or wrong (sampled when the index held another read's
    /// rows): the inventory fills the table faster than autovacuum samples it, and a plan that reads the whole table per
    /// page makes the inventory quadratic.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void DeviceServers_probes_the_index_per_serial_whatever_the_statistics(bool sampledBeforeTheRead)
    {
        Guid run = Guid.NewGuid(), earlier = Guid.NewGuid();
        Schema.Execute("ALTER TABLE business_device_server SET (autovacuum_enabled = false)");
        SeedDeviceServers(earlier, 1000);
        if (sampledBeforeTheRead)
        {
            Schema.Execute("ANALYZE business_device_server");
        }

        SeedDeviceServers(run, 20000);
        var page = Enumerable.Range(1, 1000).Select(i => "C02" + (i * 20).ToString("D9", System.Globalization.CultureInfo.InvariantCulture)).ToArray();

        var plan = PostgresPlans.Explain(Schema, PostgresBusinessTable.DeviceServersSql, ("r", run.ToString()), ("serials", page));

        var reads = plan.Reads("business_device_server");
        Assert.True(reads.Count > 0 && reads.All(n =>
            n is { Type: "Index Scan", Index: "business_device_server_key", IndexCond: { } cond } && cond.Contains("run_id", StringComparison.Ordinal)
                && cond.Contains("lower(", StringComparison.Ordinal)),
            plan.Describe());
    }

    private void SeedDeviceServers(Guid run, int count)
        => Schema.Execute(
            "INSERT INTO business_device_server (run_id, serial_number, server_id, created_at) SELECT @r, 'C02' || lpad(i::text, 9, '0'), 'S' || (i % 7), 0 FROM generate_series(1, @n) i",
            ("r", run.ToString()), ("n", count));
}

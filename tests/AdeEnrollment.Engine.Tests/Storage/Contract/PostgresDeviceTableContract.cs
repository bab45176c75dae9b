using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Storage.Postgres;
using AdeEnrollment.Engine.Tests.TestSupport;

namespace AdeEnrollment.Engine.Tests.Storage.Contract;

/// <summary>The device table contract on PostgreSQL; the rows it seeds are written with PostgreSQL SQL.</summary>
public sealed class PostgresDeviceTableContract : DeviceTableContract
{
    protected override TestStore CreateStore() => PostgresTestStores.Create();

    private TestPostgresSchema Schema => Store.PostgresSchema!;

    protected override void SeedDevice(Guid tokenId, DeviceSeed d)
        => Schema.Execute(
            """
            INSERT INTO device (token_id, serial_number, model, description, color, asset_tag, os, device_family, profile_id, profile_uuid,
                                profile_status, profile_assign_time, profile_push_time, device_assigned_date, device_assigned_by, removed_at,
                                purge_after, updated_at, mdm_migration_deadline, is_replacement_device, last_attempt_at, last_attempt_profile,
                                last_attempt_result, released_at, assign_failed_at)
            VALUES (@t, @s, @model::text, @desc::text, @color::text, @asset::text, @os::text, @family::text, @pid::text, @pu::text, @ps::text,
                    @pat::bigint, @ppt::bigint, @dad::bigint, @dab::text, @rem::bigint, @purge::bigint, @upd, @mmd::bigint, @rep::bigint,
                    @lat::bigint, @lap::text, @lar::text, @rel::bigint, @faf::bigint)
            """,
            ("t", tokenId.ToString()), ("s", d.Serial), ("model", d.Model), ("desc", d.Description), ("color", d.Color), ("asset", d.AssetTag),
            ("os", d.Os), ("family", d.DeviceFamily), ("pid", d.ProfileId), ("pu", d.ProfileUuid), ("ps", d.ProfileStatus),
            ("pat", Ms(d.ProfileAssignTime)), ("ppt", Ms(d.ProfilePushTime)), ("dad", Ms(d.AssignedAt)), ("dab", d.AssignedBy),
            ("rem", Ms(d.RemovedAt)), ("purge", Ms(d.PurgeAfter)), ("upd", Ms(d.UpdatedAt)), ("mmd", Ms(d.MdmMigrationDeadline)),
            ("rep", d.IsReplacementDevice is { } r ? (r ? 1L : 0L) : null), ("lat", Ms(d.LastAttemptAt)), ("lap", d.LastAttemptProfile),
            ("lar", d.LastAttemptResult), ("rel", Ms(d.ReleasedAt)), ("faf", Ms(d.AssignFailedAt)));

    protected override void SeedDevices(Guid tokenId, string prefix, int count)
        => Schema.Execute(
            "INSERT INTO device (token_id, serial_number, updated_at) SELECT @t, @p || lpad(i::text, 5, '0'), 0 FROM generate_series(1, @n) i",
            ("t", tokenId.ToString()), ("p", prefix), ("n", count));

    protected override string SeedProfile(Guid tokenId, string name, string appleUuid)
    {
        var id = Guid.NewGuid().ToString();
        Schema.Execute("INSERT INTO profile (id, token_id, name, settings, apple_profile_uuid, created_at, modified_at) VALUES (@id, @t, @n, '{}', @u, 0, 0)",
            ("id", id), ("t", tokenId.ToString()), ("n", name), ("u", appleUuid));
        return id;
    }

    protected override void SeedScopeTags(Guid tokenId, string json)
        => Schema.Execute("UPDATE token SET scope_tags = @j WHERE id = @t", ("j", json), ("t", tokenId.ToString()));

    /// <summary>Three tokens of 20,000 devices (S00001…), autovacuum off; planner statistics only when <paramref name="analyzed"/>.</summary>
    private void SeedThreeTokensOf20000(bool analyzed)
    {
        Schema.Execute("ALTER TABLE device SET (autovacuum_enabled = false)");
        foreach (var name in new[] { "A", "B", "C" })
        {
            SeedDevices(Store.AddToken(name).Token.Id, "S", 20_000);
        }

        if (analyzed)
        {
            Schema.Execute("ANALYZE device; ANALYZE token");
        }
    }

    /// <summary>
    /// A device by serial alone (the most repeated lookup) probes the (token_id, serial_number) key once per token; no
    /// node reads the device table sequentially, with or without planner statistics.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Query_ByASerialAlone_ProbesTheKeyPerToken_AndNeverScansTheDevices(bool analyzed)
    {
        SeedThreeTokensOf20000(analyzed);

        var (sql, parameters) = PostgresDeviceTable.QueryStatement(new DeviceFilter(SerialNumber: "S00077"));
        var plan = PostgresPlans.Explain(Schema, sql, parameters);

        Assert.True(plan.Reads("device").Count > 0 && plan.Reads("device").All(n => n.Type != "Seq Scan"), plan.Describe());
        Assert.True(plan.Any(n => n.IndexCond is { } c && c.Contains("serial_number", StringComparison.Ordinal) && c.Contains("token_id", StringComparison.Ordinal)), plan.Describe());
    }

    /// <summary>
    /// A batch of piped serials (Get-AdeDevice, 500 at a time) probes the key per serial and token too, with or without
    /// planner statistics (a table just filled by a first sync has none).
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Query_BySeveralSerialsAlone_ProbesTheKeyPerToken_AndNeverScansTheDevices(bool analyzed)
    {
        SeedThreeTokensOf20000(analyzed);

        var serials = Enumerable.Range(77, DeviceService.LookupBatchSize).Select(i => $"S{i:D5}").ToList();
        var (sql, parameters) = PostgresDeviceTable.QueryStatement(new DeviceFilter(SerialNumbers: serials), tokens: 3);
        var plan = PostgresPlans.Explain(Schema, sql, parameters);

        Assert.True(plan.Reads("device").Count > 0 && plan.Reads("device").All(n => n.Type != "Seq Scan" && n.Type != "Bitmap Heap Scan"), plan.Describe());
        Assert.True(plan.Any(n => n.IndexCond is { } c && c.Contains("serial_number", StringComparison.Ordinal) && c.Contains("token_id", StringComparison.Ordinal)), plan.Describe());
    }

    [Fact]
    public void RefreshPlannerStatistics_SamplesTheTableAfterManyChanges_AndNotAgainUntilManyMore()
    {
        var token = Store.AddToken("Contoso").Token;
        // autovacuum kept out of this table: only the store samples it here
        Schema.Execute("ALTER TABLE device SET (autovacuum_enabled = false)");
        Schema.Execute(
            """
            INSERT INTO device (token_id, serial_number, updated_at) SELECT @t, 'S' || lpad(i::text, 5, '0'), 0 FROM generate_series(1, 3000) i;
            SELECT pg_stat_force_next_flush();
            """, ("t", token.Id.ToString()));
        Assert.True(Schema.Scalar<long>("SELECT reltuples::bigint FROM pg_class WHERE oid = 'device'::regclass") <= 0); // never sampled

        Assert.True(Store.Store.Write(s => s.Devices.RefreshPlannerStatistics()));
        Assert.Equal(3000L, Schema.Scalar<long>("SELECT reltuples::bigint FROM pg_class WHERE oid = 'device'::regclass"));
        Assert.False(Store.Store.Write(s => s.Devices.RefreshPlannerStatistics()));

        // A few hundred changes more are not worth a new sample.
        Schema.Execute("UPDATE device SET updated_at = 1 WHERE serial_number <= 'S00500'; SELECT pg_stat_force_next_flush();");
        Assert.False(Store.Store.Write(s => s.Devices.RefreshPlannerStatistics()));
    }

    private static long? Ms(DateTimeOffset? t) => t?.ToUnixTimeMilliseconds();
}

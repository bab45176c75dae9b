using System.Diagnostics;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Storage.Postgres;
using AdeEnrollment.Engine.Tests.TestSupport;
using Npgsql;

namespace AdeEnrollment.Engine.Tests.Storage.Postgres;

/// <summary>
/// The sync's page write on PostgreSQL: the page's devices go to the server as array parameters of one statement (one
/// round trip, no staging table) — a plain insert when every device is new to the store, else a merge — and a page never
/// carries a row into another page or transaction.
/// </summary>
public sealed class PostgresSyncPageWriteTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 5, 8, 0, 0, TimeSpan.Zero);

    private readonly TestStore store;
    private readonly TestPostgresSchema schema;
    private readonly Guid tokenId;

    public PostgresSyncPageWriteTests()
    {
        store = PostgresTestStores.Create(out schema);
        tokenId = store.AddToken("Pages").Token.Id;
    }

    public void Dispose() => store.Dispose();

    private PostgresProvider Provider => (PostgresProvider)store.Store.StoreProvider;

    private static SyncDeviceUpsert Upsert(string serial, string model = "iPad Pro", bool isNew = false)
        => new(new DeviceDetailsRow(serial, Model: model, Os: "iPadOS", DeviceFamily: "iPad", ProfileStatus: "empty"), New: isNew);

    private void WritePage(long syncId, params string[] serials)
        => store.Store.Write(s =>
        {
            s.Devices.WriteSyncPage(tokenId, syncId, T0, [.. serials.Select(s => Upsert(s))], []);
            return 0;
        });

    /// <summary>The sync that last wrote the device, or -1 when the store has no such device.</summary>
    private long LastSeenSync(string serial)
        => schema.Scalar<long>("SELECT coalesce((SELECT last_seen_sync FROM device WHERE token_id = @t AND serial_number = @s), -1)", ("t", tokenId.ToString()), ("s", serial));

    private long DeviceCount() => schema.Scalar<long>("SELECT count(*) FROM device WHERE token_id = @t", ("t", tokenId.ToString()));

    /// <summary>The statements Npgsql sends on this thread while <paramref name="work"/> runs: per command or batch (its tracing: one activity each), the activity's tags, the statement text among them.</summary>
    private static List<string> StatementsSent(Action work)
    {
        var thread = Environment.CurrentManagedThreadId;
        var sent = new List<string>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Npgsql",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (Environment.CurrentManagedThreadId == thread)
                {
                    sent.Add(string.Join(" | ", activity.TagObjects.Select(t => $"{t.Key}={t.Value}")));
                }
            },
        };
        ActivitySource.AddActivityListener(listener);
        work();
        return sent;
    }

    [Fact]
    public void A_page_of_a_thousand_devices_is_one_statement_and_leaves_no_table_on_the_connection()
    {
        var serials = Enumerable.Range(0, 1000).Select(i => $"P{i:D5}").ToArray();
        long temporaryTables = -1;
        var sent = new List<string>();
        store.Store.Write(s =>
        {
            sent = StatementsSent(() => s.Devices.WriteSyncPage(tokenId, 7, T0, [.. serials.Select(x => Upsert(x))], []));
            return 0;
        });
        Provider.ConnectionHook = c =>
        {
            using var look = new NpgsqlCommand("SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema()", c);
            temporaryTables = (long)look.ExecuteScalar()!;
        };
        store.Store.Write(_ => 0);

        Assert.Single(sent);
        Assert.Equal(0, temporaryTables);
        Assert.Equal(1000, DeviceCount());
        Assert.Equal((7L, 7L), (LastSeenSync("P00000"), LastSeenSync("P00999")));
    }

    [Fact]
    public void A_page_of_devices_new_to_the_store_is_inserted_without_a_conflict_check_and_any_other_page_is_merged()
    {
        WritePage(1, "A1");
        List<string> insert = [], merge = [];
        store.Store.Write(s =>
        {
            insert = StatementsSent(() => s.Devices.WriteSyncPage(tokenId, 2, T0, [Upsert("B1", isNew: true), Upsert("B2", isNew: true)], []));
            merge = StatementsSent(() => s.Devices.WriteSyncPage(tokenId, 2, T0, [Upsert("A1", "iPad Air"), Upsert("C1", isNew: true)], []));
            return 0;
        });

        Assert.DoesNotContain("ON CONFLICT", Assert.Single(insert));
        Assert.Contains("ON CONFLICT", Assert.Single(merge));
        Assert.Equal(4, DeviceCount());
        Assert.Equal((2L, 2L, 2L), (LastSeenSync("A1"), LastSeenSync("B2"), LastSeenSync("C1")));
        Assert.Equal("iPad Air", schema.Scalar<string>("SELECT model FROM device WHERE token_id = @t AND serial_number = 'A1'", ("t", tokenId.ToString())));
    }

    [Fact]
    public void A_serial_given_twice_in_a_page_is_written_once_with_its_last_record()
    {
        store.Store.Write(s =>
        {
            s.Devices.WriteSyncPage(tokenId, 3, T0, [Upsert("A1", "first"), Upsert("B1"), Upsert("A1", "last")], []);
            return 0;
        });

        Assert.Equal(2, DeviceCount());
        Assert.Equal("last", schema.Scalar<string>("SELECT model FROM device WHERE token_id = @t AND serial_number = 'A1'", ("t", tokenId.ToString())));
    }

    [Fact]
    public void Two_pages_in_one_transaction_are_merged_each_with_its_own_rows()
    {
        store.Store.Write(s =>
        {
            s.Devices.WriteSyncPage(tokenId, 5, T0, [Upsert("A1")], []);
            s.Devices.WriteSyncPage(tokenId, 6, T0, [Upsert("B1")], []);
            return 0;
        });

        Assert.Equal((5L, 6L), (LastSeenSync("A1"), LastSeenSync("B1")));
    }

    [Fact]
    public void A_page_whose_merge_fails_leaves_no_device_and_its_rows_do_not_reach_the_next_page()
    {
        // The server refuses one device of the page during the merge.
        schema.Execute(
            """
            CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.serial_number = 'BOOM' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER refuse_boom BEFORE INSERT ON device FOR EACH ROW EXECUTE FUNCTION refuse_boom();
            """);
        WritePage(1, "A1");

        Assert.ThrowsAny<Exception>(() => WritePage(2, "C1", "BOOM", "C2"));
        // and a page that fails in the service after its merge (the lease check, say) is rolled back as a whole
        Assert.Throws<InvalidOperationException>(() => store.Store.Write<int>(s =>
        {
            s.Devices.WriteSyncPage(tokenId, 3, T0, [Upsert("D1")], []);
            throw new InvalidOperationException("the page fails after its merge");
        }));
        WritePage(4, "E1");

        Assert.Equal((-1L, -1L, -1L), (LastSeenSync("C1"), LastSeenSync("C2"), LastSeenSync("D1")));
        Assert.Equal((1L, 4L), (LastSeenSync("A1"), LastSeenSync("E1")));
        Assert.Equal(2, DeviceCount());
    }
}

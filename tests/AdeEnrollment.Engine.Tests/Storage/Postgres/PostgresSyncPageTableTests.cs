using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Storage.Postgres;
using AdeEnrollment.Engine.Tests.TestSupport;
using Npgsql;

namespace AdeEnrollment.Engine.Tests.Storage.Postgres;

/// <summary>
/// The sync's page table on PostgreSQL is a temporary table kept with a pooled connection, not one per transaction:
/// it must never carry a row from one page, transaction or failed page into the next merge.
/// </summary>
public sealed class PostgresSyncPageTableTests : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 5, 8, 0, 0, TimeSpan.Zero);

    private readonly TestStore store;
    private readonly TestPostgresSchema schema;
    private readonly Guid tokenId;

    public PostgresSyncPageTableTests()
    {
        store = PostgresTestStores.Create(out schema);
        tokenId = store.AddToken("Pages").Token.Id;
    }

    public void Dispose() => store.Dispose();

    private PostgresProvider Provider => (PostgresProvider)store.Store.StoreProvider;

    private static SyncDeviceUpsert Upsert(string serial) => new(new DeviceDetailsRow(serial, Model: "iPad Pro", Os: "iPadOS", DeviceFamily: "iPad", ProfileStatus: "empty"));

    private void WritePage(long syncId, params string[] serials)
        => store.Store.Write(s =>
        {
            s.Devices.WriteSyncPage(tokenId, syncId, T0, [.. serials.Select(Upsert)], []);
            return 0;
        });

    /// <summary>The sync that last wrote the device, or -1 when the store has no such device.</summary>
    private long LastSeenSync(string serial)
        => schema.Scalar<long>("SELECT coalesce((SELECT last_seen_sync FROM device WHERE token_id = @t AND serial_number = @s), -1)", ("t", tokenId.ToString()), ("s", serial));

    private long DeviceCount() => schema.Scalar<long>("SELECT count(*) FROM device WHERE token_id = @t", ("t", tokenId.ToString()));

    /// <summary>The rows in the connection's page table at the start of a unit of work, or null when the connection has none.</summary>
    private static long? PageTableRows(NpgsqlConnection c)
    {
        using (var exists = new NpgsqlCommand("SELECT to_regclass('pg_temp.ade_sync_page') IS NOT NULL", c))
        {
            if (!(bool)exists.ExecuteScalar()!)
            {
                return null;
            }
        }

        using var count = new NpgsqlCommand("SELECT count(*) FROM pg_temp.ade_sync_page", c);
        return (long)count.ExecuteScalar()!;
    }

    /// <summary>Records, for each unit of work, the server process of its connection and what its page table holds.</summary>
    private List<(int Backend, long? Rows)> Observe()
    {
        var seen = new List<(int, long?)>();
        Provider.ConnectionHook = c => seen.Add((c.ProcessID, PageTableRows(c)));
        return seen;
    }

    [Fact]
    public void The_page_table_is_created_by_the_first_page_kept_with_the_pooled_connection_and_empty_between_pages()
    {
        var seen = Observe();

        WritePage(1, "A1", "A2");
        WritePage(2, "B1");
        store.Store.Write(_ => 0);

        // one pooled connection throughout (sequential units of work), so the table seen is the one the pages used
        Assert.Single(seen.Select(x => x.Backend).Distinct());
        Assert.Equal([null, 0L, 0L], seen.Select(x => x.Rows));
        // the second page's merge wrote only its own device
        Assert.Equal((1L, 1L, 2L), (LastSeenSync("A1"), LastSeenSync("A2"), LastSeenSync("B1")));
        Assert.Equal(3, DeviceCount());
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
        // The server refuses one device of the page during the merge: its rows are already in the page table by then.
        schema.Execute(
            """
            CREATE FUNCTION refuse_boom() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN IF NEW.serial_number = 'BOOM' THEN RAISE EXCEPTION 'refused by the test'; END IF; RETURN NEW; END $$;
            CREATE TRIGGER refuse_boom BEFORE INSERT ON device FOR EACH ROW EXECUTE FUNCTION refuse_boom();
            """);
        WritePage(1, "A1");
        var seen = Observe();

        Assert.ThrowsAny<Exception>(() => WritePage(2, "C1", "BOOM", "C2"));
        // and a page that fails in the service after its merge (the lease check, say) is rolled back as a whole
        Assert.Throws<InvalidOperationException>(() => store.Store.Write<int>(s =>
        {
            s.Devices.WriteSyncPage(tokenId, 3, T0, [Upsert("D1")], []);
            throw new InvalidOperationException("the page fails after its merge");
        }));
        WritePage(4, "E1");

        Assert.Single(seen.Select(x => x.Backend).Distinct());
        Assert.All(seen, x => Assert.Equal(0L, x.Rows));
        Assert.Equal((-1L, -1L, -1L), (LastSeenSync("C1"), LastSeenSync("C2"), LastSeenSync("D1")));
        Assert.Equal((1L, 4L), (LastSeenSync("A1"), LastSeenSync("E1")));
        Assert.Equal(2, DeviceCount());
    }
}

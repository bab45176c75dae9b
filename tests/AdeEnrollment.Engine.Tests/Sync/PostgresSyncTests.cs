using System.Diagnostics;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using Npgsql;
using Xunit;
using Xunit.Abstractions;

namespace AdeEnrollment.Engine.Tests.Sync;

/// <summary>
/// The device sync on a PostgreSQL store shared by several processes or hosts: each engine below opens its own store
/// instance (its own connection pool) on one database, as separate processes on separate hosts would.
/// </summary>
public sealed class PostgresSyncTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Quarter = TimeSpan.FromMinutes(15);

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_sync_asks_its_question_before_it_takes_the_stores_write_lock(bool yes)
    {
        // -Confirm: a person may take minutes to answer, while every other writer of the store (other hosts too) waits
        // for the write lock. The question comes before the lease transaction, which decides again.
        using var schema = new TestPostgresSchema(ownDatabase: true);
        using var f = new EngineSimFixture(devices: 5, postgres: schema);
        var locksWhileAsked = new List<long>();
        f.Host.ShouldProcessMayAsk = true;
        f.Host.ShouldProcessAnswer = yes;
        f.Host.OnShouldProcess = _ =>
        {
            using var c = new NpgsqlConnection(schema.AdminConnectionString);
            c.Open();
            // pg_locks is the whole cluster's: only this test's own database counts (other tests write to theirs)
            using var q = new NpgsqlCommand(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())", c);
            locksWhileAsked.Add((long)q.ExecuteScalar()!);
        };

        var result = f.Engine.Sync.Sync(f.Token.Id.ToString());

        Assert.Equal([0L], locksWhileAsked);
        Assert.Equal(yes, result is { Status: AdeSyncStatus.Succeeded, Kind: AdeSyncKind.Full });
        Assert.Equal(yes ? 5 : 0, f.Engine.Devices.Get(new AdeEnrollment.Engine.Devices.DeviceQuery(f.Token.Id)).Count());
    }

    [Fact]
    public void A_scheduled_sync_that_is_not_due_answers_NotDue_while_another_host_holds_the_stores_write_lock()
    {
        using var schema = new TestPostgresSchema();
        using var f = new EngineSimFixture(devices: 10, postgres: schema);
        Assert.Equal(AdeSyncStatus.Succeeded, f.Engine.Sync.Sync(f.Token.Id.ToString())!.Status);
        ((AdeEnrollment.Engine.Storage.Postgres.PostgresProvider)f.Store.StoreProvider).LockWait = TimeSpan.FromMilliseconds(200);

        using var holder = new NpgsqlConnection(TestPostgres.ConnectionString);
        holder.Open();
        using var transaction = holder.BeginTransaction();
        using (var take = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({AdeEnrollment.Engine.Storage.Postgres.PostgresProvider.WriteLockKey})", holder, transaction))
        {
            take.ExecuteNonQuery(); // another host's write transaction, still open
        }

        // Not due: answered from a read, without waiting for the lock.
        Assert.Equal(AdeSyncStatus.NotDue, f.Engine.Sync.Sync(f.Token.Id.ToString(), ifDue: true)!.Status);

        // Due (12 hours later): the decision needs the write transaction, which waits for the lock and gives up.
        f.Advance(TimeSpan.FromHours(12) + TimeSpan.FromMinutes(1));
        AdeAssert.Throws("StoreBusy", () => f.Engine.Sync.Sync(f.Token.Id.ToString(), ifDue: true));
        transaction.Rollback();

        // The lock key is the same for every store of the test server's database, and other tests write in parallel:
        // the normal wait again, so their writes do not make this one give up.
        ((AdeEnrollment.Engine.Storage.Postgres.PostgresProvider)f.Store.StoreProvider).LockWait = TimeSpan.FromSeconds(60);
        Assert.Equal(AdeSyncStatus.Succeeded, f.Engine.Sync.Sync(f.Token.Id.ToString(), ifDue: true)!.Status);
    }

    [Fact]
    public void A_sync_writes_beside_another_hosts_write_of_another_token_but_waits_for_one_of_its_own_token()
    {
        // A database of its own: other tests' writers must not queue between the held locks and this test's syncs.
        using var schema = new TestPostgresSchema(ownDatabase: true);
        using var f = new EngineSimFixture(devices: 10, postgres: schema);
        var macs = f.AddToken("Macs", devices: 5);
        var provider = (AdeEnrollment.Engine.Storage.Postgres.PostgresProvider)f.Store.StoreProvider;

        // Another host in the middle of a write of token Macs (a page of its sync), with its locks as that write takes them.
        using var holder = new NpgsqlConnection(schema.AdminConnectionString);
        holder.Open();
        using var transaction = holder.BeginTransaction();
        var (high, low) = AdeEnrollment.Engine.Storage.Postgres.PostgresProvider.TokenLockKey(macs.Id);
        using (var take = new NpgsqlCommand($"SELECT pg_advisory_xact_lock_shared({AdeEnrollment.Engine.Storage.Postgres.PostgresProvider.WriteLockKey}); SELECT pg_advisory_xact_lock({high}, {low})", holder, transaction))
        {
            take.ExecuteNonQuery();
        }

        // The other token's sync runs through all of its transactions meanwhile (a sync whose writes waited for the
        // holder would give up after the normal 60 s wait)...
        var result = f.Engine.Sync.Sync(f.Token.Id.ToString())!;
        Assert.Equal((AdeSyncStatus.Succeeded, 10), (result.Status, result.Added));
        // ...while Macs' own sync cannot start.
        provider.LockWait = TimeSpan.FromMilliseconds(300);
        AdeAssert.Throws("StoreBusy", () => f.Engine.Sync.Sync(macs.Id.ToString()));
        transaction.Rollback();

        provider.LockWait = TimeSpan.FromSeconds(60);
        Assert.Equal(5, f.Engine.Sync.Sync(macs.Id.ToString())!.Added);
    }

    [Fact]
    public void A_sync_prepares_its_small_statements_and_the_inserts_of_new_rows_but_never_a_statement_that_reads_device_rows_in_bulk()
    {
        using var schema = new TestPostgresSchema();
        using var f = new EngineSimFixture(devices: 30, postgres: schema);
        var prepared = new HashSet<string>(StringComparer.Ordinal);
        ((AdeEnrollment.Engine.Storage.Postgres.PostgresProvider)f.Store.StoreProvider).ConnectionHook = c =>
        {
            using var look = new NpgsqlCommand("SELECT statement FROM pg_prepared_statements", c);
            using var r = look.ExecuteReader();
            while (r.Read())
            {
                lock (prepared)
                {
                    prepared.Add(System.Text.RegularExpressions.Regex.Replace(r.GetString(0), @"\s+", " "));
                }
            }
        };

        for (var i = 0; i < 4; i++)
        {
            Assert.Equal(AdeSyncStatus.Succeeded, f.Engine.Sync.Sync(f.Token.Id.ToString())!.Status);
            f.Advance(TimeSpan.FromHours(1));
            if (i == 0)
            {
                f.Simulator.AddDevices(EngineSimFixture.Server, 5); // a delta of new devices: inserted
            }
            else if (i == 1)
            {
                // a delta of a changed device: merged over its stored row
                f.Simulator.SetDevice(EngineSimFixture.Server, f.AppleSerials().First(), mdmMigrationDeadline: null, clearDeadline: false, isReplacementDevice: true);
            }
        }

        // A scheduler's pass: its batch read and each due token's read of itself with its sync state in the lease transaction.
        f.Advance(TimeSpan.FromDays(1));
        Assert.Equal(AdeSyncStatus.Succeeded, Assert.Single(f.Engine.Sync.SyncIfDue([f.Token.Id.ToString()])).Result!.Status);
        f.Advance(TimeSpan.FromDays(1));
        Assert.Equal(AdeSyncStatus.Succeeded, Assert.Single(f.Engine.Sync.SyncIfDue([f.Token.Id.ToString()])).Result!.Status);

        // Seen by later units of work on the same pooled connections: the lock preamble, the lease, the cursor, the end.
        Assert.Contains(prepared, s => s.Contains("pg_advisory_xact_lock_shared", StringComparison.Ordinal));
        Assert.Contains(prepared, s => s.StartsWith("WITH run AS (INSERT INTO sync_history", StringComparison.Ordinal));
        Assert.Contains(prepared, s => s.StartsWith("WITH saved AS (UPDATE sync_state SET cursor", StringComparison.Ordinal));
        // the token with its sync state, asked by key (an array parameter would be planned again for every call)
        Assert.Contains(prepared, s => s.Contains("FROM token t LEFT JOIN sync_state s", StringComparison.Ordinal) && s.Contains("WHERE t.id = $1 ", StringComparison.Ordinal));
        // the token with its sync state, asked by key (an array parameter would be planned again for every call)
        // Inserts that read no device row: a page of new devices, the journal's rows.
        Assert.Contains(prepared, s => s.StartsWith("INSERT INTO device AS d", StringComparison.Ordinal) && !s.Contains("ON CONFLICT", StringComparison.Ordinal));
        Assert.Contains(prepared, s => s.StartsWith("INSERT INTO device_event", StringComparison.Ordinal));
        // What reads stored rows in bulk is planned for the values of each call: the merge, the page's read, the retention.
        Assert.Equal((35L, 1L), (schema.Scalar<long>("SELECT count(*) FROM device"), schema.Scalar<long>("SELECT count(*) FROM device WHERE is_replacement_device = 1"))); // both deltas were written
        Assert.DoesNotContain(prepared, s => s.Contains("ON CONFLICT (token_id, serial_number)", StringComparison.Ordinal));
        Assert.DoesNotContain(prepared, s => s.Contains("CROSS JOIN LATERAL (SELECT * FROM device", StringComparison.Ordinal));
        Assert.DoesNotContain(prepared, s => s.Contains("DELETE FROM device_event", StringComparison.Ordinal));
    }

    [Fact]
    public void A_delta_of_many_pages_has_the_store_sample_a_device_table_its_planner_has_not_seen_yet()
    {
        using var schema = new TestPostgresSchema();
        using var f = new EngineSimFixture(devices: 3500, postgres: schema);
        schema.Execute("ALTER TABLE device SET (autovacuum_enabled = false)"); // only the store samples the table here
        Assert.Equal(AdeSyncStatus.Succeeded, f.Engine.Sync.Sync(f.Token.Id.ToString())!.Status); // its delta is one page
        // the server counts the sync's 3,500 inserts once its backends report them (within a second or so)
        var flushed = Stopwatch.StartNew();
        while (schema.Scalar<long>("SELECT coalesce(n_mod_since_analyze, 0) FROM pg_stat_user_tables WHERE relname = 'device' AND schemaname = current_schema()") < 3500
               && flushed.Elapsed < TimeSpan.FromSeconds(60))
        {
            Thread.Sleep(50);
        }

        Assert.True(schema.Scalar<long>("SELECT reltuples::bigint FROM pg_class WHERE oid = 'device'::regclass") <= 0); // never sampled

        f.Simulator.AddDevices(EngineSimFixture.Server, 2500); // a delta of three pages
        f.Advance(Quarter);
        var delta = f.Engine.Sync.Sync(f.Token.Id.ToString())!;
        Assert.Equal((AdeSyncKind.Delta, 2500), (delta.Kind, delta.Added));
        // sampled before the delta's pages were written: the 3,500 of the full sync
        Assert.InRange(schema.Scalar<long>("SELECT reltuples::bigint FROM pg_class WHERE oid = 'device'::regclass"), 3500, 6000);
    }

    [Fact]
    public void A_pooled_connection_carries_no_session_state_from_one_unit_of_work_to_the_next()
    {
        // The store's connections are not reset when they go back to the pool (No Reset On Close): that is only safe
        // while nothing the store does outlives its transaction. Every unit of work looks at its connection as it
        // starts: no temporary table, no advisory lock outside a write's own, no setting changed for the session.
        using var schema = new TestPostgresSchema();
        using var f = new EngineSimFixture(devices: 1500, postgres: schema);
        var seen = new List<(int Pid, bool Write, long Temp, long Locks, string Settings, long Prepared)>();
        ((AdeEnrollment.Engine.Storage.Postgres.PostgresProvider)f.Store.StoreProvider).ConnectionHook = c =>
        {
            using var look = new NpgsqlCommand(
                """
                SELECT pg_backend_pid(), current_setting('transaction_isolation') <> 'repeatable read',
                       (SELECT count(*) FROM pg_class WHERE relnamespace = pg_my_temp_schema() AND relkind = 'r'),
                       (SELECT count(*) FROM pg_locks WHERE pid = pg_backend_pid() AND locktype = 'advisory'),
                       (SELECT coalesce(string_agg(name, ',' ORDER BY name), '') FROM pg_settings WHERE source = 'session' AND name NOT IN ('lock_timeout', 'transaction_isolation', 'transaction_read_only', 'transaction_deferrable')),
                       (SELECT count(*) FROM pg_prepared_statements WHERE statement NOT LIKE '%pg_backend_pid%')
                """, c);
            using var r = look.ExecuteReader();
            r.Read();
            lock (seen)
            {
                seen.Add((r.GetInt32(0), r.GetBoolean(1), r.GetInt64(2), r.GetInt64(3), r.GetString(4), r.GetInt64(5)));
            }
        };

        // Two full syncs (pages under the write lock), a write that fails after it
        // wrote, then reads.
        Assert.Equal(AdeSyncStatus.Succeeded, f.Engine.Sync.Sync(f.Token.Id.ToString())!.Status);
        f.Advance(TimeSpan.FromHours(1));
        Assert.Equal(AdeSyncStatus.Succeeded, f.Engine.Sync.Sync(f.Token.Id.ToString())!.Status);
        Assert.Throws<InvalidOperationException>(() => f.Store.Write<int>(s =>
        {
            s.Meta.Set("half", "written");
            throw new InvalidOperationException("fails after it wrote");
        }));
        for (var i = 0; i < 5; i++)
        {
            Assert.Null(f.Store.Read(s => s.Meta.Get("half")));
        }

        Assert.True(seen.Count > 10, $"only {seen.Count} units of work seen");
        Assert.All(seen, u =>
        {
            Assert.Equal(0L, u.Temp);
            // a write holds its own locks only: the store's key, and its token's key when it writes one token's rows
            Assert.InRange(u.Locks, u.Write ? 1L : 0L, u.Write ? 2L : 0L);
            Assert.Equal("", u.Settings);
        });

        // The connections were reused, so the checks above looked at connections that had run earlier units of work.
        Assert.True(seen.Select(u => u.Pid).Distinct().Count() < seen.Count);
    }

    [Fact]
    public void Of_many_concurrent_syncs_of_one_token_from_separate_store_instances_exactly_one_runs_and_the_others_are_refused()
    {
        const int Runs = 6;
        using var schema = new TestPostgresSchema();
        using var f = new EngineSimFixture(devices: 1500, postgres: schema);
        // The winner cannot finish before every other run was refused: its first page waits for them (a sync that
        // ended first would make a late starter's answer "too soon" rather than "in progress").
        using var refused = new CountdownEvent(Runs - 1);
        var stores = Enumerable.Range(0, Runs).Select(_ => f.OpenStore()).ToList();
        var results = new object?[Runs];
        using var start = new Barrier(Runs);
        var threads = Enumerable.Range(0, Runs).Select(i => new Thread(() =>
        {
            var engine = f.NewEngine(new WaitForOthersHost(refused), stores[i]);
            start.SignalAndWait();
            try
            {
                results[i] = engine.Sync.Sync("iPads");
            }
            catch (AdeException ex)
            {
                results[i] = ex;
                refused.Signal();
            }
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        stores.ForEach(s => s.Release());

        var won = Assert.Single(results.OfType<AdeSyncResult>());
        Assert.Equal((AdeSyncStatus.Succeeded, 1500, 1500L), (won.Status, won.Added, won.DeviceCount));
        var errors = results.OfType<AdeException>().ToList();
        Assert.Equal(Runs - 1, errors.Count);
        Assert.All(errors, e => Assert.Equal(nameof(ErrorCatalog.SyncInProgress), e.ErrorId));
        Assert.Equal(1500, DeviceCount(schema));
        var history = f.Engine.Sync.GetStatus(f.Token).History;
        Assert.Equal(AdeSyncStatus.Succeeded, Assert.Single(history).Status);
    }

    [Fact]
    public void A_store_connection_killed_mid_page_is_retried_and_the_page_is_written_once()
    {
        using var schema = new TestPostgresSchema();
        using var f = new EngineSimFixture(devices: 2500, postgres: schema);
        // The server ends the writer's own connection inside the second page's transaction, after its device rows and
        // before its journal rows: once (the retry of that unit of work then succeeds).
        KillWriterAt(schema, pageFrom: 2, pageTo: 2);

        var result = f.Engine.Sync.Sync("iPads")!;

        Assert.Equal((AdeSyncStatus.Succeeded, 2500, 2500L), (result.Status, result.Added, result.DeviceCount));
        Assert.True(schema.Scalar<long>("SELECT last_value FROM ade_kill") > 3); // the kill happened
        Assert.Equal(2500, DeviceCount(schema));
        Assert.Equal((2500L, 2500L), (schema.Scalar<long>("SELECT count(*) FROM device_event WHERE kind = 'Added'"),
            schema.Scalar<long>("SELECT count(DISTINCT serial_number) FROM device_event")));
    }

    [Fact]
    public void A_sync_whose_store_connection_keeps_being_killed_leaves_whole_pages_its_lease_lapses_and_the_next_sync_completes()
    {
        using var schema = new TestPostgresSchema();
        using var f = new EngineSimFixture(devices: 2500, postgres: schema);
        // From the second page on, every write of the run dies with its connection (also the one that would record
        // the failure): as if the host of the sync went away in the middle of page 2.
        KillWriterAt(schema, pageFrom: 2, pageTo: long.MaxValue);

        var ex = Assert.Throws<AdeException>(() => f.Engine.Sync.Sync("iPads"));
        Assert.Equal(nameof(ErrorCatalog.ServerStore.StoreIoError), ex.ErrorId);

        // page 1 committed in full, page 2 not at all; the lease is still held by the dead run
        Assert.Equal(1000, DeviceCount(schema));
        Assert.Equal(1000, schema.Scalar<long>("SELECT count(*) FROM device_event"));
        Assert.Equal(1000, schema.Scalar<long>("SELECT count(*) FROM device WHERE last_seen_sync IS NOT NULL AND first_seen_sync = last_seen_sync"));
        Assert.True(f.Engine.Sync.GetStatus(f.Token).InProgress);
        schema.Execute("DROP TRIGGER ade_kill_event ON device_event; DROP TRIGGER ade_kill_history ON sync_history");

        // another host: refused while the lease runs, takes it over once it lapsed, and ends with every device
        var other = f.OpenStore();
        try
        {
            var engine = f.NewEngine(new RecordingHost(), other);
            Assert.Equal(nameof(ErrorCatalog.SyncInProgress), Assert.Throws<AdeException>(() => engine.Sync.Sync("iPads")).ErrorId);
            f.Advance(Quarter + TimeSpan.FromSeconds(1));
            var recovery = engine.Sync.Sync("iPads")!;

            Assert.Equal((AdeSyncStatus.Succeeded, AdeSyncKind.Full, AdeSyncTrigger.Recovery, 2500L), (recovery.Status, recovery.Kind, recovery.Trigger, recovery.DeviceCount));
            Assert.Equal(f.AppleSerials(), StoredSerials(schema));
            Assert.Equal((2500L, 2500L), (schema.Scalar<long>("SELECT count(*) FROM device_event WHERE kind = 'Added'"),
                schema.Scalar<long>("SELECT count(DISTINCT serial_number) FROM device_event")));
            var history = engine.Sync.GetStatus(f.Token).History;
            Assert.Equal([AdeSyncStatus.Succeeded, AdeSyncStatus.Failed], history.Select(h => h.Status));
            Assert.Equal(nameof(ErrorCatalog.SyncLeaseLost), history[1].ErrorId);
        }
        finally
        {
            other.Release();
        }
    }

    [Fact]
    public void A_full_sync_of_20000_devices_ends_with_the_same_rows_on_PostgreSQL_as_on_SQLite()
    {
        const int Devices = 20_000;
        using var schema = new TestPostgresSchema();
        using var pg = new EngineSimFixture(devices: Devices, postgres: schema);
        using var lite = new EngineSimFixture(devices: Devices);
        Assert.Equal(lite.AppleSerials(), pg.AppleSerials());

        var watch = Stopwatch.StartNew();
        var onSqlite = lite.Engine.Sync.Sync("iPads")!;
        var sqliteTime = watch.Elapsed;
        watch.Restart();
        var onPostgres = pg.Engine.Sync.Sync("iPads")!;
        var postgresTime = watch.Elapsed;
        output.WriteLine($"Full sync of {Devices:N0} devices: SQLite {sqliteTime.TotalSeconds:F2} s, PostgreSQL {postgresTime.TotalSeconds:F2} s (ratio {postgresTime / sqliteTime:F2}).");

        Assert.Equal((AdeSyncStatus.Succeeded, Devices, (long)Devices), (onPostgres.Status, onPostgres.Added, onPostgres.DeviceCount));
        Assert.Equal((onSqlite.Added, onSqlite.Modified, onSqlite.Removed, onSqlite.Pages), (onPostgres.Added, onPostgres.Modified, onPostgres.Removed, onPostgres.Pages));
        var sqliteRows = SqliteRows(lite.Store.Path, "SELECT * FROM device");
        var postgresRows = PostgresRows(schema, "SELECT * FROM device");
        Assert.Equal(Devices, postgresRows.Count);
        Assert.Equal(sqliteRows, postgresRows);
        Assert.Equal(SqliteRows(lite.Store.Path, "SELECT serial_number, at, kind, detail FROM device_event"), PostgresRows(schema, "SELECT serial_number, at, kind, detail FROM device_event"));
    }

    // ---- helpers -------------------------------------------------------------------------------------------------------

    /// <summary>
    /// Makes the server end the writing connection of the sync's page number <paramref name="pageFrom"/> to
    /// <paramref name="pageTo"/> (counted by journal inserts, retries included) and of any sync_history update from then on.
    /// </summary>
    private static void KillWriterAt(TestPostgresSchema schema, long pageFrom, long pageTo)
        => schema.Execute(
            $$"""
            CREATE SEQUENCE ade_kill;
            CREATE FUNCTION ade_kill_event() RETURNS trigger LANGUAGE plpgsql AS $f$
            DECLARE n bigint := nextval('ade_kill');
            BEGIN
                IF n BETWEEN {{pageFrom}} AND {{pageTo}} THEN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); END IF;
                RETURN NULL;
            END $f$;
            CREATE FUNCTION ade_kill_history() RETURNS trigger LANGUAGE plpgsql AS $f$
            BEGIN
                IF (SELECT last_value FROM ade_kill) >= {{pageFrom}} AND {{pageTo}} = {{long.MaxValue}} THEN PERFORM pg_terminate_backend(pg_backend_pid()); PERFORM pg_sleep(5); END IF;
                RETURN NULL;
            END $f$;
            CREATE TRIGGER ade_kill_event AFTER INSERT ON device_event FOR EACH STATEMENT EXECUTE FUNCTION ade_kill_event();
            CREATE TRIGGER ade_kill_history AFTER UPDATE ON sync_history FOR EACH STATEMENT EXECUTE FUNCTION ade_kill_history();
            """);

    private static long DeviceCount(TestPostgresSchema schema) => schema.Scalar<long>("SELECT count(*) FROM device");

    private static SortedSet<string> StoredSerials(TestPostgresSchema schema)
        => new(PostgresRows(schema, "SELECT serial_number FROM device WHERE removed_at IS NULL").Select(r => r["serial_number=".Length..]), StringComparer.Ordinal);

    /// <summary>Each row as "column=value; …" without the token's id (each store made its own token), in ordinal order.</summary>
    private static List<string> PostgresRows(TestPostgresSchema schema, string sql)
    {
        using var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(TestPostgres.ConnectionString) { SearchPath = schema.Name }.ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        using var r = command.ExecuteReader();
        return Rows(r);
    }

    private static List<string> SqliteRows(string path, string sql)
    {
        using var connection = RawSqlite.Open(path, SqliteOpenMode.ReadOnly);
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        using var r = command.ExecuteReader();
        return Rows(r);
    }

    [Fact]
    public void A_failed_sync_whose_end_the_server_could_not_record_at_once_records_it_when_the_server_is_back_and_releases_the_token()
    {
        using var schema = new TestPostgresSchema(ownDatabase: true);
        using var f = new EngineSimFixture(devices: 5, postgres: schema);
        f.Simulator.AddFault("/server/devices", 500, "", count: 100); // Apple fails the fetch (after the client's retries)
        var provider = (AdeEnrollment.Engine.Storage.Postgres.PostgresProvider)f.Store.StoreProvider;
        var failures = 6; // more than one unit of work's own retries: the server is away for a few seconds
        provider.ConnectionHook = c =>
        {
            // once the run holds the lease, the server drops the next connections (as a restart or failover does)
            using var held = new NpgsqlCommand("SELECT count(*) FROM sync_state WHERE lease_id IS NOT NULL", c);
            if ((long)held.ExecuteScalar()! > 0 && failures-- > 0)
            {
                using var kill = new NpgsqlCommand("SELECT pg_terminate_backend(pg_backend_pid())", c);
                kill.ExecuteNonQuery();
            }
        };

        var error = Assert.Throws<AdeException>(() => f.Engine.Sync.Sync(f.Token.Id.ToString()));
        provider.ConnectionHook = null;

        Assert.Equal(nameof(ErrorCatalog.AppleServiceUnavailable), error.ErrorId); // Apple's failure is what is reported
        Assert.True(failures < 0, $"failures left: {failures}");
        Assert.Contains(f.Host.Verbose, v => v.Contains("could not record the end of the sync", StringComparison.Ordinal));
        var status = f.Engine.Sync.GetStatus(f.Token);
        Assert.False(status.InProgress); // released, not held for its 15-minute lease
        Assert.Equal((AdeSyncStatus.Failed, nameof(ErrorCatalog.AppleServiceUnavailable)), (status.History[0].Status, status.History[0].ErrorId));
    }

    private static List<string> Rows(System.Data.Common.DbDataReader r)
    {
        var rows = new List<string>();
        while (r.Read())
        {
            rows.Add(string.Join("; ", Enumerable.Range(0, r.FieldCount).Where(i => r.GetName(i) != "token_id").OrderBy(r.GetName, StringComparer.Ordinal)
                .Select(i => $"{r.GetName(i)}={(r.IsDBNull(i) ? "NULL" : Convert.ToString(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture))}")));
        }

        rows.Sort(StringComparer.Ordinal);
        return rows;
    }

    /// <summary>A host whose first progress report (after its first committed page) waits until the other runs were refused.</summary>
    private sealed class WaitForOthersHost(CountdownEvent refused) : IAdeHost
    {
        public CancellationToken Cancellation => CancellationToken.None;

        public bool ShouldProcess(string target, string action) => true;

        public void WriteDebug(string message) { }

        public void WriteVerbose(string message) { }

        public void WriteWarning(string message) { }

        public void WriteProgress(AdeProgress progress) => refused.Wait(TimeSpan.FromSeconds(60));
    }
}

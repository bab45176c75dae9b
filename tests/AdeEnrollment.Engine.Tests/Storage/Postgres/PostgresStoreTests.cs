using System.Text;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Security;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Storage.Postgres;
using AdeEnrollment.Engine.Tests.TestSupport;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace AdeEnrollment.Engine.Tests.Storage.Postgres;

/// <summary>The PostgreSQL provider against a real server: schema, migrations, key protection, writer serialisation, failures.</summary>
public sealed class PostgresStoreTests : IDisposable
{
    private readonly TestPostgresSchema schema = new();
    private readonly List<AdeStore> opened = [];

    private AdeStore Open(string passphrase = TestPostgresSchema.Passphrase)
    {
        var store = schema.Open(passphrase);
        opened.Add(store);
        return store;
    }

    public void Dispose()
    {
        foreach (var store in opened)
        {
            store.Release();
        }

        schema.Dispose();
    }

    [Fact]
    public void NewStore_CreatesTheLatestSchema_WithPassphraseProtection()
    {
        var store = Open();

        Assert.Equal("PostgreSQL", store.Provider);
        Assert.Equal(StoreKeyProtection.Passphrase, store.KeyProtection);
        Assert.Equal(PostgresSchema.LatestVersion, schema.Scalar<int>("SELECT version FROM ade_schema"));
        Assert.Equal(Schema.LatestVersion, PostgresSchema.LatestVersion);
        var info = new StoreService(store).GetInfo();
        Assert.Equal("PostgreSQL", info.Provider);
        Assert.Equal(Schema.LatestVersion, info.SchemaVersion);
        Assert.Equal("Passphrase", info.KeyProtection);
        Assert.Equal(0, info.TokenCount);
        Assert.True(info.SizeBytes > 0);
        Assert.StartsWith("postgresql://127.0.0.1:", info.Path);
        Assert.Equal("postgres", info.Database);
        Assert.DoesNotContain(schema.Password, info.Path + info.Server + info.Database);
    }

    [Fact]
    public void Reopen_WithTheSamePassphrase_OpensTheSecrets_AndAWrongOneIsRefused()
    {
        var first = Open();
        var sealedSecret = first.Secrets.Protect(Encoding.UTF8.GetBytes("s3cret"), "test");
        first.Release();

        var again = Open();
        Assert.Equal("s3cret", Encoding.UTF8.GetString(again.Secrets.Unprotect(sealedSecret, "test")));
        var ex = AdeAssert.Throws("StoreKeyInvalid", () => Open("another long passphrase"));
        Assert.StartsWith("The passphrase does not open the secrets", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("key file", ex.Message, StringComparison.Ordinal); // a server store has none
    }

    [Fact]
    public void WithoutPassphrase_IsRefused_AndNothingIsCreated()
    {
        AdeAssert.Throws("StorePassphraseRequired", () => AdeStore.Open(schema.Connection(), null));
        Assert.Equal(0L, schema.Scalar<long>("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"));
    }

    [Fact]
    public void ShortPassphrase_ForANewStore_IsRefused_AndNothingIsCreated()
    {
        AdeAssert.Throws("StorePassphraseTooShort", () => Open("short"));
        Assert.Equal(0L, schema.Scalar<long>("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"));
    }

    [Fact]
    public void NewerSchema_IsRefused_AndLeftAlone()
    {
        Open().Release();
        schema.Execute($"UPDATE ade_schema SET version = {PostgresSchema.LatestVersion + 1}");

        var ex = AdeAssert.Throws("StoreSchemaTooNew", () => Open());
        Assert.Contains($"{PostgresSchema.LatestVersion + 1}", ex.Message);
        Assert.Equal(PostgresSchema.LatestVersion + 1, schema.Scalar<int>("SELECT version FROM ade_schema"));
    }

    [Fact]
    public void AnUpgradeStepThatMeetsTablesOfAnotherShape_IsStoreUpgradeFailed_AndChangesNothing()
    {
        // a store whose last step was already applied by hand: the step's column exists, the version says it does not
        Open().Release();
        var older = PostgresSchema.LatestVersion - 1;
        schema.Execute($"UPDATE ade_schema SET version = {older}");

        var ex = AdeAssert.Throws("StoreUpgradeFailed", () => Open());
        Assert.Equal(AdeErrorCategory.InvalidData, ex.Category);
        Assert.Contains($"schema version {older}; bringing it to version {PostgresSchema.LatestVersion} failed at step {PostgresSchema.LatestVersion}", ex.Message);
        Assert.Contains("post_blocked_until", ex.Message);
        Assert.DoesNotContain(schema.Password, ex.Message);
        Assert.Equal(older, schema.Scalar<int>("SELECT version FROM ade_schema"));
    }

    [Fact]
    public void NewerSchema_WrittenByAnotherHost_AfterOpening_RefusesTheNextWrite_AndChangesNothing()
    {
        var store = Open();
        store.Write(s => { s.Meta.Set("before", "1"); return 0; });

        // Another host with a newer module migrates the store while this one keeps it open (the version was checked
        // once, at opening: reads trust that, writes look again under the write lock).
        schema.Execute($"UPDATE ade_schema SET version = {PostgresSchema.LatestVersion + 1}");

        var ex = AdeAssert.Throws("StoreSchemaTooNew", () => store.Write(s => { s.Meta.Set("after", "1"); return 0; }));
        Assert.Contains($"{PostgresSchema.LatestVersion + 1}", ex.Message);
        Assert.Equal(0L, schema.Scalar<long>("SELECT count(*) FROM meta WHERE key = 'after'"));
        // A store copy's raw rows see the newer version under the same lock and refuse it with the copy's own error
        // (StoreCopyTests.ADestinationOfANewerSchema_IsRefused_AndNothingIsCopied).
        Assert.Equal(PostgresSchema.LatestVersion + 1, store.StoreProvider.WriteRows(w => w.SchemaVersion()));
        Assert.Equal("1", store.Read(s => s.Meta.Get("before")));
    }

    [Fact]
    public void NewerSchema_OfOneStore_DoesNotRefuseWritesToAnotherStoreOfTheSameProcess()
    {
        using var other = new TestPostgresSchema();
        var mine = Open();
        var theirs = other.Open();
        opened.Add(theirs);
        mine.Write(s => { s.Meta.Set("k", "1"); return 0; });
        theirs.Write(s => { s.Meta.Set("k", "1"); return 0; });

        other.Execute($"UPDATE ade_schema SET version = {PostgresSchema.LatestVersion + 1}");

        AdeAssert.Throws("StoreSchemaTooNew", () => theirs.Write(s => { s.Meta.Set("k", "2"); return 0; }));
        mine.Write(s => { s.Meta.Set("k", "2"); return 0; });
        Assert.Equal("2", mine.Read(s => s.Meta.Get("k")));
        Assert.Equal("1", theirs.Read(s => s.Meta.Get("k")));
    }

    [Fact]
    public void SchemaOfAnotherApplication_IsRefused_AndLeftAlone()
    {
        schema.Execute("CREATE TABLE invoices (id int)");

        AdeAssert.Throws("StoreInvalid", () => Open());
        Assert.Equal(1L, schema.Scalar<long>("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()"));
    }

    [Fact]
    public void VersionTableOfAnotherApplication_IsRefused()
    {
        schema.Execute("CREATE TABLE ade_schema (application text, version int); INSERT INTO ade_schema VALUES ('Other', 1)");

        AdeAssert.Throws("StoreInvalid", () => Open());
    }

    [Fact]
    public void OlderSchema_IsMigratedToTheLatest_KeepingItsRows()
    {
        // A store at version 2 (as an older module left it) with a profile from before platforms existed.
        schema.CreateAtVersion(2);
        var provider = new PostgresProvider(schema.Connection());
        var initialised = false;
        provider.Migrate(_ => initialised = true); // key rows are recorded only when a store is created
        provider.Release();
        Assert.False(initialised);
        Assert.Equal(PostgresSchema.LatestVersion, schema.Scalar<int>("SELECT version FROM ade_schema"));
        Assert.Equal(1L, schema.Scalar<long>("SELECT count(*) FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'device_event' AND column_name = 'detail'"));
    }

    [Fact]
    public void Migration7_FromVersion6_KeepsTheDevices_AndIndexesOnlyDevicesWithAProfile()
    {
        schema.CreateAtVersion(6,
            "INSERT INTO token_request VALUES ('r', 0, 't', 'p', '\\x00', null);"
            + "INSERT INTO token (id, name, apple_id, consumer_key_hash, credentials, expires_at, request_id, service_uri, created_at, modified_at) VALUES ('t1', 'T', 'a', 'h', '\\x00', 0, 'r', 'u', 0, 0);"
            + "INSERT INTO profile (id, token_id, name, settings, created_at, modified_at) VALUES ('p1', 't1', 'P', '{}', 0, 0);"
            + "INSERT INTO device (token_id, serial_number, profile_id, updated_at) VALUES ('t1', 'A1', 'p1', 1), ('t1', 'B2', NULL, 2);");
        Assert.DoesNotContain("WHERE", schema.Scalar<string>("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'device_profile'"), StringComparison.Ordinal);

        schema.MigrateToLatest();

        Assert.Equal(PostgresSchema.LatestVersion, schema.Scalar<int>("SELECT version FROM ade_schema"));
        Assert.Equal("A1:p1,B2:-", schema.Scalar<string>("SELECT string_agg(serial_number || ':' || coalesce(profile_id, '-'), ',' ORDER BY serial_number) FROM device"));
        Assert.EndsWith("WHERE (profile_id IS NOT NULL)", schema.Scalar<string>("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'device_profile'"), StringComparison.Ordinal);
    }

    [Fact]
    public void Migration10_FromVersion9_KeepsTheJournal_AndIndexesNoSerialFirst()
    {
        schema.CreateAtVersion(9,
            "INSERT INTO device_event (token_id, serial_number, at, kind) VALUES ('t1', 'A1', 1, 'Added'), ('t2', 'A1', 2, 'Added'), ('t1', 'B2', 3, 'Released');");
        Assert.Contains("USING hash (serial_number)", schema.Scalar<string>("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'device_event_serial'"), StringComparison.Ordinal);

        schema.MigrateToLatest();

        Assert.Equal(PostgresSchema.LatestVersion, schema.Scalar<int>("SELECT version FROM ade_schema"));
        Assert.Equal(0L, schema.Scalar<long>("SELECT count(*) FROM pg_indexes WHERE schemaname = current_schema() AND indexname IN ('device_event_serial', 'device_serial')"));
        Assert.EndsWith("USING btree (token_id, serial_number, id)",
            schema.Scalar<string>("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'device_event_token_serial'"), StringComparison.Ordinal);
        Assert.Equal("t1:A1,t2:A1,t1:B2", schema.Scalar<string>("SELECT string_agg(token_id || ':' || serial_number, ',' ORDER BY id) FROM device_event"));
    }

    [Fact]
    public void Migration3_TranslatesProfileSettings_LikeSqlite()
    {
        schema.Execute(PostgresSchema.VersionTable + "INSERT INTO ade_schema VALUES ('AdeEnrollment', 2);" + PostgresSchema.Migrations[0] + PostgresSchema.Migrations[1]
            + "INSERT INTO token_request VALUES ('r', 0, 't', 'p', '\\x00', null);"
            + "INSERT INTO token (id, name, apple_id, consumer_key_hash, credentials, expires_at, request_id, service_uri, default_profile_id, created_at, modified_at) VALUES ('t1', 'T', 'a', 'h', '\\x00', 0, 'r', 'u', 'p1', 0, 0);"
            + "INSERT INTO profile (id, token_id, name, settings, created_at, modified_at) VALUES ('p1', 't1', 'P', '{\"Department\":\"IT\"}', 0, 0), ('p2', 't1', 'Q', '{\"Platform\":\"macOS\"}', 0, 0);"
            + PostgresSchema.Migrations[2]);

        Assert.Equal("iOS", schema.Scalar<string>("SELECT settings::jsonb ->> 'Platform' FROM profile WHERE id = 'p1'"));
        Assert.Equal("IT", schema.Scalar<string>("SELECT settings::jsonb ->> 'Department' FROM profile WHERE id = 'p1'"));
        Assert.Equal("true", schema.Scalar<string>("SELECT settings::jsonb ->> 'AwaitFinalConfiguration' FROM profile WHERE id = 'p1'"));
        Assert.Equal("macOS", schema.Scalar<string>("SELECT settings::jsonb ->> 'Platform' FROM profile WHERE id = 'p2'"));
        Assert.Equal("p1", schema.Scalar<string>("SELECT profile_id FROM token_default_profile WHERE token_id = 't1' AND platform = 'iOS'"));
        Assert.Null(schema.Scalar<string>("SELECT default_profile_id FROM token WHERE id = 't1'"));
    }

    [Fact]
    public void BothProviders_EndAtTheSameTablesAndColumns()
    {
        Open();
        var postgres = new SortedSet<string>(StringComparer.Ordinal);
        using (var c = new NpgsqlConnection(TestPostgres.ConnectionString))
        {
            c.Open();
            using var command = new NpgsqlCommand(
                $"SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = '{schema.Name}' AND table_name <> ALL(@own)", c);
            command.Parameters.AddWithValue("own", PostgresSchema.OwnTables.ToArray());
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                postgres.Add(reader.GetString(0) + "." + reader.GetString(1));
            }
        }

        using var temp = new TempDirectory();
        var sqlite = new SortedSet<string>(StringComparer.Ordinal);
        var sqliteStore = AdeStore.Open(temp.File("ade.db"));
        using (var c = sqliteStore.OpenConnection())
        {
            using var command = c.Command("SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'");
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                sqlite.Add(reader.GetString(0) + "." + reader.GetString(1));
            }
        }

        Assert.True(sqlite.Count > 50, $"only {sqlite.Count} SQLite columns");
        Assert.Equal(sqlite, postgres);
    }

    [Fact]
    public void ConcurrentOpens_OfANewStore_MigrateItOnce()
    {
        var stores = new AdeStore[6];
        Parallel.For(0, stores.Length, new ParallelOptions { MaxDegreeOfParallelism = 6 }, i => stores[i] = schema.Open());
        opened.AddRange(stores);

        Assert.Equal(1L, schema.Scalar<long>("SELECT count(*) FROM ade_schema"));
        Assert.Equal(1L, schema.Scalar<long>("SELECT count(*) FROM meta WHERE key = 'kdf_salt'"));
        var check = stores[0].Secrets.Protect([1, 2, 3], "x");
        Assert.All(stores, s => Assert.Equal([1, 2, 3], s.Secrets.Unprotect(check, "x")));
    }

    [Fact]
    public void Writers_AreSerialised_AcrossConnections_SoAReadThenWriteNeverLosesAnUpdate()
    {
        // Each write reads a counter, waits a moment inside the transaction, then writes counter + 1. Without the
        // store-wide write lock, READ COMMITTED writers would read the same value and lose increments.
        var stores = new[] { Open(), Open(), Open(), Open() };
        stores[0].Write(s => { s.Meta.Set("counter", "0"); return 0; });
        Parallel.For(0, 40, new ParallelOptions { MaxDegreeOfParallelism = 4 }, i => stores[i % 4].Write(s =>
        {
            var value = int.Parse(s.Meta.Get("counter")!, System.Globalization.CultureInfo.InvariantCulture);
            Thread.Sleep(2);
            s.Meta.Set("counter", (value + 1).ToString(System.Globalization.CultureInfo.InvariantCulture));
            return 0;
        }));

        Assert.Equal("40", stores[0].Read(s => s.Meta.Get("counter")));
    }

    [Fact]
    public void AFailedWrite_CommitsNothing()
    {
        var store = Open();
        Assert.Throws<InvalidOperationException>(() => store.Write<int>(s =>
        {
            s.Meta.Set("half", "written");
            throw new InvalidOperationException("a rule said no");
        }));

        Assert.Null(store.Read(s => s.Meta.Get("half")));
    }

    [Fact]
    public void AWriterWaitingPastTheLockWait_IsStoreBusy_AndChangesNothing()
    {
        var store = Open();
        var provider = (PostgresProvider)store.StoreProvider;
        provider.LockWait = TimeSpan.FromMilliseconds(200);
        using var holder = new NpgsqlConnection(TestPostgres.ConnectionString);
        holder.Open();
        using var transaction = holder.BeginTransaction();
        using (var take = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({PostgresProvider.WriteLockKey})", holder, transaction))
        {
            take.ExecuteNonQuery(); // another host's write transaction, still open
        }

        var ex = AdeAssert.Throws("StoreBusy", () => store.Write(s => { s.Meta.Set("blocked", "yes"); return 0; }));
        Assert.Contains("55P03", ex.Message);
        transaction.Rollback();
        Assert.Null(store.Read(s => s.Meta.Get("blocked")));
    }

    [Fact]
    public async Task WritesOfOneToken_RunBesideWritesOfOthers_ButTakeTurnsWithTheSameTokenAndWithStoreWideWrites()
    {
        // A database of its own: other tests' writers must not queue between the holder's locks and the writes below.
        using var own = new TestPostgresSchema(ownDatabase: true);
        var holder = own.Open();
        var other = own.Open();
        var (mine, theirs) = (Guid.NewGuid(), Guid.NewGuid());
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var held = Task.Factory.StartNew(() => holder.WriteForToken(mine, s =>
        {
            s.Meta.Set("holder", "committed");
            inside.Set();
            Assert.True(release.Wait(TimeSpan.FromSeconds(30)), "the test never released the holder");
            return 0;
        }), TaskCreationOptions.LongRunning);
        Assert.True(inside.Wait(TimeSpan.FromSeconds(30)));

        // Another token's write goes through while the holder's transaction is open (had it waited for the holder, it
        // would give up after the normal 60 s wait)...
        other.WriteForToken(theirs, s => { s.Meta.Set("beside", "yes"); return 0; });
        Assert.Equal("yes", other.Read(s => s.Meta.Get("beside")));
        // ...the same token's write and a store-wide write wait for it (here past their lock wait) and change nothing.
        ((PostgresProvider)other.StoreProvider).LockWait = TimeSpan.FromMilliseconds(300);
        AdeAssert.Throws("StoreBusy", () => other.WriteForToken(mine, s => { s.Meta.Set("same", "yes"); return 0; }));
        AdeAssert.Throws("StoreBusy", () => other.Write(s => { s.Meta.Set("wide", "yes"); return 0; }));
        release.Set();
        await held.WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal("committed", other.Read(s => s.Meta.Get("holder")));
        Assert.Null(other.Read(s => s.Meta.Get("same")));
        Assert.Null(other.Read(s => s.Meta.Get("wide")));
        holder.Release();
        other.Release();
    }

    [Fact]
    public async Task JournalEntriesOfWritesSideBySide_BecomeVisibleInIdOrder_SoAReaderPastAnIdMissesNone()
    {
        // Two tokens' pages write side by side; the first takes its journal ids and has not committed yet. Had the second
        // committed its (higher) ids first, a reader would see them, remember the last id, and with -AfterId never be shown
        // the first's. Its journal insert waits for the first's commit instead.
        using var own = new TestPostgresSchema(ownDatabase: true);
        var holder = own.Open();
        var other = own.Open();
        var (mine, theirs) = (Guid.NewGuid(), Guid.NewGuid());
        var at = DateTimeOffset.UnixEpoch.AddYears(55);
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var held = Task.Factory.StartNew(() => holder.WriteForToken(mine, s =>
        {
            s.DeviceEvents.Append(mine, at, [new("A1", AdeDeviceEventKind.Added), new("A2", AdeDeviceEventKind.Added)]);
            inside.Set();
            Assert.True(release.Wait(TimeSpan.FromSeconds(30)), "the test never released the holder");
            return 0;
        }), TaskCreationOptions.LongRunning);
        Assert.True(inside.Wait(TimeSpan.FromSeconds(30)));
        var beside = Task.Factory.StartNew(
            () => other.WriteForToken(theirs, s => s.DeviceEvents.Append(theirs, at, [new("B1", AdeDeviceEventKind.Added)])), TaskCreationOptions.LongRunning);

        await Task.WhenAny(beside, Task.Delay(TimeSpan.FromMilliseconds(700)));
        Assert.False(beside.IsCompleted, "the second journal insert committed while the first, with lower ids, was still open");
        Assert.Empty(other.Read(s => s.DeviceEvents.Query(new DeviceEventFilter()).ToList()));
        release.Set();
        await held.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, await beside.WaitAsync(TimeSpan.FromSeconds(30)));

        var events = other.Read(s => s.DeviceEvents.Query(new DeviceEventFilter()).ToList());
        Assert.Equal(["A1", "A2", "B1"], events.Select(e => e.SerialNumber));
        Assert.True(events[0].Id < events[1].Id && events[1].Id < events[2].Id);
        holder.Release();
        other.Release();
    }

    [Fact]
    public void AStoreWideWrite_HoldsOffWritesOfEveryToken()
    {
        var store = Open();
        ((PostgresProvider)store.StoreProvider).LockWait = TimeSpan.FromMilliseconds(200);
        using var holder = new NpgsqlConnection(TestPostgres.ConnectionString);
        holder.Open();
        using var transaction = holder.BeginTransaction();
        using (var take = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({PostgresProvider.WriteLockKey})", holder, transaction))
        {
            take.ExecuteNonQuery(); // another host's store-wide write (a token added, a limit checked), still open
        }

        AdeAssert.Throws("StoreBusy", () => store.WriteForToken(Guid.NewGuid(), s => { s.Meta.Set("blocked", "yes"); return 0; }));
        transaction.Rollback();
        ((PostgresProvider)store.StoreProvider).LockWait = TimeSpan.FromSeconds(60); // other tests write to the same database
        store.WriteForToken(Guid.NewGuid(), s => { s.Meta.Set("after", "yes"); return 0; });
        Assert.Null(store.Read(s => s.Meta.Get("blocked")));
        Assert.Equal("yes", store.Read(s => s.Meta.Get("after")));
    }

    [Fact]
    public void SqliteOnlyTestEntryPoints_AreACataloguedError()
    {
        var store = Open();
        AdeAssert.Throws("StoreNotSupported", () => store.ReadSql(c => 0));
    }

    [Fact]
    public void WrongPassword_IsStoreAccessDenied_WithoutThePassword()
    {
        var ex = AdeAssert.Throws("StoreAccessDenied", () => AdeStore.Open(schema.Connection("not-the-password-4711"), Encoding.UTF8.GetBytes(TestPostgresSchema.Passphrase)));
        Assert.Contains("28P01", ex.Message);
        Assert.All(AdeAssert.Messages(ex), m => Assert.DoesNotContain("not-the-password-4711", m));
    }

    [Fact]
    public void NoServerOnThePort_IsStoreUnavailable_NamingTheServer()
    {
        var connection = PostgresConnectionInfo.Parse("Host=127.0.0.1;Port=1;Username=ade;Timeout=3", password: "pw-never-shown-0815");
        var ex = AdeAssert.Throws("StoreUnavailable", () => AdeStore.Open(connection, Encoding.UTF8.GetBytes(TestPostgresSchema.Passphrase)));
        Assert.Contains("127.0.0.1:1", ex.Message);
        Assert.DoesNotContain("pw-never-shown-0815", ex.Message);
    }

    [Fact]
    public void ReadStatement_RunsWithoutATransactionBlock_WhileReadRunsInOneRepeatableReadTransaction()
    {
        var store = Open();
        var provider = (PostgresProvider)store.StoreProvider;
        var seen = new List<string>();
        provider.ConnectionHook = c =>
        {
            // a statement on the unit of work's connection joins its transaction, if it has one
            using var isolation = new NpgsqlCommand("SELECT current_setting('transaction_isolation')", c);
            seen.Add((string)isolation.ExecuteScalar()!);
        };

        store.Read(s => s.Meta.Get("key_protection"));
        store.ReadStatement(s => s.Meta.Get("key_protection"));
        provider.ConnectionHook = null;

        // REPEATABLE READ is what Read's BEGIN asks for; without a BEGIN the statement runs at the server's default
        Assert.Equal(["repeatable read", "read committed"], seen);
    }

    [Fact]
    public void ADroppedConnection_IsRetried_ForAWholeWriteThatDidNotCommit()
    {
        var store = Open();
        var provider = (PostgresProvider)store.StoreProvider;
        var attempts = 0;
        provider.ConnectionHook = c =>
        {
            if (Interlocked.Increment(ref attempts) == 1)
            {
                // The server ends this backend, as a restart or a dropped connection would.
                using var kill = new NpgsqlCommand("SELECT pg_terminate_backend(pg_backend_pid())", c);
                kill.ExecuteNonQuery();
            }
        };

        store.Write(s => { s.Meta.Set("after-retry", "yes"); return 0; });

        Assert.True(attempts >= 2, $"attempts: {attempts}");
        provider.ConnectionHook = null;
        Assert.Equal("yes", store.Read(s => s.Meta.Get("after-retry")));
    }

    [Fact]
    public void AServerThatStopsTakingConnections_AfterTheStoreWasOpened_IsStoreUnavailable_NotStoreIoError()
    {
        using var own = new TestPostgresSchema(ownDatabase: true);
        var store = own.Open();
        opened.Add(store);
        Assert.NotNull(store.Read(s => s.Meta.Get("key_protection")));
        // The server takes no new connection to the store's database and ends the ones it has (a pool's idle ones too):
        // a server being taken down, or a database closed for maintenance, in the middle of a run.
        TestPostgres.Admin($"ALTER DATABASE {own.Database} ALLOW_CONNECTIONS false");
        try
        {
            TestPostgres.Admin($"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{own.Database}'");
            var failure = Assert.Throws<AdeException>(() => store.Read(s => s.Meta.Get("key_protection")));
            Assert.Equal(nameof(ErrorCatalog.StoreUnavailable), failure.ErrorId);
            Assert.DoesNotContain(own.Password, failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            TestPostgres.Admin($"ALTER DATABASE {own.Database} ALLOW_CONNECTIONS true");
        }

        Assert.NotNull(store.Read(s => s.Meta.Get("key_protection")));
    }
}

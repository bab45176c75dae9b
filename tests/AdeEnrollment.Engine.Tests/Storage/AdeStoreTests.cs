using AdeEnrollment.Engine.Errors;
using System.Security.Cryptography;
using System.Text;
using AdeEnrollment.Engine.Security;
using AdeEnrollment.Engine.Storage;
using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Tests.Storage;

public sealed class AdeStoreTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    /// <summary>A store with a token request in it, its pooled connections closed (WAL checkpointed into the file).</summary>
    private string CreateStoreWithData(string name = "ade.db")
    {
        var path = temp.File(name);
        RequestSeeder.Seed(AdeStore.Open(path), DateTimeOffset.UtcNow);
        SqliteConnection.ClearAllPools();
        return path;
    }

    [Fact]
    public void Open_CreatesStoreAndKeyFileReadableByTheOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // Unix permissions; on Windows the store lives in the per-user profile folder.
        }

        var folder = Path.Combine(temp.Path, "new", "folder");
        var path = Path.Combine(folder, "ade.db");

        AdeStore.Open(path);

        const UnixFileMode ownerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(ownerReadWrite, File.GetUnixFileMode(path));
        Assert.Equal(ownerReadWrite, File.GetUnixFileMode(StoreKey.KeyFilePath(path)));
        Assert.Equal(ownerReadWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(folder));
        Assert.Equal(ownerReadWrite | UnixFileMode.UserExecute, File.GetUnixFileMode(Path.GetDirectoryName(folder)!)); // the parent it created too
    }

    [Fact]
    public void Open_OfAnEmptyFileThatOthersCanRead_MakesTheStoreAndItsLogReadableByTheOwnerOnly()
    {
        if (OperatingSystem.IsWindows())
        {
            return;
        }

        // `touch ade.db` under umask 022, then a store in it: the store took the file's 0644 and so did its -wal and -shm
        var path = temp.File("ade.db");
        File.WriteAllBytes(path, []);
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var store = AdeStore.Open(path);
        new AdeEngine(store, new RecordingHost()).Tokens.NewRequest(true, null); // a write: the log files exist
        const UnixFileMode ownerReadWrite = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        Assert.Equal(ownerReadWrite, File.GetUnixFileMode(path));
        Assert.Equal(ownerReadWrite, File.GetUnixFileMode(path + "-wal"));
        Assert.Equal(ownerReadWrite, File.GetUnixFileMode(path + "-shm"));
    }

    /// <summary>A key file elsewhere; on Windows the key file holds the key wrapped by DPAPI.</summary>
    private static readonly StoreKeyProtection PlatformProtection = OperatingSystem.IsWindows() ? StoreKeyProtection.Dpapi : StoreKeyProtection.KeyFile;

    [Fact]
    public void Open_NewStore_UsesAKeyFileBesideTheStore()
    {
        var path = temp.File("ade.db");

        var store = AdeStore.Open(path);

        Assert.Equal(PlatformProtection, store.KeyProtection);
        Assert.Equal(path + ".key", StoreKey.KeyFilePath(path));
        var content = Convert.FromBase64String(File.ReadAllText(path + ".key").Trim());
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(32, content.Length); // the AES-256 key itself
        }

        Assert.Equal(PlatformProtection.ToString(), RawSqlite.Scalar(path, "SELECT value FROM meta WHERE key = 'key_protection'"));
    }

    [Fact]
    public void Open_SetsWalJournalMode()
    {
        var path = temp.File("ade.db");
        AdeStore.Open(path);

        Assert.Equal("wal", RawSqlite.Scalar(path, "PRAGMA journal_mode"));
    }

    [Fact]
    public void Open_MigratesToTheLatestSchemaAndMarksTheFileAsAStore()
    {
        var path = temp.File("ade.db");
        var store = AdeStore.Open(path);

        Assert.Equal((long)Schema.LatestVersion, RawSqlite.Scalar(path, "PRAGMA user_version"));
        Assert.Equal((long)Schema.ApplicationId, RawSqlite.Scalar(path, "PRAGMA application_id"));
        Assert.Equal(0x41444531, Schema.ApplicationId); // 'ADE1': pinned, files in the field carry it
        foreach (var table in new[] { "meta", "token_request", "token", "profile", "device" })
        {
            Assert.Equal(1L, RawSqlite.Scalar(path, $"SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = '{table}'"));
        }

        var info = new StoreService(store).GetInfo();
        Assert.Equal(Schema.LatestVersion, info.SchemaVersion);
        Assert.Equal(path, info.Path);
        Assert.Equal(PlatformProtection.ToString(), info.KeyProtection);
    }

    [Fact]
    public void Migration14_FromVersion13_KeepsTheBusinessAccounts_WithTheDefaultActivitySize()
    {
        var path = temp.File("ade.db");
        AdeStore.Open(path);
        SqliteConnection.ClearAllPools();
        RawSqlite.Execute(path,
            """
            ALTER TABLE business_account DROP COLUMN devices_per_activity;
            ALTER TABLE business_account DROP COLUMN post_blocked_until;
            PRAGMA user_version = 13;
            INSERT INTO business_account (id, client_id, key_id, scope, private_key, token_uri, service_uri, created_at, posts_per_hour)
                VALUES ('6f1c2a54-8e0b-4c1e-9a51-0d7c9e5b2f10', 'BUSINESSAPI.x', 'k', 'business.api', x'00', 'https://a/', 'https://b/', 1, 7);
            """);

        AdeStore.Open(path);
        SqliteConnection.ClearAllPools();

        Assert.Equal((long)Schema.LatestVersion, RawSqlite.Scalar(path, "PRAGMA user_version"));
        Assert.Equal("BUSINESSAPI.x:7:-", RawSqlite.Scalar(path, "SELECT client_id || ':' || posts_per_hour || ':' || coalesce(devices_per_activity, '-') FROM business_account"));
    }

    [Fact]
    public void Migration15_FromVersion14_KeepsTheReadBlock_AndGivesWritesABlockOfTheirOwn()
    {
        var path = temp.File("ade.db");
        AdeStore.Open(path);
        SqliteConnection.ClearAllPools();
        RawSqlite.Execute(path,
            """
            ALTER TABLE business_account DROP COLUMN post_blocked_until;
            PRAGMA user_version = 14;
            INSERT INTO business_account (id, client_id, key_id, scope, private_key, token_uri, service_uri, created_at, blocked_until)
                VALUES ('6f1c2a54-8e0b-4c1e-9a51-0d7c9e5b2f10', 'BUSINESSAPI.x', 'k', 'business.api', x'00', 'https://a/', 'https://b/', 1, 99);
            """);

        AdeStore.Open(path);
        SqliteConnection.ClearAllPools();

        Assert.Equal((long)Schema.LatestVersion, RawSqlite.Scalar(path, "PRAGMA user_version"));
        Assert.Equal("99:-", RawSqlite.Scalar(path, "SELECT blocked_until || ':' || coalesce(post_blocked_until, '-') FROM business_account"));
    }

    [Fact]
    public void AnUpgradeStepThatMeetsTablesOfAnotherShape_IsStoreUpgradeFailed_AndChangesNothing()
    {
        // a store whose last step was already applied by hand: the step's column exists, the version says it does not
        var path = temp.File("ade.db");
        AdeStore.Open(path);
        SqliteConnection.ClearAllPools();
        var older = Schema.LatestVersion - 1;
        RawSqlite.Execute(path, $"PRAGMA user_version = {older};");

        var ex = AdeAssert.Throws("StoreUpgradeFailed", () => AdeStore.Open(path));
        SqliteConnection.ClearAllPools();

        Assert.Equal(AdeErrorCategory.InvalidData, ex.Category);
        Assert.Contains($"schema version {older}; bringing it to version {Schema.LatestVersion} failed at step {Schema.LatestVersion}", ex.Message);
        Assert.Contains("post_blocked_until", ex.Message);
        Assert.Equal((long)older, RawSqlite.Scalar(path, "PRAGMA user_version"));
    }

    [Fact]
    public void Migration12_FromVersion11_IndexesOnlyTheDevicesRemovedFromAbm()
    {
        var path = temp.File("ade.db");
        AdeStore.Open(path);
        SqliteConnection.ClearAllPools();
        RawSqlite.Execute(path,
            """
            PRAGMA foreign_keys = OFF;
            DROP INDEX device_removed;
            ALTER TABLE business_account DROP COLUMN devices_per_activity;
            ALTER TABLE business_account DROP COLUMN post_blocked_until;
            PRAGMA user_version = 11;
            INSERT INTO device (token_id, serial_number, updated_at, removed_at) VALUES ('t1', 'A1', 1, NULL), ('t1', 'B2', 2, 5), ('t2', 'C3', 3, NULL);
            """);

        AdeStore.Open(path);
        SqliteConnection.ClearAllPools();

        Assert.Equal((long)Schema.LatestVersion, RawSqlite.Scalar(path, "PRAGMA user_version"));
        Assert.Equal(1L, RawSqlite.Scalar(path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'device_removed' AND sql LIKE '%WHERE removed_at IS NOT NULL'"));
        Assert.Equal(1L, RawSqlite.Scalar(path, "SELECT count(*) FROM device INDEXED BY device_removed WHERE token_id = 't1' AND removed_at IS NOT NULL"));
    }

    [Fact]
    public void Migration7_FromVersion6_KeepsTheDevices_AndIndexesOnlyDevicesWithAProfile()
    {
        // A store as version 6 left it: device_profile over every device (null profiles included), the journal serial-first.
        var path = temp.File("ade.db");
        AdeStore.Open(path);
        SqliteConnection.ClearAllPools();
        RawSqlite.Execute(path,
            """
            PRAGMA foreign_keys = OFF;
            DROP INDEX device_removed;
            DROP INDEX device_profile;
            CREATE INDEX device_profile ON device (profile_id);
            DROP INDEX device_event_token_serial;
            CREATE INDEX device_event_serial ON device_event (serial_number, id);
            CREATE INDEX device_serial ON device (serial_number);
            ALTER TABLE business_account DROP COLUMN devices_per_activity;
            ALTER TABLE business_account DROP COLUMN post_blocked_until;
            PRAGMA user_version = 6;
            INSERT INTO device (token_id, serial_number, profile_id, updated_at) VALUES ('t1', 'A1', 'p1', 1), ('t1', 'B2', NULL, 2), ('t2', 'C3', 'p1', 3);
            """);
        Assert.Equal(3L, RawSqlite.Scalar(path, "SELECT count(*) FROM device INDEXED BY device_profile"));

        AdeStore.Open(path);
        SqliteConnection.ClearAllPools();

        Assert.Equal((long)Schema.LatestVersion, RawSqlite.Scalar(path, "PRAGMA user_version"));
        Assert.Equal("A1:p1,B2:-,C3:p1", RawSqlite.Scalar(path, "SELECT group_concat(serial_number || ':' || coalesce(profile_id, '-'), ',') FROM (SELECT * FROM device ORDER BY serial_number)"));
        Assert.Equal(1L, RawSqlite.Scalar(path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'device_profile' AND sql LIKE '%WHERE profile_id IS NOT NULL'"));
        // The index answers every query by profile, and holds only the devices that have one.
        Assert.Equal(2L, RawSqlite.Scalar(path, "SELECT count(*) FROM device WHERE profile_id = 'p1'"));
        foreach (var query in new[]
                 {
                     "SELECT serial_number FROM device WHERE profile_id = 'p1' AND removed_at IS NULL",
                     "UPDATE device SET profile_id = NULL WHERE profile_id = 'p1' AND removed_at IS NOT NULL",
                     "SELECT p.id, (SELECT count(*) FROM device d WHERE d.profile_id = p.id) FROM profile p",
                 })
        {
            Assert.Contains("device_profile", RawSqlite.ExplainPlan(path, query), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Migration10_FromVersion9_KeepsTheRows_AndLooksUpSerialsThroughTheToken()
    {
        // A store as version 9 left it: the journal's serial index is serial-first.
        var path = temp.File("ade.db");
        AdeStore.Open(path);
        SqliteConnection.ClearAllPools();
        Guid t1 = Guid.NewGuid(), t2 = Guid.NewGuid();
        RawSqlite.Execute(path,
            $"""
            DROP INDEX device_removed;
            DROP INDEX device_event_token_serial;
            CREATE INDEX device_event_serial ON device_event (serial_number, id);
            CREATE INDEX device_serial ON device (serial_number);
            ALTER TABLE business_account DROP COLUMN devices_per_activity;
            ALTER TABLE business_account DROP COLUMN post_blocked_until;
            PRAGMA user_version = 9;
            INSERT INTO device_event (token_id, serial_number, at, kind) VALUES ('{t2}', 'A1', 1, 'Added'), ('{t1}', 'A1', 2, 'Added'), ('{t2}', 'B2', 3, 'Released');
            """);

        var store = AdeStore.Open(path);

        Assert.Equal((long)Schema.LatestVersion, RawSqlite.Scalar(path, "PRAGMA user_version"));
        Assert.Equal(0L, RawSqlite.Scalar(path, "SELECT count(*) FROM sqlite_master WHERE name IN ('device_event_serial', 'device_serial')"));
        Assert.Equal(1L, RawSqlite.Scalar(path, "SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = 'device_event_token_serial'"));
        Assert.Equal([t2, t1], store.Read(s => s.DeviceEvents.Query(new DeviceEventFilter(SerialNumber: "A1")).Select(e => e.TokenId).ToList()));
        // A serial alone: one seek per token of the journal, then a probe with token and serial; never a scan of it.
        var (sql, parameters) = Engine.Storage.Sqlite.SqliteDeviceEventTable.QueryStatement(new DeviceEventFilter(SerialNumber: "A1"));
        var plan = RawSqlite.ExplainPlan(path, sql, parameters);
        Assert.Contains("SEARCH e USING INDEX device_event_token_serial (token_id=? AND serial_number=?)", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("SCAN e", plan, StringComparison.Ordinal);
        Assert.DoesNotContain("SCAN device_event", plan, StringComparison.Ordinal);
    }

    [Fact]
    public void Open_Again_IsIdempotentAndKeepsDataAndKey()
    {
        var path = temp.File("ade.db");
        var first = AdeStore.Open(path);
        var request = new AdeEngine(first, new RecordingHost()).Tokens.NewRequest(true, null)!;
        SqliteConnection.ClearAllPools();
        var keyBefore = File.ReadAllBytes(path + ".key");
        var metaBefore = RawSqlite.Scalar(path, "SELECT group_concat(key || '=' || value, ';') FROM (SELECT * FROM meta ORDER BY key)");
        var schemaBefore = RawSqlite.Scalar(path, "SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_master ORDER BY name)");

        var second = AdeStore.Open(path);
        var third = AdeStore.Open(path);

        SqliteConnection.ClearAllPools();
        Assert.Equal(keyBefore, File.ReadAllBytes(path + ".key"));
        Assert.Equal(metaBefore, RawSqlite.Scalar(path, "SELECT group_concat(key || '=' || value, ';') FROM (SELECT * FROM meta ORDER BY key)"));
        Assert.Equal(schemaBefore, RawSqlite.Scalar(path, "SELECT group_concat(sql, ';') FROM (SELECT sql FROM sqlite_master ORDER BY name)"));
        Assert.Equal((long)Schema.LatestVersion, RawSqlite.Scalar(path, "PRAGMA user_version"));
        Assert.Equal(PlatformProtection, third.KeyProtection);
        var requests = new AdeEngine(third, new RecordingHost()).Tokens.GetRequests();
        Assert.Equal(request.Id, Assert.Single(requests).Id);

        // The secrets written through the first instance open with the key the third one loads.
        using var connection = third.OpenConnection();
        var sealedKey = (byte[])connection.Command("SELECT private_key FROM token_request").ExecuteScalar()!;
        var pkcs8 = third.Secrets.Unprotect(sealedKey, $"token_request:{request.Id}:private_key");
        using var rsa = RSA.Create();
        rsa.ImportPkcs8PrivateKey(pkcs8, out _);
        Assert.Equal(2048, rsa.KeySize);
        _ = second;
    }

    [Fact]
    public void Open_EmptyExistingFile_IsInitialisedAsANewStore()
    {
        var path = temp.File("ade.db");
        File.WriteAllBytes(path, []);

        AdeStore.Open(path);

        Assert.Equal((long)Schema.LatestVersion, RawSqlite.Scalar(path, "PRAGMA user_version"));
    }

    [Fact]
    public void Open_NewerSchema_IsRefusedAndTheFileIsUnchanged()
    {
        var path = CreateStoreWithData();
        RawSqlite.Execute(path, $"PRAGMA user_version = {Schema.LatestVersion + 1}");
        var before = FileBytes.Hash(path);
        var keyBefore = File.ReadAllBytes(path + ".key");

        var ex = AdeAssert.Throws("StoreSchemaTooNew", () => AdeStore.Open(path));

        Assert.Equal(before, FileBytes.Hash(path));
        Assert.Equal(keyBefore, File.ReadAllBytes(path + ".key"));
        Assert.Contains($"schema version {Schema.LatestVersion + 1}", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"schema version {Schema.LatestVersion} at most", ex.Message, StringComparison.Ordinal);
        Assert.Equal((long)Schema.LatestVersion + 1, RawSqlite.Scalar(path, "PRAGMA user_version"));
    }

    public static TheoryData<string, byte[]> NotSqliteFiles() => new()
    {
        { "text", Encoding.UTF8.GetBytes("These are my notes, not a database.\n") },
        { "random", RandomNumberGenerator.GetBytes(8192) },
        { "short", Encoding.ASCII.GetBytes("SQLite") },
        { "pem", Encoding.ASCII.GetBytes("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n") },
        { "sqlite2", Encoding.ASCII.GetBytes("** This file contains an SQLite 2.1 database **\0" + new string('x', 2000)) },
    };

    [Theory]
    [MemberData(nameof(NotSqliteFiles))]
    public void Open_FileThatIsNotSqlite_IsRefusedAndUnchanged(string kind, byte[] content)
    {
        var path = temp.File(kind + ".db");
        File.WriteAllBytes(path, content);

        AdeAssert.Throws("StoreInvalid", () => AdeStore.Open(path));

        Assert.Equal(content, File.ReadAllBytes(path));
        Assert.False(File.Exists(path + ".key"), "no key file is created for a file that is not a store");
    }

    [Fact]
    public void Open_Folder_IsRefused()
    {
        var path = Path.Combine(temp.Path, "folder.db");
        Directory.CreateDirectory(path);

        AdeAssert.Throws("StoreInvalid", () => AdeStore.Open(path));
    }

    [Fact]
    public void Open_ADevice_IsRefused_AsNotAFile()
    {
        if (OperatingSystem.IsWindows())
        {
            return; // no /dev/null path there; the device paths (\\.\) take the same branch of FileKinds
        }

        var ex = AdeAssert.Throws("StoreInvalid", () => AdeStore.Open("/dev/null"));
        Assert.Contains("it is a device, a pipe or a socket, not a file", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Alice');")]
    [InlineData("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);")]
    [InlineData("PRAGMA user_version = 7;")]
    [InlineData("PRAGMA application_id = 1196444237;")] // 'GPKG': a GeoPackage
    public void Open_SqliteDatabaseOfAnotherApplication_IsRefusedAndUnchanged(string sql)
    {
        var path = temp.File("foreign.db");
        RawSqlite.Execute(path, sql);
        var before = FileBytes.Hash(path);

        var ex = AdeAssert.Throws("StoreInvalid", () => AdeStore.Open(path));

        Assert.Equal(before, FileBytes.Hash(path));
        Assert.False(File.Exists(path + ".key"));
        Assert.Contains("another application", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> Damages() => new()
    {
        "truncate:16", "truncate:100", "truncate:1024", "truncate:page", "truncate:half", "truncate:last-page",
        "zero:page1-body", "garbage:page1-body", "garbage:page2", "garbage:everything-after-header",
    };

    [Theory]
    [MemberData(nameof(Damages))]
    public void Open_TruncatedOrCorruptStore_IsRefusedAndUnchanged(string damage)
    {
        var path = CreateStoreWithData();
        var bytes = File.ReadAllBytes(path);
        var pageSize = (bytes[16] << 8) | bytes[17];
        Assert.True(bytes.Length >= 3 * pageSize, $"the test store should have several pages (has {bytes.Length} bytes)");
        var damaged = damage switch
        {
            "truncate:16" => bytes[..16],
            "truncate:100" => bytes[..100],
            "truncate:1024" => bytes[..1024],
            "truncate:page" => bytes[..pageSize],
            "truncate:half" => bytes[..(bytes.Length / 2)],
            "truncate:last-page" => bytes[..(bytes.Length - pageSize)],
            "zero:page1-body" => Overwrite(bytes, 100, pageSize - 100, 0x00),
            "garbage:page1-body" => Overwrite(bytes, 100, pageSize - 100, 0xA5),
            "garbage:page2" => Overwrite(bytes, pageSize, pageSize, 0xA5),
            "garbage:everything-after-header" => Overwrite(bytes, 100, bytes.Length - 100, 0xA5),
            _ => throw new ArgumentOutOfRangeException(nameof(damage)),
        };
        File.WriteAllBytes(path, damaged);

        AdeAssert.Throws("StoreInvalid", () => AdeStore.Open(path));

        Assert.Equal(damaged, FileBytes.Read(path));
    }

    private static byte[] Overwrite(byte[] bytes, int offset, int count, byte value)
    {
        var copy = (byte[])bytes.Clone();
        copy.AsSpan(offset, count).Fill(value);
        return copy;
    }

    [Fact]
    public void Secrets_KeyFileMissing_IsStoreKeyMissingAndNothingIsWritten()
    {
        var path = CreateStoreWithData();
        File.Delete(path + ".key");
        var store = AdeStore.Open(path);
        var tokens = new AdeEngine(store, new RecordingHost()).Tokens;

        var ex = AdeAssert.Throws("StoreKeyMissing", () => tokens.NewRequest(true, null));

        Assert.Contains(path + ".key", ex.Message, StringComparison.Ordinal);
        Assert.Single(tokens.GetRequests());
        Assert.False(File.Exists(path + ".key"), "a missing key is reported, never silently replaced");
    }

    [Theory]
    [InlineData("folder")]
    [InlineData("pipe")]
    public async Task Secrets_KeyFileThatIsNoFile_IsStoreUnavailable_AndNeverBlocks(string kind)
    {
        if (OperatingSystem.IsWindows())
        {
            return; // named pipes are not files on Windows
        }

        var path = CreateStoreWithData();
        File.Delete(path + ".key");
        if (kind == "folder")
        {
            Directory.CreateDirectory(path + ".key");
        }
        else
        {
            Assert.Equal(0, Mkfifo(path + ".key", 0x180)); // a read of it waited for a writer for ever
        }

        var store = AdeStore.Open(path);
        var read = Task.Run(() => AdeAssert.Throws("StoreUnavailable", () => store.Secrets));
        var ex = await read.WaitAsync(TimeSpan.FromSeconds(30)); // TimeoutException when the key read blocks
        Assert.Contains("is a folder, a device, a pipe or a socket", ex.Message, StringComparison.Ordinal);
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int Mkfifo(string path, uint mode);

    public static TheoryData<string> BadKeyFiles() => new() { "another-store", "not-base64", "empty", "short-key" };

    [Theory]
    [MemberData(nameof(BadKeyFiles))]
    public void Secrets_WrongOrDamagedKeyFile_IsStoreKeyInvalid(string kind)
    {
        var path = CreateStoreWithData();
        var other = CreateStoreWithData("other.db");
        var content = kind switch
        {
            "another-store" => File.ReadAllText(other + ".key"),
            "not-base64" => "this is not a key!",
            "empty" => "",
            "short-key" => Convert.ToBase64String(RandomNumberGenerator.GetBytes(16)),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        File.WriteAllText(path + ".key", content);
        var store = AdeStore.Open(path);
        var tokens = new AdeEngine(store, new RecordingHost()).Tokens;

        var ex = AdeAssert.Throws("StoreKeyInvalid", () => store.Secrets); // what every secret read or write goes through

        Assert.StartsWith("The key file does not open the secrets", ex.Message, StringComparison.Ordinal);
        Assert.Single(tokens.GetRequests());
    }

    [Fact]
    public void Open_PassphraseOnAKeyFileStore_IsStoreKeyKindMismatch()
    {
        var path = CreateStoreWithData();
        var before = FileBytes.Hash(path);

        var ex = AdeAssert.Throws("StoreKeyKindMismatch", () => AdeStore.Open(path, Encoding.UTF8.GetBytes("a passphrase")));

        Assert.Contains("key file", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, FileBytes.Hash(path));
    }

    [Fact]
    public void A_missing_store_is_described_without_creating_it_and_an_existing_one_is_found()
    {
        var path = Path.Combine(temp.Path, "not-yet", "ade.db");

        Assert.False(StoreService.Exists(path));
        var missing = StoreService.Missing(path);

        Assert.False(missing.Exists);
        Assert.Equal(Path.GetFullPath(path), missing.Path);
        Assert.Equal((0, 0, 0L), (missing.TokenCount, missing.ProfileCount, missing.DeviceCount));
        Assert.False(Directory.Exists(Path.GetDirectoryName(path)));

        File.WriteAllBytes(Path.Combine(temp.Path, "empty.db"), []);
        Assert.False(StoreService.Exists(Path.Combine(temp.Path, "empty.db"))); // an empty file becomes a new store
        var store = AdeStore.Open(path);
        Assert.True(StoreService.Exists(path));
        Assert.True(new StoreService(store).GetInfo().Exists);
        store.Release();
    }
}

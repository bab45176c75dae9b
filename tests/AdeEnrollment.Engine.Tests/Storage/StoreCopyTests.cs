using System.Security.Cryptography;
using System.Text;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Security;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tests.Business;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Tests.TestSupport;
using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Tests.Storage;

/// <summary>
/// Copy-AdeStore's engine (StoreCopy): a store seeded through the engine (token, profiles, a default, devices from a
/// sync with their journal and sync history, a Business API account with its activity and request budget) copied
/// SQLite → SQLite, SQLite → PostgreSQL → SQLite; secrets re-sealed for the destination; refusals change nothing.
/// </summary>
public sealed class StoreCopyTests : IDisposable
{
    private const string DestinationPassphrase = "destination passphrase 42";
    private readonly BusinessFixture seeded = new();
    private readonly List<AdeStore> opened = [];
    private readonly List<IDisposable> owned = [];

    public StoreCopyTests()
    {
        var f = seeded;
        f.Simulator.AddDevices(EngineSimFixture.Server, 6);
        f.Engine.Profiles.New("iPads", "Staff", new ProfileSettings { UserAffinity = UserAffinity.WithUserAffinity });
        f.Engine.Profiles.New("iPads", "Kiosk", new ProfileSettings { UserAffinity = UserAffinity.WithoutUserAffinity });
        f.Engine.Profiles.SetDefault("iPads", "Kiosk");
        f.Engine.Sync.Sync("iPads");
        f.Engine.StoreInfo.SetJournalRetention(45);
        var serial = f.Engine.Devices.Get(new Devices.DeviceQuery(f.Sim.Token.Id)).First().SerialNumber;
        f.Engine.Business.Send(OrgDeviceAction.Assign, [serial], null, f.Sim.Token);

        // The serial -> server index only lives during an inventory read: written here as it would be mid-read, with
        // keys whose byte order differs from a language's order (upper before lower case, non-ASCII last), so both
        // providers must sort them alike for the checksums to agree.
        foreach (var key in new[] { "c02b", "C02A", "Ärger", "zz" })
        {
            f.Sim.Store.ReadSql(c => c.Execute("INSERT INTO business_device_server (run_id, serial_number, server_id, created_at) VALUES ('run-1', $s, 'srv-1', 1)", ("$s", key)));
        }
    }

    private AdeStore Source => seeded.Sim.Store;

    public void Dispose()
    {
        foreach (var store in opened)
        {
            store.Release();
        }

        foreach (var item in owned)
        {
            item.Dispose();
        }

        seeded.Dispose();
    }

    private AdeStore Track(AdeStore store)
    {
        opened.Add(store);
        return store;
    }

    private AdeStore NewSqlite(string name, string? passphrase = DestinationPassphrase)
        => Track(AdeStore.Open(seeded.Sim.Temp.File(name), passphrase is null ? null : Encoding.UTF8.GetBytes(passphrase)));

    private TestPostgresSchema NewSchema()
    {
        var schema = new TestPostgresSchema();
        owned.Add(schema);
        return schema;
    }

    private static IReadOnlyList<AdeStoreCopyTable> Copy(AdeStore from, AdeStore to, RecordingHost? host = null)
        => new StoreService(from).CopyTo(to, host ?? new RecordingHost());

    /// <summary>Rows per table of a SQLite store, counted with plain SQL.</summary>
    private static Dictionary<string, long> SqliteCounts(AdeStore store) => store.ReadSql(c =>
        StoreCopy.TableNames.ToDictionary(t => t, t => c.Scalar<long>(t == "meta"
            ? "SELECT count(*) FROM meta WHERE key NOT IN ('key_protection', 'kdf_salt', 'key_check', 'created_at')"
            : $"SELECT count(*) FROM {t}")));

    private static Dictionary<string, long> PostgresCounts(TestPostgresSchema schema)
        => StoreCopy.TableNames.ToDictionary(t => t, t => schema.Scalar<long>(t == "meta"
            ? "SELECT count(*) FROM meta WHERE key NOT IN ('key_protection', 'kdf_salt', 'key_check', 'created_at')"
            : $"SELECT count(*) FROM {t}"));

    /// <summary>An engine over <paramref name="store"/> that reaches the fixture's simulator, as a host of the copied store would.</summary>
    private AdeEngine EngineOver(AdeStore store) => new(store, new RecordingHost(), seeded.Sim.Time, new AppleClientFactory(seeded.Sim.Time, new RecordingHost(), null,
        new AppleClientOptions { DelayTimeProvider = new InstantDelays(), MaxRetryAttempts = 2, Sessions = new AppleSessionCache() }));

    private static byte[] PublicKey(AdeEngine engine, AdeBusinessAccount account)
    {
        using var key = engine.Business.Accounts.OpenKey(account);
        return key.ExportSubjectPublicKeyInfo();
    }

    [Fact]
    public void TheSeededStore_HasRowsInEveryTableTheCopyKnows()
    {
        // Guards the other tests: a table without rows would be copied without being proven.
        var counts = SqliteCounts(Source);
        Assert.All(StoreCopy.TableNames, t => Assert.True(counts[t] > 0, $"table {t} has no rows"));
    }

    [Fact]
    public void TheCopy_KnowsEveryTableOfTheSchema()
    {
        var tables = Source.ReadSql(c =>
        {
            using var command = c.Command("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'");
            using var reader = command.ExecuteReader();
            var names = new List<string>();
            while (reader.Read())
            {
                names.Add(reader.GetString(0));
            }

            return names;
        });
        Assert.Equal(tables.Order(StringComparer.Ordinal), StoreCopy.TableNames.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_copy_taken_while_a_sync_holds_its_lease_says_so_and_a_copy_without_one_does_not()
    {
        var quiet = new RecordingHost();
        new StoreService(Source, seeded.Sim.Time).CopyTo(NewSqlite("quiet.db"), quiet);
        Assert.DoesNotContain(quiet.Warnings, w => w.Contains("was under way", StringComparison.Ordinal));

        // another process's sync of the token, running while the copy is taken
        var now = seeded.Sim.Time.GetUtcNow().ToUnixTimeMilliseconds();
        Source.ReadSql(c => c.Execute($"UPDATE sync_state SET lease_id = 'other', lease_expires_at = {now + 600_000}"));
        var host = new RecordingHost();
        new StoreService(Source, seeded.Sim.Time).CopyTo(NewSqlite("busy.db"), host);

        var warning = Assert.Single(host.Warnings, w => w.Contains("was under way", StringComparison.Ordinal));
        Assert.StartsWith("A sync of 1 token ('iPads') was under way when the store was copied", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void SqliteToSqlite_CopiesEveryRow_ReSealsTheSecrets_AndTheCopyWorks()
    {
        var destination = NewSqlite("copy.db");
        var host = new RecordingHost();

        var result = Copy(Source, destination, host);

        Assert.Equal(StoreCopy.TableNames, result.Select(r => r.Table));
        Assert.All(result, r => Assert.True(r.Verified));
        Assert.All(result, r => Assert.Matches("^[0-9a-f]{64}$", r.Checksum));
        var source = SqliteCounts(Source);
        Assert.Equal(source, SqliteCounts(destination));
        Assert.Equal(source, result.ToDictionary(r => r.Table, r => r.Rows));
        Assert.Contains(host.Progress, p => p.Status.Contains("device", StringComparison.Ordinal));
        Assert.Contains(host.Progress, p => p.Completed);

        // Re-sealed: another ciphertext, which the source's key does not open; the destination's does.
        var id = seeded.Sim.Token.Id.ToString();
        var before = Source.ReadSql(c => c.Scalar<byte[]>("SELECT credentials FROM token WHERE id = $id", ("$id", id)))!;
        var after = destination.ReadSql(c => c.Scalar<byte[]>("SELECT credentials FROM token WHERE id = $id", ("$id", id)))!;
        Assert.NotEqual(before, after);
        Assert.ThrowsAny<CryptographicException>(() => Source.Secrets.Unprotect(after, $"token:{id}:credentials"));
        Assert.Equal(Source.Secrets.Unprotect(before, $"token:{id}:credentials"), destination.Secrets.Unprotect(after, $"token:{id}:credentials"));

        // The copy works: its token's credentials reach Apple, its account's key opens, the defaults and settings are there.
        var engine = EngineOver(destination);
        Assert.Equal(seeded.Engine.Tokens.GetTokens().Select(t => t.Name), engine.Tokens.GetTokens().Select(t => t.Name));
        Assert.Equal(seeded.Engine.Profiles.Get().Select(p => (p.Name, p.IsDefault)), engine.Profiles.Get().Select(p => (p.Name, p.IsDefault)));
        Assert.Equal(45, engine.StoreInfo.GetInfo().JournalRetentionDays);
        Assert.Equal(PublicKey(seeded.Engine, seeded.Stored), PublicKey(engine, seeded.Stored));
        seeded.Sim.Advance(TimeSpan.FromDays(1));
        var sync = engine.Sync.Sync("iPads")!;
        Assert.Equal("Succeeded", sync.Status.ToString());
        Assert.True(destination.ReadSql(c => c.Scalar<long>("SELECT max(id) FROM sync_history")) > source["sync_history"]);
    }

    [Fact]
    public void SqliteToPostgres_AndBack_GivesTheSameRowsAndChecksums_UnderEachStoresOwnKey()
    {
        var schema = NewSchema();
        var server = Track(schema.Open());

        var there = Copy(Source, server);
        Assert.All(there, r => Assert.True(r.Verified));
        Assert.Equal(SqliteCounts(Source), PostgresCounts(schema));
        // The tokens' device counts too: PostgreSQL keeps them in a table of its own, which the copy does not write.
        Assert.Equal(seeded.Engine.Tokens.GetTokens().Select(t => (t.Name, t.DeviceCount)), EngineOver(server).Tokens.GetTokens().Select(t => (t.Name, t.DeviceCount)));
        Assert.Contains(EngineOver(server).Tokens.GetTokens(), t => t.DeviceCount > 0);
        Assert.Equal(PublicKey(seeded.Engine, seeded.Stored), PublicKey(EngineOver(server), seeded.Stored));

        // Identity keys continue after the copied ids.
        schema.Execute("INSERT INTO device_event (token_id, serial_number, at, kind) VALUES ('t', 's', 1, 'Added')");
        Assert.Equal(there.Single(r => r.Table == "device_event").Rows + 1, schema.Scalar<long>("SELECT max(id) FROM device_event"));
        schema.Execute("DELETE FROM device_event WHERE token_id = 't'");

        var back = NewSqlite("back.db", passphrase: null);
        var returned = Copy(server, back);

        Assert.Equal(there.Select(r => (r.Table, r.Rows, r.Checksum)), returned.Select(r => (r.Table, r.Rows, r.Checksum)));
        Assert.Equal(SqliteCounts(Source), SqliteCounts(back));
        Assert.Equal(StoreKeyProtection.Passphrase, server.KeyProtection);
        Assert.NotEqual(StoreKeyProtection.Passphrase, back.KeyProtection);
        var engine = EngineOver(back);
        Assert.Equal(PublicKey(seeded.Engine, seeded.Stored), PublicKey(engine, seeded.Stored));
        seeded.Sim.Advance(TimeSpan.FromDays(1));
        Assert.Equal("Succeeded", engine.Sync.Sync("iPads")!.Status.ToString());
    }

    [Fact]
    public void TheSameStore_GivesTheSameChecksums_WhicheverKeyItIsCopiedUnder()
    {
        var first = Copy(Source, NewSqlite("a.db"));
        var second = Copy(Source, NewSqlite("b.db", "yet another passphrase"));

        Assert.Equal(first.Select(r => r.Checksum), second.Select(r => r.Checksum));
    }

    [Fact]
    public void TheChecksumShown_DoesNotDependOnASecretsValue_ButTheCopyStillVerifiesEverySecret()
    {
        var token = seeded.Sim.Token.Id;
        var first = Copy(Source, NewSqlite("before.db")).Single(r => r.Table == "token").Checksum;

        // Another secret in the same row: whoever holds the store and a checksum cannot test a guess against it.
        var other = Source.Secrets.Protect(Encoding.UTF8.GetBytes("{\"guessed\":\"secret\"}"), SecretPurposes.TokenCredentials(token));
        Source.ReadSql(c => c.Execute("UPDATE token SET credentials = $c WHERE id = $id", ("$c", other), ("$id", token.ToString())));
        Assert.Equal(first, Copy(Source, NewSqlite("after.db")).Single(r => r.Table == "token").Checksum);

        // A secret that reads back differently from the source's still fails the copy, which leaves nothing behind.
        var destination = NewSqlite("swapped.db");
        var copy = new StoreCopy(Source, destination, new RecordingHost())
        {
            BeforeInsert = (table, columns, row) =>
            {
                if (table == "token")
                {
                    row[columns.ToList().IndexOf("credentials")] = destination.Secrets.Protect(Encoding.UTF8.GetBytes("{}"), SecretPurposes.TokenCredentials(token));
                }
            },
        };
        var ex = AdeAssert.Throws("StoreCopyVerificationFailed", () => copy.Run());
        Assert.Contains("secrets", ex.Message, StringComparison.Ordinal);
        Assert.All(SqliteCounts(destination), c => Assert.Equal(0L, c.Value));
    }

    [Fact]
    public void TheDestinationsKey_OpensTheCopy_AndTheSourcesKeyDoesNot()
    {
        var path = seeded.Sim.Temp.File("keyed.db");
        Copy(Source, NewSqlite("keyed.db"));
        Release();

        AdeAssert.Throws("StoreKeyInvalid", () => AdeStore.Open(path, Encoding.UTF8.GetBytes("not the destination passphrase")));
        AdeAssert.Throws("StoreKeyKindMismatch", () => AdeStore.Open(path, null));
        var reopened = Track(AdeStore.Open(path, Encoding.UTF8.GetBytes(DestinationPassphrase)));
        Assert.Equal(PublicKey(seeded.Engine, seeded.Stored), PublicKey(EngineOver(reopened), seeded.Stored));
    }

    [Fact]
    public void ANonEmptyDestination_IsRefused_NamingTheTable_AndLeftUnchanged()
    {
        using var other = new TestStore(temp => AdeStore.Open(temp.File("other.db"), Encoding.UTF8.GetBytes(DestinationPassphrase)));
        other.AddToken("Fabrikam");
        var before = other.Snapshot();

        var ex = AdeAssert.Throws("StoreCopyDestinationNotEmpty", () => Copy(Source, other.Store));

        Assert.Contains("token_request", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, other.Snapshot());
        Assert.Single(other.Tokens.GetTokens());
    }

    [Fact]
    public void ADestinationWithOnlyASetting_IsNotEmpty()
    {
        var destination = NewSqlite("setting.db");
        new StoreService(destination).SetJournalRetention(90);

        var ex = AdeAssert.Throws("StoreCopyDestinationNotEmpty", () => Copy(Source, destination));

        Assert.Contains("meta", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, SqliteCounts(destination).Where(c => c.Key != "meta").Sum(c => c.Value));
    }

    [Fact]
    public void APostgresDestination_ThatHoldsACopy_IsRefused()
    {
        var schema = NewSchema();
        var server = Track(schema.Open());
        Copy(Source, server);
        var counts = PostgresCounts(schema);

        AdeAssert.Throws("StoreCopyDestinationNotEmpty", () => Copy(Source, server));

        Assert.Equal(counts, PostgresCounts(schema));
    }

    [Fact]
    public void TheConnectedStore_AsItsOwnDestination_IsRefused()
        => AdeAssert.Throws("StoreCopySameStore", () => Copy(Source, Source));

    [Fact]
    public void TheConnectedStore_ThroughALinkToItOrToItsFolder_IsRefusedBeforeTheDestinationIsOpened()
    {
        if (OperatingSystem.IsWindows()) return; // symbolic links need a privilege there
        var service = new StoreService(Source);
        var folder = Path.GetDirectoryName(Source.Path)!;
        var fileLink = Path.Combine(Path.GetTempPath(), $"ade-link-{Guid.NewGuid():N}.db");
        var folderLink = Path.Combine(Path.GetTempPath(), $"ade-dir-{Guid.NewGuid():N}");
        File.CreateSymbolicLink(fileLink, Source.Path);
        Directory.CreateSymbolicLink(folderLink, folder);
        try
        {
            AdeAssert.Throws("StoreCopySameStore", () => service.CheckCopyDestination(fileLink));
            AdeAssert.Throws("StoreCopySameStore", () => service.CheckCopyDestination(Path.Combine(folderLink, Path.GetFileName(Source.Path))));
            service.CheckCopyDestination(Path.Combine(folder, "another.db")); // a new file beside it is fine
        }
        finally
        {
            File.Delete(fileLink);
            Directory.Delete(folderLink);
        }
    }

    [Theory]
    [InlineData("SQLite")]
    [InlineData("PostgreSQL")]
    public void AChecksumMismatch_RollsTheCopyBack_AndTheDestinationStaysEmpty(string provider)
    {
        TestPostgresSchema? schema = provider == "PostgreSQL" ? NewSchema() : null;
        var destination = schema is null ? NewSqlite("mismatch.db") : Track(schema.Open());
        var copy = new StoreCopy(Source, destination, new RecordingHost())
        {
            BeforeInsert = (table, columns, row) =>
            {
                if (table == "device")
                {
                    row[columns.ToList().IndexOf("model")] += "X"; // a changed value after its checksum was taken
                }
            },
        };

        var ex = AdeAssert.Throws("StoreCopyVerificationFailed", () => copy.Run());

        Assert.Contains("device", ex.Message, StringComparison.Ordinal);
        var counts = schema is null ? SqliteCounts(destination) : PostgresCounts(schema);
        Assert.All(counts, c => Assert.Equal(0L, c.Value));
        Copy(Source, destination); // still empty: a later copy goes through
    }

    [Fact]
    public void ADestinationOfANewerSchema_IsRefused_AndNothingIsCopied()
    {
        var schema = NewSchema();
        var server = Track(schema.Open());
        schema.Execute($"UPDATE ade_schema SET version = {Schema.LatestVersion + 1}");

        AdeAssert.Throws("StoreCopySchemaMismatch", () => Copy(Source, server));

        Assert.All(PostgresCounts(schema), c => Assert.Equal(0L, c.Value));
    }

    [Fact]
    public void ASourceTableTheCopyDoesNotKnow_IsRefused_AndNothingIsCopied()
    {
        Source.ReadSql(c => c.Execute("CREATE TABLE someone_elses (x INTEGER)"));
        var destination = NewSqlite("unknown.db");

        var ex = AdeAssert.Throws("StoreCopyUnknownTable", () => Copy(Source, destination));

        Assert.Contains("someone_elses", ex.Message, StringComparison.Ordinal);
        Assert.All(SqliteCounts(destination), c => Assert.Equal(0L, c.Value));
    }

    [Fact]
    public void ASecretThatDoesNotOpenWithTheSourcesKey_StopsTheCopy_WithoutShowingIt()
    {
        var id = seeded.Sim.Token.Id.ToString();
        var sealedSecret = Source.ReadSql(c => c.Scalar<byte[]>("SELECT credentials FROM token WHERE id = $id", ("$id", id)))!;
        sealedSecret[^1] ^= 0xFF;
        Source.ReadSql(c => c.Execute("UPDATE token SET credentials = $c WHERE id = $id", ("$c", sealedSecret), ("$id", id)));
        var destination = NewSqlite("bad-secret.db");

        var ex = AdeAssert.Throws("StoreSecretUnreadable", () => Copy(Source, destination));

        Assert.Contains(id, ex.Message, StringComparison.Ordinal);
        Assert.All(SqliteCounts(destination), c => Assert.Equal(0L, c.Value));
    }

    private void Release()
    {
        foreach (var store in opened)
        {
            store.Release();
        }

        SqliteConnection.ClearAllPools();
    }
}

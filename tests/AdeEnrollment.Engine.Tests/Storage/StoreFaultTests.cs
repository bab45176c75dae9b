using System.Security.Cryptography;
using System.Text;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Storage.Sqlite;
using AdeEnrollment.Engine.Tokens;
using AdeEnrollment.Simulator.Abm;
using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Tests.Storage;

/// <summary>The key file is never deleted or replaced; a store that was deleted and re-created keeps its backup openable.</summary>
public sealed class StoreKeyFileTests : IDisposable
{
    private readonly TempDirectory temp = new();

    public void Dispose() => temp.Dispose();

    [Fact]
    public void Open_NewStoreWhereAKeyFileExists_IsStoreKeyFileExists_AndNothingIsCreatedOrChanged()
    {
        var path = temp.File("ade.db");
        var keyContent = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        File.WriteAllText(path + ".key", keyContent);

        var ex = AdeAssert.Throws("StoreKeyFileExists", () => AdeStore.Open(path));

        Assert.Contains(path + ".key", ex.Message, StringComparison.Ordinal);
        Assert.Contains("never deletes or replaces", ex.Message, StringComparison.Ordinal);
        Assert.Equal(keyContent, File.ReadAllText(path + ".key"));
        Assert.False(File.Exists(path), "the store file is not created");
    }

    [Fact]
    public void Open_EmptyFileBesideAKeyFile_IsRefusedAndTheKeyIsKept()
    {
        var path = temp.File("ade.db");
        File.WriteAllBytes(path, []);
        File.WriteAllText(path + ".key", "a key the user still needs");

        AdeAssert.Throws("StoreKeyFileExists", () => AdeStore.Open(path));

        Assert.Equal("a key the user still needs", File.ReadAllText(path + ".key"));
    }

    [Fact]
    public void StoreDeletedAndRecreated_IsRefused_SoTheRestoredBackupStillOpensWithItsKey()
    {
        var path = temp.File("ade.db");
        var store = AdeStore.Open(path);
        var request = RequestSeeder.Seed(store, DateTimeOffset.UtcNow);
        SqliteConnection.ClearAllPools();
        var backup = temp.File("backup.db");
        File.Copy(path, backup);
        File.Delete(path);

        AdeAssert.Throws("StoreKeyFileExists", () => AdeStore.Open(path));

        File.Copy(backup, path);
        var restored = AdeStore.Open(path);
        var tokens = new AdeEngine(restored, new RecordingHost()).Tokens;
        Assert.Equal(request.Id, Assert.Single(tokens.GetRequests()).Id);
        Assert.NotNull(restored.Secrets); // the key file still opens the restored store (key_check passes)
    }

    [Fact]
    public void Open_PassphraseStoreBesideAKeyFile_DoesNotTouchTheKeyFile()
    {
        var path = temp.File("ade.db");
        File.WriteAllText(path + ".key", "unrelated");

        var store = AdeStore.Open(path, Encoding.UTF8.GetBytes("correct horse battery staple"));

        Assert.Equal(AdeEnrollment.Engine.Security.StoreKeyProtection.Passphrase, store.KeyProtection);
        Assert.Equal("unrelated", File.ReadAllText(path + ".key"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("Tr0ub4dor")]
    [InlineData("elevenchars")]
    public void Open_NewPassphraseStoreWithAShortPassphrase_IsStorePassphraseTooShort_AndNothingIsCreated(string passphrase)
    {
        var path = temp.File("ade.db");

        var ex = AdeAssert.Throws("StorePassphraseTooShort", () => AdeStore.Open(path, Encoding.UTF8.GetBytes(passphrase)));

        Assert.Contains("at least 12 characters", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(passphrase.Length > 0 ? passphrase : "\u0000", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void Open_TwelveCharacterPassphrase_CountsCharactersNotBytes()
    {
        var path = temp.File("ade.db");

        var store = AdeStore.Open(path, Encoding.UTF8.GetBytes("ééééééééééé!")); // 12 characters, 23 bytes

        Assert.Equal(AdeEnrollment.Engine.Security.StoreKeyProtection.Passphrase, store.KeyProtection);
        AdeAssert.Throws("StorePassphraseTooShort", () => AdeStore.Open(temp.File("b.db"), Encoding.UTF8.GetBytes("éééééééééé!"))); // 11 characters, 21 bytes
    }
}

/// <summary>Real SQLite failures (locked, full, read-only) reach the user as catalogued errors and change nothing.</summary>
public sealed class StoreFailureTests : IDisposable
{
    private readonly TestStore store = new();

    public StoreFailureTests() => store.AddToken("Contoso");

    public void Dispose()
    {
        store.Store.ConnectionHook = null;
        store.Dispose();
    }

    private void Fails(string errorId, Action action, string contains)
    {
        var before = store.Snapshot();
        var ex = AdeAssert.Throws(errorId, action);
        Assert.IsType<SqliteException>(ex.InnerException);
        Assert.Contains(store.StorePath, ex.Message, StringComparison.Ordinal);
        Assert.Contains(contains, ex.Message, StringComparison.Ordinal);
        store.Store.ConnectionHook = null;
        SqliteConnection.ClearAllPools(); // the hooked connections must not serve the snapshot
        Assert.Equal(before, store.Snapshot());
    }

    [Fact]
    public void WriteWhileAnotherProcessHoldsTheWriteLock_IsStoreBusy()
    {
        using var holder = RawSqlite.Open(store.StorePath);
        using (var begin = holder.CreateCommand())
        {
            begin.CommandText = "BEGIN IMMEDIATE";
            begin.ExecuteNonQuery();
        }

        SqliteConnection.ClearAllPools();
        store.Store.ConnectionHook = c =>
        {
            c.DefaultTimeout = 1; // Microsoft.Data.Sqlite retries a busy statement for this many seconds
            c.Execute("PRAGMA busy_timeout = 100");
        };

        var before = store.Snapshot();
        var ex = AdeAssert.Throws("StoreBusy", () => store.Tokens.SetToken(new SetTokenArgs("Contoso", Name: "Renamed")));

        Assert.IsType<SqliteException>(ex.InnerException);
        Assert.Contains("another process", ex.Message, StringComparison.Ordinal);
        using (var rollback = holder.CreateCommand())
        {
            rollback.CommandText = "ROLLBACK";
            rollback.ExecuteNonQuery();
        }

        store.Store.ConnectionHook = null;
        SqliteConnection.ClearAllPools();
        Assert.Equal(before, store.Snapshot());
    }

    [Fact]
    public async Task A_writer_of_this_process_waits_for_the_one_writing_before_it_opens_a_connection()
    {
        // SQLite alone would let the second writer open a connection and poll the file's lock (its busy handler sleeps
        // up to 100 ms between tries); the store's in-process gate keeps it waiting until the first one committed.
        SqliteConnection.ClearAllPools();
        var opened = 0;
        store.Store.ConnectionHook = _ => Interlocked.Increment(ref opened);
        using var inside = new ManualResetEventSlim();
        using var release = new ManualResetEventSlim();
        var first = Task.Run(() => store.Store.Write(s =>
        {
            s.Meta.Set("first", "1");
            inside.Set();
            release.Wait(TimeSpan.FromSeconds(30));
            return 0;
        }));
        Assert.True(inside.Wait(TimeSpan.FromSeconds(30)));
        var second = Task.Run(() => store.Store.Write(s =>
        {
            s.Meta.Set("second", "2");
            return 0;
        }));

        await Task.Delay(300);
        Assert.Equal(1, Volatile.Read(ref opened)); // the second writer has not opened a connection
        Assert.False(second.IsCompleted);
        release.Set();
        await first;
        await second;

        Assert.Equal(2, Volatile.Read(ref opened));
        Assert.Equal(("1", "2"), (store.Store.Read(s => s.Meta.Get("first")), store.Store.Read(s => s.Meta.Get("second"))));
        store.Store.ConnectionHook = null;
    }

    [Fact]
    public void WriteWhenTheDiskIsFull_IsStoreFull()
    {
        SqliteConnection.ClearAllPools();
        store.Store.ConnectionHook = c => c.Execute("PRAGMA max_page_count = " + c.Scalar<long>("PRAGMA page_count"));
        var manyTags = Enumerable.Range(0, 200).Select(i => $"tag {i} " + new string('x', 100)).ToList(); // ~22 KB: new pages

        Fails("StoreFull", () => store.Tokens.SetToken(new SetTokenArgs("Contoso", ScopeTags: manyTags)), "Free disk space");
    }

    [Fact]
    public void WriteToAReadOnlyStore_IsStoreReadOnly()
    {
        // Tests run as root, which chmod does not stop: query_only makes SQLite refuse writes with SQLITE_READONLY,
        // the same result code a read-only file or a read-only mount gives.
        SqliteConnection.ClearAllPools();
        store.Store.ConnectionHook = c => c.Execute("PRAGMA query_only = 1");

        Fails("StoreReadOnly", () => store.Tokens.SetToken(new SetTokenArgs("Contoso", Name: "Renamed")), "write access");
    }

    [Fact]
    public void ReadOnlyStore_StillServesReads()
    {
        SqliteConnection.ClearAllPools();
        store.Store.ConnectionHook = c => c.Execute("PRAGMA query_only = 1");

        Assert.Equal("Contoso", Assert.Single(store.Tokens.GetTokens()).Name);
    }

    private static IEnumerable<int> RowsThenBusy()
    {
        yield return 1;
        throw new SqliteException("database is locked", 5, 5);
    }

    [Fact]
    public void StreamedQuery_FailingWhileEnumerated_IsCatalogued()
    {
        using var rows = store.Store.StreamSql(RowsThenBusy()).GetEnumerator();

        Assert.True(rows.MoveNext());
        var ex = Assert.Throws<AdeEnrollment.Engine.Errors.AdeException>(() => rows.MoveNext());
        Assert.Equal("StoreBusy", ex.ErrorId);
    }

    public static TheoryData<int, string> Codes() => new()
    {
        { 5, "StoreBusy" },            // SQLITE_BUSY
        { 6, "StoreBusy" },            // SQLITE_LOCKED
        { 5 | (1 << 8), "StoreBusy" }, // SQLITE_BUSY_RECOVERY (an extended code)
        { 13, "StoreFull" },           // SQLITE_FULL
        { 8, "StoreReadOnly" },        // SQLITE_READONLY
        { 8 | (3 << 8), "StoreReadOnly" }, // SQLITE_READONLY_ROLLBACK
        { 10, "StoreIoError" },        // SQLITE_IOERR
        { 10 | (4 << 8), "StoreIoError" }, // SQLITE_IOERR_WRITE
        { 7, "StoreIoError" },         // SQLITE_NOMEM
        { 11, "StoreInvalid" },        // SQLITE_CORRUPT
        { 26, "StoreInvalid" },        // SQLITE_NOTADB
        { 14, "StoreReadOnly" },       // SQLITE_CANTOPEN (a -wal or journal that cannot be created)
        { 19, "StoreIoError" },        // SQLITE_CONSTRAINT: never a raw SqliteException either
    };

    [Theory]
    [MemberData(nameof(Codes))]
    public void EverySqliteResultCode_IsCatalogued(int code, string errorId)
    {
        var ex = StoreFailures.Map("/stores/ade.db", new SqliteException("sqlite says no", code, code), opening: false);

        Assert.Equal(errorId, ex.ErrorId);
        Assert.Contains("/stores/ade.db", ex.Message, StringComparison.Ordinal);
    }
}

/// <summary>Removed and replaced secrets do not survive in the store file, its free pages or its -wal.</summary>
public sealed class SecretRemovalTests : IDisposable
{
    private readonly TestStore store = new();

    public void Dispose() => store.Dispose();

    private (byte[] Credentials, byte[] PrivateKey) SealedSecretsOf(AddedToken added)
    {
        using var c = store.Store.OpenConnection();
        return ((byte[])c.Command("SELECT credentials FROM token WHERE id = $id", ("$id", added.Token.Id.ToString())).ExecuteScalar()!,
            (byte[])c.Command("SELECT private_key FROM token_request WHERE id = $id", ("$id", added.Request.Id.ToString())).ExecuteScalar()!);
    }

    /// <summary>The ciphertext, and a 24-byte piece of its middle (a page split could keep only part of a blob).</summary>
    private static void AssertAbsent(byte[] files, byte[] blob, string what)
    {
        Assert.False(FileBytes.Contains(files, blob), $"the {what} ciphertext is still in the store files");
        Assert.False(FileBytes.Contains(files, blob.AsSpan(blob.Length / 2, 24).ToArray()), $"part of the {what} ciphertext is still in the store files");
    }

    [Fact]
    public void RemoveToken_LeavesNoCiphertextOfItsCredentialsOrPrivateKeyInTheDbOrWal()
    {
        var removed = store.AddToken("Contoso");
        var kept = store.AddToken("Fabrikam");
        var (credentials, privateKey) = SealedSecretsOf(removed);
        var (keptCredentials, _) = SealedSecretsOf(kept);
        var files = store.StoreFileBytes();
        Assert.True(FileBytes.Contains(files, credentials) && FileBytes.Contains(files, privateKey), "control: the secrets are in the files before removal");

        Assert.True(store.Tokens.RemoveToken("Contoso"));

        files = store.StoreFileBytes();
        AssertAbsent(files, credentials, "credentials");
        AssertAbsent(files, privateKey, "private key");
        Assert.True(FileBytes.Contains(files, keptCredentials), "control: the other token's secret is still there");
        Assert.Equal(kept.Credentials.AccessSecret, store.Tokens.GetCredentials(kept.Token.Id).AccessSecret);
        Assert.True(!File.Exists(store.StorePath + "-wal") || new FileInfo(store.StorePath + "-wal").Length == 0, "the -wal was truncated");
    }

    [Fact]
    public void UpdateToken_LeavesNoCiphertextOfTheReplacedCredentials()
    {
        var added = store.AddToken("Contoso");
        var (old, _) = SealedSecretsOf(added);
        Assert.True(FileBytes.Contains(store.StoreFileBytes(), old), "control");

        store.Tokens.UpdateToken("Contoso", store.AbmTokenFile(added.Request, ServerTokenCredentials.CreateRandom(store.Now.AddDays(300))), null);

        AssertAbsent(store.StoreFileBytes(), old, "replaced credentials");
    }

    [Fact]
    public void EveryConnection_HasSecureDeleteOn()
    {
        using var c = store.Store.OpenConnection();

        Assert.Equal(1L, c.Scalar<long>("PRAGMA secure_delete"));
    }

    [Fact]
    public void EveryConnection_KeepsTemporaryDataInMemory()
    {
        // Statement journals and temporary tables hold copies of store pages (sealed secrets among them): they stay in
        // memory instead of files in the system's temporary folder, which also spares a file per write transaction.
        using var c = store.Store.OpenConnection();

        Assert.Equal(2L, c.Scalar<long>("PRAGMA temp_store"));
    }

    [Fact]
    public void EveryConnection_ChecksLogIntoStoreOnlyAfterManyPages()
    {
        // A scheduler's pass over many small tokens commits a few hundred pages per token: the log is copied into the
        // store (and fsynced) once per SqliteProvider.WalCheckpointPages pages, not after SQLite's default 1000.
        using (var c = store.Store.OpenConnection())
        {
            Assert.Equal(SqliteProvider.WalCheckpointPages, (int)c.Scalar<long>("PRAGMA wal_autocheckpoint"));
            c.Execute("CREATE TABLE filler (x BLOB)");
        }

        // 30 commits of ~60 pages each, each on a connection of its own as the store's writes are: past SQLite's default
        // threshold, the log would have been checkpointed and begun again from its start. One connection stays open
        // throughout, so that no commit's connection is the store's last to close (the last close checkpoints whatever
        // the threshold, and a test elsewhere clearing the connection pools in parallel would make it so).
        using var held = store.Store.OpenConnection();
        for (var i = 0; i < 30; i++)
        {
            using var c = store.Store.OpenConnection();
            c.Execute("BEGIN IMMEDIATE; INSERT INTO filler (x) VALUES (randomblob(250000)); COMMIT;");
        }

        using var check = store.Store.OpenConnection();
        using var command = check.Command("PRAGMA wal_checkpoint(PASSIVE)");
        using var r = command.ExecuteReader();
        Assert.True(r.Read());
        Assert.True(r.GetInt64(1) > 1000, $"the log holds {r.GetInt64(1)} pages: it was checkpointed and begun again");
    }
}

/// <summary>A secret that was altered or swapped between rows is a catalogued error naming its owner.</summary>
public sealed class TamperedSecretTests : IDisposable
{
    private readonly TestStore store = new();

    public void Dispose() => store.Dispose();

    [Theory]
    [InlineData("swapped")]
    [InlineData("bit-flipped")]
    [InlineData("truncated")]
    [InlineData("empty")]
    public void TamperedCredentials_AreStoreSecretUnreadableNamingTheToken(string tampering)
    {
        var contoso = store.AddToken("Contoso");
        var fabrikam = store.AddToken("Fabrikam");
        switch (tampering)
        {
            case "swapped":
                store.Execute("UPDATE token SET credentials = (SELECT credentials FROM token WHERE id = $o) WHERE id = $id",
                    ("$o", fabrikam.Token.Id.ToString()), ("$id", contoso.Token.Id.ToString()));
                break;
            case "bit-flipped":
                var blob = store.Scalar<byte[]>("SELECT credentials FROM token WHERE id = $id", ("$id", contoso.Token.Id.ToString()))!;
                blob[^1] ^= 0x01;
                store.Execute("UPDATE token SET credentials = $b WHERE id = $id", ("$b", blob), ("$id", contoso.Token.Id.ToString()));
                break;
            case "truncated":
                store.Execute("UPDATE token SET credentials = substr(credentials, 1, 20) WHERE id = $id", ("$id", contoso.Token.Id.ToString()));
                break;
            case "empty":
                store.Execute("UPDATE token SET credentials = x'' WHERE id = $id", ("$id", contoso.Token.Id.ToString()));
                break;
        }

        var ex = AdeAssert.Throws("StoreSecretUnreadable", () => store.Tokens.GetCredentials(contoso.Token.Id));

        Assert.Contains("token 'Contoso'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Update-AdeToken -Token 'Contoso'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(fabrikam.Credentials.AccessSecret, store.Tokens.GetCredentials(fabrikam.Token.Id).AccessSecret);
    }

    [Fact]
    public void TamperedPrivateKey_IsStoreSecretUnreadableOnUpdate_AndNothingChanges()
    {
        var contoso = store.AddToken("Contoso");
        var fabrikam = store.AddToken("Fabrikam");
        store.Execute("UPDATE token_request SET private_key = (SELECT private_key FROM token_request WHERE id = $o) WHERE id = $id",
            ("$o", fabrikam.Request.Id.ToString()), ("$id", contoso.Request.Id.ToString()));
        var file = store.AbmTokenFile(contoso.Request, ServerTokenCredentials.CreateRandom(store.Now.AddDays(300)));
        var before = store.Snapshot();

        var ex = AdeAssert.Throws("StoreSecretUnreadable", () => store.Tokens.UpdateToken("Contoso", file, null));

        Assert.Contains("token 'Contoso'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("New-AdeTokenRequest", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, store.Snapshot());
    }
}

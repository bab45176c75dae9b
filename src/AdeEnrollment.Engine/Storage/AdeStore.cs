using System.Security.Cryptography;
using System.Text;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Security;
using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Storage;

/// <summary>
/// One AdeEnrollment SQLite store: opened, checked and migrated once, then handing out short-lived connections.
/// Thread-safe; several processes may use the same file (WAL, busy timeout, BEGIN IMMEDIATE for writers).
/// </summary>
public sealed class AdeStore
{
    private static readonly byte[] SqliteHeader = "SQLite format 3\0"u8.ToArray();
    private const string KeyCheckPlaintext = "AdeEnrollment store key check";
    private readonly string connectionString;
    private readonly byte[]? passphrase;
    private SecretProtector? secrets;

    private AdeStore(string path, byte[]? passphrase, StoreKeyProtection protection)
    {
        Path = path;
        this.passphrase = passphrase;
        KeyProtection = protection;
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 60,
        }.ToString();
    }

    public string Path { get; }

    public StoreKeyProtection KeyProtection { get; }

    /// <summary>
    /// Opens (creating when the file does not exist) and migrates the store at <paramref name="path"/>.
    /// <paramref name="passphrase"/> (UTF-8) selects passphrase protection; the caller owns and clears it.
    /// </summary>
    public static AdeStore Open(string path, byte[]? passphrase = null)
    {
        NativeSqlite.EnsureResolver();
        path = System.IO.Path.GetFullPath(path);
        if (Directory.Exists(path))
        {
            throw ErrorCatalog.StoreInvalid(path, "it is a folder");
        }

        var isNew = !File.Exists(path) || new FileInfo(path).Length == 0;
        if (!isNew)
        {
            CheckHeader(path);
        }
        else
        {
            if (passphrase is null && File.Exists(StoreKey.KeyFilePath(path)))
            {
                throw ErrorCatalog.StoreKeyFileExists(path, StoreKey.KeyFilePath(path)); // before anything is created
            }

            if (passphrase is not null && CountChars(passphrase) < MinimumPassphraseLength)
            {
                throw ErrorCatalog.StorePassphraseTooShort(MinimumPassphraseLength);
            }

            try
            {
                FileSecurity.EnsureDirectory(System.IO.Path.GetDirectoryName(path)!);
                FileSecurity.CreatePrivateFile(path);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw ErrorCatalog.StoreUnavailable(path, ex);
            }
        }

        var requested = passphrase is null ? StoreKey.DefaultProtection : StoreKeyProtection.Passphrase;
        var probe = new AdeStore(path, passphrase, requested);
        StoreKeyProtection actual;
        try
        {
            using var connection = probe.OpenConnectionCore();
            actual = probe.Migrate(connection, requested);
        }
        catch (SqliteException ex)
        {
            throw StoreFailures.Map(path, ex, opening: true);
        }

        if (actual != requested && (actual == StoreKeyProtection.Passphrase || requested == StoreKeyProtection.Passphrase))
        {
            throw ErrorCatalog.StoreKeyKindMismatch(path, storeHasPassphrase: actual == StoreKeyProtection.Passphrase);
        }

        var store = actual == requested ? probe : new AdeStore(path, passphrase, actual);
        if (actual == StoreKeyProtection.Passphrase)
        {
            _ = store.Secrets; // a wrong passphrase is reported at connect time, not at the first secret
        }

        return store;
    }

    private static void CheckHeader(string path)
    {
        var header = new byte[SqliteHeader.Length];
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
            var read = stream.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
            if (read < header.Length || !header.AsSpan().SequenceEqual(SqliteHeader))
            {
                throw ErrorCatalog.StoreInvalid(path, "the file is not a SQLite database");
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw ErrorCatalog.StoreUnavailable(path, ex);
        }
    }

    /// <summary>An open connection with the store's per-connection settings. Dispose it promptly.</summary>
    internal SqliteConnection OpenConnection()
    {
        try
        {
            return OpenConnectionCore();
        }
        catch (SqliteException ex)
        {
            throw StoreFailures.Map(Path, ex, opening: true);
        }
    }

    /// <summary>
    /// Tests only: runs on every connection after the store's own settings, to provoke real SQLite failures
    /// (a short busy timeout, a page limit, query_only). Never set in production.
    /// </summary>
    internal Action<SqliteConnection>? ConnectionHook { get; set; }

    private SqliteConnection OpenConnectionCore()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        // secure_delete: deleted and replaced content (a removed token's credentials, a request's private key) is
        // overwritten with zeros instead of staying readable in free pages (docs/security.md).
        connection.Execute("PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 60000; PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON;");
        ConnectionHook?.Invoke(connection);
        return connection;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the tables in one write transaction: all of it or none of it. Writers are
    /// serialised (SQLite: BEGIN IMMEDIATE), so a rule checked inside <paramref name="work"/> (a limit, a lease) still
    /// holds when it commits. Every provider failure becomes a catalogued error here.
    /// </summary>
    internal T Write<T>(Func<IStoreSession, T> work)
        => WriteSql((c, t) => work(new Sqlite.SqliteSession(c, t)));

    /// <summary><see cref="Write{T}"/> for work that removes secrets: no copy of them survives the commit (see WriteRemovingSecretsSql).</summary>
    internal T WriteRemovingSecrets<T>(Func<IStoreSession, T> work)
        => WriteRemovingSecretsSql((c, t) => work(new Sqlite.SqliteSession(c, t)));

    /// <summary>Runs <paramref name="work"/> on the tables without a write transaction (a consistent snapshot per statement).</summary>
    internal T Read<T>(Func<IStoreSession, T> work)
        => ReadSql(c => work(new Sqlite.SqliteSession(c, null)));

    /// <summary>
    /// A streamed query: the connection stays open while the caller enumerates; failures raised while enumerating are
    /// catalogued like <see cref="Read{T}"/>'s.
    /// </summary>
    internal IEnumerable<T> Stream<T>(Func<IStoreSession, IEnumerable<T>> query)
    {
        return StreamSql(Rows());

        IEnumerable<T> Rows()
        {
            using var connection = OpenConnection();
            foreach (var row in query(new Sqlite.SqliteSession(connection, null)))
            {
                yield return row;
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="work"/> in one write transaction (BEGIN IMMEDIATE): all of it or none of it. Every SQLite
    /// failure (locked past the busy timeout, disk full, read-only, I/O) becomes a catalogued error here.
    /// </summary>
    internal T WriteSql<T>(Func<SqliteConnection, SqliteTransaction, T> work)
    {
        try
        {
            using var connection = OpenConnection();
            using var transaction = connection.BeginTransaction(deferred: false);
            var result = work(connection, transaction);
            transaction.Commit();
            return result;
        }
        catch (SqliteException ex)
        {
            throw StoreFailures.Map(Path, ex, opening: false);
        }
    }

    /// <summary>
    /// A write transaction that removes secrets: after the commit, the write-ahead log is checkpointed and truncated,
    /// so the pages that held the secret do not survive in the -wal file either (secure_delete zeroes them in the store).
    /// </summary>
    internal T WriteRemovingSecretsSql<T>(Func<SqliteConnection, SqliteTransaction, T> work)
    {
        var result = WriteSql(work);
        TruncateLog();
        return result;
    }

    /// <summary>Checkpoints the WAL into the store and truncates it to zero bytes (waits for readers, up to the busy timeout).</summary>
    internal bool TruncateLog()
    {
        return ReadSql(c =>
        {
            using var command = c.Command("PRAGMA wal_checkpoint(TRUNCATE)");
            using var reader = command.ExecuteReader();
            return reader.Read() && reader.GetInt64(0) == 0; // first column: 1 when a reader kept it from completing
        });
    }

    internal T ReadSql<T>(Func<SqliteConnection, T> work)
    {
        try
        {
            using var connection = OpenConnection();
            return work(connection);
        }
        catch (SqliteException ex)
        {
            throw StoreFailures.Map(Path, ex, opening: false);
        }
    }

    /// <summary>A streamed query whose SQLite failures, raised while it is enumerated, are catalogued like <see cref="Read"/>'s.</summary>
    internal IEnumerable<T> StreamSql<T>(IEnumerable<T> rows)
    {
        using var enumerator = rows.GetEnumerator();
        while (true)
        {
            try
            {
                if (!enumerator.MoveNext())
                {
                    yield break;
                }
            }
            catch (SqliteException ex)
            {
                throw StoreFailures.Map(Path, ex, opening: false);
            }

            yield return enumerator.Current;
        }
    }

    /// <summary>The AES-256-GCM protector for this store's secrets (the key is opened on first use).</summary>
    internal SecretProtector Secrets => secrets ??= new SecretProtector(LoadKey());

    /// <summary>
    /// Decrypts a secret of this store. A ciphertext that does not authenticate (altered, or copied from another row)
    /// is <c>StoreSecretUnreadable</c> naming <paramref name="owner"/>, never a raw cryptographic exception.
    /// </summary>
    internal byte[] Unseal(byte[] sealedSecret, string purpose, string owner, string remedy)
    {
        var protector = Secrets;
        try
        {
            return protector.Unprotect(sealedSecret, purpose);
        }
        catch (CryptographicException ex)
        {
            throw ErrorCatalog.StoreSecretUnreadable(Path, owner, remedy, ex);
        }
    }

    /// <summary>The shortest passphrase accepted for a new passphrase store (docs/security.md says why).</summary>
    public const int MinimumPassphraseLength = 12;

    private static int CountChars(byte[] utf8)
    {
        try
        {
            return new UTF8Encoding(false, true).GetCharCount(utf8);
        }
        catch (ArgumentException)
        {
            return utf8.Length;
        }
    }

    private byte[] LoadKey()
    {
        using var connection = OpenConnection();
        byte[] key;
        if (KeyProtection == StoreKeyProtection.Passphrase)
        {
            var salt = Convert.FromBase64String(connection.Scalar<string>("SELECT value FROM meta WHERE key = 'kdf_salt'")!);
            key = StoreKey.Derive(passphrase!, salt);
        }
        else
        {
            try
            {
                key = StoreKey.ReadKeyFile(Path, KeyProtection)
                      ?? throw ErrorCatalog.StoreKeyMissing(Path, StoreKey.KeyFilePath(Path));
            }
            catch (Exception ex) when (ex is FormatException or CryptographicException)
            {
                throw ErrorCatalog.StoreKeyInvalid(Path);
            }

            if (key.Length != 32)
            {
                throw ErrorCatalog.StoreKeyInvalid(Path); // an empty or cut key file: not our AES-256 key
            }
        }

        var check = Convert.FromBase64String(connection.Scalar<string>("SELECT value FROM meta WHERE key = 'key_check'")!);
        try
        {
            new SecretProtector(key).Unprotect(check, "key_check");
        }
        catch (CryptographicException)
        {
            throw ErrorCatalog.StoreKeyInvalid(Path);
        }

        return key;
    }

    /// <summary>Checks the file is ours, refuses newer schemas, applies pending migrations; returns the key protection.</summary>
    private StoreKeyProtection Migrate(SqliteConnection connection, StoreKeyProtection requested)
    {
        var appId = connection.Scalar<long>("PRAGMA application_id");
        var version = (int)connection.Scalar<long>("PRAGMA user_version");
        if (appId != Schema.ApplicationId)
        {
            var objects = connection.Scalar<long>("SELECT count(*) FROM sqlite_master");
            if (appId != 0 || version != 0 || objects != 0)
            {
                throw ErrorCatalog.StoreInvalid(Path, "it is a SQLite database of another application");
            }
        }

        if (version > Schema.LatestVersion)
        {
            throw ErrorCatalog.StoreSchemaTooNew(Path, version, Schema.LatestVersion);
        }

        if (version < Schema.LatestVersion)
        {
            connection.Execute("PRAGMA journal_mode = WAL;");
            using var transaction = connection.BeginTransaction(deferred: false);
            // Re-read under the write lock: another process may have migrated meanwhile.
            version = (int)connection.Scalar<long>("PRAGMA user_version");
            for (var next = version + 1; next <= Schema.LatestVersion; next++)
            {
                connection.Execute(Schema.Migrations[next - 1]);
                if (next == 1)
                {
                    InitialiseKey(connection, requested);
                }
            }

            connection.Execute($"PRAGMA application_id = {Schema.ApplicationId}; PRAGMA user_version = {Schema.LatestVersion};");
            transaction.Commit();
        }

        var kind = connection.Scalar<string>("SELECT value FROM meta WHERE key = 'key_protection'");
        if (!Enum.TryParse<StoreKeyProtection>(kind, out var actual))
        {
            throw ErrorCatalog.StoreInvalid(Path, "its key protection is not recorded");
        }

        return actual;
    }

    private void InitialiseKey(SqliteConnection connection, StoreKeyProtection requested)
    {
        byte[] key;
        if (requested == StoreKeyProtection.Passphrase)
        {
            if (CountChars(passphrase!) < MinimumPassphraseLength)
            {
                throw ErrorCatalog.StorePassphraseTooShort(MinimumPassphraseLength);
            }

            var salt = RandomNumberGenerator.GetBytes(16);
            connection.Execute("INSERT INTO meta (key, value) VALUES ('kdf_salt', $v)", ("$v", Convert.ToBase64String(salt)));
            key = StoreKey.Derive(passphrase!, salt);
        }
        else
        {
            // Never delete or replace a key file: it may be the only key of a store backup (docs/security.md).
            var keyPath = StoreKey.KeyFilePath(Path);
            if (File.Exists(keyPath))
            {
                throw ErrorCatalog.StoreKeyFileExists(Path, keyPath);
            }

            try
            {
                key = StoreKey.CreateKeyFile(Path, requested); // CreateNew: fails rather than overwrite
            }
            catch (IOException) when (File.Exists(keyPath))
            {
                throw ErrorCatalog.StoreKeyFileExists(Path, keyPath);
            }
        }

        var check = new SecretProtector(key).Protect(Encoding.UTF8.GetBytes(KeyCheckPlaintext), "key_check");
        connection.Execute("INSERT INTO meta (key, value) VALUES ('key_protection', $p), ('key_check', $c), ('created_at', $t)",
            ("$p", requested.ToString()), ("$c", Convert.ToBase64String(check)), ("$t", DateTimeOffset.UtcNow.ToString("O")));
        secrets = new SecretProtector(key);
    }

    /// <summary>Releases pooled connections to this file (so it can be deleted or moved).</summary>
    public void Release() => SqliteConnection.ClearAllPools();
}

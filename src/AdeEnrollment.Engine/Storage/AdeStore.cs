using System.Security.Cryptography;
using System.Text;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Files;
using AdeEnrollment.Engine.Security;
using AdeEnrollment.Engine.Storage.Postgres;
using AdeEnrollment.Engine.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Storage;

/// <summary>
/// One AdeEnrollment store: opened, checked and migrated once, then handing out units of work over its tables.
/// The store itself is a provider (docs/architecture.md, "Store providers"): a SQLite file for one host, or a
/// PostgreSQL database shared by several hosts. This class holds what both share: the key protection of the
/// secrets and the session API. Thread-safe.
/// </summary>
public sealed class AdeStore
{
    private const string KeyCheckPlaintext = "AdeEnrollment store key check";
    private readonly IStoreProvider provider;
    private readonly byte[]? passphrase;
    private SecretProtector? secrets;

    private AdeStore(IStoreProvider provider, byte[]? passphrase, StoreKeyProtection protection)
    {
        this.provider = provider;
        this.passphrase = passphrase;
        KeyProtection = protection;
    }

    /// <summary>The SQLite file's full path, or for a server database postgresql://server:port/database (never a password).</summary>
    public string Path => provider.Location;

    /// <summary>SQLite or PostgreSQL.</summary>
    public string Provider => provider.Name;

    /// <summary>The server (host:port) of a PostgreSQL store, else null.</summary>
    public string? Server => provider.Server;

    /// <summary>The database of a PostgreSQL store, else null.</summary>
    public string? Database => provider.Database;

    public StoreKeyProtection KeyProtection { get; private set; }

    /// <summary>
    /// Opens (creating when the file does not exist) and migrates the SQLite store at <paramref name="path"/>.
    /// <paramref name="passphrase"/> (UTF-8) selects passphrase protection; the caller owns and clears it.
    /// </summary>
    public static AdeStore Open(string path, byte[]? passphrase = null)
    {
        path = StoreLocator.FullPath(path);
        var sqlite = SqliteProvider.Prepare(path, passphrase, MinimumPassphraseLength, out _);
        var requested = passphrase is null ? StoreKey.DefaultProtection : StoreKeyProtection.Passphrase;
        return OpenCore(sqlite, passphrase, requested);
    }

    /// <summary>
    /// Opens (creating the schema in an empty database) and migrates the PostgreSQL store described by
    /// <paramref name="connection"/>. Secrets on a server database are protected by a passphrase only: a key file on
    /// one host cannot serve the others, so <paramref name="passphrase"/> is required.
    /// </summary>
    public static AdeStore Open(PostgresConnectionInfo connection, byte[]? passphrase)
    {
        ArgumentNullException.ThrowIfNull(connection);
        if (passphrase is null || passphrase.Length == 0)
        {
            throw ErrorCatalog.StorePassphraseRequired(connection.Location);
        }

        var postgres = new PostgresProvider(connection);
        try
        {
            return OpenCore(postgres, passphrase, StoreKeyProtection.Passphrase);
        }
        catch
        {
            postgres.Release();
            throw;
        }
    }

    private static AdeStore OpenCore(IStoreProvider provider, byte[]? passphrase, StoreKeyProtection requested)
    {
        var store = new AdeStore(provider, passphrase, requested);
        provider.Migrate(meta => store.InitialiseKey(meta, requested));
        var kind = provider.Read(s => s.Meta.Get("key_protection"));
        if (!Enum.TryParse<StoreKeyProtection>(kind, out var actual))
        {
            throw ErrorCatalog.StoreInvalid(store.Path, "its key protection is not recorded");
        }

        if (actual != requested && (actual == StoreKeyProtection.Passphrase || requested == StoreKeyProtection.Passphrase))
        {
            throw ErrorCatalog.StoreKeyKindMismatch(store.Path, storeHasPassphrase: actual == StoreKeyProtection.Passphrase);
        }

        store.KeyProtection = actual;
        if (actual == StoreKeyProtection.Passphrase)
        {
            _ = store.Secrets; // a wrong passphrase is reported at connect time, not at the first secret
        }

        return store;
    }

    /// <summary>The provider behind this store (tests reach provider-specific hooks through it).</summary>
    internal IStoreProvider StoreProvider => provider;

    /// <summary>The SQLite provider, for the raw-SQL entry points that services still use while they move to sessions.</summary>
    private SqliteProvider Sqlite => provider as SqliteProvider ?? throw ErrorCatalog.StoreNotSupported(Path, provider.Name, "raw SQLite access");

    /// <summary>SQLite only: an open connection with the store's per-connection settings. Dispose it promptly.</summary>
    internal SqliteConnection OpenConnection() => Sqlite.OpenConnection();

    /// <summary>
    /// Tests only (SQLite): runs on every connection after the store's own settings, to provoke real SQLite failures
    /// (a short busy timeout, a page limit, query_only). Never set in production.
    /// </summary>
    internal Action<SqliteConnection>? ConnectionHook
    {
        get => Sqlite.ConnectionHook;
        set => Sqlite.ConnectionHook = value;
    }

    /// <summary>
    /// Runs <paramref name="work"/> on the tables in one write transaction: all of it or none of it. Writers are
    /// serialised (SQLite: BEGIN IMMEDIATE; PostgreSQL: a store-wide transaction lock), so a rule checked inside
    /// <paramref name="work"/> (a limit, a lease) still holds when it commits, across processes and hosts. Every
    /// provider failure becomes a catalogued error. On PostgreSQL a transaction that failed for a transient reason
    /// before its commit is run again, so <paramref name="work"/> must not change anything outside the session.
    /// </summary>
    internal T Write<T>(Func<IStoreSession, T> work) => provider.Write(work);

    /// <summary>
    /// <see cref="Write{T}"/> for work that changes rows of one token only and checks no rule across tokens (a sync's
    /// lease, pages and end): on PostgreSQL such writes of different tokens run side by side, while two of one token,
    /// or one and any store-wide write, still take turns (<see cref="IStoreProvider.WriteForToken{T}"/>).
    /// </summary>
    internal T WriteForToken<T>(Guid tokenId, Func<IStoreSession, T> work) => provider.WriteForToken(tokenId, work);

    /// <summary><see cref="Write{T}"/> for work that removes secrets: no copy of them survives the commit where the store can prevent it (SQLite: the write-ahead log is truncated).</summary>
    internal T WriteRemovingSecrets<T>(Func<IStoreSession, T> work)
    {
        var result = provider.Write(work);
        provider.AfterSecretsRemoved();
        return result;
    }

    /// <summary>Runs <paramref name="work"/> on the tables without a write transaction.</summary>
    internal T Read<T>(Func<IStoreSession, T> work) => provider.Read(work);

    /// <summary>A read of one statement (<see cref="IStoreProvider.ReadStatement{T}"/>).</summary>
    internal T ReadStatement<T>(Func<IStoreSession, T> work) => provider.ReadStatement(work);

    /// <summary>
    /// A streamed query: the connection stays open while the caller enumerates; failures raised while enumerating are
    /// catalogued like <see cref="Read{T}"/>'s.
    /// </summary>
    internal IEnumerable<T> Stream<T>(Func<IStoreSession, IEnumerable<T>> query) => provider.Stream(query);

    /// <summary>SQLite only: checkpoints the WAL into the store and truncates it to zero bytes.</summary>
    internal bool TruncateLog() => Sqlite.TruncateLog();

    /// <summary>SQLite only, for tests that look at the file itself: work on a raw connection.</summary>
    internal T ReadSql<T>(Func<SqliteConnection, T> work) => Sqlite.ReadSql(work);

    /// <summary>SQLite only, for tests: a streamed query whose SQLite failures are catalogued.</summary>
    internal IEnumerable<T> StreamSql<T>(IEnumerable<T> rows) => Sqlite.StreamSql(rows);

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

    internal static int CountChars(byte[] utf8)
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
        var (salt, check) = provider.Read(s => (s.Meta.Get("kdf_salt"), s.Meta.Get("key_check")));
        byte[] key;
        if (KeyProtection == StoreKeyProtection.Passphrase)
        {
            key = StoreKey.Derive(passphrase!, Convert.FromBase64String(salt!));
        }
        else
        {
            try
            {
                var keyFile = StoreKey.KeyFilePath(Path);
                if (FileKinds.Of(keyFile) is FileKind.Directory or FileKind.Special)
                {
                    // a pipe would block the read for ever
                    throw new IOException($"its key file '{keyFile}' is a folder, a device, a pipe or a socket, not a file.");
                }

                key = StoreKey.ReadKeyFile(Path, KeyProtection)
                      ?? throw ErrorCatalog.StoreKeyMissing(Path, StoreKey.KeyFilePath(Path));
            }
            catch (Exception ex) when (ex is FormatException or CryptographicException)
            {
                throw ErrorCatalog.StoreKeyInvalid(Path, byPassphrase: false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw ErrorCatalog.StoreUnavailable(Path, ex); // a key file this account may not read, or no file at all
            }

            if (key.Length != 32)
            {
                throw ErrorCatalog.StoreKeyInvalid(Path, byPassphrase: false); // an empty or cut key file: not our AES-256 key
            }
        }

        try
        {
            new SecretProtector(key).Unprotect(Convert.FromBase64String(check!), "key_check");
        }
        catch (CryptographicException)
        {
            throw ErrorCatalog.StoreKeyInvalid(Path, KeyProtection == StoreKeyProtection.Passphrase);
        }

        return key;
    }

    /// <summary>The meta keys that describe a store's own key protection and birth: each store has its own (a copy keeps them).</summary>
    internal static readonly IReadOnlySet<string> OwnMetaKeys = new HashSet<string>(StringComparer.Ordinal) { "key_protection", "kdf_salt", "key_check", "created_at" };

    /// <summary>Records the key protection of a new store (inside its first migration's transaction).</summary>
    private void InitialiseKey(IMetaTable meta, StoreKeyProtection requested)
    {
        byte[] key;
        if (requested == StoreKeyProtection.Passphrase)
        {
            if (CountChars(passphrase!) < MinimumPassphraseLength)
            {
                throw ErrorCatalog.StorePassphraseTooShort(MinimumPassphraseLength);
            }

            var salt = RandomNumberGenerator.GetBytes(16);
            meta.Set("kdf_salt", Convert.ToBase64String(salt));
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
        meta.Set("key_protection", requested.ToString());
        meta.Set("key_check", Convert.ToBase64String(check));
        meta.Set("created_at", DateTimeOffset.UtcNow.ToString("O"));
        secrets = new SecretProtector(key);
    }

    /// <summary>Releases pooled connections (a SQLite file can then be deleted or moved; a server's connections close).</summary>
    public void Release() => provider.Release();
}

using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Files;
using AdeEnrollment.Engine.Security;
using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>
/// The embedded store: one SQLite file. Thread-safe; several processes may use the same file (WAL, busy timeout,
/// BEGIN IMMEDIATE for writers).
/// </summary>
internal sealed class SqliteProvider : IStoreProvider
{
    private static readonly byte[] SqliteHeader = "SQLite format 3\0"u8.ToArray();

    /// <summary>
    /// Writers of one store file in this process, one at a time. SQLite lets one writer in and makes the others poll
    /// (its busy handler sleeps up to 100 ms between tries), which is right between processes; within one (a
    /// scheduler's pass syncs several tokens at once) a writer instead waits its turn here and starts the moment the
    /// last one committed.
    /// </summary>
    private static readonly ConcurrentDictionary<string, SemaphoreSlim> WriterGates = new(StringComparer.Ordinal);

    /// <summary>How long a writer waits for the writers of this process before StoreBusy: as long as SQLite's busy timeout.</summary>
    private static readonly TimeSpan WriterWait = TimeSpan.FromSeconds(60);

    private readonly string connectionString;
    private readonly SemaphoreSlim writers;

    private SqliteProvider(string path)
    {
        Location = path;
        writers = WriterGates.GetOrAdd(path, _ => new SemaphoreSlim(1, 1));
        connectionString = new SqliteConnectionStringBuilder
        {
            DataSource = path,
            Mode = SqliteOpenMode.ReadWriteCreate,
            Pooling = true,
            DefaultTimeout = 60,
        }.ToString();
    }

    public string Name => "SQLite";

    public string Location { get; }

    public string? Server => null;

    public string? Database => null;

    /// <summary>
    /// The provider for the file at <paramref name="path"/> (full path): refuses a folder or a file that is not SQLite;
    /// creates an empty private file when none exists (<paramref name="isNew"/>). Nothing is migrated yet.
    /// </summary>
    public static SqliteProvider Prepare(string path, byte[]? passphrase, int minimumPassphraseLength, out bool isNew)
    {
        NativeSqlite.EnsureResolver();
        switch (FileKinds.Of(path))
        {
            case FileKind.Directory:
                throw ErrorCatalog.StoreInvalid(path, "it is a folder");
            case FileKind.Special:
                throw ErrorCatalog.StoreInvalid(path, "it is a device, a pipe or a socket, not a file");
        }

        isNew = !File.Exists(path) || new FileInfo(path).Length == 0;
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

            if (passphrase is not null && AdeStore.CountChars(passphrase) < minimumPassphraseLength)
            {
                throw ErrorCatalog.StorePassphraseTooShort(minimumPassphraseLength);
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

        return new SqliteProvider(path);
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
            throw StoreFailures.Map(Location, ex, opening: true);
        }
    }

    /// <summary>
    /// Tests only: runs on every connection after the store's own settings, to provoke real SQLite failures
    /// (a short busy timeout, a page limit, query_only). Never set in production.
    /// </summary>
    internal Action<SqliteConnection>? ConnectionHook { get; set; }

    /// <summary>Pages of write-ahead log after which a commit copies the log into the store (about 40 MB of 4 KB pages).</summary>
    internal const int WalCheckpointPages = 10_000;

    private SqliteConnection OpenConnectionCore()
    {
        var connection = new SqliteConnection(connectionString);
        connection.Open();
        // secure_delete: deleted and replaced content (a removed token's credentials, a request's private key) is
        // overwritten with zeros instead of staying readable in free pages (docs/security.md).
        // temp_store = MEMORY: statement journals and temporary tables (copies of store pages) stay in memory; as files
        // in the system's temporary folder they cost a file created, written and removed per multi-row write.
        // wal_autocheckpoint: the write-ahead log is copied into the store (and both are fsynced) once per WalCheckpointPages
        // pages instead of SQLite's 1000. Devices arrive in Apple's order, so a page of them dirties a random leaf of
        // each serial index per device: a token of 100 devices writes ~250 pages per sync. At 1000 pages a scheduler's
        // pass over many small tokens checkpointed every ~4 tokens, and the copies and fsyncs were a quarter of its CPU;
        // a larger log copies a page rewritten by later commits once and fsyncs a tenth as often.
        connection.Execute($"PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 60000; PRAGMA synchronous = NORMAL; PRAGMA secure_delete = ON; PRAGMA temp_store = MEMORY; PRAGMA wal_autocheckpoint = {WalCheckpointPages};");
        ConnectionHook?.Invoke(connection);
        return connection;
    }

    public T Write<T>(Func<IStoreSession, T> work) => WriteSql((c, t) => work(new SqliteSession(c, t)));

    /// <summary>SQLite has one writer at a time: a write of one token's rows is a write.</summary>
    public T WriteForToken<T>(Guid tokenId, Func<IStoreSession, T> work) => Write(work);

    public void AfterSecretsRemoved() => TruncateLog();

    public T Read<T>(Func<IStoreSession, T> work) => ReadSql(c => work(new SqliteSession(c, null)));

    /// <summary>In-process: a read costs no round trip, so a one-statement read is a read like any other.</summary>
    public T ReadStatement<T>(Func<IStoreSession, T> work) => Read(work);

    public IEnumerable<T> Stream<T>(Func<IStoreSession, IEnumerable<T>> query)
    {
        return StreamSql(Rows());

        IEnumerable<T> Rows()
        {
            using var connection = OpenConnection();
            foreach (var row in query(new SqliteSession(connection, null)))
            {
                yield return row;
            }
        }
    }

    public T ReadRows<T>(Func<IStoreRows, T> work)
    {
        try
        {
            using var connection = OpenConnection();
            // A deferred transaction: its first read fixes the snapshot every later read of the copy sees (WAL).
            using var transaction = connection.BeginTransaction(deferred: true);
            var result = work(new SqliteRows(connection, transaction, Location));
            transaction.Commit();
            return result;
        }
        catch (SqliteException ex)
        {
            throw StoreFailures.Map(Location, ex, opening: false);
        }
    }

    public T WriteRows<T>(Func<IStoreRowWriter, T> work) => WriteSql((c, t) => work(new SqliteRows(c, t, Location)));

    /// <summary>
    /// Runs <paramref name="work"/> in one write transaction (BEGIN IMMEDIATE): all of it or none of it. Every SQLite
    /// failure (locked past the busy timeout, disk full, read-only, I/O) becomes a catalogued error here.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
    internal T WriteSql<T>(Func<SqliteConnection, SqliteTransaction, T> work)
    {
        if (!writers.Wait(WriterWait))
        {
            throw ErrorCatalog.StoreBusy(Location, new TimeoutException($"another write of this process held the store for {WriterWait.TotalSeconds:0} seconds"));
        }

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
            throw StoreFailures.Map(Location, ex, opening: false);
        }
        finally
        {
            writers.Release();
        }
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
            throw StoreFailures.Map(Location, ex, opening: false);
        }
    }

    /// <summary>A streamed query whose SQLite failures, raised while it is enumerated, are catalogued like <see cref="ReadSql"/>'s.</summary>
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
                throw StoreFailures.Map(Location, ex, opening: false);
            }

            yield return enumerator.Current;
        }
    }

    public void Migrate(Action<IMetaTable> initialise)
    {
        try
        {
            using var connection = OpenConnectionCore();
            MigrateCore(connection, initialise);
        }
        catch (SqliteException ex)
        {
            throw StoreFailures.Map(Location, ex, opening: true);
        }
    }

    private const int SqlError = 1, Constraint = 19; // primary result codes

    /// <summary>Checks the file is ours, refuses newer schemas, applies pending migrations.</summary>
    private void MigrateCore(SqliteConnection connection, Action<IMetaTable> initialise)
    {
        var appId = connection.Scalar<long>("PRAGMA application_id");
        var version = (int)connection.Scalar<long>("PRAGMA user_version");
        if (appId != Schema.ApplicationId)
        {
            var objects = connection.Scalar<long>("SELECT count(*) FROM sqlite_master");
            if (appId != 0 || version != 0 || objects != 0)
            {
                throw ErrorCatalog.StoreInvalid(Location, "it is a SQLite database of another application");
            }
        }

        if (version > Schema.LatestVersion)
        {
            throw ErrorCatalog.StoreSchemaTooNew(Location, version, Schema.LatestVersion);
        }

        if (version < Schema.LatestVersion)
        {
            connection.Execute("PRAGMA journal_mode = WAL;");
            using var transaction = connection.BeginTransaction(deferred: false);
            // Re-read under the write lock: another process may have migrated meanwhile.
            version = (int)connection.Scalar<long>("PRAGMA user_version");
            for (var next = version + 1; next <= Schema.LatestVersion; next++)
            {
                try
                {
                    connection.Execute(Schema.Migrations[next - 1]);
                }
                catch (SqliteException ex) when ((ex.SqliteErrorCode & 0xFF) is SqlError or Constraint)
                {
                    // a table, index or column the step meets in another shape than the one it expects (the failure of a
                    // disk, a lock or the file itself keeps its own error)
                    throw ErrorCatalog.StoreUpgradeFailed(Location, version, next, Schema.LatestVersion, ex.Message, ex);
                }

                if (next == 1)
                {
                    initialise(new SqliteMetaTable(connection, transaction));
                }
            }

            connection.Execute($"PRAGMA application_id = {Schema.ApplicationId}; PRAGMA user_version = {Schema.LatestVersion};");
            transaction.Commit();
        }
    }

    /// <summary>Releases pooled connections to this file (so it can be deleted or moved).</summary>
    public void Release() => SqliteConnection.ClearAllPools();
}

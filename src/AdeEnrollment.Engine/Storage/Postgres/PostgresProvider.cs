using System.Data;
using AdeEnrollment.Engine.Errors;
using Npgsql;
using Polly;
using Polly.Retry;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>
/// A store in a PostgreSQL database shared by several hosts (docs/architecture.md, "Store providers"). Connections
/// come from one pooled <see cref="NpgsqlDataSource"/> per store.
/// <para>
/// Writers are serialised like SQLite's BEGIN IMMEDIATE: each write transaction first takes a transaction-scoped
/// advisory lock on one store-wide key (<see cref="WriteLockKey"/>), so at most one write transaction of this store
/// runs at a time on any host. That is what lets a service check a rule inside a write — fewer than 2,000 tokens, the
/// sync lease free or expired — and know it still holds at commit: row locks would not cover a count or a row that
/// does not exist yet, and SERIALIZABLE would turn every conflict into a retry. The lock ends with the transaction
/// (commit, rollback or a dropped connection), so a killed host never leaves it held. Reads never take it.
/// </para>
/// <para>
/// A write that changes one token's rows only (<see cref="WriteForToken{T}"/>: a sync's lease, pages and end) takes
/// the store-wide key in shared mode and that token's own key (<see cref="TokenLockKey"/>) exclusively: such writes of
/// different tokens run side by side, two of one token still take turns, and a store-wide writer waits for all of them
/// (and they for it), so every rule a store-wide writer checks still holds at its commit.
/// </para>
/// </summary>
internal sealed class PostgresProvider : IStoreProvider
{
    /// <summary>The store-wide advisory lock key ('ADE1'); advisory locks are per database.</summary>
    internal const long WriteLockKey = 0x41444531;

    /// <summary>
    /// The journal's lock ('ADE2'), taken by a write right before it appends to device_event and held to its end, so
    /// that journal ids become visible in increasing order (<see cref="PostgresDeviceEventTable.Append"/>).
    /// </summary>
    internal const long JournalLockKey = 0x41444532;

    /// <summary>How long a writer waits for the store's write lock before StoreBusy (SQLite's busy timeout is as long). Tests shorten it.</summary>
    internal TimeSpan LockWait { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// The first statements of every write transaction, sent in one round trip: the lock, then the schema version as
    /// it stands once the lock is held (<see cref="BeginWrite"/>).
    /// </summary>
    private string TakeWriteLock => TakeLockOnly + " SELECT max(version) AS ade_version FROM ade_schema;";

    /// <summary>
    /// The first statements of a write of one token's rows (<see cref="WriteForToken{T}"/>): the store-wide key shared,
    /// the token's key exclusive (always in this order, so two writers never wait for each other in a circle), then the
    /// schema version.
    /// </summary>
    private string TakeTokenWriteLock => FormattableString.Invariant($"{LockTimeout} SELECT pg_advisory_xact_lock_shared({WriteLockKey}); SELECT pg_advisory_xact_lock(@high, @low); SELECT max(version) AS ade_version FROM ade_schema;");

    /// <summary>
    /// A token's own advisory lock: the two-integer form, whose keys never meet the one-key form of <see cref="WriteLockKey"/>,
    /// folded from the token's id (two tokens that fold alike only take turns).
    /// </summary>
    internal static (int High, int Low) TokenLockKey(Guid tokenId)
    {
        Span<byte> bytes = stackalloc byte[16];
        tokenId.TryWriteBytes(bytes);
        var folded = BitConverter.ToInt64(bytes[..8]) ^ BitConverter.ToInt64(bytes[8..]);
        return ((int)(folded >> 32), unchecked((int)folded));
    }

    /// <summary>
    /// The write lock alone: for a migration (the version table may not exist yet; it reads the version itself) and for
    /// a store copy's raw rows (the copy reads the version under this lock and refuses a mismatch with its own error).
    /// </summary>
    private string TakeLockOnly => FormattableString.Invariant($"{LockTimeout} SELECT pg_advisory_xact_lock({WriteLockKey});");

    /// <summary>How long this transaction's lock requests wait (<see cref="LockWait"/>).</summary>
    private string LockTimeout => FormattableString.Invariant($"SET LOCAL lock_timeout = '{(long)LockWait.TotalMilliseconds}ms';");

    private readonly PostgresConnectionInfo connection;
    private readonly NpgsqlDataSource dataSource;
    private readonly ResiliencePipeline retry;

    public PostgresProvider(PostgresConnectionInfo connection)
    {
        this.connection = connection;
        var builder = new NpgsqlDataSourceBuilder(connection.ConnectionStringWithPassword());
        // Session state this module relies on is only ever transaction-scoped (SET LOCAL, the xact advisory lock), so a
        // pooled connection needs no reset on its way back to the pool. Skipping it spares the server a DISCARD per unit
        // of work. Statements are not prepared automatically on purpose: a plan cached while a token's device table was
        // small (a generic plan after five runs) can stay in use as a sync grows it to 200,000 rows, turning a page's
        // index lookups into scans.
        builder.ConnectionStringBuilder.NoResetOnClose = true;
        dataSource = builder.Build();
        retry = new ResiliencePipelineBuilder()
            .AddRetry(new RetryStrategyOptions
            {
                ShouldHandle = new PredicateBuilder().Handle<Exception>(ex => PostgresFailures.IsRetryable(ex is OpenFailed open ? open.InnerException! : ex)),
                MaxRetryAttempts = 3,
                BackoffType = DelayBackoffType.Exponential,
                Delay = TimeSpan.FromMilliseconds(250),
                UseJitter = true,
            })
            .Build();
    }

    public string Name => "PostgreSQL";

    public string Location => connection.Location;

    public string? Server => connection.Server;

    public string? Database => connection.Database;

    /// <summary>Tests only: runs at the start of every unit of work (inside its transaction), to provoke real server failures.</summary>
    internal Action<NpgsqlConnection>? ConnectionHook { get; set; }

    private NpgsqlConnection Open()
    {
        try
        {
            return dataSource.OpenConnection();
        }
        catch (Exception ex) when (ex is NpgsqlException)
        {
            // Opening may be retried by the caller's pipeline (it looks inside OpenFailed): a failure that remains is
            // the server not taking connections, in the middle of a run too, not a failed read or write.
            throw PostgresFailures.IsRetryable(ex) ? new OpenFailed(ex) : PostgresFailures.Map(connection, ex, opening: true);
        }
    }

    /// <summary>
    /// Runs <paramref name="unit"/> with retries for transient failures; whatever still fails becomes a catalogued error.
    /// A failed commit is never retried (<see cref="CommitFailed"/>): the server may have kept the change.
    /// </summary>
    private T Run<T>(Func<T> unit, bool opening = false)
    {
        try
        {
            return retry.Execute(unit);
        }
        catch (OpenFailed ex)
        {
            throw PostgresFailures.Map(connection, ex.InnerException!, opening: true);
        }
        catch (CommitFailed ex)
        {
            throw PostgresFailures.Map(connection, ex.InnerException!, opening: false, commitUnknown: true);
        }
        catch (Exception ex) when (ex is NpgsqlException)
        {
            throw PostgresFailures.Map(connection, ex, opening);
        }
    }

    public T Write<T>(Func<IStoreSession, T> work) => Write(null, work);

    public T WriteForToken<T>(Guid tokenId, Func<IStoreSession, T> work) => Write(tokenId, work);

    private T Write<T>(Guid? tokenId, Func<IStoreSession, T> work) => Run(() =>
    {
        using var c = Open();
        using var transaction = c.BeginTransaction(IsolationLevel.ReadCommitted);
        BeginWrite(c, transaction, tokenId);
        ConnectionHook?.Invoke(c);
        var result = work(new PostgresSession(c, transaction));
        try
        {
            transaction.Commit();
        }
        catch (Exception ex) when (ex is NpgsqlException)
        {
            throw new CommitFailed(ex);
        }

        return result;
    });

    /// <summary>
    /// Takes the store's write lock and, under it, checks the schema version. The store was checked when it was opened
    /// (once per process and store, not per call: reads trust that check), but another host with a newer module may
    /// have migrated it since; writing with the older tables' rules could then break what the newer version relies on.
    /// Migrations take the same lock, so the version read here cannot change before this transaction ends. It rides in
    /// the lock's round trip: no extra cost per write.
    /// </summary>
    private void BeginWrite(NpgsqlConnection c, NpgsqlTransaction transaction, Guid? tokenId)
    {
        using var command = new NpgsqlCommand(tokenId is null ? TakeWriteLock : TakeTokenWriteLock, c, transaction);
        if (tokenId is { } token)
        {
            var (high, low) = TokenLockKey(token);
            command.Parameters.AddWithValue("high", high);
            command.Parameters.AddWithValue("low", low);
        }

        using var reader = command.Prepared().ExecuteReader();
        var version = 0;
        do
        {
            if (reader.FieldCount == 1 && reader.GetName(0) == "ade_version" && reader.Read() && !reader.IsDBNull(0))
            {
                version = reader.GetInt32(0);
            }
        }
        while (reader.NextResult());

        if (version > PostgresSchema.LatestVersion)
        {
            throw ErrorCatalog.StoreSchemaTooNew(Location, version, PostgresSchema.LatestVersion);
        }
    }

    /// <summary>
    /// Nothing to do on a server: a removed row's old version stays in the table's free space until vacuum reuses it,
    /// and in the server's WAL and backups, outside the module's reach. The secrets there are ciphertext under the
    /// passphrase-derived key, which the server never sees (docs/security.md).
    /// </summary>
    public void AfterSecretsRemoved()
    {
    }

    /// <summary>A read in one REPEATABLE READ transaction: every statement of <paramref name="work"/> sees the same snapshot.</summary>
    public T Read<T>(Func<IStoreSession, T> work) => Run(() =>
    {
        using var c = Open();
        using var transaction = c.BeginTransaction(IsolationLevel.RepeatableRead);
        ConnectionHook?.Invoke(c);
        var result = work(new PostgresSession(c, transaction));
        transaction.Commit();
        return result;
    });

    /// <summary>
    /// A read of one statement: no transaction block (a statement sees one snapshot of its own), so no BEGIN and no
    /// COMMIT round trip. Reads never take the write lock either way.
    /// </summary>
    public T ReadStatement<T>(Func<IStoreSession, T> work) => Run(() =>
    {
        using var c = Open();
        ConnectionHook?.Invoke(c);
        return work(new PostgresSession(c, null));
    });

    public IEnumerable<T> Stream<T>(Func<IStoreSession, IEnumerable<T>> query)
    {
        // Rows already handed to the caller cannot be taken back, so a stream is never retried.
        using var c = OpenOnce();
        using var enumerator = Enumerate(c);
        while (true)
        {
            try
            {
                if (!enumerator.MoveNext())
                {
                    yield break;
                }
            }
            catch (Exception ex) when (ex is NpgsqlException)
            {
                throw PostgresFailures.Map(connection, ex, opening: false);
            }

            yield return enumerator.Current;
        }

        IEnumerator<T> Enumerate(NpgsqlConnection open) => query(new PostgresSession(open, null)).GetEnumerator();
    }

    public T ReadRows<T>(Func<IStoreRows, T> work) => Once(() =>
    {
        using var c = Open();
        using var transaction = c.BeginTransaction(IsolationLevel.RepeatableRead);
        var result = work(new PostgresRows(c, transaction, connection));
        transaction.Commit();
        return result;
    });

    public T WriteRows<T>(Func<IStoreRowWriter, T> work) => Once(() =>
    {
        using var c = Open();
        using var transaction = c.BeginTransaction(IsolationLevel.ReadCommitted);
        using (var command = new NpgsqlCommand(TakeLockOnly, c, transaction))
        {
            command.ExecuteNonQuery();
        }

        ConnectionHook?.Invoke(c);
        var result = work(new PostgresRows(c, transaction, connection));
        try
        {
            transaction.Commit();
        }
        catch (Exception ex) when (ex is NpgsqlException)
        {
            throw new CommitFailed(ex);
        }

        return result;
    });

    /// <summary>A unit of work run once (it reads another store meanwhile): failures catalogued, never retried.</summary>
    private T Once<T>(Func<T> unit)
    {
        try
        {
            return unit();
        }
        catch (OpenFailed ex)
        {
            throw PostgresFailures.Map(connection, ex.InnerException!, opening: true);
        }
        catch (CommitFailed ex)
        {
            throw PostgresFailures.Map(connection, ex.InnerException!, opening: false, commitUnknown: true);
        }
        catch (Exception ex) when (ex is NpgsqlException)
        {
            throw PostgresFailures.Map(connection, ex, opening: false);
        }
    }

    private NpgsqlConnection OpenOnce() => Run(Open, opening: true);

    public void Migrate(Action<IMetaTable> initialise) => Run(() =>
    {
        using var c = Open();
        var (application, version, otherTables) = ReadSchemaState(c, null);
        Check(application, version, otherTables);
        if (version == PostgresSchema.LatestVersion)
        {
            return 0;
        }

        // One transaction under the write lock: two hosts opening a new store at once migrate it once.
        using var transaction = c.BeginTransaction(IsolationLevel.ReadCommitted);
        using (var command = new NpgsqlCommand(TakeLockOnly, c, transaction))
        {
            command.ExecuteNonQuery();
        }

        (application, version, otherTables) = ReadSchemaState(c, transaction);
        Check(application, version, otherTables);
        if (application is null)
        {
            Execute(c, transaction, PostgresSchema.VersionTable);
            Execute(c, transaction, $"INSERT INTO ade_schema (application, version) VALUES ('{PostgresSchema.Application}', 0)");
        }

        for (var next = version + 1; next <= PostgresSchema.LatestVersion; next++)
        {
            try
            {
                Execute(c, transaction, PostgresSchema.Migrations[next - 1]);
            }
            catch (PostgresException ex) when ((ex.SqlState.StartsWith("42", StringComparison.Ordinal) && ex.SqlState != "42501") || ex.SqlState.StartsWith("23", StringComparison.Ordinal))
            {
                // a table, index or column the step meets in another shape than the one it expects (syntax or access
                // rule class 42 but privileges, integrity class 23); a missing privilege keeps StoreAccessDenied
                throw ErrorCatalog.StoreUpgradeFailed(connection.Location, version, next, PostgresSchema.LatestVersion, ex.MessageText + ".", ex);
            }

            if (next == 1)
            {
                initialise(new PostgresMetaTable(c, transaction));
            }
        }

        Execute(c, transaction, $"UPDATE ade_schema SET version = {PostgresSchema.LatestVersion}");
        try
        {
            transaction.Commit();
        }
        catch (Exception ex) when (ex is NpgsqlException)
        {
            throw new CommitFailed(ex);
        }

        return 0;
    }, opening: true);

    private void Check(string? application, int version, bool otherTables)
    {
        if (application is null && otherTables)
        {
            throw ErrorCatalog.StoreInvalid(Location, "the database schema holds tables of another application");
        }

        if (application is not null && application != PostgresSchema.Application)
        {
            throw ErrorCatalog.StoreInvalid(Location, "it is a database of another application");
        }

        if (version > PostgresSchema.LatestVersion)
        {
            throw ErrorCatalog.StoreSchemaTooNew(Location, version, PostgresSchema.LatestVersion);
        }
    }

    /// <summary>The schema's application and version (null, 0 when it has no ade_schema table) and whether it holds other tables.</summary>
    private static (string? Application, int Version, bool OtherTables) ReadSchemaState(NpgsqlConnection c, NpgsqlTransaction? transaction)
    {
        // pg_tables reads the catalog through the statement's snapshot, so a writer that waited for the lock sees the
        // version table another host has just committed (to_regclass could still answer from a stale cache). Whether the
        // version table exists and how many tables the schema holds are read by one statement: read apart, another host
        // creating the store in between made a new store look like a schema of another application.
        bool ours;
        long tables;
        using (var state = new NpgsqlCommand(
            "SELECT bool_or(tablename = 'ade_schema') AS ours, count(*) AS tables FROM pg_catalog.pg_tables WHERE schemaname = current_schema()", c, transaction))
        using (var reader = state.ExecuteReader())
        {
            reader.Read();
            ours = !reader.IsDBNull(0) && reader.GetBoolean(0);
            tables = reader.GetInt64(1);
        }

        if (!ours)
        {
            return (null, 0, tables > 0);
        }

        // the version table and its row are committed together
        using var read = new NpgsqlCommand("SELECT application, version FROM ade_schema LIMIT 1", c, transaction);
        using var row = read.ExecuteReader();
        return row.Read()
            ? (row.GetString(row.GetOrdinal("application")), row.GetInt32(row.GetOrdinal("version")), false)
            : ("", 0, false); // an ade_schema without its row: not ours to guess
    }

    private static void Execute(NpgsqlConnection c, NpgsqlTransaction transaction, string sql)
    {
        using var command = new NpgsqlCommand(sql, c, transaction);
        command.ExecuteNonQuery();
    }

    /// <summary>Closes the store's pooled connections.</summary>
    public void Release() => dataSource.Dispose();

    /// <summary>A commit that failed: never retried, reported as "may or may not have been kept".</summary>
    private sealed class CommitFailed(Exception inner) : Exception("The commit failed.", inner);

    /// <summary>A connection could not be opened for a reason that may pass (retried; what remains is StoreUnavailable).</summary>
    private sealed class OpenFailed(Exception inner) : Exception("Opening a connection failed.", inner);
}

namespace AdeEnrollment.Engine.Storage;

/// <summary>
/// One storage engine behind <see cref="AdeStore"/> (docs/architecture.md, "Store providers"): SQLite for one host,
/// PostgreSQL for a store shared by several hosts. A provider owns its connections, its dialect, its schema
/// migrations and the mapping of its failures to catalogued errors; services only see <see cref="IStoreSession"/>.
/// </summary>
internal interface IStoreProvider
{
    /// <summary>"SQLite" or "PostgreSQL" (shown by Get-AdeStore).</summary>
    string Name { get; }

    /// <summary>What errors and Get-AdeStore name: the file path, or postgresql://server:port/database (never a password).</summary>
    string Location { get; }

    /// <summary>The server (host:port) of a server database, else null.</summary>
    string? Server { get; }

    /// <summary>The database name of a server database, else null.</summary>
    string? Database { get; }

    /// <summary>
    /// Checks that the store is ours, refuses a newer schema and applies pending migrations in one transaction,
    /// serialised with every other writer. When the store is created, <paramref name="initialise"/> runs inside that
    /// transaction to record the key protection.
    /// </summary>
    void Migrate(Action<IMetaTable> initialise);

    /// <summary>One write transaction: all or nothing; writers serialised, so a rule checked inside holds at commit.</summary>
    T Write<T>(Func<IStoreSession, T> work);

    /// <summary>
    /// A <see cref="Write{T}"/> that changes rows of token <paramref name="tokenId"/> only and checks no rule across
    /// tokens: it waits for store-wide writers (and they for it) and for other writes of the same token, but not for
    /// writes of other tokens where the provider can run those side by side (PostgreSQL; SQLite has one writer at a time).
    /// </summary>
    T WriteForToken<T>(Guid tokenId, Func<IStoreSession, T> work);

    /// <summary>Called after a write that removed secrets, so that no copy of them outlives the commit where the engine can prevent it.</summary>
    void AfterSecretsRemoved();

    /// <summary>Reads without a write transaction.</summary>
    T Read<T>(Func<IStoreSession, T> work);

    /// <summary>
    /// A read that is ONE statement (its snapshot is the statement's own): PostgreSQL runs it without a transaction
    /// block, sparing the BEGIN and COMMIT round trips; SQLite reads as <see cref="Read{T}"/> does.
    /// </summary>
    T ReadStatement<T>(Func<IStoreSession, T> work);

    /// <summary>A streamed query; the connection stays open while the caller enumerates.</summary>
    IEnumerable<T> Stream<T>(Func<IStoreSession, IEnumerable<T>> query);

    /// <summary>
    /// Store copy only: <paramref name="work"/> reads raw rows of every table in one consistent snapshot (other writers
    /// may go on meanwhile). Failures of this store are catalogued as they happen, also while rows are enumerated.
    /// </summary>
    T ReadRows<T>(Func<IStoreRows, T> work);

    /// <summary>
    /// Store copy only: one write transaction (writers serialised as in <see cref="Write{T}"/>) in which
    /// <paramref name="work"/> inserts rows in bulk and reads them back; committed when it returns, rolled back when it
    /// throws. Not retried: <paramref name="work"/> reads another store while it runs.
    /// </summary>
    T WriteRows<T>(Func<IStoreRowWriter, T> work);

    /// <summary>Releases pooled connections.</summary>
    void Release();
}

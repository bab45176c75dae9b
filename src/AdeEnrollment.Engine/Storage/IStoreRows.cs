namespace AdeEnrollment.Engine.Storage;

/// <summary>What a column holds, in provider-neutral terms (SQLite INTEGER/TEXT/BLOB, PostgreSQL BIGINT/TEXT/BYTEA).</summary>
internal enum StoreColumnKind
{
    Integer,
    Text,
    Blob,
}

/// <summary>A column of a store table, as its provider declares it.</summary>
internal sealed record StoreColumn(string Name, StoreColumnKind Kind);

/// <summary>
/// Raw rows of the store's tables, below the per-table services: only <see cref="StoreCopy"/> uses it, to move a whole
/// store between providers (docs/architecture.md, "Store providers"). Values are <c>long</c>, <c>string</c>,
/// <c>byte[]</c> or null. Every failure is already catalogued for this provider's store when it leaves here.
/// </summary>
internal interface IStoreRows
{
    /// <summary>The schema version recorded in the store.</summary>
    int SchemaVersion();

    /// <summary>Every table of the store (not the provider's own version bookkeeping).</summary>
    IReadOnlyList<string> Tables();

    /// <summary>The columns of <paramref name="table"/> in their declared order.</summary>
    IReadOnlyList<StoreColumn> Columns(string table);

    /// <summary>
    /// The rows of <paramref name="table"/> (values in the order of <paramref name="columns"/>), sorted by
    /// <paramref name="orderBy"/>: integers by value, text by its bytes (the same order on every provider). Streamed.
    /// </summary>
    IEnumerable<object?[]> Rows(string table, IReadOnlyList<StoreColumn> columns, IReadOnlyList<StoreColumn> orderBy);
}

/// <summary><see cref="IStoreRows"/> inside one write transaction, with a bulk insert.</summary>
internal interface IStoreRowWriter : IStoreRows
{
    /// <summary>
    /// Inserts <paramref name="rows"/> (values in the order of <paramref name="columns"/>) into <paramref name="table"/>
    /// in bulk, keeping the values of generated keys (and moving the key generator past them); returns the row count.
    /// </summary>
    long Insert(string table, IReadOnlyList<StoreColumn> columns, IEnumerable<object?[]> rows);
}

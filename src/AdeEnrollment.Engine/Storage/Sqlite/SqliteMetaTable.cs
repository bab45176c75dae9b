using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: table meta (schema facts, key protection, store-wide settings).</summary>
internal sealed partial class SqliteMetaTable(SqliteConnection connection, SqliteTransaction? transaction) : IMetaTable
{
    private readonly SqliteConnection connection = connection;
    private readonly SqliteTransaction? transaction = transaction;

    public string? Get(string key)
        => connection.Scalar<string>("SELECT value FROM meta WHERE key = $k", ("$k", key));

    public void Set(string key, string value)
        => connection.Execute("INSERT INTO meta (key, value) VALUES ($k, $v) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            ("$k", key), ("$v", value));
}

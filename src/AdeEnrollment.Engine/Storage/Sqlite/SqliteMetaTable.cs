using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: table meta (schema facts, key protection, store-wide settings).</summary>
internal sealed class SqliteMetaTable(SqliteConnection connection, SqliteTransaction? transaction) : IMetaTable
{
    private readonly SqliteConnection connection = connection;
    private readonly SqliteTransaction? transaction = transaction;
}

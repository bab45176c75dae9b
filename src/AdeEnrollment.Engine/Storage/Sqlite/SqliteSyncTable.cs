using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: table sync_state and sync_history (the sync lease, cursors and each sync's record).</summary>
internal sealed partial class SqliteSyncTable(SqliteConnection connection, SqliteTransaction? transaction) : ISyncTable
{
    private readonly SqliteConnection connection = connection;
    private readonly SqliteTransaction? transaction = transaction;
}

using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: table device (the devices Apple reported for each token and what was assigned to them).</summary>
internal sealed partial class SqliteDeviceTable(SqliteConnection connection, SqliteTransaction? transaction) : IDeviceTable
{
    private readonly SqliteConnection connection = connection;
    private readonly SqliteTransaction? transaction = transaction;
}

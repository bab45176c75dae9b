using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: table device_event (the device journal and its retention).</summary>
internal sealed partial class SqliteDeviceEventTable(SqliteConnection connection, SqliteTransaction? transaction) : IDeviceEventTable
{
    private readonly SqliteConnection connection = connection;
    private readonly SqliteTransaction? transaction = transaction;
}

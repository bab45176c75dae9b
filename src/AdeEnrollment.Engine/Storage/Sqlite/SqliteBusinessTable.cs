using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: table business_account and business_activity (Apple Business API accounts and device activities).</summary>
internal sealed partial class SqliteBusinessTable(SqliteConnection connection, SqliteTransaction? transaction) : IBusinessTable
{
    private readonly SqliteConnection connection = connection;
    private readonly SqliteTransaction? transaction = transaction;
}

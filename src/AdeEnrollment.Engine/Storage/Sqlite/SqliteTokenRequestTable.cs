using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: table token_request (key pairs waiting for Apple's server token).</summary>
internal sealed partial class SqliteTokenRequestTable(SqliteConnection connection, SqliteTransaction? transaction) : ITokenRequestTable
{
    private readonly SqliteConnection connection = connection;
    private readonly SqliteTransaction? transaction = transaction;
}

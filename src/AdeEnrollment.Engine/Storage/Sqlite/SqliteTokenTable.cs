using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: table token (the stored ADE tokens, their credentials, default profiles by platform and Apple's state).</summary>
internal sealed partial class SqliteTokenTable(SqliteConnection connection, SqliteTransaction? transaction) : ITokenTable
{
    private readonly SqliteConnection connection = connection;
    private readonly SqliteTransaction? transaction = transaction;
}

using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: table profile and token_default_profile (enrollment profiles and each token's default per platform).</summary>
internal sealed partial class SqliteProfileTable(SqliteConnection connection, SqliteTransaction? transaction) : IProfileTable
{
    private readonly SqliteConnection connection = connection;
    private readonly SqliteTransaction? transaction = transaction;
}

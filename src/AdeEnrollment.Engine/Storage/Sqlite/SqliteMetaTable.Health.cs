namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: the store's schema facts for Test-AdeHealth (SQLite keeps the version in the file header).</summary>
internal sealed partial class SqliteMetaTable
{
    public int ReadSchemaVersion()
    {
        using var command = connection.Command("PRAGMA user_version");
        command.Transaction = transaction;
        return (int)(long)command.ExecuteScalar()!;
    }
}

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

    public StoreFacts Facts() => new(
        SchemaVersion: (int)connection.Scalar<long>("PRAGMA user_version"),
        Tokens: connection.Scalar<long>("SELECT count(*) FROM token"),
        TokenRequests: connection.Scalar<long>("SELECT count(*) FROM token_request"),
        Profiles: connection.Scalar<long>("SELECT count(*) FROM profile"),
        Devices: connection.Scalar<long>("SELECT count(*) FROM device"),
        SizeBytes: connection.Scalar<long>("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"));
}

using Npgsql;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>PostgreSQL: table meta (schema facts, key protection, store-wide settings).</summary>
internal sealed partial class PostgresMetaTable(NpgsqlConnection connection, NpgsqlTransaction? transaction) : IMetaTable
{
    public string? Get(string key)
    {
        using var command = new NpgsqlCommand("SELECT value FROM meta WHERE key = @k", connection, transaction);
        command.Parameters.AddWithValue("k", key);
        return command.Prepared().ExecuteScalar() as string;
    }

    public void Set(string key, string value)
    {
        using var command = new NpgsqlCommand(
            "INSERT INTO meta (key, value) VALUES (@k, @v) ON CONFLICT (key) DO UPDATE SET value = excluded.value", connection, transaction);
        command.Parameters.AddWithValue("k", key);
        command.Parameters.AddWithValue("v", value);
        command.ExecuteNonQuery();
    }

    public StoreFacts Facts()
    {
        // One round trip; the devices are the sum of the per-token counts (PostgresSchema migration 9), not a count of
        // the device table; the size is that of the store's own tables (with indexes and TOAST) in its schema.
        using var command = new NpgsqlCommand(
            """
            SELECT (SELECT version FROM ade_schema LIMIT 1) AS schema_version,
                   (SELECT count(*) FROM token) AS tokens,
                   (SELECT count(*) FROM token_request) AS token_requests,
                   (SELECT count(*) FROM profile) AS profiles,
                   (SELECT coalesce(sum(devices), 0)::bigint FROM ade_token_devices) AS devices,
                   (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint FROM pg_catalog.pg_class c
                      JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                     WHERE n.nspname = current_schema() AND c.relkind = 'r') AS size_bytes
            """, connection, transaction);
        using var reader = command.ExecuteReader();
        reader.Read();
        return new StoreFacts(
            SchemaVersion: reader.GetInt32(reader.GetOrdinal("schema_version")),
            Tokens: reader.GetInt64(reader.GetOrdinal("tokens")),
            TokenRequests: reader.GetInt64(reader.GetOrdinal("token_requests")),
            Profiles: reader.GetInt64(reader.GetOrdinal("profiles")),
            Devices: reader.GetInt64(reader.GetOrdinal("devices")),
            SizeBytes: reader.GetInt64(reader.GetOrdinal("size_bytes")));
    }
}

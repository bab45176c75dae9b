using Npgsql;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>PostgreSQL: the store's schema facts for Test-AdeHealth.</summary>
internal sealed partial class PostgresMetaTable
{
    /// <summary>The schema version the store is at (the row of ade_schema; SQLite keeps it in the file header).</summary>
    public int ReadSchemaVersion()
    {
        using var command = new NpgsqlCommand("SELECT version FROM ade_schema LIMIT 1", connection, transaction);
        return Convert.ToInt32(command.ExecuteScalar(), System.Globalization.CultureInfo.InvariantCulture);
    }
}

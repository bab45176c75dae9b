using Npgsql;
using NpgsqlTypes;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>
/// Raw rows of a PostgreSQL store for the store copy (<see cref="IStoreRowWriter"/>): one connection and its
/// transaction (REPEATABLE READ for reading, the store's write lock for writing); rows go in with binary COPY.
/// Server failures are catalogued for this store as they happen, also while rows are enumerated.
/// </summary>
internal sealed class PostgresRows(NpgsqlConnection connection, NpgsqlTransaction transaction, PostgresConnectionInfo info) : IStoreRowWriter
{
    public int SchemaVersion() => Guard(() => connection.Scalar<int>(transaction, "SELECT version FROM ade_schema LIMIT 1"));

    public IReadOnlyList<string> Tables() => Guard(() =>
    {
        using var command = connection.Command(transaction,
            "SELECT tablename FROM pg_catalog.pg_tables WHERE schemaname = current_schema() AND tablename <> ALL(@own) ORDER BY tablename",
            ("own", PostgresSchema.OwnTables.ToArray()));
        using var reader = command.ExecuteReader();
        var tables = new List<string>();
        while (reader.Read())
        {
            tables.Add(reader.GetString(0));
        }

        return tables;
    });

    public IReadOnlyList<StoreColumn> Columns(string table) => Guard(() =>
    {
        using var command = connection.Command(transaction,
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @t ORDER BY ordinal_position",
            ("t", table));
        using var reader = command.ExecuteReader();
        var columns = new List<StoreColumn>();
        while (reader.Read())
        {
            var kind = reader.GetString(1) switch
            {
                "bigint" or "integer" or "smallint" => StoreColumnKind.Integer,
                "bytea" => StoreColumnKind.Blob,
                _ => StoreColumnKind.Text,
            };
            columns.Add(new StoreColumn(reader.GetString(0), kind));
        }

        return columns;
    });

    public IEnumerable<object?[]> Rows(string table, IReadOnlyList<StoreColumn> columns, IReadOnlyList<StoreColumn> orderBy)
    {
        // "C": text sorted by its UTF-8 bytes, as SQLite's BINARY collation sorts it.
        var order = string.Join(", ", orderBy.Select(c => c.Kind == StoreColumnKind.Text ? $"{Quote(c.Name)} COLLATE \"C\"" : Quote(c.Name)));
        var sql = $"SELECT {string.Join(", ", columns.Select(c => Quote(c.Name)))} FROM {Quote(table)} ORDER BY {order}";
        using var enumerator = Read(sql, columns.Count).GetEnumerator();
        while (true)
        {
            if (!Guard(enumerator.MoveNext))
            {
                yield break;
            }

            yield return enumerator.Current;
        }
    }

    private IEnumerable<object?[]> Read(string sql, int count)
    {
        using var command = connection.Command(transaction, sql);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var row = new object?[count];
            for (var i = 0; i < count; i++)
            {
                row[i] = reader.GetValue(i) switch
                {
                    DBNull => null,
                    int n => (long)n,
                    short n => (long)n,
                    var value => value,
                };
            }

            yield return row;
        }
    }

    public long Insert(string table, IReadOnlyList<StoreColumn> columns, IEnumerable<object?[]> rows) => Guard(() =>
    {
        var types = columns.Select(c => c.Kind switch
        {
            StoreColumnKind.Integer => NpgsqlDbType.Bigint,
            StoreColumnKind.Blob => NpgsqlDbType.Bytea,
            _ => NpgsqlDbType.Text,
        }).ToArray();
        long count = 0;
        using (var importer = connection.BeginBinaryImport(
                   $"COPY {Quote(table)} ({string.Join(", ", columns.Select(c => Quote(c.Name)))}) FROM STDIN (FORMAT BINARY)"))
        {
            foreach (var row in rows)
            {
                importer.StartRow();
                for (var i = 0; i < types.Length; i++)
                {
                    switch (row[i])
                    {
                        case null:
                            importer.WriteNull();
                            break;
                        case long number:
                            importer.Write(number, types[i]);
                            break;
                        case byte[] bytes:
                            importer.Write(bytes, types[i]);
                            break;
                        case var value:
                            importer.Write(Convert.ToString(value, System.Globalization.CultureInfo.InvariantCulture)!, types[i]);
                            break;
                    }
                }

                count++;
            }

            importer.Complete();
        }

        // Identity keys: move the generator past the copied ids, so new rows never reuse one.
        if (count > 0)
        {
            foreach (var column in IdentityColumns(table))
            {
                connection.Execute(transaction,
                    $"SELECT setval(pg_get_serial_sequence(@t, @c), (SELECT max({Quote(column)}) FROM {Quote(table)}))",
                    ("t", Quote(table)), ("c", column));
            }
        }

        return count;
    });

    private List<string> IdentityColumns(string table)
    {
        using var command = connection.Command(transaction,
            "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = @t AND is_identity = 'YES'",
            ("t", table));
        using var reader = command.ExecuteReader();
        var columns = new List<string>();
        while (reader.Read())
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }

    private T Guard<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (Exception ex) when (ex is NpgsqlException)
        {
            throw PostgresFailures.Map(info, ex, opening: false);
        }
    }

    private static string Quote(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}

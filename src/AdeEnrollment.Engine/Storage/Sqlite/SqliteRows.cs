using AdeEnrollment.Engine.Errors;
using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>
/// Raw rows of a SQLite store for the store copy (<see cref="IStoreRowWriter"/>): one connection and its transaction
/// (a deferred one for reading, a snapshot in WAL mode; BEGIN IMMEDIATE for writing), inserts through one prepared
/// statement per table. SQLite failures are catalogued for this store as they happen, also while rows are enumerated.
/// </summary>
internal sealed class SqliteRows(SqliteConnection connection, SqliteTransaction transaction, string location) : IStoreRowWriter
{
    public int SchemaVersion() => Guard(() => (int)connection.Scalar<long>("PRAGMA user_version"));

    public IReadOnlyList<string> Tables() => Guard(() =>
    {
        using var command = Command("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name");
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
        using var command = Command($"SELECT name, type FROM pragma_table_info({Quote(table, '\'')}) ORDER BY cid");
        using var reader = command.ExecuteReader();
        var columns = new List<StoreColumn>();
        while (reader.Read())
        {
            var type = reader.GetString(1).ToUpperInvariant();
            var kind = type.Contains("INT", StringComparison.Ordinal) ? StoreColumnKind.Integer
                : type.Contains("BLOB", StringComparison.Ordinal) ? StoreColumnKind.Blob
                : StoreColumnKind.Text;
            columns.Add(new StoreColumn(reader.GetString(0), kind));
        }

        return columns;
    });

    public IEnumerable<object?[]> Rows(string table, IReadOnlyList<StoreColumn> columns, IReadOnlyList<StoreColumn> orderBy)
    {
        // BINARY: text sorted by its UTF-8 bytes, as PostgreSQL's "C" collation sorts it.
        var order = string.Join(", ", orderBy.Select(c => c.Kind == StoreColumnKind.Text ? $"{Quote(c.Name)} COLLATE BINARY" : Quote(c.Name)));
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
        using var command = Command(sql);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            var row = new object?[count];
            for (var i = 0; i < count; i++)
            {
                var value = reader.GetValue(i);
                row[i] = value is DBNull ? null : value;
            }

            yield return row;
        }
    }

    public long Insert(string table, IReadOnlyList<StoreColumn> columns, IEnumerable<object?[]> rows) => Guard(() =>
    {
        // AUTOINCREMENT keys: an explicit id moves sqlite_sequence past it, so new rows never reuse a copied id.
        var names = string.Join(", ", columns.Select(c => Quote(c.Name)));
        var values = string.Join(", ", columns.Select((_, i) => $"$p{i}"));
        using var command = Command($"INSERT INTO {Quote(table)} ({names}) VALUES ({values})");
        var parameters = columns.Select((c, i) => command.Parameters.Add(new SqliteParameter($"$p{i}", c.Kind switch
        {
            StoreColumnKind.Integer => SqliteType.Integer,
            StoreColumnKind.Blob => SqliteType.Blob,
            _ => SqliteType.Text,
        }))).ToArray();
        command.Prepare();
        long count = 0;
        foreach (var row in rows)
        {
            for (var i = 0; i < parameters.Length; i++)
            {
                parameters[i].Value = row[i] ?? DBNull.Value;
            }

            command.ExecuteNonQuery();
            count++;
        }

        return count;
    });

    private SqliteCommand Command(string sql)
    {
        var command = connection.Command(sql);
        command.Transaction = transaction;
        return command;
    }

    private T Guard<T>(Func<T> work)
    {
        try
        {
            return work();
        }
        catch (SqliteException ex)
        {
            throw StoreFailures.Map(location, ex, opening: false);
        }
    }

    private static string Quote(string name, char quote = '"') => quote + name.Replace(quote.ToString(), new string(quote, 2), StringComparison.Ordinal) + quote;
}

using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tests.TestSupport;
using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Tests.Storage;

/// <summary>
/// SqliteStatement skips a bind when the parameter already holds the value: every row must still be written with
/// exactly the values bound for it, whatever the row before held.
/// </summary>
public sealed class SqliteStatementTests : IDisposable
{
    private readonly TestStore store = new();
    private readonly SqliteConnection connection;

    public SqliteStatementTests()
    {
        connection = store.Store.OpenConnection();
        using var create = connection.CreateCommand();
        create.CommandText = "CREATE TEMP TABLE t (n INTEGER PRIMARY KEY, a TEXT NULL, b INTEGER NULL)";
        create.ExecuteNonQuery();
    }

    public void Dispose()
    {
        connection.Dispose();
        store.Dispose();
    }

    private List<(long N, object? A, object? B)> Rows()
    {
        using var read = connection.CreateCommand();
        read.CommandText = "SELECT n, a, b FROM t ORDER BY n";
        using var r = read.ExecuteReader();
        var rows = new List<(long, object?, object?)>();
        while (r.Read())
        {
            rows.Add((r.GetInt64(0), r.IsDBNull(1) ? null : r.GetValue(1), r.IsDBNull(2) ? null : r.GetValue(2)));
        }

        return rows;
    }

    [Fact]
    public void EveryRowGetsItsOwnValues_WhenValuesRepeatOrChangeKind()
    {
        (string? A, long? B)[] rows =
        [
            ("x", 1), ("x", 1), (null, null), (null, null), ("x", 1), ("", 0), ("", 0), ("y", 2), (null, 2), ("yé✓", null),
            (new string('z', 600), 3), ("x", null),
        ];
        using (var insert = new SqliteStatement(connection, "INSERT INTO t (n, a, b) VALUES ($n, $a, $b)", "$n", "$a", "$b"))
        {
            for (var i = 0; i < rows.Length; i++)
            {
                insert.Bind(0, i);
                insert.Bind(1, rows[i].A);
                insert.Bind(2, rows[i].B);
                Assert.Equal(1, insert.Execute());
            }
        }

        var stored = Rows();
        Assert.Equal(rows.Length, stored.Count);
        for (var i = 0; i < rows.Length; i++)
        {
            Assert.Equal(i, stored[i].N);
            Assert.Equal(rows[i].A, stored[i].A); // '' stays '' (not NULL), NULL stays NULL
            Assert.Equal(rows[i].B, (long?)stored[i].B);
        }
    }

    [Fact]
    public void AValueStaysBoundAfterAFailedExecution()
    {
        using var insert = new SqliteStatement(connection, "INSERT INTO t (n, a, b) VALUES ($n, $a, $b)", "$n", "$a", "$b");
        insert.Bind(0, 1);
        insert.Bind(1, "first");
        insert.Bind(2, 7);
        insert.Execute();
        Assert.Throws<SqliteException>(() => insert.Execute()); // the same key again
        insert.Bind(0, 2);
        insert.Bind(1, "first");
        insert.Bind(2, 7);
        insert.Execute();

        Assert.Equal([(1L, (object?)"first", (object?)7L), (2L, "first", 7L)], Rows());
    }
}

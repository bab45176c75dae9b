using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace AdeEnrollment.Engine.Storage;

/// <summary>
/// One statement prepared once and run many times through SQLite's own API, on the caller's connection and inside
/// its transaction. For the hot loops only (a page of 1000 devices), where Microsoft.Data.Sqlite's work per
/// execution (a data reader per call, every parameter looked up by name and bound again) costs about as much as
/// SQLite's own work. Parameters are named in the SQL as usual and addressed here by their position in the list
/// given to the constructor; a bound value stays bound until it is bound again. Errors are SqliteExceptions, as
/// from Microsoft.Data.Sqlite.
/// </summary>
internal sealed class SqliteStatement : IDisposable
{
    private readonly sqlite3 db;
    private readonly sqlite3_stmt statement;
    private readonly int[] indexes;

    public SqliteStatement(SqliteConnection connection, string sql, params string[] parameters)
    {
        db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(db, sql, out statement), db);
        indexes = new int[parameters.Length];
        for (var i = 0; i < parameters.Length; i++)
        {
            indexes[i] = raw.sqlite3_bind_parameter_index(statement, parameters[i]);
            if (indexes[i] == 0)
            {
                statement.Dispose();
                throw new ArgumentException($"The statement has no parameter {parameters[i]}.", nameof(parameters));
            }
        }
    }

    public void Bind(int parameter, string? value)
        => Check(value is null ? raw.sqlite3_bind_null(statement, indexes[parameter]) : raw.sqlite3_bind_text(statement, indexes[parameter], value));

    public void Bind(int parameter, long? value)
        => Check(value is { } v ? raw.sqlite3_bind_int64(statement, indexes[parameter], v) : raw.sqlite3_bind_null(statement, indexes[parameter]));

    /// <summary>Runs the statement; returns the number of rows it changed.</summary>
    public int Execute()
    {
        try
        {
            var rc = raw.sqlite3_step(statement);
            if (rc != raw.SQLITE_DONE && rc != raw.SQLITE_ROW)
            {
                SqliteException.ThrowExceptionForRC(rc, db);
            }

            return raw.sqlite3_changes(db);
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    /// <summary>
    /// Runs the statement; returns the first column of its first row as an integer, or null when there is no row or
    /// the value is NULL (as ExecuteScalar would). A RETURNING statement has made all its changes by then.
    /// </summary>
    public long? ExecuteScalarInt64()
    {
        try
        {
            var rc = raw.sqlite3_step(statement);
            if (rc == raw.SQLITE_ROW)
            {
                return raw.sqlite3_column_type(statement, 0) == raw.SQLITE_NULL ? null : raw.sqlite3_column_int64(statement, 0);
            }

            if (rc != raw.SQLITE_DONE)
            {
                SqliteException.ThrowExceptionForRC(rc, db);
            }

            return null;
        }
        finally
        {
            raw.sqlite3_reset(statement);
        }
    }

    public void Dispose() => statement.Dispose();

    private void Check(int rc)
    {
        if (rc != raw.SQLITE_OK)
        {
            SqliteException.ThrowExceptionForRC(rc, db);
        }
    }
}

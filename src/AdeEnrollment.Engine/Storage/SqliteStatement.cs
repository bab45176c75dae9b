using System.Text;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace AdeEnrollment.Engine.Storage;

/// <summary>
/// One statement prepared once and run many times through SQLite's own API, on the caller's connection and inside
/// its transaction. For the hot loops only (a page of 1000 devices), where Microsoft.Data.Sqlite's work per
/// execution (a data reader per call, every parameter looked up by name and bound again) costs about as much as
/// SQLite's own work. Parameters are named in the SQL as usual and addressed here by their position in the list
/// given to the constructor; a bound value stays bound until it is bound again. Binding a parameter the value it
/// already holds (the same text, number or NULL as the row before) costs no call into SQLite: most of a device row's
/// values are NULL or repeat from row to row. Text is handed to SQLite as UTF-8 from one reused buffer. Errors are
/// SqliteExceptions, as from Microsoft.Data.Sqlite.
/// </summary>
internal sealed class SqliteStatement : IDisposable
{
    private readonly sqlite3 db;
    private readonly sqlite3_stmt statement;
    private readonly int[] indexes;

    // What each parameter holds now (SQLite keeps bindings across sqlite3_reset): its kind, and its text or number.
    private readonly Held[] held;
    private readonly string?[] heldText;
    private readonly long[] heldNumber;
    private byte[] utf8 = new byte[256];

    private enum Held : byte
    {
        Nothing,
        Null,
        Text,
        Number,
    }

    public SqliteStatement(SqliteConnection connection, string sql, params string[] parameters)
    {
        db = connection.Handle ?? throw new InvalidOperationException("The connection is not open.");
        SqliteException.ThrowExceptionForRC(raw.sqlite3_prepare_v2(db, sql, out statement), db);
        indexes = new int[parameters.Length];
        held = new Held[parameters.Length];
        heldText = new string?[parameters.Length];
        heldNumber = new long[parameters.Length];
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
    {
        if (value is null)
        {
            BindNull(parameter);
            return;
        }

        if (held[parameter] == Held.Text && string.Equals(heldText[parameter], value, StringComparison.Ordinal))
        {
            return;
        }

        held[parameter] = Held.Nothing;
        var max = Encoding.UTF8.GetMaxByteCount(value.Length);
        if (utf8.Length < max)
        {
            utf8 = new byte[Math.Max(max, utf8.Length * 2)];
        }

        // SQLite copies the text (SQLITE_TRANSIENT), so the buffer is free again once the call returns.
        var length = Encoding.UTF8.GetBytes(value, utf8);
        Check(raw.sqlite3_bind_text(statement, indexes[parameter], new ReadOnlySpan<byte>(utf8, 0, length)));
        held[parameter] = Held.Text;
        heldText[parameter] = value;
    }

    public void Bind(int parameter, long? value)
    {
        if (value is not { } v)
        {
            BindNull(parameter);
            return;
        }

        if (held[parameter] == Held.Number && heldNumber[parameter] == v)
        {
            return;
        }

        held[parameter] = Held.Nothing;
        Check(raw.sqlite3_bind_int64(statement, indexes[parameter], v));
        held[parameter] = Held.Number;
        heldNumber[parameter] = v;
    }

    private void BindNull(int parameter)
    {
        if (held[parameter] == Held.Null)
        {
            return;
        }

        held[parameter] = Held.Nothing;
        heldText[parameter] = null;
        Check(raw.sqlite3_bind_null(statement, indexes[parameter]));
        held[parameter] = Held.Null;
    }

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

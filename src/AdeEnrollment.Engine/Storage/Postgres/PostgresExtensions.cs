using Npgsql;
using NpgsqlTypes;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>Small helpers for the PostgreSQL tables: commands with @named parameters on the session's transaction.</summary>
internal static class PostgresExtensions
{
    /// <summary>
    /// A command with <paramref name="parameters"/>; an array value (text or bigint, a batch's column) travels as one
    /// <see cref="ArrayParameter(string, IReadOnlyList{string?})"/>.
    /// </summary>
    public static NpgsqlCommand Command(this NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        var command = new NpgsqlCommand(sql, connection, transaction);
        foreach (var (at, value) in parameters)
        {
            var name = at.TrimStart('@');
            command.Parameters.Add(value switch
            {
                string?[] texts => ArrayParameter(name, texts),
                long?[] numbers => ArrayParameter(name, numbers),
                long[] numbers => ArrayParameter(name, Array.ConvertAll(numbers, n => (long?)n)),
                _ => new NpgsqlParameter(name, value ?? DBNull.Value),
            });
        }

        return command;
    }

    /// <summary>
    /// A batch's column (up to a page of a thousand values) as one parameter: the array's text ("{…}", built by
    /// <see cref="PostgresArrayText"/>) with no type of its own, which the server reads as the array the statement
    /// needs (<c>@serials::text[]</c>, <c>serial_number = ANY(@serials)</c>). Npgsql's own array parameters write each
    /// element through its type handlers, which a fresh process runs unoptimised for its first pages: ≈ 15–20 ms of
    /// client time per page of 21 columns (docs/architecture.md, "Batches as array text").
    /// </summary>
    public static NpgsqlParameter ArrayParameter(string name, IReadOnlyList<string?> values)
        => new(name, NpgsqlDbType.Unknown) { Value = PostgresArrayText.Of(values) };

    /// <inheritdoc cref="ArrayParameter(string, IReadOnlyList{string?})"/>
    public static NpgsqlParameter ArrayParameter(string name, IReadOnlyList<long?> values)
        => new(name, NpgsqlDbType.Unknown) { Value = PostgresArrayText.Of(values) };

    /// <summary>
    /// <paramref name="command"/> prepared on its pooled connection (docs/architecture.md, "Prepared statements"): the
    /// first use on a connection parses it once, every later one skips the parse, the analysis and, once the server
    /// settles on a generic plan, the planning. For the small statements every sync runs once or twice (its token, its
    /// state, lease, cursor, history, counts) and the bulk inserts that read no device row (a page of new devices, the
    /// journal's rows); never for a statement that reads stored device rows in bulk, whose plan must follow the table's
    /// growth. A later use whose parameter types differ from the prepared ones runs unprepared.
    /// </summary>
    public static NpgsqlCommand Prepared(this NpgsqlCommand command)
    {
        command.Prepare();
        return command;
    }

    public static int Execute(this NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.Command(transaction, sql, parameters);
        return command.ExecuteNonQuery();
    }

    /// <summary><see cref="Execute"/> of a statement <see cref="Prepared"/> on its connection.</summary>
    public static int ExecutePrepared(this NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.Command(transaction, sql, parameters).Prepared();
        return command.ExecuteNonQuery();
    }

    public static T? Scalar<T>(this NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
        => Scalar<T>(connection.Command(transaction, sql, parameters));

    /// <summary><see cref="Scalar{T}(NpgsqlConnection, NpgsqlTransaction?, string, ValueTuple{string, object?}[])"/> of a statement <see cref="Prepared"/> on its connection.</summary>
    public static T? ScalarPrepared<T>(this NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql, params (string Name, object? Value)[] parameters)
        => Scalar<T>(connection.Command(transaction, sql, parameters).Prepared());

    private static T? Scalar<T>(NpgsqlCommand created)
    {
        using var command = created;
        var value = command.ExecuteScalar();
        return value is null or DBNull ? default : (T)Convert.ChangeType(value, Nullable.GetUnderlyingType(typeof(T)) ?? typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public static string? GetStringOrNull(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    public static long? GetInt64OrNull(this NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetInt64(ordinal);
}

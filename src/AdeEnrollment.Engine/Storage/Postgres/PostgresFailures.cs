using System.Net.Sockets;
using AdeEnrollment.Engine.Errors;
using Npgsql;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>
/// The one place where an Npgsql or PostgreSQL failure becomes a catalogued error, and where it is decided which
/// failures may be retried. <see cref="PostgresProvider"/> calls it wherever a connection opens or a transaction
/// runs, so no raw <see cref="NpgsqlException"/> reaches a user. Messages carry the server's SQLSTATE and text,
/// never the password (it is cut out should a message ever contain it) and never row values (error detail is off).
/// </summary>
internal static class PostgresFailures
{
    public static AdeException Map(PostgresConnectionInfo connection, Exception ex, bool opening, bool commitUnknown = false)
    {
        var location = connection.Location;
        var what = Describe(connection, ex);
        if (ex is PostgresException pg)
        {
            var state = pg.SqlState;
            return state switch
            {
                _ when state.StartsWith("28", StringComparison.Ordinal) => ErrorCatalog.StoreAccessDenied(location, what, ex), // invalid authorization
                "42501" => ErrorCatalog.StoreAccessDenied(location, what, ex),                                              // insufficient privilege
                "3D000" => ErrorCatalog.ServerStore.StoreUnavailable(location, what, ex),                                         // database does not exist
                "55P03" or "40001" or "40P01" => ErrorCatalog.ServerStore.StoreBusy(location, what, ex),                          // lock timeout, serialization, deadlock
                "53100" or "54000" or "53200" => ErrorCatalog.ServerStore.StoreFull(location, what, ex),                          // disk full, out of memory, limits
                "25006" => ErrorCatalog.ServerStore.StoreReadOnly(location, what, ex),                                            // read-only transaction (a standby)
                // anything else that refuses a new connection (starting or shutting down, too many connections, the
                // database closed to connections): the server does not take the store's connections now
                _ when opening => ErrorCatalog.ServerStore.StoreUnavailable(location, what, ex),
                _ => ErrorCatalog.ServerStore.StoreIoError(location, what, commitUnknown, ex),
            };
        }

        if (opening && !commitUnknown)
        {
            return ErrorCatalog.ServerStore.StoreUnavailable(location, what, ex);
        }

        return ErrorCatalog.ServerStore.StoreIoError(location, what, commitUnknown, ex);
    }

    /// <summary>
    /// A failure after which the whole unit of work may run again on a new connection: the connection broke or the
    /// server is restarting, or the server chose this transaction as a deadlock/serialization victim. Never a failed
    /// commit (the change may have been kept) and never a lock wait that ran out (retrying would only wait again).
    /// </summary>
    public static bool IsRetryable(Exception ex)
    {
        if (ex is PostgresException pg)
        {
            return pg.SqlState is "40001" or "40P01" or "57P01" or "57P02" or "57P03" or "53300"
                   || pg.SqlState.StartsWith("08", StringComparison.Ordinal);
        }

        return ex is NpgsqlException { IsTransient: true } || (ex is NpgsqlException && ex.InnerException is IOException or SocketException or TimeoutException);
    }

    private static string Describe(PostgresConnectionInfo connection, Exception ex)
    {
        var text = ex is PostgresException pg
            ? $"{pg.SqlState} {pg.MessageText}"
            : ex.InnerException is { } inner and (SocketException or IOException or TimeoutException)
                ? $"{ex.Message} ({inner.Message})"
                : ex.Message;
        if (connection.Password is { Length: > 0 } password)
        {
            text = text.Replace(password, "***", StringComparison.Ordinal);
        }

        text = new string([.. text.Select(ch => char.IsControl(ch) ? ' ' : ch)]);
        return text.Length > 400 ? text[..400] + "…" : text;
    }
}

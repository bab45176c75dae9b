using AdeEnrollment.Engine.Errors;
using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Storage;

/// <summary>
/// The one place where a SQLite failure becomes a catalogued error. <see cref="AdeStore"/> calls it wherever a
/// connection is opened or a transaction runs, so no raw <see cref="SqliteException"/> reaches a user.
/// </summary>
internal static class StoreFailures
{
    // Primary result codes (the low byte of an extended code): https://sqlite.org/rescode.html
    private const int Perm = 3, Busy = 5, Locked = 6, NoMem = 7, ReadOnly = 8, IoErr = 10, Corrupt = 11, Full = 13, CantOpen = 14, NotADb = 26;

    public static AdeException Map(string path, SqliteException ex, bool opening)
    {
        var primary = ex.SqliteErrorCode & 0xFF;
        return primary switch
        {
            Busy or Locked => ErrorCatalog.StoreBusy(path, ex),
            Full => ErrorCatalog.StoreFull(path, ex),
            ReadOnly => ErrorCatalog.StoreReadOnly(path, ex),
            Corrupt or NotADb => ErrorCatalog.StoreInvalid(path, "the file is damaged or not a SQLite database", ex),
            Perm or CantOpen when opening => ErrorCatalog.StoreUnavailable(path, ex),
            Perm or CantOpen => ErrorCatalog.StoreReadOnly(path, ex),
            IoErr or NoMem => ErrorCatalog.StoreIoError(path, ex),
            _ when opening => ErrorCatalog.StoreUnavailable(path, ex),
            _ => ErrorCatalog.StoreIoError(path, ex),
        };
    }
}

using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Devices;

// TRANSITIONAL: the entry points that AssignmentService and StoreService still call with a raw SQLite connection and
// transaction. They are thin wrappers over a session (SqliteSession over the caller's transaction). (The page writes of
// a sync live in IDeviceTable.Sync / SqliteDeviceTable.Sync.) Delete this file once no caller is left.

internal static partial class DeviceJournal
{
    /// <summary>Kept for StoreService until it reads <see cref="JournalRetention.DefaultDays"/>.</summary>
    public const int DefaultRetentionDays = JournalRetention.DefaultDays;

    /// <summary>A journal entry as AssignmentService writes it (now <see cref="NewDeviceEventRow"/>).</summary>
    internal readonly record struct Entry(string Serial, AdeDeviceEventKind Kind, string? Detail = null);

    /// <summary>Appends the entries as one batch in the caller's transaction.</summary>
    public static int Write(SqliteConnection c, SqliteTransaction? tx, Guid tokenId, DateTimeOffset now, IReadOnlyCollection<Entry> entries)
        => new SqliteSession(c, tx).DeviceEvents.Append(tokenId, now, entries.Select(e => new NewDeviceEventRow(e.Serial, e.Kind, e.Detail)).ToList());

    public static int RetentionDays(SqliteConnection c) => RetentionDays(new SqliteSession(c, null));

    public static void SetRetentionDays(SqliteConnection c, int days) => SetRetentionDays(new SqliteSession(c, null), days);

    public static int Prune(SqliteConnection c, SqliteTransaction? tx, DateTimeOffset now) => Prune(new SqliteSession(c, tx), now);
}

using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Devices;

// TRANSITIONAL: the raw-connection entry points StoreService still calls for the journal retention, as thin wrappers
// over a session. StoreService can read JournalRetention (Model) through s.Meta instead; then delete this file.
internal static partial class DeviceJournal
{
    /// <summary>Kept for StoreService until it reads <see cref="JournalRetention.DefaultDays"/>.</summary>
    public const int DefaultRetentionDays = JournalRetention.DefaultDays;

    public static int RetentionDays(SqliteConnection c) => RetentionDays(new SqliteSession(c, null));

    public static void SetRetentionDays(SqliteConnection c, int days) => SetRetentionDays(new SqliteSession(c, null), days);
}

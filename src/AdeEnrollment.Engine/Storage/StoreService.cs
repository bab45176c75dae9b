using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Storage;

public sealed class StoreService
{
    private readonly AdeStore store;

    public StoreService(AdeStore store) => this.store = store;

    /// <summary>
    /// A store that does not exist yet (no file, or an empty one), described without creating it: Get-AdeStore only
    /// looks. The first cmdlet that works with the store (or Connect-AdeStore) creates it.
    /// </summary>
    public static AdeStoreInfo Missing(string path) => new() { Path = System.IO.Path.GetFullPath(path), Exists = false };

    /// <summary>True when <paramref name="path"/> holds something a store would open (or refuse), false when nothing is there yet.</summary>
    public static bool Exists(string path)
    {
        var full = System.IO.Path.GetFullPath(path);
        return Directory.Exists(full) || (File.Exists(full) && new FileInfo(full).Length > 0);
    }

    public AdeStoreInfo GetInfo() => store.ReadSql(c => new AdeStoreInfo
    {
        Exists = true,
        Path = store.Path,
        SchemaVersion = (int)c.Scalar<long>("PRAGMA user_version"),
        KeyProtection = store.KeyProtection.ToString(),
        TokenCount = (int)c.Scalar<long>("SELECT count(*) FROM token"),
        TokenRequestCount = (int)c.Scalar<long>("SELECT count(*) FROM token_request"),
        ProfileCount = (int)c.Scalar<long>("SELECT count(*) FROM profile"),
        DeviceCount = c.Scalar<long>("SELECT count(*) FROM device"),
        SizeBytes = c.Scalar<long>("SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()"),
        JournalRetentionDays = DeviceJournal.RetentionDays(c),
    });

    public const int MinJournalRetentionDays = 1;
    public const int MaxJournalRetentionDays = 3650;

    /// <summary>Set-AdeStore -JournalRetentionDays: how long device events are kept (enforced by every sync).</summary>
    public AdeStoreInfo SetJournalRetention(int days)
    {
        if (days < MinJournalRetentionDays || days > MaxJournalRetentionDays)
        {
            throw ErrorCatalog.ArgumentInvalid("JournalRetentionDays", days.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"keep device events for {MinJournalRetentionDays} to {MaxJournalRetentionDays} days (the default is {DeviceJournal.DefaultRetentionDays}).");
        }

        store.WriteSql((c, _) =>
        {
            DeviceJournal.SetRetentionDays(c, days);
            return 0;
        });
        return GetInfo();
    }
}

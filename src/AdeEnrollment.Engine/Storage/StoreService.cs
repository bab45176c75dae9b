using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Storage;

public sealed class StoreService
{
    private readonly AdeStore store;

    public StoreService(AdeStore store) => this.store = store;

    public AdeStoreInfo GetInfo() => store.Read(c => new AdeStoreInfo
    {
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

        store.Write((c, _) =>
        {
            DeviceJournal.SetRetentionDays(c, days);
            return 0;
        });
        return GetInfo();
    }
}

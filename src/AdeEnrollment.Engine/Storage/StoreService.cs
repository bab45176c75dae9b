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

    public AdeStoreInfo GetInfo() => store.Read(s =>
    {
        var facts = s.Meta.Facts();
        return new AdeStoreInfo
        {
            Exists = true,
            Path = store.Path,
            Provider = store.Provider,
            Server = store.Server,
            Database = store.Database,
            SchemaVersion = facts.SchemaVersion,
            KeyProtection = store.KeyProtection.ToString(),
            TokenCount = (int)facts.Tokens,
            TokenRequestCount = (int)facts.TokenRequests,
            ProfileCount = (int)facts.Profiles,
            DeviceCount = facts.Devices,
            SizeBytes = facts.SizeBytes,
            JournalRetentionDays = JournalRetentionDays(s.Meta),
        };
    });

    /// <summary>Days the change journal keeps device events: the store's setting, else the default.</summary>
    internal static int JournalRetentionDays(IMetaTable meta)
        => meta.Get(DeviceJournal.RetentionKey) is { } v
           && int.TryParse(v, System.Globalization.NumberStyles.Integer, System.Globalization.CultureInfo.InvariantCulture, out var days)
            ? days
            : DeviceJournal.DefaultRetentionDays;

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

        store.Write(s =>
        {
            s.Meta.Set(DeviceJournal.RetentionKey, days.ToString(System.Globalization.CultureInfo.InvariantCulture));
            return 0;
        });
        return GetInfo();
    }
}

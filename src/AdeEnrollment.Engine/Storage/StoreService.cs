using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
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
            JournalRetentionDays = JournalRetention.Days(s.Meta.Get(JournalRetention.SettingKey)),
        };
    });

    /// <summary>
    /// Copy-AdeStore: copies every row of this store into <paramref name="destination"/>, an empty store opened with
    /// its own key protection (any provider), re-encrypting the secrets for it and verifying each table's row count
    /// and checksum before the copy commits. Refuses a destination that holds rows; leaves it without copied rows on
    /// any failure. Reports progress per table to <paramref name="host"/>.
    /// </summary>
    public IReadOnlyList<AdeStoreCopyTable> CopyTo(AdeStore destination, IAdeHost host)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(host);
        return new StoreCopy(store, destination, host).Run();
    }

    /// <summary>
    /// Refuses a SQLite copy destination that is the store in use, also through a symbolic link to it or to its folder
    /// (<c>StoreCopySameStore</c>), before the destination is opened (its key file would be looked for beside the link).
    /// </summary>
    public void CheckCopyDestination(string destinationPath)
    {
        var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
        if (store.Provider == "SQLite" && string.Equals(Files.OutputFile.RealPath(System.IO.Path.GetFullPath(store.Path)), Files.OutputFile.RealPath(destinationPath), comparison))
        {
            throw ErrorCatalog.StoreCopySameStore(destinationPath);
        }
    }

    public const int MinJournalRetentionDays = JournalRetention.MinDays;
    public const int MaxJournalRetentionDays = JournalRetention.MaxDays;

    /// <summary>Set-AdeStore -JournalRetentionDays: how long device events are kept (enforced by every sync).</summary>
    public AdeStoreInfo SetJournalRetention(int days)
    {
        if (days < MinJournalRetentionDays || days > MaxJournalRetentionDays)
        {
            throw ErrorCatalog.ArgumentInvalid("JournalRetentionDays", days.ToString(System.Globalization.CultureInfo.InvariantCulture),
                $"keep device events for {MinJournalRetentionDays} to {MaxJournalRetentionDays} days (the default is {JournalRetention.DefaultDays}).");
        }

        store.Write(s =>
        {
            s.Meta.Set(JournalRetention.SettingKey, JournalRetention.Setting(days));
            return 0;
        });
        return GetInfo();
    }
}

using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Storage;

public sealed class StoreService
{
    private readonly AdeStore store;
    private readonly TimeProvider time;

    public StoreService(AdeStore store, TimeProvider? time = null)
    {
        this.store = store;
        this.time = time ?? EngineClock.Current;
    }

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
        var tables = new StoreCopy(store, destination, host).Run();
        WarnOfSyncsUnderWay(destination, host, time.GetUtcNow());
        return tables;
    }

    /// <summary>
    /// The copy is a snapshot: a sync that held its token's lease in the source goes on there, not in the copy, where its
    /// lease stays until it lapses and the sync then counts as failed. Said, so that a copy taken for a move is taken again
    /// once no sync runs (or its next sync is expected to be a full one).
    /// </summary>
    private static void WarnOfSyncsUnderWay(AdeStore destination, IAdeHost host, DateTimeOffset now)
    {
        var running = destination.Read(s =>
        {
            var tokens = s.Tokens.Names();
            var states = s.Sync.GetStates([.. tokens.Select(t => t.Id)]);
            return tokens.Where(t => states.TryGetValue(t.Id, out var st) && st.LeaseId is not null && Rules.SyncPolicy.LeaseHolds(st.LeaseExpiresAt, now))
                .Select(t => t.Name).Order(StringComparer.OrdinalIgnoreCase).ToList();
        });
        if (running.Count > 0)
        {
            host.WriteWarning($"A sync of {Counted.Of(running.Count, "token")} ({string.Join(", ", running.Select(n => $"'{n}'"))}) was under way when the store was copied: the copy shows it in progress until its 15-minute lease lapses, then as failed, and the copy's next sync of that token is a full one. Copy again once Get-AdeSyncStatus shows no sync in progress to avoid that.");
        }
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

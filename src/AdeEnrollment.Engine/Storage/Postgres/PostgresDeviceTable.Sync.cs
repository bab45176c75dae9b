namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>PostgreSQL: the page writes of a sync on table device (and the journal rows they produce).</summary>
internal sealed partial class PostgresDeviceTable
{
    public IReadOnlyDictionary<string, StoredSyncDevice> GetForSync(Guid tokenId, IReadOnlyCollection<string> serials) => throw Missing("device sync");

    public void WriteSyncPage(Guid tokenId, long syncId, DateTimeOffset now, IReadOnlyList<SyncDeviceUpsert> upserts, IReadOnlyList<SyncDeviceRemoval> removals) => throw Missing("device sync");

    public IReadOnlyList<string> MarkUnseenRemoved(Guid tokenId, long syncId, DateTimeOffset now, DateTimeOffset purgeAfter) => throw Missing("device sync");

    public IReadOnlyList<string> PurgeDue(Guid tokenId, DateTimeOffset now) => throw Missing("device sync");

    public SyncDeviceTotals CountForSync(Guid tokenId) => throw Missing("device sync");
}

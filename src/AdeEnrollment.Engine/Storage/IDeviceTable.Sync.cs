namespace AdeEnrollment.Engine.Storage;

/// <summary>Table device: the writes of a device sync (a page of Apple's records, devices Apple stopped listing, the purge).</summary>
internal partial interface IDeviceTable
{
    /// <summary>
    /// What the store holds for those of <paramref name="serials"/> it knows on the token (by serial): what a sync
    /// compares a page with. Serials it does not know are absent.
    /// </summary>
    IReadOnlyDictionary<string, StoredSyncDevice> GetForSync(Guid tokenId, IReadOnlyCollection<string> serials);

    /// <summary>
    /// Writes one page of a sync in one call: each record of <paramref name="upserts"/> is inserted, or written over
    /// the stored device (which is back in ABM then), with <paramref name="syncId"/> as the sync that saw it (and, for
    /// a new device, first saw it) and the assignment attempt it carries; each of <paramref name="removals"/> is marked
    /// removed from ABM. Writes every row it is given: which ones to write is the caller's decision.
    /// </summary>
    void WriteSyncPage(Guid tokenId, long syncId, DateTimeOffset now, IReadOnlyList<SyncDeviceUpsert> upserts, IReadOnlyList<SyncDeviceRemoval> removals);

    /// <summary>Marks the token's devices in ABM that sync <paramref name="syncId"/> did not see as removed from ABM; returns their serials.</summary>
    IReadOnlyList<string> MarkUnseenRemoved(Guid tokenId, long syncId, DateTimeOffset now, DateTimeOffset purgeAfter);

    /// <summary>Deletes the token's devices whose purge time is at or before <paramref name="now"/>; returns their serials.</summary>
    IReadOnlyList<string> PurgeDue(Guid tokenId, DateTimeOffset now);

    /// <summary>How many devices the token has in the store, and how many of them are still in ABM (not removed).</summary>
    SyncDeviceTotals CountForSync(Guid tokenId);
}

/// <summary>A stored device as a sync compares it: its last record from Apple, whether it is removed from ABM, and the time of the last event written.</summary>
internal sealed record StoredSyncDevice(DeviceStateRow State, DateTimeOffset? LastOpDate);

/// <summary>
/// An assignment attempt written with a device's record: when, which profile (by name) and Apple's answer. When
/// <see cref="Assigned"/> is set the device holds that profile from then on; <see cref="Failed"/> starts its hold-back.
/// </summary>
internal sealed record SyncAssignmentAttempt(DateTimeOffset At, string ProfileName, string Result, SyncAssignedProfile? Assigned, bool Failed);

/// <summary>The profile a device was assigned: the store's id and Apple's UUID.</summary>
internal sealed record SyncAssignedProfile(Guid ProfileId, string ProfileUuid);

/// <summary>
/// One device of a page to insert or update (serial normalised), the time of Apple's event it came with (null: a fetched
/// record), and the assignment attempt made for it before the page was written (if any). <see cref="New"/>: the caller
/// read the store in the page's own write transaction and it has no row of this serial (a server store may then insert
/// the row without checking for one: the store-wide write lock keeps any other writer out until the page commits).
/// </summary>
internal sealed record SyncDeviceUpsert(DeviceDetailsRow Details, DateTimeOffset? OpDate = null, SyncAssignmentAttempt? Attempt = null, bool New = false);

/// <summary>A device Apple reported deleted: removed from ABM at <see cref="RemovedAt"/>, purged after <see cref="PurgeAfter"/>.</summary>
internal sealed record SyncDeviceRemoval(string SerialNumber, DateTimeOffset RemovedAt, DateTimeOffset PurgeAfter, DateTimeOffset? OpDate);

/// <summary>A token's devices in the store (<see cref="All"/>) and those of them still in ABM.</summary>
internal readonly record struct SyncDeviceTotals(long All, long InAbm);

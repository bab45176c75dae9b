using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Storage;

/// <summary>The home of table device (the devices Apple reported for each token and what was assigned to them).</summary>
internal partial interface IDeviceTable
{
    /// <summary>
    /// The devices that match <paramref name="filter"/>, ordered by token name then serial number, streamed row by
    /// row (never the whole set in memory). Each device carries its token's name and scope tags and its profile's name.
    /// </summary>
    IEnumerable<AdeDevice> Query(DeviceFilter filter);

    /// <summary>What the store holds for these serials of one token (the serials it does not know are left out).</summary>
    IReadOnlyDictionary<string, DeviceStateRow> States(Guid tokenId, IReadOnlyCollection<string> serials);

    /// <summary>Every token's device with one of these serials (a serial may be known under several tokens).</summary>
    IReadOnlyList<DeviceRefRow> Find(IReadOnlyCollection<string> serials);

    /// <summary>
    /// Apple's details written over stored devices of one token: a field the details leave out (null) keeps its stored
    /// value, except the profile fields, the migration deadline and the replacement flag, which are Apple's answer as
    /// given. A new profile UUID is linked to the token's profile with that UUID. Unknown serials are not added.
    /// Returns the number of devices updated.
    /// </summary>
    int ApplyDetails(Guid tokenId, IReadOnlyList<DeviceDetailsRow> details, DateTimeOffset now);

    /// <summary>Deletes devices of one token by serial; returns how many the store held.</summary>
    int Delete(Guid tokenId, IReadOnlyCollection<string> serials);

    /// <summary>Apple cleared the devices' profile: no profile, status removed. Returns the number of devices changed.</summary>
    int MarkProfileCleared(Guid tokenId, IReadOnlyCollection<string> serials, DateTimeOffset now);

    /// <summary>
    /// The devices were released at Apple: released now, and removed from ABM (kept until <paramref name="purgeAfter"/>)
    /// unless already removed, whose removal and purge dates stay. Returns the number of devices changed.
    /// </summary>
    int MarkReleased(Guid tokenId, IReadOnlyCollection<string> serials, DateTimeOffset now, DateTimeOffset purgeAfter);

    /// <summary>
    /// Devices of a token that ABM assigns but that have no profile, assigned in ABM (or, when Apple gave no date,
    /// last updated) before <paramref name="before"/>: counts by device family ("" when unknown), ordered by family.
    /// Not those whose profile was cleared on purpose (status removed): no default profile goes to them either.
    /// </summary>
    IReadOnlyList<DeviceFamilyCount> CountWithoutProfile(Guid tokenId, DateTimeOffset before);

    /// <summary>
    /// Devices of a token that ABM assigns and whose last assignment Apple answered FAILED after <paramref name="since"/>:
    /// how many, and the latest of those answers (null when none).
    /// </summary>
    (long Count, DateTimeOffset? Latest) AssignFailedSince(Guid tokenId, DateTimeOffset since);

    /// <summary>
    /// At most <paramref name="limit"/> distinct serial numbers that start with <paramref name="prefix"/> (upper case
    /// letters and digits), of one token or of all, in order: Tab completion, which reads the key only.
    /// </summary>
    IReadOnlyList<string> SerialsStartingWith(Guid? tokenId, string prefix, int limit);
}

/// <summary>
/// Filters of a device query; null or false means "any". <see cref="SerialNumber"/> is matched exactly (as stored:
/// upper case); patterns are the caller's business. <see cref="SerialNumbers"/>: any of these serials, matched exactly
/// (a batch of piped lookups read at once).
/// </summary>
internal sealed record DeviceFilter(Guid? TokenId = null, string? SerialNumber = null, Guid? ProfileId = null, bool Unassigned = false,
    bool RemovedFromAbm = false, string? LastAssignmentResult = null, bool ReplacementDevice = false, DateTimeOffset? MigrationDeadlineBefore = null,
    IReadOnlyCollection<string>? SerialNumbers = null);

/// <summary>
/// A device's record as Apple describes it (a sync page or the details of POST /devices), in the store's terms:
/// <see cref="ProfileStatus"/> lower case, no empty profile UUID (null instead).
/// </summary>
internal sealed record DeviceDetailsRow(
    string SerialNumber,
    string? Model = null,
    string? Description = null,
    string? Color = null,
    string? AssetTag = null,
    string? Os = null,
    string? DeviceFamily = null,
    string? ProfileUuid = null,
    string? ProfileStatus = null,
    DateTimeOffset? ProfileAssignTime = null,
    DateTimeOffset? ProfilePushTime = null,
    DateTimeOffset? AssignedAt = null,
    string? AssignedBy = null,
    DateTimeOffset? MdmMigrationDeadline = null,
    bool? IsReplacementDevice = null);

/// <summary>What the store holds for a device: Apple's fields as last written, and whether ABM still assigns it.</summary>
internal sealed record DeviceStateRow(DeviceDetailsRow Details, bool RemovedFromAbm);

/// <summary>
/// A stored device named by serial and token, with its token's and profile's names ("" when no profile), and whether
/// it left ABM (removed or released).
/// </summary>
internal sealed record DeviceRefRow(string SerialNumber, Guid TokenId, string Token, string Profile, bool RemovedFromAbm = false);

/// <summary>A number of devices of one device family ("" when Apple did not say).</summary>
internal sealed record DeviceFamilyCount(string Family, long Count);

using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Storage;

/// <summary>The home of table device_event (the device journal and its retention).</summary>
internal partial interface IDeviceEventTable
{
    /// <summary>
    /// Appends a batch of events of one token, all at <paramref name="at"/>, in the order given (their ids increase in
    /// that order). Returns the number appended. One write for the whole batch, never one per event. Ids become visible
    /// in increasing order, whatever writes run side by side: once a reader has seen an id, no event with a lower one
    /// appears later (what <c>Get-AdeDeviceEvent -AfterId</c> relies on).
    /// </summary>
    int Append(Guid tokenId, DateTimeOffset at, IReadOnlyCollection<NewDeviceEventRow> events);

    /// <summary>The events that match <paramref name="filter"/>, oldest first (by id), streamed.</summary>
    IEnumerable<DeviceEventRow> Query(DeviceEventFilter filter);

    /// <summary>Deletes the events that happened before <paramref name="cutoff"/> (the journal's retention); returns how many.</summary>
    int DeleteBefore(DateTimeOffset cutoff);
}

/// <summary>An event to append: what happened to which device; <see cref="Detail"/> as the journal shows it.</summary>
internal sealed record NewDeviceEventRow(string SerialNumber, AdeDeviceEventKind Kind, string? Detail = null);

/// <summary>A stored event with its token's name (null when the token is gone).</summary>
internal sealed record DeviceEventRow(long Id, DateTimeOffset At, AdeDeviceEventKind Kind, string SerialNumber, string? Detail, Guid TokenId, string? Token);

/// <summary>
/// Filters of an event query; null means "any". <see cref="SerialNumber"/> is matched exactly; <see cref="Since"/> is
/// inclusive, <see cref="AfterId"/> exclusive.
/// </summary>
internal sealed record DeviceEventFilter(Guid? TokenId = null, string? SerialNumber = null, DateTimeOffset? Since = null,
    IReadOnlyCollection<AdeDeviceEventKind>? Kinds = null, long? AfterId = null);

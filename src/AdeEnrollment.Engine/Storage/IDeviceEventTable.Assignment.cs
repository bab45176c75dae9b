using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Storage;

/// <summary>Table device_event, the assignment side: the journal entries of an assignment request.</summary>
internal partial interface IDeviceEventTable
{
    /// <summary>
    /// Appends one event of <paramref name="kind"/> for each serial (in their order), all at <paramref name="at"/> with
    /// the same <paramref name="detail"/>: the journal of one answer to an assignment request.
    /// </summary>
    void AppendForSerials(Guid tokenId, DateTimeOffset at, AdeDeviceEventKind kind, string? detail, IReadOnlyCollection<string> serials);
}

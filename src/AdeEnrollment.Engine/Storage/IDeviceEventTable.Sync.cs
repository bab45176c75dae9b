using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Storage;

/// <summary>Table device_event: the journal writes of a device sync.</summary>
internal partial interface IDeviceEventTable
{
    /// <summary>Appends a batch of events of one token, all at <paramref name="at"/>, in the order given (ids increase in that order).</summary>
    void AppendBatch(Guid tokenId, DateTimeOffset at, IReadOnlyList<NewDeviceEvent> events);

    /// <summary>Deletes the events (of every token) recorded before <paramref name="cutoff"/>; returns how many.</summary>
    int DeleteBefore(DateTimeOffset cutoff);
}

/// <summary>An event to journal: the device, what happened, and the detail (Modified: the changed fields; assignments: profile and answer).</summary>
internal readonly record struct NewDeviceEvent(string SerialNumber, AdeDeviceEventKind Kind, string? Detail = null);

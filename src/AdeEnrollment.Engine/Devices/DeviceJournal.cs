using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;

namespace AdeEnrollment.Engine.Devices;

/// <summary>One entry of the change journal.</summary>
public sealed class AdeDeviceEvent
{
    internal AdeDeviceEvent() { }

    /// <summary>Increases with every event: a script can remember the last one it processed.</summary>
    public long Id { get; internal init; }

    public DateTimeOffset At { get; internal init; }

    public AdeDeviceEventKind Kind { get; internal init; }

    public string SerialNumber { get; internal init; } = "";

    public string Token { get; internal init; } = "";

    public Guid TokenId { get; internal init; }

    /// <summary>Modified: the fields that changed. Assignments: the profile and Apple's answer.</summary>
    public string? Detail { get; internal init; }

    /// <summary>Modified: the names of the device properties that changed.</summary>
    public IReadOnlyList<string> ChangedFields { get; internal init; } = ValueList<string>.Empty;

    public override string ToString() => $"{At:u} {Kind} {SerialNumber}";
}

/// <summary>Filters of Get-AdeDeviceEvent. Null means "any".</summary>
public sealed record DeviceEventQuery(Guid? TokenId = null, string? SerialNumber = null, DateTimeOffset? Since = null, IReadOnlyCollection<AdeDeviceEventKind>? Kinds = null, long? AfterId = null);

/// <summary>
/// The change journal (docs/architecture.md "Device journal and health"). Events are appended in the caller's
/// transaction, so an event exists exactly when its change was committed; a batch of events is one append
/// (IDeviceEventTable.Append), never one write per device.
/// </summary>
internal static class DeviceJournal
{
    /// <summary>How many days events are kept (Set-AdeStore -JournalRetentionDays), the default when never set.</summary>
    public static int RetentionDays(IStoreSession s) => JournalRetention.Days(s.Meta.Get(JournalRetention.SettingKey));


    /// <summary>Deletes events older than the store's retention (run by every sync).</summary>
    public static int Prune(IStoreSession s, DateTimeOffset now) => s.DeviceEvents.DeleteBefore(now - TimeSpan.FromDays(RetentionDays(s)));

    /// <summary>Streams events oldest first; a serial with wildcards is matched here, an exact one by the table.</summary>
    public static IEnumerable<AdeDeviceEvent> Query(IStoreSession s, DeviceEventQuery query)
    {
        var serial = query.SerialNumber is null ? null : DeviceRepository.NormaliseSerial(query.SerialNumber);
        var serialPattern = serial is not null && Wildcard.HasWildcard(serial) ? Wildcard.Parse(serial) : null;
        var filter = new DeviceEventFilter(query.TokenId, serialPattern is null ? serial : null, query.Since, query.Kinds, query.AfterId);
        foreach (var e in s.DeviceEvents.Query(filter))
        {
            if (serialPattern is not null && !serialPattern.IsMatch(e.SerialNumber))
            {
                continue;
            }

            yield return new AdeDeviceEvent
            {
                Id = e.Id,
                At = e.At,
                Kind = e.Kind,
                SerialNumber = e.SerialNumber,
                Detail = e.Detail,
                ChangedFields = e.Kind == AdeDeviceEventKind.Modified && e.Detail is not null
                    ? ValueList.Of(e.Detail.Split(", ", StringSplitOptions.RemoveEmptyEntries))
                    : ValueList<string>.Empty,
                TokenId = e.TokenId,
                Token = e.Token ?? "",
            };
        }
    }
}

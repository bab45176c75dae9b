using System.Runtime.CompilerServices;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Storage;

namespace AdeEnrollment.Engine.Sync;

/// <summary>
/// One page from Apple, reduced to the latest record of each serial, and what writing it changes: which records are
/// written (an older event than the stored one is ignored), what counts as added, modified or removed, the journal
/// entries, and which devices arrive without a profile (candidates for their platform's default profile).
/// </summary>
internal sealed class SyncPage
{
    private readonly List<Entry> entries;

    private SyncPage(List<Entry> entries, string[] serials, bool events)
    {
        this.entries = entries;
        Serials = serials;
        Events = events;
    }

    /// <summary>
    /// Whether the page is Apple's events (a delta) rather than its listing (a full fetch). Only an event may restate a
    /// stored device without being written: a fetched device is always written, because being listed is what a full
    /// sync records (devices it did not list are marked removed from ABM).
    /// </summary>
    public bool Events { get; }

    /// <summary>The page's serials (normalised, each once).</summary>
    public IReadOnlyCollection<string> Serials { get; }

    /// <summary>
    /// Whether telling the devices that arrive without a profile needs the store: only events (a delta's records) can
    /// be older than the stored record or a "modified" event of a device the store already knows.
    /// </summary>
    public bool NeedsStoreForDefaults => entries.Exists(e => !e.Deleted && e.Record.ProfileUuid is null && (e.ModifiedEvent || e.OpDate is not null));

    private readonly record struct Entry(DeviceDetailsRow Record, DateTimeOffset? OpDate, bool Deleted, bool ModifiedEvent, DevicePlatform? Platform);

    /// <summary>
    /// The page's records, serials normalised; duplicates of a serial within the page are resolved by the latest event
    /// time (the later of equal ones wins). Records without a serial are dropped.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
    public static SyncPage Latest(IReadOnlyList<AppleDevice> devices, bool events)
    {
        var latest = new Dictionary<string, AppleDevice>(devices.Count, StringComparer.Ordinal);
        foreach (var device in devices)
        {
            var serial = DeviceRepository.NormaliseSerial(device.SerialNumber);
            if (serial.Length == 0)
            {
                continue;
            }

            if (!latest.TryGetValue(serial, out var seen) || (device.OpDate ?? DateTimeOffset.MinValue) >= (seen.OpDate ?? DateTimeOffset.MinValue))
            {
                latest[serial] = device;
            }
        }

        var entries = new List<Entry>(latest.Count);
        foreach (var (serial, d) in latest)
        {
            var record = new DeviceDetailsRow(serial, d.Model, d.Description, d.Color, d.AssetTag, d.Os, d.DeviceFamily,
                string.IsNullOrEmpty(d.ProfileUuid) ? null : d.ProfileUuid, d.ProfileStatus?.ToLowerInvariant(), d.ProfileAssignTime, d.ProfilePushTime,
                d.DeviceAssignedDate, d.DeviceAssignedBy, d.MdmMigrationDeadline, d.IsReplacementDevice);
            entries.Add(new Entry(record, d.OpDate, string.Equals(d.OpType, "deleted", StringComparison.OrdinalIgnoreCase),
                string.Equals(d.OpType, "modified", StringComparison.OrdinalIgnoreCase), DevicePlatforms.Of(d.DeviceFamily, d.Os)));
        }

        return new SyncPage(entries, [.. latest.Keys], events);
    }

    /// <summary>
    /// The devices of known platform that arrive without a profile, by platform, given what the store holds
    /// (<paramref name="stored"/> may be null when <see cref="NeedsStoreForDefaults"/> is false).
    /// </summary>
    /// <param name="notIPads">
    /// Given when the iOS default is a Shared iPad profile: the iOS devices arriving without a profile that are not
    /// (known to be) iPads go there instead of the iOS list, and are not offered it.
    /// </param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
    public IEnumerable<(DevicePlatform Platform, List<string> Serials)> ArrivingWithoutProfile(IReadOnlyDictionary<string, StoredSyncDevice>? stored, List<string>? notIPads = null)
    {
        var byPlatform = new Dictionary<DevicePlatform, List<string>>();
        foreach (var e in entries)
        {
            StoredSyncDevice? before = null;
            stored?.TryGetValue(e.Record.SerialNumber, out before);
            if (e.Platform is { } platform && ArrivesWithoutProfile(e, before))
            {
                if (notIPads is not null && platform == DevicePlatform.iOS && DevicePlatforms.IsIPad(e.Record.DeviceFamily, e.Record.Os) != true)
                {
                    notIPads.Add(e.Record.SerialNumber);
                    continue;
                }

                if (!byPlatform.TryGetValue(platform, out var list))
                {
                    byPlatform[platform] = list = [];
                }

                list.Add(e.Record.SerialNumber);
            }
        }

        return byPlatform.Select(p => (p.Key, p.Value));
    }

    /// <summary>
    /// What writing the page over <paramref name="stored"/> does, with the answers Apple gave to the default-profile
    /// assignments made for it before (the last answer per device is what the device keeps; every answer is journalled).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
    public static PagePlan Plan(SyncPage page, IReadOnlyDictionary<string, StoredSyncDevice> stored, IReadOnlyList<AssignmentService.AssignmentAnswer>? answers, DateTimeOffset now)
    {
        var plan = new PagePlan(page.entries.Count);
        Dictionary<string, AssignmentService.AssignmentAnswer>? last = null;
        if (answers is { Count: > 0 })
        {
            last = new Dictionary<string, AssignmentService.AssignmentAnswer>(answers.Count, StringComparer.Ordinal);
            foreach (var answer in answers)
            {
                last[answer.SerialNumber] = answer;
            }
        }

        foreach (var e in page.entries)
        {
            var d = e.Record;
            stored.TryGetValue(d.SerialNumber, out var before);
            if (e.Deleted)
            {
                if (before is { State.RemovedFromAbm: false } && IsNewer(e.OpDate, before.LastOpDate))
                {
                    var at = e.OpDate ?? now;
                    plan.Removals.Add(new SyncDeviceRemoval(d.SerialNumber, at, at + DeviceRepository.PurgeDelay, e.OpDate));
                    plan.Removed++;
                    plan.Events.Add(new NewDeviceEventRow(d.SerialNumber, AdeDeviceEventKind.DeletedFromAbm));
                }

                continue;
            }

            if (!IsNewer(e.OpDate, before?.LastOpDate))
            {
                continue; // an older event than the one stored: ignored
            }

            SyncAssignmentAttempt? attempt = null;
            if (last is not null && last.TryGetValue(d.SerialNumber, out var answer))
            {
                var success = answer.Answer == AppleDeviceStatus.Success;
                attempt = new SyncAssignmentAttempt(now, answer.ProfileName, answer.Answer, success ? new SyncAssignedProfile(answer.ProfileId, answer.ProfileUuid) : null,
                    Failed: answer.Answer == AppleDeviceStatus.Failed);
                if (success)
                {
                    plan.DefaultAssigned++;
                }
            }

            var changed = before is null ? null : DeviceRepository.ChangedFields(before.State, d);
            var restates = changed is "" or RestatedOnly;
            if (restates && page.Events && attempt is null && !ArrivesWithoutProfile(e, before))
            {
                // An event that only restates the stored device — above all Apple's echo of a profile the module
                // assigned itself (same profile, same status; only Apple's assign time differs from the one stored) —
                // changes nothing: the row is not written again, nothing is journalled or counted. (ChangedFields names
                // AbmState for a device removed from ABM, so a device Apple reports again is always written.)
                continue;
            }

            plan.Upserts.Add(new SyncDeviceUpsert(d, e.OpDate, attempt, New: before is null));
            if (before is null)
            {
                plan.Added++;
                plan.Events.Add(new NewDeviceEventRow(d.SerialNumber, AdeDeviceEventKind.Added));
            }
            else if (!restates)
            {
                // Modified counts (and journals) what Apple changed. A record that only confirms what the store holds is not one.
                plan.Modified++;
                plan.Events.Add(new NewDeviceEventRow(d.SerialNumber, AdeDeviceEventKind.Modified, changed));
            }

            if (ArrivesWithoutProfile(e, before))
            {
                if (e.Platform is { } platform)
                {
                    plan.WithoutProfile[platform] = plan.WithoutProfile.GetValueOrDefault(platform) + 1;
                }
                else
                {
                    plan.WithoutProfileUnknownPlatform++;
                }
            }
        }

        // The journal of the assignments follows the page's own events, as Apple answered them.
        foreach (var answer in answers ?? [])
        {
            var kind = answer.Answer switch
            {
                AppleDeviceStatus.Success => AdeDeviceEventKind.ProfileAssigned,
                AppleDeviceStatus.Throttled => AdeDeviceEventKind.AssignmentThrottled,
                _ => AdeDeviceEventKind.AssignmentFailed,
            };
            plan.Events.Add(new NewDeviceEventRow(answer.SerialNumber, kind, $"{answer.ProfileName}: {answer.Answer}"));
        }

        return plan;
    }

    /// <summary>The only difference an echo of the module's own assignment shows: Apple's assign time against the one stored.</summary>
    private const string RestatedOnly = "ProfileAssignedAt";

    /// <summary>
    /// A device arrives without a profile when Apple's record has none and the record is written — and, for a
    /// "modified" event, only when the store did not know the device (a known device's profile was taken away on purpose).
    /// A record whose profile status is "removed" never does, in a full fetch too: its profile was taken away on purpose
    /// (Clear-AdeDeviceProfile, or another tool), and a default given back would re-arm a device an admin disarmed.
    /// </summary>
    private static bool ArrivesWithoutProfile(Entry e, StoredSyncDevice? before)
        => !e.Deleted && e.Record.ProfileUuid is null && !string.Equals(e.Record.ProfileStatus, "removed", StringComparison.OrdinalIgnoreCase)
           && IsNewer(e.OpDate, before?.LastOpDate) && (before is null || !e.ModifiedEvent);

    /// <summary>Whether an event of <paramref name="opDate"/> may overwrite a record stored from an event of <paramref name="stored"/> (records without a time always may).</summary>
    private static bool IsNewer(DateTimeOffset? opDate, DateTimeOffset? stored)
        => opDate is null || stored is null || opDate.Value.ToUnixTimeMilliseconds() >= stored.Value.ToUnixTimeMilliseconds();
}

/// <summary>What writing one page does: the rows to write, the journal entries, and the counts.</summary>
internal sealed class PagePlan(int capacity)
{
    public List<SyncDeviceUpsert> Upserts { get; } = new(capacity);

    public List<SyncDeviceRemoval> Removals { get; } = [];

    public List<NewDeviceEventRow> Events { get; } = new(capacity);

    public int Added { get; set; }

    public int Modified { get; set; }

    public int Removed { get; set; }

    /// <summary>Devices written with the default profile Apple took for them.</summary>
    public int DefaultAssigned { get; set; }

    /// <summary>Devices that arrived without a profile, by platform (those that got a default included).</summary>
    public Dictionary<DevicePlatform, int> WithoutProfile { get; } = [];

    /// <summary>Devices that arrived without a profile whose platform is unknown (they never get a default).</summary>
    public int WithoutProfileUnknownPlatform { get; set; }

    /// <summary>Whether writing the page changes nothing in the store: no row, no removal, no journal entry.</summary>
    public bool ChangesNothing => Upserts.Count == 0 && Removals.Count == 0 && Events.Count == 0;

    /// <summary>The page changed nothing and was not committed: its cursor is stored with a later page.</summary>
    public bool CursorCarried { get; set; }
}

using System.Runtime.CompilerServices;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;

namespace AdeEnrollment.Engine.Devices;

/// <summary>Filters of Get-AdeDevice (docs/Get-AdeDevice.md). Null means "any".</summary>
/// <param name="Platforms">Devices of any of these platforms (read from the device family, or the OS); null or empty: any.</param>
/// <param name="Scopes">
/// Devices of these tokens only, each token with its own profile when it has one (-Token as a wildcard naming several
/// tokens, with -Profile read in each); null: any token, empty: none.
/// </param>
public sealed record DeviceQuery(Guid? TokenId = null, string? SerialNumber = null, Guid? ProfileId = null, bool Unassigned = false, bool RemovedFromAbm = false,
    string? LastAssignmentResult = null, bool ReplacementDevice = false, DateTimeOffset? MigrationDeadlineBefore = null,
    IReadOnlyCollection<DevicePlatform>? Platforms = null, IReadOnlyList<DeviceScope>? Scopes = null)
{
    /// <summary>Whether a device passes the filters the store does not apply: platform and scopes.</summary>
    internal bool Admits(AdeDevice device)
        => (Platforms is not { Count: > 0 } || (device.Platform is { } p && Platforms.Contains(p)))
           && (Scopes is null || Scopes.Any(scope => scope.Admits(device)));

    /// <summary>The one token the store can filter on in a batch of serial lookups: the query's own, or that of its only scope.</summary>
    internal Guid? StoreToken => TokenId ?? (Scopes is [var only] ? only.TokenId : null);
}

/// <summary>One token of a query over several tokens, with the profile its devices must hold (null: any).</summary>
public sealed record DeviceScope(Guid TokenId, Guid? ProfileId = null)
{
    internal bool Admits(AdeDevice device) => device.TokenId == TokenId && (ProfileId is null || device.ProfileId == ProfileId);
}

/// <summary>
/// The device rules shared by queries, device actions and syncs: serial numbers, Apple's record in the store's terms,
/// what counts as a change (the Modified event), and the device query with serial patterns. Storage is reached through
/// a session's tables only.
/// </summary>
internal static partial class DeviceRepository
{
    /// <summary>How long a device removed from ABM (or released) is kept before it is purged.</summary>
    public static readonly TimeSpan PurgeDelay = TimeSpan.FromDays(45);

    /// <summary>
    /// A serial number as the store keys it: trimmed, upper case, and with any control or invisible formatting character
    /// replaced by U+FFFD (a serial typed with a terminal escape comes back in results and errors as harmless text; no
    /// device has such a serial, since Apple's are checked when they arrive).
    /// </summary>
    public static string NormaliseSerial(string? serial) => SafeText.Neutralise((serial ?? "").Trim().ToUpperInvariant())!;

    /// <summary>Apple's record of a device in the store's terms: an empty profile UUID is none, the profile status lower case.</summary>
    public static DeviceDetailsRow Details(AppleDevice d) => new(
        d.SerialNumber,
        d.Model,
        d.Description,
        d.Color,
        d.AssetTag,
        d.Os,
        d.DeviceFamily,
        string.IsNullOrEmpty(d.ProfileUuid) ? null : d.ProfileUuid,
        d.ProfileStatus?.ToLowerInvariant(),
        d.ProfileAssignTime,
        d.ProfilePushTime,
        d.DeviceAssignedDate,
        d.DeviceAssignedBy,
        d.MdmMigrationDeadline,
        d.IsReplacementDevice);

    /// <summary>
    /// The names of the device properties (as AdeDevice names them) in which Apple's record <paramref name="after"/>
    /// differs from what the store held, joined with ", " in a fixed order; empty when nothing changed. A device that
    /// Apple reports again after it was removed from ABM has changed its AbmState.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
    public static string ChangedFields(DeviceStateRow before, DeviceDetailsRow after)
    {
        var b = before.Details;
        var changed = new List<string>();
        Text("Model", b.Model, after.Model);
        Text("Description", b.Description, after.Description);
        Text("Color", b.Color, after.Color);
        Text("AssetTag", b.AssetTag, after.AssetTag);
        Text("OS", b.Os, after.Os);
        Text("DeviceFamily", b.DeviceFamily, after.DeviceFamily);
        Text("EnrollmentProfile", b.ProfileUuid, after.ProfileUuid);
        Text("ProfileStatus", b.ProfileStatus, after.ProfileStatus);
        Text("AssignedBy", b.AssignedBy, after.AssignedBy);
        // The assign time the module records is this computer's clock when Apple accepted; Apple's own for the same
        // assignment (read back by a refresh) is Apple's clock, in whole seconds: within a minute, it is the same one.
        if (b.ProfileAssignTime is { } wasAssigned && after.ProfileAssignTime is { } nowAssigned
            ? (wasAssigned - nowAssigned).Duration() >= TimeSpan.FromMinutes(1)
            : b.ProfileAssignTime != after.ProfileAssignTime)
        {
            changed.Add("ProfileAssignedAt");
        }

        Time("ProfilePushedAt", b.ProfilePushTime, after.ProfilePushTime);
        Time("AssignedAt", b.AssignedAt, after.AssignedAt);
        Time("MdmMigrationDeadline", b.MdmMigrationDeadline, after.MdmMigrationDeadline);
        if (b.IsReplacementDevice != after.IsReplacementDevice) changed.Add("IsReplacementDevice");
        if (before.RemovedFromAbm) changed.Add("AbmState");
        return string.Join(", ", changed);

        void Text(string name, string? was, string? now)
        {
            if (!string.Equals(was, now, StringComparison.Ordinal)) changed.Add(name);
        }

        // Compared in whole seconds, as Apple gives times.
        void Time(string name, DateTimeOffset? was, DateTimeOffset? now)
        {
            if (was?.ToUnixTimeSeconds() != now?.ToUnixTimeSeconds()) changed.Add(name);
        }
    }

    /// <summary>
    /// Update-AdeDevice: Apple's details of known devices (POST /devices) written over the stored ones, with a Modified
    /// event naming the changed fields, in the session's transaction. Devices not in the store are not added.
    /// </summary>
    public static int ApplyDetails(IStoreSession s, Guid tokenId, IReadOnlyList<AppleDevice> devices, DateTimeOffset now)
    {
        if (devices.Count == 0)
        {
            return 0;
        }

        var details = devices.Select(Details).ToList();
        var existing = s.Devices.States(tokenId, details.Select(d => d.SerialNumber).Distinct(StringComparer.Ordinal).ToList());
        var known = details.Where(d => existing.ContainsKey(d.SerialNumber)).ToList();
        var n = s.Devices.ApplyDetails(tokenId, known, now);
        var events = new List<NewDeviceEventRow>();
        foreach (var d in known)
        {
            var before = existing[d.SerialNumber];
            var b = before.Details;
            // Fields Apple left out of the details keep their stored value, so they are compared as unchanged; the
            // device stays where ABM has it (details say nothing about AbmState).
            var merged = d with
            {
                Model = d.Model ?? b.Model, Description = d.Description ?? b.Description, Color = d.Color ?? b.Color,
                AssetTag = d.AssetTag ?? b.AssetTag, Os = d.Os ?? b.Os, DeviceFamily = d.DeviceFamily ?? b.DeviceFamily,
                AssignedBy = d.AssignedBy ?? b.AssignedBy, AssignedAt = d.AssignedAt ?? b.AssignedAt,
            };
            var changed = ChangedFields(before with { RemovedFromAbm = false }, merged);
            if (changed.Length > 0)
            {
                events.Add(new(d.SerialNumber, AdeDeviceEventKind.Modified, changed));
            }
        }

        s.DeviceEvents.Append(tokenId, now, events);
        return n;
    }

    /// <summary>
    /// The devices matching <paramref name="query"/>, ordered by token then serial, streamed from the session. A serial
    /// with wildcards is matched here (PowerShell's rules); an exact one is looked up by the table.
    /// </summary>
    public static IEnumerable<AdeDevice> Query(IStoreSession s, DeviceQuery query)
    {
        if (query.Scopes is { } scopes)
        {
            // one indexed query per scope (its token and profile go to the store), in the scopes' order (token names)
            foreach (var scope in scopes)
            {
                if ((query.TokenId is { } token && token != scope.TokenId) || (query.ProfileId is { } p && scope.ProfileId is { } q && p != q))
                {
                    continue;
                }

                foreach (var device in Query(s, query with { TokenId = scope.TokenId, ProfileId = scope.ProfileId ?? query.ProfileId, Scopes = null }))
                {
                    yield return device;
                }
            }

            yield break;
        }

        var serial = query.SerialNumber is null ? null : NormaliseSerial(query.SerialNumber);
        var serialPattern = serial is not null && Wildcard.HasWildcard(serial) ? Wildcard.Parse(serial) : null;
        var filter = new DeviceFilter(query.TokenId, serialPattern is null ? serial : null, query.ProfileId, query.Unassigned, query.RemovedFromAbm,
            query.LastAssignmentResult, query.ReplacementDevice, query.MigrationDeadlineBefore);
        foreach (var device in s.Devices.Query(filter))
        {
            // platform (read from the device family or OS as AdeDevice.Platform reads it) and scopes: one rule, both providers
            if ((serialPattern is null || serialPattern.IsMatch(device.SerialNumber)) && query.Admits(device))
            {
                yield return device;
            }
        }
    }

    /// <summary>The query's serial number, normalised; a query without one serial number (empty, or a pattern) is refused.</summary>
    public static string ExactSerial(DeviceQuery query)
    {
        var serial = NormaliseSerial(query.SerialNumber);
        return serial.Length == 0 || Wildcard.HasWildcard(serial)
            ? throw new ArgumentException($"'{query.SerialNumber}' is not one serial number.", nameof(query))
            : serial;
    }

    /// <summary>
    /// Several exact-serial queries answered by one read: the matches of each query, in the order given, each as
    /// <see cref="Query"/> would return them. The queries differ only in serial, token, profile, platforms and scopes
    /// (the cmdlet's piped lookups); a serial pattern is refused (it is one query of its own).
    /// </summary>
    public static List<List<AdeDevice>> QueryEach(IStoreSession s, IReadOnlyList<DeviceQuery> queries)
    {
        if (queries.Count == 0)
        {
            return [];
        }

        var shared = StoreFilters(queries[0]);
        var serials = new string[queries.Count];
        for (var i = 0; i < queries.Count; i++)
        {
            if (StoreFilters(queries[i]) != shared)
            {
                throw new ArgumentException("The queries of one batch differ only in serial number, token, profile, platforms and scopes.", nameof(queries));
            }

            serials[i] = ExactSerial(queries[i]);
        }

        var tokens = queries.Select(q => q.StoreToken).Distinct().ToList();
        var filter = new DeviceFilter(tokens is [{ } oneToken] ? oneToken : null, null, null, shared.Unassigned, shared.RemovedFromAbm,
            shared.LastAssignmentResult, shared.ReplacementDevice, shared.MigrationDeadlineBefore, serials.Distinct(StringComparer.Ordinal).ToList());

        // Rows arrive ordered by token name, so each serial's matches keep the order its own query would give them.
        var bySerial = new Dictionary<string, List<AdeDevice>>(StringComparer.Ordinal);
        foreach (var device in s.Devices.Query(filter))
        {
            if (!bySerial.TryGetValue(device.SerialNumber, out var found))
            {
                bySerial[device.SerialNumber] = found = [];
            }

            found.Add(device);
        }

        var answers = new List<List<AdeDevice>>(queries.Count);
        for (var i = 0; i < queries.Count; i++)
        {
            var q = queries[i];
            answers.Add(bySerial.TryGetValue(serials[i], out var found)
                ? found.Where(d => (q.TokenId is null || d.TokenId == q.TokenId) && (q.ProfileId is null || d.ProfileId == q.ProfileId)
                                   && q.Admits(d)).ToList()
                : []);
        }

        return answers;
    }

    /// <summary>The filters of a query the store applies to a whole batch (those every query of it shares).</summary>
    private static DeviceQuery StoreFilters(DeviceQuery query)
        => query with { TokenId = null, SerialNumber = null, ProfileId = null, Platforms = null, Scopes = null };
}

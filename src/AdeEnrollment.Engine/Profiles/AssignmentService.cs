using System.Text.Json;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;
using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Profiles;

/// <summary>
/// Assigns profiles to devices at Apple (docs/Set-AdeDeviceProfile.md): serials normalised and de-duplicated,
/// requests of at most 1000, THROTTLED retried after Apple's wait within a bounded time, FAILED held back 24 hours,
/// profiles defined at Apple on first use and defined again (and re-assigned) after they change.
/// </summary>
public sealed class AssignmentService
{
    public const int MaxBatch = AppleClientOptions.MaxDevicesPerRequest;
    public static readonly TimeSpan FailedCooldown = TimeSpan.FromHours(24);
    public static readonly TimeSpan MaxThrottleWait = TimeSpan.FromMinutes(2);

    private readonly AdeStore store;
    private readonly TimeProvider time;
    private readonly IAdeHost host;
    private readonly TokenService tokens;
    private readonly ProfileService profiles;
    private readonly AppleClientFactory apple;

    internal AssignmentService(AdeStore store, TimeProvider time, IAdeHost host, TokenService tokens, ProfileService profiles, AppleClientFactory apple)
    {
        this.store = store;
        this.time = time;
        this.host = host;
        this.tokens = tokens;
        this.profiles = profiles;
        this.apple = apple;
    }

    /// <summary>Assigns <paramref name="profileRef"/> to the serials, yielding one result per distinct serial.</summary>
    public IEnumerable<AdeAssignmentResult> Assign(string profileRef, string? tokenRef, IEnumerable<string> serials, bool force = false)
        => Assign(profileRef, tokenRef, serials.Select(serial => new DeviceTarget(serial)), force: force);

    /// <summary>
    /// Assigns <paramref name="profileRef"/> to devices, yielding one result per distinct device. A profile name is
    /// resolved within each device's own token when the device carries one (devices piped from several tokens that
    /// each have a profile of that name); otherwise within <paramref name="tokenRef"/>, or the whole store. Every
    /// name is resolved before anything is sent, so a name that resolves nowhere changes nothing.
    /// </summary>
    /// <remarks>
    /// Assignment never crosses platforms: a device of another platform than the profile's is a PlatformMismatch
    /// result and nothing is sent for it; so is a device of unknown platform unless <paramref name="force"/>.
    /// </remarks>
    public IEnumerable<AdeAssignmentResult> Assign(string profileRef, string? tokenRef, IEnumerable<DeviceTarget> targets, AssignmentSummary? summary = null, bool force = false)
    {
        var groups = new List<(AdeProfile Profile, List<string> Serials)>();
        if (tokenRef is not null || Guid.TryParse(profileRef, out _))
        {
            groups.Add((profiles.Resolve(profileRef, tokenRef), targets.Select(t => t.SerialNumber).ToList()));
        }
        else
        {
            var byToken = new Dictionary<Guid, List<string>>();
            var order = new List<Guid?>();
            List<string>? withoutToken = null;
            foreach (var target in targets)
            {
                if (target.TokenId is not { } id)
                {
                    if (withoutToken is null) order.Add(null);
                    (withoutToken ??= []).Add(target.SerialNumber);
                }
                else if (!byToken.TryGetValue(id, out var list))
                {
                    order.Add(id);
                    byToken[id] = [target.SerialNumber];
                }
                else
                {
                    list.Add(target.SerialNumber);
                }
            }

            foreach (var key in order)
            {
                var profile = profiles.Resolve(profileRef, key?.ToString());
                var serials = key is { } id ? byToken[id] : withoutToken!;
                var same = groups.FindIndex(g => g.Profile.Id == profile.Id);
                if (same >= 0) groups[same].Serials.AddRange(serials);
                else groups.Add((profile, serials));
            }
        }

        summary ??= new AssignmentSummary();
        return groups.SelectMany(g => AssignTo(g.Profile, g.Serials, summary, force));
    }

    private IEnumerable<AdeAssignmentResult> AssignTo(AdeProfile profile, IEnumerable<string> serials, AssignmentSummary summary, bool force)
    {
        var token = tokens.GetTokens(id: profile.TokenId).Single();
        summary.Profiles.Add(profile.Name);
        summary.Tokens.Add(token.Name);
        var distinct = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var raw in serials)
        {
            var serial = DeviceRepository.NormaliseSerial(raw);
            if (serial.Length > 0 && seen.Add(serial))
            {
                distinct.Add(serial);
            }
        }

        AppleClient? client = null;
        string? uuid = null;
        var batches = (distinct.Count + MaxBatch - 1) / MaxBatch;
        for (var b = 0; b < batches; b++)
        {
            var batch = distinct.GetRange(b * MaxBatch, Math.Min(MaxBatch, distinct.Count - b * MaxBatch));
            host.WriteProgress(new AdeProgress(2, $"Assigning profile '{profile.Name}'", $"Batch {b + 1} of {batches} ({Counted.Of(batch.Count, "device")})", b * 100 / batches));
            var now = time.GetUtcNow();
            var current = CurrentState(token.Id, batch);
            var send = new List<string>();
            foreach (var serial in batch)
            {
                if (!current.TryGetValue(serial, out var state))
                {
                    summary.Unknown++;
                    yield return Result(serial, profile, null, AdeAssignmentStatus.UnknownDevice, null);
                    continue;
                }

                if (state.Platform != profile.Platform && (state.Platform is not null || !force))
                {
                    summary.PlatformMismatch.Add(serial);
                    yield return Result(serial, profile, state.ProfileName, AdeAssignmentStatus.PlatformMismatch, null);
                    continue;
                }

                if (state.FailedAt is { } failed && now < failed + FailedCooldown)
                {
                    yield return Result(serial, profile, state.ProfileName, AdeAssignmentStatus.Failed, failed + FailedCooldown);
                    continue;
                }

                var unchanged = string.Equals(state.ProfileName, profile.Name, StringComparison.Ordinal);
                if (host.ShouldProcess(serial, unchanged
                        ? $"Assign enrollment profile '{profile.Name}' again (it already has it)"
                        : $"Assign enrollment profile '{profile.Name}' (now: {(state.ProfileName is null ? "none" : $"'{state.ProfileName}'")})"))
                {
                    send.Add(serial);
                }
                else
                {
                    summary.Declined++;
                    if (unchanged) summary.Unchanged++;
                }
            }

            if (send.Count == 0)
            {
                continue;
            }

            client ??= apple.ForToken(tokens.Credentials(token));
            uuid ??= EnsureDefined(client, profile, token);
            foreach (var result in Send(client, token, profile, uuid, send, current))
            {
                yield return result;
            }
        }

        host.WriteProgress(new AdeProgress(2, $"Assigning profile '{profile.Name}'", "Done", 100, Completed: true));
    }

    /// <summary>Counts of one Set-AdeDeviceProfile operation, for the summary line after -WhatIf.</summary>
    public sealed class AssignmentSummary
    {
        internal SortedSet<string> Profiles { get; } = new(StringComparer.Ordinal);

        internal SortedSet<string> Tokens { get; } = new(StringComparer.OrdinalIgnoreCase);

        /// <summary>Devices not sent because ShouldProcess said no (-WhatIf, or "No" at a prompt).</summary>
        public int Declined { get; internal set; }

        /// <summary>Of <see cref="Declined"/>, devices that already hold the profile.</summary>
        public int Unchanged { get; internal set; }

        /// <summary>Serials the engine does not know on the profile's token.</summary>
        public int Unknown { get; internal set; }

        /// <summary>Serials of devices of another (or unknown) platform than the profile's: nothing was sent for them.</summary>
        public List<string> PlatformMismatch { get; } = [];

        /// <summary>One warning for the whole operation when devices were refused for their platform (null: none).</summary>
        public string? PlatformMismatchWarning => PlatformMismatch.Count == 0 ? null
            : $"{Counted.Of(PlatformMismatch.Count, "device")} of another platform than profile {string.Join(", ", Profiles.Select(p => $"'{p}'"))} (or of unknown platform) got nothing: {Counted.FirstFew(PlatformMismatch)}. A profile is for one platform; assign those devices a profile of their own platform (-Force assigns devices of unknown platform).";

        /// <summary>"N devices would be assigned profile 'X' (M unchanged)" — the host adds "What if: ".</summary>
        public string WhatIfSummary
        {
            get
            {
                var profile = Profiles.Count == 1 ? $"profile '{Profiles.Min}'" : $"profiles {string.Join(", ", Profiles.Select(p => $"'{p}'"))}";
                var where = Tokens.Count == 1 ? $"token '{Tokens.Min}'" : $"{Tokens.Count} tokens";
                var unknown = Unknown > 0 ? $"; {Counted.Of(Unknown, "serial")} unknown to AdeEnrollment" : "";
                return $"{Counted.Of(Declined, "device")} would be assigned {profile} on {where} ({Unchanged:N0} unchanged{unknown}).";
            }
        }
    }

    /// <summary>Defines a changed profile at Apple again and re-assigns the devices that hold it (after Set-AdeProfile).</summary>
    internal void Redefine(Guid profileId)
    {
        var profile = profiles.Get(id: profileId).Single();
        var token = tokens.GetTokens(id: profile.TokenId).Single();
        EnsureDefined(apple.ForToken(tokens.Credentials(token)), profile, token);
    }

    /// <summary>During a sync: gives devices that arrived without a profile the token's default profile. Returns the successes.</summary>
    internal int AssignDefault(AppleClient client, AdeToken token, Guid profileId, IReadOnlyList<string> serials)
    {
        if (serials.Count == 0)
        {
            return 0;
        }

        var profile = profiles.GetWithoutDeviceCount(profileId);
        var uuid = EnsureDefined(client, profile, token);
        var n = 0;
        for (var i = 0; i < serials.Count; i += MaxBatch)
        {
            // Only the statuses are counted here: the devices' current profiles (for PreviousProfile) are not read.
            var batch = serials.Skip(i).Take(MaxBatch).ToList();
            n += Send(client, token, profile, uuid, batch, NoCurrentState).Count(r => r.Status == AdeAssignmentStatus.Success);
        }

        return n;
    }

    private sealed record DeviceState(string? ProfileName, DateTimeOffset? FailedAt, DevicePlatform? Platform);

    private static readonly IReadOnlyDictionary<string, DeviceState> NoCurrentState = new Dictionary<string, DeviceState>();

    private Dictionary<string, DeviceState> CurrentState(Guid tokenId, IReadOnlyList<string> serials)
    {
        return store.ReadSql(c =>
        {
            // The batch as one JSON array parameter: a thousand named parameters cost more to bind than the query.
            using var command = c.Command(
                """
                SELECT d.serial_number, p.name, d.assign_failed_at, d.device_family, d.os FROM device d LEFT JOIN profile p ON p.id = d.profile_id
                WHERE d.token_id = $t AND d.serial_number IN (SELECT value FROM json_each($serials))
                """, ("$t", tokenId.ToString()), ("$serials", JsonSerializer.Serialize(serials)));
            var map = new Dictionary<string, DeviceState>(serials.Count, StringComparer.Ordinal);
            using var r = command.ExecuteReader();
            while (r.Read())
            {
                map[r.GetString(0)] = new DeviceState(r.GetStringOrNull(1), r.IsDBNull(2) ? null : ToTime(r.GetInt64(2)), DevicePlatforms.Of(r.GetStringOrNull(3), r.GetStringOrNull(4)));
            }

            return map;
        });
    }

    /// <summary>One request of at most 1000 serials, THROTTLED ones retried after Apple's wait until the time bound.</summary>
    private List<AdeAssignmentResult> Send(AppleClient client, AdeToken token, AdeProfile profile, string uuid, List<string> serials, IReadOnlyDictionary<string, DeviceState> current)
    {
        var results = new List<AdeAssignmentResult>(serials.Count);
        var deadline = time.GetUtcNow() + MaxThrottleWait;
        var pending = serials;
        var redefined = false;
        while (pending.Count > 0)
        {
            var batch = pending;
            var profileUuid = uuid;
            AppleAssignProfileResponse response;
            try
            {
                response = tokens.Guard(token, () => client.AssignProfileAsync(profileUuid, batch, cancellationToken: host.Cancellation).GetAwaiter().GetResult());
            }
            catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.AppleProfileNotFound) && !redefined)
            {
                // Apple lost the definition (or it was removed): define the profile again once, then retry.
                redefined = true;
                store.WriteSql((c, _) => c.Execute("UPDATE profile SET apple_profile_uuid = NULL, apple_defined_hash = NULL WHERE id = $id", ("$id", profile.Id.ToString())));
                uuid = EnsureDefined(client, profile, token);
                continue;
            }

            var now = time.GetUtcNow();
            var throttled = new List<string>();
            var success = new List<string>();
            var failed = new List<string>();
            var notAccessible = new List<string>();
            foreach (var serial in pending)
            {
                var status = response.Devices.TryGetValue(serial, out var s) ? s : AppleDeviceStatus.Failed;
                switch (status)
                {
                    case AppleDeviceStatus.Success:
                        success.Add(serial);
                        break;
                    case AppleDeviceStatus.Throttled:
                        throttled.Add(serial);
                        break;
                    case AppleDeviceStatus.NotAccessible:
                        notAccessible.Add(serial);
                        results.Add(Result(serial, profile, Previous(current, serial), AdeAssignmentStatus.NotAccessible, null));
                        break;
                    default:
                        failed.Add(serial);
                        results.Add(Result(serial, profile, Previous(current, serial), AdeAssignmentStatus.Failed, now + FailedCooldown));
                        break;
                }
            }

            Record(token.Id, profile, uuid, success, failed, throttled, notAccessible, now);
            results.AddRange(success.Select(serial => Result(serial, profile, Previous(current, serial), AdeAssignmentStatus.Success, null)));
            if (throttled.Count == 0)
            {
                break;
            }

            var wait = TimeSpan.FromSeconds(Math.Max(1, response.RetryAfterSeconds ?? 60));
            if (time.GetUtcNow() + wait > deadline)
            {
                results.AddRange(throttled.Select(serial => Result(serial, profile, Previous(current, serial), AdeAssignmentStatus.Throttled, now + wait)));
                break;
            }

            host.WriteVerbose($"Apple throttled {Counted.Of(throttled.Count, "device")}; retrying in {Counted.Of((long)wait.TotalSeconds, "second")}.");
            Task.Delay(wait, host.Cancellation).GetAwaiter().GetResult();
            pending = throttled;
        }

        return results;
    }

    private static string? Previous(IReadOnlyDictionary<string, DeviceState> current, string serial)
        => current.TryGetValue(serial, out var s) ? s.ProfileName : null;

    private void Record(Guid tokenId, AdeProfile profile, string uuid, List<string> success, List<string> failed, List<string> throttled, List<string> notAccessible, DateTimeOffset now)
    {
        if (success.Count == 0 && failed.Count == 0 && throttled.Count == 0 && notAccessible.Count == 0)
        {
            return;
        }

        var profileId = profile.Id;
        store.WriteSql((c, tx) =>
        {
            // The last attempt on each device (Get-AdeDevice shows it) and the journal: one statement per outcome.
            foreach (var (list, answer) in new[] { (success, AppleDeviceStatus.Success), (failed, AppleDeviceStatus.Failed), (throttled, AppleDeviceStatus.Throttled), (notAccessible, AppleDeviceStatus.NotAccessible) })
            {
                if (list.Count == 0) continue;
                c.Execute(
                    """
                    UPDATE device SET last_attempt_at = $now, last_attempt_profile = $name, last_attempt_result = $r
                    WHERE token_id = $t AND serial_number IN (SELECT value FROM json_each($serials))
                    """, ("$now", ToUnixMs(now)), ("$name", profile.Name), ("$r", answer), ("$t", tokenId.ToString()), ("$serials", JsonSerializer.Serialize(list)));
                var kind = answer switch
                {
                    AppleDeviceStatus.Success => AdeDeviceEventKind.ProfileAssigned,
                    AppleDeviceStatus.Throttled => AdeDeviceEventKind.AssignmentThrottled,
                    _ => AdeDeviceEventKind.AssignmentFailed,
                };
                DeviceJournal.Write(c, tx, tokenId, now, list.Select(serial => new DeviceJournal.Entry(serial, kind, $"{profile.Name}: {answer}")).ToList());
            }

            // One statement per outcome, the serials as one JSON array: each is still a primary-key update.
            c.Execute(
                """
                UPDATE device SET profile_id = $p, profile_uuid = $u, profile_status = 'assigned', profile_assign_time = $now,
                       assign_failed_at = NULL, updated_at = $now
                WHERE token_id = $t AND serial_number IN (SELECT value FROM json_each($serials))
                """, ("$p", profileId.ToString()), ("$u", uuid), ("$now", ToUnixMs(now)), ("$t", tokenId.ToString()), ("$serials", JsonSerializer.Serialize(success)));
            c.Execute("UPDATE device SET assign_failed_at = $now WHERE token_id = $t AND serial_number IN (SELECT value FROM json_each($serials))",
                ("$now", ToUnixMs(now)), ("$t", tokenId.ToString()), ("$serials", JsonSerializer.Serialize(failed)));
            return 0;
        });
    }

    /// <summary>
    /// Defines the profile at Apple when it never was or when what Apple holds differs from the settings now; after a
    /// redefinition the devices that held the old definition are assigned the new one.
    /// </summary>
    private string EnsureDefined(AppleClient client, AdeProfile profile, AdeToken token)
    {
        if (token.EnrollmentUrl is null)
        {
            throw ErrorCatalog.EnrollmentUrlMissing(token.Name);
        }

        var appleProfile = AppleProfileBuilder.Build(profile.Name, profile.Settings, token.EnrollmentUrl);
        var hash = AppleProfileBuilder.Hash(appleProfile);
        var (uuid, definedHash) = store.ReadSql(c =>
        {
            using var command = c.Command("SELECT apple_profile_uuid, apple_defined_hash FROM profile WHERE id = $id", ("$id", profile.Id.ToString()));
            using var r = command.ExecuteReader();
            r.Read();
            return (r.GetStringOrNull(0), r.GetStringOrNull(1));
        });
        if (uuid is not null && definedHash == hash)
        {
            return uuid;
        }

        var response = tokens.Guard(token, () => client.DefineProfileAsync(appleProfile, host.Cancellation).GetAwaiter().GetResult());
        var newUuid = response.ProfileUuid;
        var holders = store.WriteSql((c, _) =>
        {
            c.Execute("UPDATE profile SET apple_profile_uuid = $u, apple_defined_hash = $h WHERE id = $id",
                ("$u", newUuid), ("$h", hash), ("$id", profile.Id.ToString()));
            return uuid is null ? [] : Holders(c, profile.Id);
        });
        host.WriteVerbose(uuid is null
            ? $"Defined profile '{profile.Name}' at Apple ({newUuid})."
            : $"Profile '{profile.Name}' changed: defined again at Apple ({newUuid}); re-assigning it to the {Counted.Of(holders.Count, "device")} that hold it.");
        for (var i = 0; i < holders.Count; i += MaxBatch)
        {
            Send(client, token, profile, newUuid, holders.Skip(i).Take(MaxBatch).ToList(), new Dictionary<string, DeviceState>());
        }

        return newUuid;
    }

    private static List<string> Holders(SqliteConnection c, Guid profileId)
    {
        using var command = c.Command("SELECT serial_number FROM device WHERE profile_id = $p AND removed_at IS NULL", ("$p", profileId.ToString()));
        using var r = command.ExecuteReader();
        var list = new List<string>();
        while (r.Read())
        {
            list.Add(r.GetString(0));
        }

        return list;
    }

    private static AdeAssignmentResult Result(string serial, AdeProfile profile, string? previous, AdeAssignmentStatus status, DateTimeOffset? retryAfter) => new()
    {
        SerialNumber = serial,
        Profile = profile.Name,
        PreviousProfile = previous,
        Status = status,
        RetryAfter = retryAfter,
        Token = profile.Token,
    };
}

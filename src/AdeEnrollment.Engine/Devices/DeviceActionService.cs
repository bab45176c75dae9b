using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Devices;

/// <summary>The result of Clear-AdeDeviceProfile, Update-AdeDevice or Unregister-AdeDevice for one device.</summary>
public sealed class AdeDeviceActionResult
{
    internal AdeDeviceActionResult() { }

    public string SerialNumber { get; internal init; } = "";

    /// <summary>ClearProfile, Refresh or Release.</summary>
    public string Action { get; internal init; } = "";

    public AdeDeviceActionStatus Status { get; internal init; }

    /// <summary>Apple's own word for the device (SUCCESS, NOT_ACCESSIBLE, FAILED…); empty when nothing was sent.</summary>
    public string AppleStatus { get; internal init; } = "";

    /// <summary>The enrollment profile the device held before the action (empty when none).</summary>
    public string PreviousProfile { get; internal init; } = "";

    public string Token { get; internal init; } = "";

    /// <summary>Update-AdeDevice: the device as the store holds it after the refresh.</summary>
    public AdeDevice? Device { get; internal init; }

    /// <summary>On the first NotSent result of a token: the failure that stopped its requests (the cmdlet writes it as the token's error).</summary>
    internal AdeException? Failure { get; init; }

    public override string ToString() => $"{SerialNumber} {Status}";
}

/// <summary>Counts of one device action over a pipeline, for the -WhatIf summary line.</summary>
public sealed class DeviceActionSummary
{
    internal string Verb { get; set; } = "";

    public int Declined { get; internal set; }

    public int Unknown { get; internal set; }

    private readonly SortedDictionary<AdeDeviceActionStatus, (int Count, List<string> First)> notDone = [];

    private int answered;

    internal void Count(AdeDeviceActionResult result)
    {
        answered++;
        if (result.Status is AdeDeviceActionStatus.Success)
        {
            return;
        }

        var (count, first) = notDone.GetValueOrDefault(result.Status, (0, new List<string>()));
        if (first.Count < 3)
        {
            first.Add(result.SerialNumber);
        }

        notDone[result.Status] = (count + 1, first);
    }

    /// <summary>
    /// One warning for the operation when devices were not done (Apple answered NOT_ACCESSIBLE or FAILED, a failed
    /// request left them unsent, or the store does not know the serial): each result says so, but a scheduled script
    /// that only logs warnings would not know (a typo in a list of devices to release). Null when every device was done.
    /// </summary>
    public string? NotDoneWarning => notDone.Count == 0 ? null : NotDone(notDone.Values.Sum(v => v.Count));

    private string NotDone(int total)
        => $"{Counted.Of(total, "device")} of {Counted.N(answered)} {(total == 1 ? "was" : "were")} not {Done}: "
          + string.Join(", ", notDone.Select(kv => $"{Counted.N(kv.Value.Count)} {kv.Key} ({Reason(kv.Key)}; {string.Join(", ", kv.Value.First)}{(kv.Value.Count > kv.Value.First.Count ? " …" : "")})"))
          + ". The results say which (| Where-Object Status -ne 'Success').";

    internal string Done { get; set; } = "";

    private static string Reason(AdeDeviceActionStatus status) => status switch
    {
        AdeDeviceActionStatus.NotAccessible => "not on the token's MDM server in Apple Business Manager",
        AdeDeviceActionStatus.Failed => "Apple answered FAILED",
        AdeDeviceActionStatus.UnknownDevice => "not a device of AdeEnrollment's store: a mistyped serial number, or a device not synced yet; nothing was sent for it",
        _ => "a request of its token failed (see the error): not sent, or, for the request that failed after reaching Apple, perhaps done without an answer; Update-AdeDevice or the next sync shows Apple's state",
    };

    /// <summary>"N devices would …" — the host adds "What if: ".</summary>
    public string WhatIfSummary => $"{Counted.Of(Declined, "device")} would {Verb.Replace("{their}", Declined == 1 ? "its" : "their", StringComparison.Ordinal)}" +
        (Unknown > 0 ? $" ({Counted.Of(Unknown, "serial")} unknown to AdeEnrollment)." : ".");
}

/// <summary>
/// Device actions at Apple between syncs (docs/architecture.md "Device actions"): clear the profile, refresh the
/// details, release (disown). Serials are resolved against the store (and their token), sent in requests of at most
/// 1000, asked about one by one (-WhatIf, -Confirm), and every answer is written to the store and the journal in one
/// transaction per request.
/// </summary>
public sealed class DeviceActionService
{
    public const int MaxBatch = AppleClientOptions.MaxDevicesPerRequest;

    /// <summary>The release request: an access refusal of this request (not of the session opened for it) is ReleaseNotAllowed.</summary>
    private const string DisownEndpoint = "POST /devices/disown";

    private readonly AdeStore store;
    private readonly TimeProvider time;
    private readonly IAdeHost host;
    private readonly TokenService tokens;
    private readonly AppleClientFactory apple;

    internal DeviceActionService(AdeStore store, TimeProvider time, IAdeHost host, TokenService tokens, AppleClientFactory apple)
    {
        this.store = store;
        this.time = time;
        this.host = host;
        this.tokens = tokens;
        this.apple = apple;
    }

    /// <summary>
    /// How long a clear or release request already sent to Apple is still awaited once the operation is stopped (Ctrl+C):
    /// Apple carries it out whether or not its answer is read, so the answer is recorded to keep the store matching
    /// Apple. Past this wait it is given up; the token's next sync brings Apple's state of those devices.
    /// </summary>
    internal TimeSpan StoppedRequestWait { get; set; } = TimeSpan.FromSeconds(30);

    private enum Kind
    {
        ClearProfile,
        Refresh,
        Release,
    }

    /// <summary>Removes the enrollment-profile assignment of the devices at Apple (DELETE /profile/devices).</summary>
    public IEnumerable<AdeDeviceActionResult> ClearProfile(IEnumerable<DeviceTarget> targets, string? tokenRef, DeviceActionSummary? summary = null)
        => Run(Kind.ClearProfile, targets, tokenRef, summary ?? new DeviceActionSummary());

    /// <summary>Reads Apple's current details of the devices (POST /devices); does not use the sync allowance.</summary>
    public IEnumerable<AdeDeviceActionResult> Refresh(IEnumerable<DeviceTarget> targets, string? tokenRef, DeviceActionSummary? summary = null)
        => Run(Kind.Refresh, targets, tokenRef, summary ?? new DeviceActionSummary());

    /// <summary>Releases the devices from the organisation at Apple (POST /devices/disown). Permanent.</summary>
    public IEnumerable<AdeDeviceActionResult> Release(IEnumerable<DeviceTarget> targets, string? tokenRef, DeviceActionSummary? summary = null)
        => Run(Kind.Release, targets, tokenRef, summary ?? new DeviceActionSummary());

    private sealed record Known(string Serial, Guid TokenId, string Token, string Profile, bool RemovedFromAbm);

    private IEnumerable<AdeDeviceActionResult> Run(Kind kind, IEnumerable<DeviceTarget> targets, string? tokenRef, DeviceActionSummary summary)
    {
        summary.Verb = kind switch
        {
            Kind.ClearProfile => "have {their} enrollment profile cleared at Apple",
            Kind.Refresh => "be refreshed from Apple",
            _ => "be released from the organisation at Apple (permanently)",
        };
        summary.Done = kind switch
        {
            Kind.ClearProfile => "cleared",
            Kind.Refresh => "refreshed",
            _ => "released",
        };
        Guid? tokenId = tokenRef is null ? null : tokens.ResolveToken(tokenRef).Id;
        var wanted = new List<DeviceTarget>();
        var seen = new HashSet<(string, Guid?)>();
        foreach (var target in targets)
        {
            var serial = DeviceRepository.NormaliseSerial(target.SerialNumber);
            var t = target.TokenId ?? tokenId;
            if (serial.Length > 0 && seen.Add((serial, t)))
            {
                wanted.Add(new DeviceTarget(serial, t));
            }
        }

        var known = Lookup(wanted);
        var byToken = new Dictionary<Guid, List<Known>>();
        var order = new List<Guid>();
        var dedupe = new HashSet<(string, Guid)>();
        foreach (var target in wanted)
        {
            var matches = known.TryGetValue(target.SerialNumber, out var list)
                ? list.Where(k => target.TokenId is null || k.TokenId == target.TokenId).ToList()
                : [];
            if (target.TokenId is null && matches.Count > 1 && matches.Any(m => !m.RemovedFromAbm))
            {
                // A serial alone names the device where ABM has it now: a device moved between MDM servers leaves a
                // removed copy under its old token, which Apple would only answer NOT_ACCESSIBLE for.
                matches.RemoveAll(m => m.RemovedFromAbm);
            }

            if (matches.Count == 0)
            {
                summary.Unknown++;
                var unknown = new AdeDeviceActionResult { SerialNumber = target.SerialNumber, Action = kind.ToString(), Status = AdeDeviceActionStatus.UnknownDevice };
                summary.Count(unknown);
                yield return unknown;
                continue;
            }

            foreach (var m in matches)
            {
                if (!dedupe.Add((m.Serial, m.TokenId))) continue;
                if (!byToken.TryGetValue(m.TokenId, out var group))
                {
                    byToken[m.TokenId] = group = [];
                    order.Add(m.TokenId);
                }

                group.Add(m);
            }
        }

        foreach (var id in order)
        {
            foreach (var result in RunToken(kind, id, byToken[id], summary))
            {
                summary.Count(result);
                yield return result;
            }
        }
    }

    /// <summary>
    /// One token's devices, in requests of at most 1000. A request that fails as a whole (Apple unavailable, the token
    /// rejected, release not allowed) ends that token's part: its devices from that request on are NotSent, the first
    /// carrying the failure, and the other tokens' devices are still sent. A stop (Ctrl+C) or a store failure ends the
    /// whole command, as everywhere.
    /// </summary>
    private IEnumerable<AdeDeviceActionResult> RunToken(Kind kind, Guid id, List<Known> devices, DeviceActionSummary summary)
    {
        var token = tokens.GetTokens(id: id).Single();
        AppleClient? client = null;
        var batches = (devices.Count + MaxBatch - 1) / MaxBatch;
        for (var b = 0; b < batches; b++)
        {
            var batch = devices.GetRange(b * MaxBatch, Math.Min(MaxBatch, devices.Count - b * MaxBatch));
            host.WriteProgress(new AdeProgress(3, Activity(kind, token.Name), $"Batch {b + 1} of {batches} ({Counted.Of(batch.Count, "device")})", b * 100 / batches));
            var send = new List<Known>();
            foreach (var d in batch)
            {
                if (host.ShouldProcess($"{d.Serial} (token '{d.Token}')", Describe(kind, d)))
                {
                    send.Add(d);
                }
                else
                {
                    summary.Declined++;
                }
            }

            if (send.Count == 0)
            {
                continue;
            }

            List<AdeDeviceActionResult> answers;
            AdeException? failure = null;
            try
            {
                client ??= apple.ForToken(tokens.Credentials(token));
                answers = Send(kind, client, token, send);
            }
            catch (AdeException ex) when (!ex.IsStoreFailure && ex.ErrorId != nameof(ErrorCatalog.OperationStopped)
                && !host.Cancellation.IsCancellationRequested)
            {
                failure = ex;
                answers = [];
            }

            if (failure is not null)
            {
                var unsent = send.Concat(devices.Skip((b + 1) * MaxBatch)).ToList();
                for (var i = 0; i < unsent.Count; i++)
                {
                    yield return new AdeDeviceActionResult
                    {
                        SerialNumber = unsent[i].Serial, Action = kind.ToString(), Status = AdeDeviceActionStatus.NotSent, PreviousProfile = unsent[i].Profile,
                        Token = unsent[i].Token, Failure = i == 0 ? failure : null,
                    };
                }

                break;
            }

            foreach (var result in answers)
            {
                yield return result;
            }
        }

        host.WriteProgress(new AdeProgress(3, Activity(kind, token.Name), "Done", 100, Completed: true));
    }

    private static string Activity(Kind kind, string token) => kind switch
    {
        Kind.ClearProfile => $"Clearing enrollment profiles (token '{token}')",
        Kind.Refresh => $"Refreshing devices from Apple (token '{token}')",
        _ => $"Releasing devices (token '{token}')",
    };

    private static string Describe(Kind kind, Known d) => kind switch
    {
        Kind.ClearProfile => d.Profile.Length == 0
            ? "Clear the enrollment profile at Apple (now: none in AdeEnrollment)"
            : $"Clear the enrollment profile at Apple (now: '{d.Profile}')",
        Kind.Refresh => "Refresh the device's details from Apple",
        _ => "Release the device from the organisation at Apple (permanent: it leaves Apple Business Manager)",
    };

    private List<AdeDeviceActionResult> Send(Kind kind, AppleClient client, AdeToken token, List<Known> send)
    {
        var serials = send.Select(d => d.Serial).ToList();
        var now = time.GetUtcNow();
        var results = new List<AdeDeviceActionResult>(send.Count);
        if (kind == Kind.Refresh)
        {
            var details = tokens.Guard(token, () => client.GetDeviceDetailsAsync(serials, host.Cancellation).GetAwaiter().GetResult());
            var refreshed = new List<AppleDevice>();
            var statuses = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var serial in serials)
            {
                var answer = details.Devices.TryGetValue(serial, out var device) ? device.ResponseStatus ?? AppleDeviceStatus.Success : AppleDeviceStatus.NotAccessible;
                statuses[serial] = answer;
                if (device is not null && answer == AppleDeviceStatus.Success)
                {
                    device.SerialNumber = serial;
                    refreshed.Add(device);
                }
            }

            // One write for the batch; then, in one read, one primary-key lookup per refreshed device (at most 1000).
            store.Write(s => DeviceRepository.ApplyDetails(s, token.Id, refreshed, now));
            var after = store.Read(s => refreshed
                .SelectMany(r => s.Devices.Query(new DeviceFilter(TokenId: token.Id, SerialNumber: r.SerialNumber)))
                .ToDictionary(d => d.SerialNumber, StringComparer.Ordinal));
            foreach (var d in send)
            {
                var answer = statuses[d.Serial];
                results.Add(Result(Kind.Refresh, d, answer, after.TryGetValue(d.Serial, out var dev) ? dev : null));
            }

            return results;
        }

        // Apple carries out a clear or a release it received whether or not its answer is read: once sent, Ctrl+C gives
        // the request StoppedRequestWait to answer (as an assignment's), so that what Apple did is recorded.
        host.Cancellation.ThrowIfCancellationRequested();
        using var giveUp = new CancellationTokenSource();
        using var onStop = host.Cancellation.Register(() => giveUp.CancelAfter(StoppedRequestWait));
        AppleDeviceStatusResponse response;
        if (kind == Kind.ClearProfile)
        {
            response = tokens.Guard(token, () => client.RemoveProfileAsync(serials, cancellationToken: giveUp.Token, outlivesStop: true).GetAwaiter().GetResult());
        }
        else
        {
            try
            {
                response = tokens.Guard(token, () => client.DisownDevicesAsync(serials, giveUp.Token, outlivesStop: true).GetAwaiter().GetResult());
            }
            catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.AppleAccessDenied) && ex.Endpoint == DisownEndpoint)
            {
                throw ErrorCatalog.ReleaseNotAllowed(token.Name, client.ServiceUri.ToString(), ex);
            }
        }

        var succeeded = new List<string>();
        // A release sent again after an attempt whose answer was lost, answered NOT_ACCESSIBLE for a device the store
        // holds as assigned to this server: most likely the first attempt released it, but Apple's answer cannot tell
        // that from a device moved or released elsewhere since the last sync. The result says what Apple answered,
        // the store is not changed (the next sync brings Apple's state), and one warning explains it.
        var perhapsReleased = kind == Kind.Release && response.AfterPossiblyDeliveredAttempt
            ? send.Where(d => !d.RemovedFromAbm && response.Devices.GetValueOrDefault(d.Serial) == AppleDeviceStatus.NotAccessible).Select(d => d.Serial).ToList()
            : [];
        foreach (var d in send)
        {
            var answer = response.Devices.TryGetValue(d.Serial, out var s) ? s : AppleDeviceStatus.Failed;
            if (answer == AppleDeviceStatus.Success) succeeded.Add(d.Serial);
            results.Add(Result(kind, d, answer, null));
        }

        if (succeeded.Count > 0)
        {
            store.Write(s =>
            {
                if (kind == Kind.ClearProfile)
                {
                    s.Devices.MarkProfileCleared(token.Id, succeeded, now);
                    s.DeviceEvents.Append(token.Id, now, send.Where(d => succeeded.Contains(d.Serial))
                        .Select(d => new NewDeviceEventRow(d.Serial, AdeDeviceEventKind.ProfileCleared, d.Profile.Length == 0 ? null : d.Profile)).ToList());
                }
                else
                {
                    // Released: Apple no longer assigns them; they are kept like devices removed in ABM and purged later.
                    s.Devices.MarkReleased(token.Id, succeeded, now, now + DeviceRepository.PurgeDelay);
                    // the profile the device held, as a ProfileCleared event names it: what the organisation let go with it
                    s.DeviceEvents.Append(token.Id, now, send.Where(d => succeeded.Contains(d.Serial))
                        .Select(d => new NewDeviceEventRow(d.Serial, AdeDeviceEventKind.Released, d.Profile.Length == 0 ? null : d.Profile)).ToList());
                }

                return 0;
            });
        }

        // after the write: a warning the caller turns into a stop must not keep what Apple did out of the store
        if (perhapsReleased.Count > 0)
        {
            host.WriteWarning($"The release request of token '{token.Name}' was sent again after Apple's first answer was lost, and Apple answered NOT_ACCESSIBLE for {Counted.Of(perhapsReleased.Count, "device")} the store holds as assigned to its MDM server ({Counted.FirstFew(perhapsReleased)}): most likely the first request released them. They are left as they are in the store; the next Sync-AdeDevice of the token (or Get-AdeOrgDevice) shows Apple's state.");
        }

        return results;
    }

    private static AdeDeviceActionResult Result(Kind kind, Known d, string answer, AdeDevice? device) => new()
    {
        SerialNumber = d.Serial,
        Action = kind.ToString(),
        Status = answer switch
        {
            AppleDeviceStatus.Success => AdeDeviceActionStatus.Success,
            AppleDeviceStatus.NotAccessible => AdeDeviceActionStatus.NotAccessible,
            _ => AdeDeviceActionStatus.Failed,
        },
        AppleStatus = answer,
        PreviousProfile = d.Profile,
        Token = d.Token,
        Device = device,
    };

    /// <summary>The store's devices for the serials, all tokens: one read.</summary>
    private Dictionary<string, List<Known>> Lookup(IReadOnlyList<DeviceTarget> wanted)
    {
        var map = new Dictionary<string, List<Known>>(StringComparer.Ordinal);
        if (wanted.Count == 0)
        {
            return map;
        }

        foreach (var row in store.Read(s => s.Devices.Find(wanted.Select(w => w.SerialNumber).Distinct(StringComparer.Ordinal).ToList())))
        {
            if (!map.TryGetValue(row.SerialNumber, out var list)) map[row.SerialNumber] = list = [];
            list.Add(new Known(row.SerialNumber, row.TokenId, row.Token, row.Profile, row.RemovedFromAbm));
        }

        return map;
    }
}

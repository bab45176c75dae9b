using System.Runtime.CompilerServices;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;

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
        OverlapRecording = store.Server is not null;
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
        => AssignInBatches(profileRef, tokenRef, targets, summary, force).SelectMany(batch => batch);

    /// <summary>
    /// As <see cref="Assign(string, string?, IEnumerable{DeviceTarget}, AssignmentSummary?, bool)"/>, the results in the
    /// groups they are ready in (a batch's answers once recorded, the devices a batch did not send): a caller that hands
    /// results to another thread pays one hand-over per group instead of one per device.
    /// </summary>
    public IEnumerable<IReadOnlyList<AdeAssignmentResult>> AssignInBatches(string profileRef, string? tokenRef, IEnumerable<DeviceTarget> targets, AssignmentSummary? summary = null, bool force = false,
        Action<AdeException>? reportError = null)
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
                var serials = key is { } id ? byToken[id] : withoutToken!;
                AdeProfile profile;
                try
                {
                    profile = profiles.Resolve(profileRef, key?.ToString());
                }
                catch (AdeException ex) when (reportError is not null && order.Count > 1)
                {
                    // devices of several tokens: a token without the profile is an error for its devices alone, the
                    // devices of the tokens that have it are still assigned
                    reportError(ex.WithCompleted($"Its {Counted.Of(serials.Count, "device")} ({Counted.FirstFew(serials, 3)}) got nothing; the devices of the other tokens are still assigned.", []));
                    continue;
                }

                var same = groups.FindIndex(g => g.Profile.Id == profile.Id);
                if (same >= 0) groups[same].Serials.AddRange(serials);
                else groups.Add((profile, serials));
            }
        }

        summary ??= new AssignmentSummary();
        return groups.SelectMany(g => AssignTo(g.Profile, g.Serials, summary, force)).Select(batch =>
        {
            summary.Count(batch);
            return batch;
        });
    }

    private IEnumerable<IReadOnlyList<AdeAssignmentResult>> AssignTo(AdeProfile profile, IEnumerable<string> serials, AssignmentSummary summary, bool force)
    {
        // The token's own row only: the token list would count its devices (all of them) for nothing.
        var (token, credentials) = tokens.ForCalls(profile.TokenId);
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

        // Batch b's request to Apple is under way while batch b-1's answers are recorded and written out: the store's
        // work and Apple's overlap. Only one request is ever in flight, and only when the answers before it were final
        // (nothing THROTTLED to retry). With OverlapRecording, batch b-1's final answers are written by a task of their
        // own while batch b's stored state is read and checked (the batches share no device, and final answers ask
        // nothing more of Apple or of the host); the worker waits for that write before it goes on, so writes stay one
        // at a time and in batch order. Results come out in the same order either way.
        if (distinct.Count > MaxBatch)
        {
            store.Write(s => s.Devices.RefreshPlannerStatistics());
        }

        AppleClient? client = null;
        Definition? definition = null;
        Sending? inFlight = null;
        Task<List<AdeAssignmentResult>>? recording = null;
        AppleAssignProfileResponse? answered = null;
        try
        {
            var batches = (distinct.Count + MaxBatch - 1) / MaxBatch;
            for (var b = 0; b < batches; b++)
            {
                var batch = distinct.GetRange(b * MaxBatch, Math.Min(MaxBatch, distinct.Count - b * MaxBatch));
                host.WriteProgress(new AdeProgress(2, $"Assigning profile '{profile.Name}'", $"Batch {b + 1} of {batches} ({Counted.Of(batch.Count, "device")})", b * 100 / batches));

                // The previous batch's first answer: when something must be retried (or the definition was lost), it is
                // finished here, before this batch is checked, exactly as without the overlap; final answers are
                // recorded while this batch is checked.
                List<AdeAssignmentResult>? previous = null;
                if (inFlight is not null)
                {
                    var finished = inFlight;
                    inFlight = null;
                    var answer = Answer(finished, token);
                    if (answer is null || !IsFinal(answer, finished.Serials))
                    {
                        previous = Send(client!, token, profile, definition!, finished.Serials, finished.Current, answer);
                    }
                    else if (!OverlapRecording)
                    {
                        inFlight = finished;
                        answered = answer;
                    }
                    else
                    {
                        var (c, d) = (client!, definition!);
                        recording = Task.Run(() => Send(c, token, profile, d, finished.Serials, finished.Current, answer));
                    }
                }

                var local = new List<AdeAssignmentResult>();
                Sending? next = null;
                var (send, current) = Check(profile, token, batch, summary, force, local);
                if (send.Count > 0)
                {
                    client ??= apple.ForToken(credentials());
                    definition ??= new Definition(EnsureDefined(client, profile, token));
                    next = Start(client, definition.Uuid, send, current);
                }

                if (answered is not null)
                {
                    // without the overlap: batch b-1's answers are written now, after batch b was checked and sent
                    var finished = inFlight!;
                    var answer = answered;
                    (inFlight, answered) = (next, null);
                    previous = Send(client!, token, profile, definition!, finished.Serials, finished.Current, answer);
                }
                else
                {
                    inFlight = next;
                }

                if (recording is not null)
                {
                    var written = recording;
                    recording = null;
                    previous = written.GetAwaiter().GetResult();
                }

                if (previous is { Count: > 0 })
                {
                    yield return previous;
                }

                if (local.Count > 0)
                {
                    yield return local;
                }
            }

            if (inFlight is not null)
            {
                var last = inFlight;
                inFlight = null;
                var answer = Answer(last, token);
                yield return Send(client!, token, profile, definition!, last.Serials, last.Current, answer);
            }
        }
        finally
        {
            // Stopped early (a failure, or the pipeline stopped taking results): a write of answers under way is
            // finished first (its own failure gives way to the operation's), then what Apple did with a request still
            // under way is recorded, so that the store matches Apple.
            if (recording is not null)
            {
                try
                {
                    recording.GetAwaiter().GetResult();
                }
                catch (Exception ex) when (ex is AdeException or OperationCanceledException)
                {
                    // the operation's own failure stands
                }
            }

            if (inFlight is not null)
            {
                RecordAbandoned(client!, token, profile, definition!, inFlight);
            }
        }

        host.WriteProgress(new AdeProgress(2, $"Assigning profile '{profile.Name}'", "Done", 100, Completed: true));
    }

    /// <summary>
    /// Whether a batch's final answers are written while the next batch's stored state is read (two connections at
    /// once). On a server store the two statements run in two server processes, in parallel; SQLite runs both in this
    /// process, where the overlap only splits the same cores between two connections that each keep their own page cache
    /// (measured: about an eighth more engine CPU for 200,000 devices). Tests set it to run either way on either provider.
    /// </summary>
    internal bool OverlapRecording { get; set; }

    /// <summary>The UUID Apple holds for the profile being assigned; a redefinition during the operation replaces it.</summary>
    internal sealed class Definition(string uuid)
    {
        public string Uuid { get; set; } = uuid;
    }

    /// <summary>An assignment request under way: the devices it carries, their state before it, the UUID it sent.</summary>
    internal sealed record Sending(List<string> Serials, IReadOnlyDictionary<string, DeviceState> Current, string Uuid, Task<AppleAssignProfileResponse> Request);

    /// <summary>
    /// How long a request already sent to Apple is still awaited once the operation is stopped (Ctrl+C, or the pipeline
    /// taking no more results, as with Select-Object -First): Apple carries out a request it received whether or not its
    /// answer is read, so its answer is awaited and recorded to keep the store matching Apple. Past this wait the
    /// request is given up; its outcome is then unknown and the token's next sync brings Apple's state of those devices.
    /// </summary>
    internal TimeSpan StoppedRequestWait { get; set; } = TimeSpan.FromSeconds(30);

    private Sending Start(AppleClient client, string uuid, List<string> serials, IReadOnlyDictionary<string, DeviceState> current)
    {
        // Nothing new is sent once stopped. A request sent is not cancelled with the operation: a stop gives it
        // StoppedRequestWait to finish instead of dropping it on its way to (or back from) Apple.
        host.Cancellation.ThrowIfCancellationRequested();
        var giveUp = new CancellationTokenSource();
        var onStop = host.Cancellation.Register(() => giveUp.CancelAfter(StoppedRequestWait));
        var request = client.AssignProfileAsync(uuid, serials, cancellationToken: giveUp.Token, outlivesStop: true);
        _ = request.ContinueWith(_ =>
        {
            onStop.Dispose();
            giveUp.Dispose();
        }, CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return new(serials, current, uuid, request);
    }

    /// <summary>
    /// The first answer to a request under way; null when Apple no longer knows the profile (the caller sends again,
    /// which defines it again). Token failures mark the token, as every call to Apple does.
    /// </summary>
    private AppleAssignProfileResponse? Answer(Sending sending, AdeToken token)
    {
        try
        {
            return tokens.Guard(token, () => sending.Request.GetAwaiter().GetResult());
        }
        catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.AppleProfileNotFound))
        {
            return null;
        }
    }

    /// <summary>True when nothing in the answer is to be retried (no THROTTLED device).</summary>
    private static bool IsFinal(AppleAssignProfileResponse response, List<string> serials)
    {
        foreach (var serial in serials)
        {
            if (response.Devices.TryGetValue(serial, out var status) && status == AppleDeviceStatus.Throttled)
            {
                return false;
            }
        }

        return true;
    }

    private void RecordAbandoned(AppleClient client, AdeToken token, AdeProfile profile, Definition definition, Sending sending)
    {
        try
        {
            var answer = sending.Request.GetAwaiter().GetResult();
            Send(client, token, profile, definition, sending.Serials, sending.Current, answer, retry: false);
        }
        catch (Exception ex) when (ex is AdeException or OperationCanceledException or HttpRequestException)
        {
            // The request failed, or was given up after StoppedRequestWait: nothing known to record (the next sync brings
            // Apple's state). The operation's own failure stands.
        }
    }

    /// <summary>Checks a batch against the store's devices and the rules; the results of devices not sent go to <paramref name="local"/>.</summary>
    private (List<string> Send, Dictionary<string, DeviceState> Current) Check(AdeProfile profile, AdeToken token, List<string> batch, AssignmentSummary summary, bool force, List<AdeAssignmentResult> local)
    {
        var now = time.GetUtcNow();
        var current = CurrentState(token.Id, batch);
        var send = new List<string>();
        foreach (var serial in batch)
        {
            if (!current.TryGetValue(serial, out var state))
            {
                summary.Unknown++;
                local.Add(Result(serial, profile, null, AdeAssignmentStatus.UnknownDevice, null));
                continue;
            }

            if (state.Platform != profile.Platform && (state.Platform is not null || !force))
            {
                summary.PlatformMismatch.Add(serial);
                local.Add(Result(serial, profile, state.ProfileName, AdeAssignmentStatus.PlatformMismatch, null));
                continue;
            }

            if (profile.SharedIPad && state.IPad != true && (state.IPad is not null || !force))
            {
                // Shared iPad (Apple's is_multi_user) is for iPads only; an iPhone given it would have no use of it
                summary.NotIPad++;
                local.Add(Result(serial, profile, state.ProfileName, AdeAssignmentStatus.SharedIPadOnly, null));
                continue;
            }

            if (state.FailedAt is { } failed && now < failed + FailedCooldown)
            {
                summary.HeldBack++;
                local.Add(Result(serial, profile, state.ProfileName, AdeAssignmentStatus.Failed, failed + FailedCooldown));
                continue;
            }

            var unchanged = string.Equals(state.ProfileName, profile.Name, StringComparison.Ordinal);
            if (host.ShouldProcess($"{serial} (token '{token.Name}')", unchanged
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

        return (send, current);
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

        /// <summary>Devices not sent because Apple answered FAILED for them less than 24 hours ago.</summary>
        public int HeldBack { get; internal set; }

        /// <summary>iPhones and iPods not sent a Shared iPad profile (SharedIPadOnly).</summary>
        public int NotIPad { get; internal set; }

        /// <summary>Serials of devices of another (or unknown) platform than the profile's: nothing was sent for them.</summary>
        public List<string> PlatformMismatch { get; } = [];

        /// <summary>Results written, and those other than Success and PlatformMismatch (which has its own warning), by status.</summary>
        private int results;
        private readonly SortedDictionary<AdeAssignmentStatus, int> notAssigned = [];

        internal void Count(IReadOnlyList<AdeAssignmentResult> batch)
        {
            foreach (var r in batch)
            {
                results++;
                if (r.Status is not (AdeAssignmentStatus.Success or AdeAssignmentStatus.PlatformMismatch))
                {
                    notAssigned[r.Status] = notAssigned.GetValueOrDefault(r.Status) + 1;
                }
            }
        }

        /// <summary>
        /// One warning for the whole operation when devices were not assigned (Apple refused, throttled, or the engine
        /// does not know them): each result says so, but a scheduled script that only logs warnings would otherwise not
        /// know. Null when every device got the profile.
        /// </summary>
        public string? NotAssignedWarning => notAssigned.Count == 0 ? null
            : $"{Counted.Of(notAssigned.Values.Sum(), "device")} of {Counted.N(results)} did not get profile {string.Join(", ", Profiles.Select(p => $"'{p}'"))}: "
              + string.Join(", ", notAssigned.Select(kv => $"{Counted.N(kv.Value)} {kv.Key} ({Reason(kv.Key)})"))
              + ". The results say which (| Where-Object Status -ne 'Success').";

        private static string Reason(AdeAssignmentStatus status) => status switch
        {
            AdeAssignmentStatus.Failed => "Apple refused; not sent again for 24 hours",
            AdeAssignmentStatus.NotAccessible => "not on this token's MDM server in Apple Business Manager",
            AdeAssignmentStatus.Throttled => "Apple's limit; send again after RetryAfter",
            AdeAssignmentStatus.UnknownDevice => "not among the devices of the profile's token: another token's device, or not synced yet",
            AdeAssignmentStatus.SharedIPadOnly => "iPhones or iPods: a Shared iPad profile is for iPads only; assign them another iOS profile",
            _ => status.ToString(),
        };

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
                var platform = PlatformMismatch.Count > 0 ? $"; {Counted.Of(PlatformMismatch.Count, "device")} of another platform" : "";
                var heldBack = HeldBack > 0 ? $"; {Counted.Of(HeldBack, "device")} held back 24 hours after Apple's FAILED" : "";
                var notIPad = NotIPad > 0 ? $"; {Counted.Of(NotIPad, "iPhone or iPod", "iPhones or iPods")} that a Shared iPad profile is not for" : "";
                return $"{Counted.Of(Declined, "device")} would be assigned {profile} on {where} ({Counted.N(Unchanged)} unchanged{unknown}{platform}{heldBack}{notIPad}).";
            }
        }
    }

    /// <summary>The devices holding the profile that are not (known to be) iPads: a Shared iPad profile is not for them.</summary>
    internal IReadOnlyList<string> HoldersNotIPads(AdeProfile profile)
    {
        var holders = store.Read(s => s.Devices.GetProfileHolders(profile.Id));
        return holders.Count == 0 ? [] : [.. CurrentState(profile.TokenId, holders).Where(d => d.Value.IPad != true).Select(d => d.Key).Order(StringComparer.Ordinal)];
    }

    /// <summary>Whether the profile is a Shared iPad profile (a sync offers such a default to iPads only).</summary>
    internal bool IsSharedIPad(Guid profileId) => profiles.GetWithoutDeviceCount(profileId).SharedIPad;

    /// <summary>Defines a changed profile at Apple again and re-assigns the devices that hold it (after Set-AdeProfile).</summary>
    internal void Redefine(Guid profileId)
    {
        var profile = profiles.Get(id: profileId).Single();
        var token = tokens.GetTokens(id: profile.TokenId).Single();
        EnsureDefined(apple.ForToken(tokens.Credentials(token)), profile, token);
    }

    /// <summary>
    /// During a sync, before a page is written: asks Apple to assign the token's default profile <paramref name="profileId"/>
    /// to devices of the page that arrive without a profile, without recording anything. Apple's answers (THROTTLED ones
    /// retried as for any assignment) are added to <paramref name="answers"/> as they come, in journal order, so that
    /// the sync writes them with the page; those received before a failure stay there.
    /// </summary>
    internal void AttemptDefault(AppleClient client, AdeToken token, Guid profileId, IReadOnlyList<string> serials, List<AssignmentAnswer> answers)
    {
        if (serials.Count == 0)
        {
            return;
        }

        var profile = profiles.GetWithoutDeviceCount(profileId);
        var definition = new Definition(EnsureDefined(client, profile, token));
        for (var i = 0; i < serials.Count; i += MaxBatch)
        {
            var batch = serials.Skip(i).Take(MaxBatch).ToList();
            Send(client, token, profile, definition, batch, NoCurrentState, deferred: answers);
        }
    }

    /// <summary>A sync's default-profile request sent to Apple and not yet answered (<see cref="StartDefault"/>).</summary>
    internal sealed record DefaultRequest(AdeProfile Profile, Definition Definition, List<string> Serials, Sending First);

    /// <summary>
    /// <see cref="AttemptDefault"/> in two halves, so that a sync can write its previous page while Apple answers: this
    /// one defines the profile at Apple if needed and sends the first request (up to 1000 serials) without waiting for
    /// it; <see cref="FinishDefault"/> takes Apple's answer and does the rest exactly as AttemptDefault would.
    /// </summary>
    internal DefaultRequest StartDefault(AppleClient client, AdeToken token, Guid profileId, IReadOnlyList<string> serials)
    {
        var profile = profiles.GetWithoutDeviceCount(profileId);
        var definition = new Definition(EnsureDefined(client, profile, token));
        var all = serials.ToList();
        return new DefaultRequest(profile, definition, all, Start(client, definition.Uuid, all.GetRange(0, Math.Min(MaxBatch, all.Count)), NoCurrentState));
    }

    /// <summary>Apple's answers to a request of <see cref="StartDefault"/> (and the batches after it), added to <paramref name="answers"/>.</summary>
    internal void FinishDefault(AppleClient client, AdeToken token, DefaultRequest request, List<AssignmentAnswer> answers)
    {
        // null: Apple no longer knows the profile; Send asks again, which defines it again
        var first = Answer(request.First, token);
        Send(client, token, request.Profile, request.Definition, request.First.Serials, NoCurrentState, first, deferred: answers);
        for (var i = MaxBatch; i < request.Serials.Count; i += MaxBatch)
        {
            Send(client, token, request.Profile, request.Definition, request.Serials.GetRange(i, Math.Min(MaxBatch, request.Serials.Count - i)), NoCurrentState, deferred: answers);
        }
    }

    /// <summary>A run that stops with a default request under way waits for it (nothing outlives the run) and drops its answer.</summary>
    internal static void AbandonDefault(DefaultRequest request)
    {
        try
        {
            request.First.Request.GetAwaiter().GetResult();
        }
        catch (Exception)
        {
            // the dropped request's own failure (or cancellation) is nobody's error: its page is not written
        }
    }

    /// <summary>Apple's answer for one device of an assignment (AppleDeviceStatus), with the profile UUID it was asked for.</summary>
    internal readonly record struct AssignmentAnswer(string SerialNumber, string Answer, Guid ProfileId, string ProfileName, string ProfileUuid);

    /// <summary>A device as an assignment checks it; <paramref name="IPad"/> null when Apple's record does not say.</summary>
    internal sealed record DeviceState(string? ProfileName, DateTimeOffset? FailedAt, DevicePlatform? Platform, bool? IPad = null);

    private static readonly IReadOnlyDictionary<string, DeviceState> NoCurrentState = new Dictionary<string, DeviceState>();

    private Dictionary<string, DeviceState> CurrentState(Guid tokenId, IReadOnlyList<string> serials)
    {
        var rows = store.Read(s => s.Devices.GetAssignmentStates(tokenId, serials));
        var map = new Dictionary<string, DeviceState>(rows.Count, StringComparer.Ordinal);
        foreach (var row in rows)
        {
            map[row.SerialNumber] = new DeviceState(row.ProfileName, row.AssignFailedAt, DevicePlatforms.Of(row.DeviceFamily, row.Os), DevicePlatforms.IsIPad(row.DeviceFamily, row.Os));
        }

        return map;
    }

    /// <summary>One request of at most 1000 serials, THROTTLED ones retried after Apple's wait until the time bound.</summary>
    /// <remarks>
    /// <paramref name="first"/>: Apple's answer to the first request when it was sent already (null: send it here).
    /// Without <paramref name="retry"/> (the operation stopped), THROTTLED devices are recorded as such, not retried.
    /// With <paramref name="deferred"/>, Apple's answers are added to it instead of being recorded in the store.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
    private List<AdeAssignmentResult> Send(AppleClient client, AdeToken token, AdeProfile profile, Definition definition, List<string> serials,
        IReadOnlyDictionary<string, DeviceState> current, AppleAssignProfileResponse? first = null, bool retry = true, List<AssignmentAnswer>? deferred = null)
    {
        var results = new List<AdeAssignmentResult>(serials.Count);
        var deadline = time.GetUtcNow() + MaxThrottleWait;
        var pending = serials;
        var redefined = false;
        while (pending.Count > 0)
        {
            var batch = pending;
            var uuid = definition.Uuid;
            AppleAssignProfileResponse response;
            try
            {
                response = first ?? tokens.Guard(token, () => client.AssignProfileAsync(uuid, batch, cancellationToken: host.Cancellation).GetAwaiter().GetResult());
                first = null;
            }
            catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.AppleProfileNotFound) && !redefined)
            {
                // Apple lost the definition (or it was removed): define the profile again once, then retry.
                redefined = true;
                store.Write(s =>
                {
                    s.Profiles.SetAppleDefinition(profile.Id, null, null);
                    return 0;
                });
                definition.Uuid = EnsureDefined(client, profile, token);
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

            if (deferred is null)
            {
                Record(token.Id, profile, uuid, success, failed, throttled, notAccessible, now);
            }
            else
            {
                // the order Record journals them in
                foreach (var (list, answer) in new[] { (success, AppleDeviceStatus.Success), (failed, AppleDeviceStatus.Failed), (throttled, AppleDeviceStatus.Throttled), (notAccessible, AppleDeviceStatus.NotAccessible) })
                {
                    deferred.AddRange(list.Select(serial => new AssignmentAnswer(serial, answer, profile.Id, profile.Name, uuid)));
                }
            }

            results.AddRange(success.Select(serial => Result(serial, profile, Previous(current, serial), AdeAssignmentStatus.Success, null)));
            if (throttled.Count == 0)
            {
                break;
            }

            var wait = TimeSpan.FromSeconds(Math.Max(1, response.RetryAfterSeconds ?? 60));
            if (!retry || time.GetUtcNow() + wait > deadline)
            {
                results.AddRange(throttled.Select(serial => Result(serial, profile, Previous(current, serial), AdeAssignmentStatus.Throttled, now + wait)));
                break;
            }

            host.WriteVerbose($"Apple throttled {Counted.Of(throttled.Count, "device")}; retrying in {Counted.Of((long)wait.TotalSeconds, "second")}.");
            EngineClock.Wait(wait, host.Cancellation).GetAwaiter().GetResult();
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

        var outcomes = new[]
        {
            new AssignmentOutcome(AppleDeviceStatus.Success, AssignmentEffect.Assigned, success),
            new AssignmentOutcome(AppleDeviceStatus.Failed, AssignmentEffect.Failed, failed),
            new AssignmentOutcome(AppleDeviceStatus.Throttled, AssignmentEffect.AttemptOnly, throttled),
            new AssignmentOutcome(AppleDeviceStatus.NotAccessible, AssignmentEffect.AttemptOnly, notAccessible),
        };
        store.Write(s =>
        {
            // Another session removed the profile while Apple took it (Remove-AdeProfile saw no device holding it yet):
            // said as it is, with what Apple now holds, rather than as a failed write to try again.
            if (s.Profiles.Get(profile.Id) is null)
            {
                throw ErrorCatalog.ProfileRemovedDuringAssignment(profile.Name, profile.Token, success);
            }

            // The last attempt on each device (Get-AdeDevice shows it), its effect, and the journal, in one transaction.
            s.Devices.RecordAssignments(new AssignmentRecord(tokenId, profile.Id, profile.Name, uuid, now, outcomes));
            foreach (var outcome in outcomes)
            {
                var kind = outcome.Result switch
                {
                    AppleDeviceStatus.Success => AdeDeviceEventKind.ProfileAssigned,
                    AppleDeviceStatus.Throttled => AdeDeviceEventKind.AssignmentThrottled,
                    _ => AdeDeviceEventKind.AssignmentFailed,
                };
                var detail = $"{profile.Name}: {outcome.Result}";
                s.DeviceEvents.Append(tokenId, now, outcome.Serials.Select(serial => new NewDeviceEventRow(serial, kind, detail)).ToList());
            }

            return 0;
        });
    }

    /// <summary>
    /// Defines the profile at Apple when it never was or when what Apple holds differs from the settings now; after a
    /// redefinition the devices that held the old definition are assigned the new one. The settings' hash is stored
    /// only once they all were sent: a re-assignment that fails on the way (Apple unreachable, Ctrl+C) leaves the
    /// profile without it, so the next operation on the profile defines it again and re-sends every holder, instead
    /// of taking the profile for up to date while devices still hold the old definition.
    /// </summary>
    private string EnsureDefined(AppleClient client, AdeProfile profile, AdeToken token)
    {
        if (token.EnrollmentUrl is null)
        {
            throw ErrorCatalog.EnrollmentUrlMissing(token.Name);
        }

        var appleProfile = AppleProfileBuilder.Build(profile.Name, profile.Settings, token.EnrollmentUrl);
        var hash = AppleProfileBuilder.Hash(appleProfile);
        var stored = store.Read(s => s.Profiles.Get(profile.Id)) ?? throw ErrorCatalog.ProfileNotFound(profile.Id.ToString());
        var (uuid, definedHash) = (stored.AppleProfileUuid, stored.AppleDefinedHash);
        if (uuid is not null && definedHash == hash)
        {
            return uuid;
        }

        AppleDefineProfileResponse response;
        try
        {
            response = tokens.Guard(token, () => client.DefineProfileAsync(appleProfile, host.Cancellation).GetAwaiter().GetResult());
        }
        catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.AppleRequestInvalid))
        {
            throw ErrorCatalog.ProfileDefinitionRefused(profile.Name, token.Name, ex.AppleCode, ex);
        }

        var defined = response.ProfileUuid;
        var (newUuid, holders) = store.Write(s =>
        {
            // Another process or host may have defined these same settings while our definition was under way (two
            // hosts assigning a new profile at once both define it). The definition stored first stays: every host
            // then assigns the one the store names, and ours is left unused at Apple.
            var now = s.Profiles.Get(profile.Id) ?? throw ErrorCatalog.ProfileNotFound(profile.Id.ToString());
            if (now.AppleProfileUuid is { } theirs && theirs != uuid && now.AppleDefinedHash == hash)
            {
                return (theirs, (IReadOnlyList<string>)[]);
            }

            IReadOnlyList<string> moving = uuid is null ? [] : s.Devices.GetProfileHolders(profile.Id);
            s.Profiles.SetAppleDefinition(profile.Id, defined, moving.Count == 0 ? hash : null);
            return (defined, moving);
        });
        host.WriteVerbose(uuid is null
            ? $"Defined profile '{profile.Name}' at Apple ({newUuid})."
            : $"Profile '{profile.Name}' changed: defined again at Apple ({newUuid}); re-assigning it to the {Counted.Of(holders.Count, "device")} that hold it.");
        var holderDefinition = new Definition(newUuid);
        for (var i = 0; i < holders.Count; i += MaxBatch)
        {
            Send(client, token, profile, holderDefinition, holders.Skip(i).Take(MaxBatch).ToList(), new Dictionary<string, DeviceState>());
        }

        if (holders.Count > 0)
        {
            // Every holder was sent the definition: the profile is up to date (unless it was defined again meanwhile).
            store.Write(s =>
            {
                if (s.Profiles.Get(profile.Id) is { AppleDefinedHash: null } now && now.AppleProfileUuid == holderDefinition.Uuid)
                {
                    s.Profiles.SetAppleDefinition(profile.Id, holderDefinition.Uuid, hash);
                }

                return 0;
            });
        }

        return holderDefinition.Uuid;
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

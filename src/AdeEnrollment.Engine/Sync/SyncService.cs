using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Sync;

/// <summary>
/// Device sync (about_AdeEnrollment.md, "Device sync"): decides with <see cref="SyncPolicy"/>, takes the token's lease in the store, pages through
/// Apple's fetch/sync endpoints and commits each page together with the cursor it came with, so that a sync
/// interrupted anywhere loses nothing and duplicates nothing.
/// </summary>
public sealed class SyncService
{
    public const int MaxDevicesPerToken = 200_000;
    public const int DevicesPerMinuteFromApple = 3000;
    public const int PageSize = 1000;

    /// <summary>
    /// The most pages one sync takes from Apple: a token at Intune's limit of 200,000 devices fills 2,000 pages even
    /// at Apple's smallest default page of 100 devices. A cursor that keeps saying "more to follow" beyond that is
    /// stopped with SyncPageLimitExceeded (so is one run receiving more than twice the limit in devices).
    /// </summary>
    public const int DefaultMaxPagesPerSync = MaxDevicesPerToken / 100;

    /// <summary>The bound on pages per sync (tests lower it).</summary>
    internal int MaxPagesPerSync { get; set; } = DefaultMaxPagesPerSync;
    private const int HistoryShown = 20;
    private const string SyncInProgressNotDue = "InProgress";
    private const string WhatIf = "WhatIf";

    private readonly AdeStore store;
    private readonly TimeProvider time;
    private readonly IAdeHost host;
    private readonly TokenService tokens;
    private readonly AppleClientFactory apple;
    private readonly AssignmentService assignments;

    internal SyncService(AdeStore store, TimeProvider time, IAdeHost host, TokenService tokens, AppleClientFactory apple, AssignmentService assignments)
    {
        this.assignments = assignments;
        this.store = store;
        this.time = time;
        this.host = host;
        this.tokens = tokens;
        this.apple = apple;
    }

    /// <summary>Syncs one token, or returns a NotDue result for <paramref name="ifDue"/> when nothing is due.</summary>
    public AdeSyncResult? Sync(string tokenRef, bool full = false, bool ifDue = false)
    {
        var id = tokens.SyncTokenId(tokenRef);
        var now = time.GetUtcNow();
        // The token and, for -IfDue, its sync state in one read: on a server store, one transaction instead of two.
        var (forSync, state) = store.Read(s => ifDue ? tokens.ForSyncWithState(s, id, now) : (tokens.ForSync(s, id, now), null));
        if (forSync is null)
        {
            throw ErrorCatalog.TokenNotFound(tokenRef);
        }

        var notDue = ifDue ? NotDueFromRead(state, now, full) : null;
        return Sync(forSync.Token, forSync, full, ifDue, now, notDue);
    }

    /// <summary>How many piped tokens <see cref="SyncIfDue"/> decides with one read (Sync-AdeDevice -IfDue hands them over in batches of this size).</summary>
    public const int IfDueBatchSize = 100;

    /// <summary>How many due tokens <see cref="SyncIfDue"/> syncs at once unless told otherwise (Sync-AdeDevice -ThrottleLimit).</summary>
    public const int DefaultIfDueConcurrency = 4;

    /// <summary>The most tokens <see cref="SyncIfDue"/> syncs at once.</summary>
    public const int MaxIfDueConcurrency = 32;

    /// <summary>
    /// A scheduler's pass over piped tokens (<c>Get-AdeToken | Sync-AdeDevice -IfDue</c>): one read takes the listed
    /// tokens and their sync states for the whole batch, and every token that is not due is answered from it (the rule
    /// of <see cref="NotDueFromRead"/>, which a single token's sync uses too). Only a token that may be due goes on to
    /// the write that takes its lease: there it is decided again (another host may have synced it since the read) and
    /// its credentials are read in that same transaction, so they are never older than the lease.
    /// <para>
    /// Up to <paramref name="concurrency"/> due tokens sync at once, each under its own lease (a token named twice
    /// syncs after its first run ended, so it is then not due). Most of a small token's sync is waiting for Apple and
    /// for the store; the store's writes stay one at a time. Yields one outcome per token, in the order given: its
    /// result (null under -WhatIf) or its catalogued failure, after which the pass goes on; Ctrl+C ends the pass, and
    /// it ends only once every sync it started has ended.
    /// </para>
    /// </summary>
    public IEnumerable<SyncOutcome> SyncIfDue(IReadOnlyList<string> tokenRefs, int concurrency = 1)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(concurrency, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(concurrency, MaxIfDueConcurrency);
        var ids = new Guid?[tokenRefs.Count];
        var outcomes = new Task<SyncOutcome>[tokenRefs.Count];
        for (var i = 0; i < tokenRefs.Count; i++)
        {
            try
            {
                ids[i] = tokens.SyncTokenId(tokenRefs[i]);
            }
            catch (AdeException ex)
            {
                outcomes[i] = Task.FromResult(new SyncOutcome(tokenRefs[i], null, ex));
            }
        }

        var wanted = ids.OfType<Guid>().Distinct().ToList();
        var now = time.GetUtcNow();
        // One statement for the batch: on a server store, one round trip and no transaction block.
        var listed = store.ReadStatement(s => s.Tokens.ListOfWithSyncStates(wanted)).ToDictionary(x => x.Token.Id);
        // Each sync running at once reports its progress as an activity of its own.
        var progressIds = new ConcurrentStack<int>(Enumerable.Range(1, concurrency).Reverse());
        var latestOfToken = new Dictionary<Guid, Task>();
        var yielded = 0;
        try
        {
            for (var i = 0; i < tokenRefs.Count; i++)
            {
                host.Cancellation.ThrowIfCancellationRequested();
                if (outcomes[i] is null)
                {
                    var tokenRef = tokenRefs[i];
                    if (!listed.TryGetValue(ids[i]!.Value, out var row))
                    {
                        outcomes[i] = Task.FromResult(new SyncOutcome(tokenRef, null, ErrorCatalog.TokenNotFound(tokenRef)));
                    }
                    else if (NotDueFromRead(row.State, now) is { } notDue)
                    {
                        var token = TokenService.ToToken(row.Token, now);
                        outcomes[i] = Task.FromResult(new SyncOutcome(tokenRef, NotDueResult(token, notDue.Decision, notDue.State, now), null));
                    }
                    else
                    {
                        // Fewer than `concurrency` syncs running, and before that the outcomes that are ready handed
                        // on: with one at a time, a token's sync starts only once the one before it was handed on (and
                        // decides on what happened meanwhile). A sync counts as running until its outcome is complete.
                        while (true)
                        {
                            while (yielded < i && outcomes[yielded].IsCompleted)
                            {
                                yield return outcomes[yielded++].GetAwaiter().GetResult();
                            }

                            var running = outcomes.Skip(yielded).Take(i - yielded).Where(o => !o.IsCompleted).ToList();
                            if (running.Count < concurrency)
                            {
                                break;
                            }

                            WaitHandle.WaitAny([.. running.Select(o => ((IAsyncResult)o).AsyncWaitHandle), host.Cancellation.WaitHandle]);
                            host.Cancellation.ThrowIfCancellationRequested();
                        }

                        progressIds.TryPop(out var progressId);
                        var token = TokenService.ToToken(row.Token, now);
                        SyncOutcome Run()
                        {
                            try
                            {
                                return SyncDue(tokenRef, token, progressId);
                            }
                            finally
                            {
                                progressIds.Push(progressId);
                            }
                        }

                        // A thread of its own: a sync waits for Apple and the store by blocking, which on pool threads
                        // would starve the pool of the threads that complete those waits.
                        var run = latestOfToken.TryGetValue(token.Id, out var earlier)
                            ? earlier.ContinueWith(_ => Run(), CancellationToken.None, TaskContinuationOptions.LongRunning, TaskScheduler.Default)
                            : Task.Factory.StartNew(Run, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default);
                        latestOfToken[token.Id] = outcomes[i] = run;
                    }
                }

                while (yielded <= i && outcomes[yielded].IsCompleted)
                {
                    yield return outcomes[yielded++].GetAwaiter().GetResult();
                }
            }

            while (yielded < tokenRefs.Count)
            {
                yield return Blocking.Wait(outcomes[yielded++]);
            }
        }
        finally
        {
            // Stopped early (Ctrl+C, a failed host action, a consumer that wants no more): the syncs under way end first.
            foreach (var started in outcomes.Skip(yielded).Where(o => o is not null))
            {
                ((IAsyncResult)started).AsyncWaitHandle.WaitOne();
            }
        }
    }

    /// <summary>One due token of a scheduler's pass: its outcome (its failure included), unless the pass is stopped.</summary>
    private SyncOutcome SyncDue(string tokenRef, AdeToken token, int progressId)
    {
        try
        {
            return new SyncOutcome(tokenRef, Sync(token, null, full: false, ifDue: true, time.GetUtcNow(), null, progressId), null);
        }
        catch (Exception ex) when (!host.Cancellation.IsCancellationRequested && ex is not OperationCanceledException
            && ex is not AdeException { ErrorId: nameof(ErrorCatalog.OperationStopped) })
        {
            return new SyncOutcome(tokenRef, null, ex);
        }
    }

    /// <summary>
    /// Decides under the lease and runs the sync. <paramref name="notDue"/>: already answered from a read. Without
    /// <paramref name="read"/>, the token (credentials, default profiles) is read inside the write that takes the lease.
    /// </summary>
    private AdeSyncResult? Sync(AdeToken token, TokenForSync? read, bool full, bool ifDue, DateTimeOffset now, (SyncDecision Decision, SyncStateRow State)? notDue, int progressId = 1)
    {
        var forSync = read;
        var lease = Guid.NewGuid().ToString();
        var askedFirst = false;
        if (notDue is null && host.ShouldProcessMayAsk)
        {
            // A question (-Confirm) is asked before the write that takes the lease: a person reading a prompt must not
            // hold the store's write lock, which every other writer of the store (other processes, other hosts) waits
            // for. The write decides again; what it finds then is what runs.
            if (store.Read(s => Preview(s, token.Id, now, full, ifDue)) is { Run: true } preview)
            {
                if (!host.ShouldProcess(token.Name, SyncAction(preview)))
                {
                    return null;
                }

                askedFirst = true;
            }
        }

        var leaseLapsed = false;
        var (decision, historyId, state) = (notDue is { } answered ? (answered.Decision, 0L, answered.State) : default((SyncDecision, long, SyncStateRow)?)) ?? store.WriteForToken(token.Id, s =>
        {
            SyncStateRow? stored;
            if (read is null)
            {
                (forSync, stored) = tokens.ForSyncWithState(s, token.Id, now);
                token = (forSync ?? throw ErrorCatalog.TokenNotFound(token.Name)).Token;
            }
            else
            {
                stored = s.Sync.GetState(token.Id);
            }

            var st = stored ?? s.Sync.CreateState(token.Id);
            st = LapseExpiredLease(s, token.Id, st, now, out leaseLapsed);
            if (st.LeaseId is not null)
            {
                if (ifDue)
                {
                    // A scheduler's sync is not due while another one runs: no error, nothing asked of Apple.
                    return (new SyncDecision(false, AdeSyncKind.Delta, AdeSyncTrigger.Automatic, st.LeaseExpiresAt, SyncInProgressNotDue), 0L, st);
                }

                throw ErrorCatalog.SyncInProgress(token.Name, st.LeaseExpiresAt!.Value - SyncPolicy.LeaseDuration, st.LeaseExpiresAt.Value);
            }

            var d = SyncPolicy.Decide(HistoryOf(st), now, full, ifDue);
            if (!d.Run)
            {
                return (d, 0L, st);
            }

            if (!askedFirst && !host.ShouldProcess(token.Name, SyncAction(d)))
            {
                return (d with { Run = false, RefusedBy = WhatIf }, 0L, st);
            }

            if (d.ClockSkew)
            {
                // Once: the times from the future are dropped, so the next decision no longer sees them.
                s.Sync.DropTimesAfter(token.Id, now + SyncPolicy.MaxClockSkew);
            }

            return (d, s.Sync.StartRun(token.Id, d.Kind, d.Trigger, now, lease, now + SyncPolicy.LeaseDuration), st);
        });

        // Written by the run once it has started (inside what ends it), so that a warning turned into a stop ends the
        // run Stopped and releases the lease it just took; without a run, here.
        var startWarnings = new List<string>();
        if (leaseLapsed)
        {
            startWarnings.Add(LapsedLeaseWarning(token));
        }

        if (decision.Run && decision.ClockSkew)
        {
            var future = new[] { state.LastStartedAt, state.LastSuccessAt, state.LastFullAt }.Max();
            startWarnings.Add($"The sync history of token '{token.Name}' has a sync at {future:u}, later than the current time {now:u}: this computer's clock went backwards or was wrong when that sync ran. The sync runs anyway and the wrong time is dropped; check the system clock and its time synchronisation.");
        }

        if (!decision.Run)
        {
            startWarnings.ForEach(host.WriteWarning);
            return decision.RefusedBy switch
            {
                SyncPolicy.ManualSyncTooSoon => throw ErrorCatalog.ManualSyncTooSoon(token.Name, decision.AllowedAt!.Value,
                    state.LastStartedAt is { } started && !(state.LastSuccessAt >= started) ? started : null),
                SyncPolicy.FullSyncTooSoon => throw ErrorCatalog.FullSyncTooSoon(token.Name, decision.AllowedAt!.Value),
                WhatIf => null,
                _ => NotDueResult(token, decision, state, now),
            };
        }

        var run = new SyncRun(this, forSync!, lease, historyId, decision.Kind, state, now, progressId, startWarnings);
        return run.Execute(decision.Trigger);
    }

    /// <summary>Get-AdeSyncStatus for one token.</summary>
    public AdeSyncState GetStatus(AdeToken token)
    {
        var now = time.GetUtcNow();
        return store.Read(s =>
        {
            var st = s.Sync.GetState(token.Id) ?? SyncStateRow.Empty;
            var leaseLive = st.LeaseId is not null && SyncPolicy.LeaseHolds(st.LeaseExpiresAt, now);
            var history = HistoryAfterLease(st, now);
            var (nextManual, nextFull) = SyncPolicy.NextAllowed(history, now);
            var devices = s.Devices.CountForSync(token.Id);
            var list = ShownHistory(s.Sync.GetHistory(token.Id, HistoryShown), st, now).Select(h => HistoryResult(token, h)).ToList();
            return new AdeSyncState
            {
                Token = token.Name,
                TokenId = token.Id,
                LastSyncAt = st.LastStartedAt,
                LastStatus = list.FirstOrDefault(h => h.Status != AdeSyncStatus.Running)?.Status,
                LastSuccessfulSyncAt = st.LastSuccessAt,
                LastFullSyncAt = st.LastFullAt,
                InProgress = leaseLive,
                LeaseStartedAt = leaseLive ? st.LeaseExpiresAt - SyncPolicy.LeaseDuration : null,
                LeaseExpiresAt = leaseLive ? st.LeaseExpiresAt : null,
                NextSyncIsFull = history.LastSyncStartedAt is null || history.NextMustBeFull,
                NextManualSyncAt = nextManual,
                NextFullSyncAt = nextFull,
                NextAutomaticSyncAt = leaseLive ? Later(SyncPolicy.NextAutomatic(history, now), st.LeaseExpiresAt!.Value) : SyncPolicy.NextAutomatic(history, now),
                DeviceCount = devices.All,
                ExpectedAbmDeliveryMinutes = ExpectedMinutes(devices),
                History = ValueList.Of(list),
            };
        });
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    /// <summary>
    /// ExpectedAbmDeliveryMinutes of a sync result and of Get-AdeSyncStatus: how long Apple takes to deliver the token's
    /// set at <see cref="DevicesPerMinuteFromApple"/> a minute. It counts the devices still assigned in ABM: a device
    /// removed from ABM stays in the store (DeviceCount) until it is purged, but Apple delivers it no more.
    /// </summary>
    internal static double ExpectedMinutes(SyncDeviceTotals devices) => ExpectedMinutes(devices.InAbm);

    private static double ExpectedMinutes(long inAbm) => Math.Round(inAbm / (double)DevicesPerMinuteFromApple, 1);

    private AdeSyncResult NotDueResult(AdeToken token, SyncDecision decision, SyncStateRow state, DateTimeOffset now)
    {
        var (nextManual, nextFull) = SyncPolicy.NextAllowed(HistoryOf(state), now);
        // When a scheduler's next -IfDue run will really sync: while another sync runs, not before its lease ends.
        var nextAutomatic = decision.RefusedBy == SyncInProgressNotDue
            ? Later(SyncPolicy.NextAutomatic(HistoryOf(state), now), decision.AllowedAt ?? now)
            : decision.AllowedAt ?? now;
        host.WriteVerbose(decision.RefusedBy == SyncInProgressNotDue
            ? $"Another sync of token '{token.Name}' is running; no sync is due from this scheduler run. The next automatic sync is due at {nextAutomatic:u} at the earliest."
            : $"No sync of token '{token.Name}' is due; the next automatic sync is due at {nextAutomatic:u}.");
        return new AdeSyncResult
        {
            Token = token.Name,
            TokenId = token.Id,
            Kind = decision.Kind,
            Trigger = decision.Trigger,
            Status = AdeSyncStatus.NotDue,
            StartedAt = now,
            DeviceCount = token.DeviceCount,
            NextManualSyncAt = nextManual,
            NextFullSyncAt = nextFull,
            NextAutomaticSyncAt = nextAutomatic,
            ExpectedAbmDeliveryMinutes = ExpectedMinutes(token.DevicesInAbm),
        };
    }

    // ---- state -----------------------------------------------------------------------------------------------------

    /// <summary>
    /// A scheduler's run over many tokens finds most of them not due: that answer comes from a read, so it takes no
    /// write transaction (on a server store, no wait for the store's write lock). Anything else — due, a lease held
    /// or lapsed, a clock gone backwards, no state yet — is decided again inside the write, under the lease.
    /// </summary>
    internal static (SyncDecision Decision, SyncStateRow State)? NotDueFromRead(SyncStateRow? st, DateTimeOffset now, bool full = false)
    {
        if (st is null || st.LeaseId is not null)
        {
            return null;
        }

        var d = SyncPolicy.Decide(HistoryOf(st), now, full, ifDue: true);
        return d.Run || d.ClockSkew ? null : (d, st);
    }

    private static SyncHistoryState HistoryOf(SyncStateRow s) => new(s.LastStartedAt, s.LastSuccessAt, s.LastFullAt, s.NextMustBeFull);

    private static string SyncAction(SyncDecision d) => $"{d.Kind} sync of the devices Apple assigns to this token ({d.Trigger})";

    /// <summary>
    /// What the lease transaction would decide now, read without the write lock (to ask before it); null while another
    /// sync holds the lease (the write refuses, or answers NotDue, without asking).
    /// </summary>
    private static SyncDecision? Preview(IStoreSession s, Guid tokenId, DateTimeOffset now, bool full, bool ifDue)
    {
        var st = s.Sync.GetState(tokenId) ?? SyncStateRow.Empty;
        return st.LeaseId is not null && SyncPolicy.LeaseHolds(st.LeaseExpiresAt, now)
            ? null
            : SyncPolicy.Decide(HistoryAfterLease(st, now), now, full, ifDue);
    }

    /// <summary>The history as the next sync sees it without writing: a lease that no longer holds makes it full (as <see cref="LapseExpiredLease"/> records).</summary>
    private static SyncHistoryState HistoryAfterLease(SyncStateRow st, DateTimeOffset now)
    {
        var recorded = HistoryOf(st);
        var lapsed = st.LeaseId is not null && !SyncPolicy.LeaseHolds(st.LeaseExpiresAt, now);
        return recorded with { NextMustBeFull = recorded.NextMustBeFull || lapsed };
    }

    private const string LapsedRunMessage = "The sync did not finish within its 15-minute lease (the process stopped or hung).";

    /// <summary>
    /// The history as Get-AdeSyncStatus shows it: the run of a lease that lapsed is failed (the next sync records it so;
    /// a read does not write), not Running.
    /// </summary>
    private static IEnumerable<SyncHistoryRow> ShownHistory(IEnumerable<SyncHistoryRow> rows, SyncStateRow st, DateTimeOffset now)
        => st is { LeaseId: not null, LeaseHistoryId: { } run } && !SyncPolicy.LeaseHolds(st.LeaseExpiresAt, now)
            ? rows.Select(h => h.Id == run && h.Status == AdeSyncStatus.Running
                ? h with { Status = AdeSyncStatus.Failed, FinishedAt = st.LeaseExpiresAt, ErrorId = nameof(ErrorCatalog.SyncLeaseLost), ErrorMessage = LapsedRunMessage }
                : h)
            : rows;

    /// <summary>
    /// A lease older than 15 minutes lapses (so does one from before the clock went backwards,
    /// <see cref="SyncPolicy.LeaseHolds"/>): that sync counts as failed and the next sync is full. This records the
    /// lapsed run as failed and releases the lease (inside the caller's write). Its warning is
    /// the caller's to write once the write is over (<paramref name="lapsed"/>): a warning can become a prompt, which must
    /// not hold the store's write lock, or a stop, which must not leave a lease taken.
    /// </summary>
    private static SyncStateRow LapseExpiredLease(IStoreSession s, Guid tokenId, SyncStateRow st, DateTimeOffset now, out bool lapsed)
    {
        lapsed = false;
        if (st.LeaseId is null || SyncPolicy.LeaseHolds(st.LeaseExpiresAt, now))
        {
            return st;
        }

        if (st.LeaseHistoryId is { } lapsedRun)
        {
            s.Sync.FailLapsedRun(lapsedRun, st.LeaseExpiresAt!.Value, nameof(ErrorCatalog.SyncLeaseLost), LapsedRunMessage);
        }

        s.Sync.ReleaseLease(tokenId, null, null);
        lapsed = true;
        return st with { LeaseId = null, LeaseExpiresAt = null, LeaseHistoryId = null, NextMustBeFull = true };
    }

    // named: in a pass over many tokens, a warning about "this token" says nothing
    private static string LapsedLeaseWarning(AdeToken token)
        => $"The previous sync of token '{token.Name}' did not finish within its 15-minute lease; it counts as failed and this sync is a full sync.";

    private static AdeSyncResult HistoryResult(AdeToken token, SyncHistoryRow h) => new()
    {
        Token = token.Name,
        TokenId = token.Id,
        Kind = h.Kind,
        Trigger = h.Trigger,
        Status = h.Status,
        StartedAt = h.StartedAt,
        Duration = h.FinishedAt is { } finished ? finished - h.StartedAt : TimeSpan.Zero,
        Added = h.Added,
        Modified = h.Modified,
        Removed = h.Removed,
        Purged = h.Purged,
        DefaultProfileAssigned = h.DefaultAssigned,
        Pages = h.Pages,
        ErrorId = h.ErrorId,
        ErrorMessage = h.ErrorMessage,
    };

    // ---- one run ---------------------------------------------------------------------------------------------------

    private sealed class SyncRun
    {
        private readonly SyncService owner;
        private readonly TokenForSync forSync;
        private readonly AdeToken token;
        private readonly string lease;
        private readonly long historyId;
        private readonly DateTimeOffset startedAt;
        private readonly SyncStateRow initial;

        /// <summary>The progress activity of this run (runs of a scheduler's pass at once report one each).</summary>
        private readonly int progressId;
        private AdeSyncKind kind;
        private int added, modified, removed, purged, pages, defaultAssigned;

        /// <summary>Of the <see cref="pages"/> read, the last ones that changed nothing and whose cursor is carried to the next commit.</summary>
        private int carried;
        private long received;
        private AppleClient? client;
        private Dictionary<DevicePlatform, Guid> defaultProfiles = [];

        /// <summary>The iOS default is a Shared iPad profile: only iPads are offered it (an iPhone would have no use of it).</summary>
        private bool sharedIPadDefault;
        private readonly SortedDictionary<string, int> withoutDefault = new(StringComparer.Ordinal);

        public SyncRun(SyncService owner, TokenForSync forSync, string lease, long historyId, AdeSyncKind kind, SyncStateRow initial, DateTimeOffset startedAt, int progressId,
            IReadOnlyList<string> startWarnings)
        {
            this.startWarnings = startWarnings;
            this.progressId = progressId;
            this.owner = owner;
            this.forSync = forSync;
            token = forSync.Token;
            this.lease = lease;
            this.historyId = historyId;
            this.kind = kind;
            this.initial = initial;
            this.startedAt = startedAt;
        }

        private IAdeHost Host => owner.host;

        private readonly IReadOnlyList<string> startWarnings;

        public AdeSyncResult Execute(AdeSyncTrigger trigger)
        {
            try
            {
                foreach (var warning in startWarnings)
                {
                    Host.WriteWarning(warning);
                }

                client = owner.apple.ForToken(forSync.Credentials);
                defaultProfiles = new Dictionary<DevicePlatform, Guid>(forSync.DefaultProfileIds);
                sharedIPadDefault = defaultProfiles.TryGetValue(DevicePlatform.iOS, out var iosDefault) && owner.assignments.IsSharedIPad(iosDefault);

                var cursor = initial.Cursor?.Cursor;
                if (kind == AdeSyncKind.Full)
                {
                    // Resume a full fetch that an earlier run left half-way (its pages are committed); else start over.
                    var resume = initial.Cursor is { Kind: SyncCursorKind.Fetch, FullSyncId: not null };
                    cursor = FullFetch(client, resume ? initial.Cursor!.Cursor : null, resume ? initial.Cursor!.FullSyncId!.Value : historyId);
                }
                else if (cursor is null || initial.Cursor!.Kind != SyncCursorKind.Sync)
                {
                    kind = AdeSyncKind.Full;
                    cursor = FullFetch(client, null, historyId);
                }

                PreparedPage last;
                try
                {
                    last = Delta(client, cursor!);
                }
                catch (AdeException ex) when (ex.ErrorId is nameof(ErrorCatalog.AppleCursorExpired) or nameof(ErrorCatalog.AppleCursorInvalid))
                {
                    Host.WriteWarning($"Apple no longer accepts the sync cursor of token '{token.Name}' ({ex.ErrorId}); fetching every device again.");
                    CommitHeld();
                    kind = AdeSyncKind.Full;
                    trigger = AdeSyncTrigger.CursorExpired; // Apple's cursor rule, not a failed sync
                    cursor = FullFetch(client, null, historyId);
                    last = Delta(client, cursor);
                }

                return Finish(trigger, last);
            }
            catch (Exception ex)
            {
                KeepHeld(ex);
                var error = Fail(ex);
                if (ReferenceEquals(error, ex))
                {
                    throw;
                }

                throw error;
            }
            finally
            {
                WriteDefaultRefusals();
                Host.WriteProgress(new AdeProgress(progressId, Activity, "Done", 100, Completed: true));
            }
        }

        private string Activity => $"Syncing devices of token '{token.Name}'";

        /// <summary>
        /// New devices of a platform that did not get its default profile, over the whole run: how many, of how many that
        /// arrived without a profile, and the first reason Apple gave (an error, or its per-device answers). Written as
        /// one warning per platform when the run ends, not one per page (a token of 200,000 gave 200 of the same).
        /// </summary>
        private readonly SortedDictionary<DevicePlatform, (int Refused, int Arrived, string? Reason)> defaultRefusals = [];

        /// <summary>
        /// Set when a default-profile request failed as a whole for a reason that passes (Apple unavailable, a time-out, a
        /// broken connection): the run still succeeds, and the next sync is a full one, which offers the default again to
        /// every device still without a profile (a delta sync would not bring those devices again).
        /// </summary>
        private bool DefaultsInterrupted => interruptedPlatforms.Count > 0;

        /// <summary>The platforms whose default-profile request failed for a reason that passes (each warning says its own).</summary>
        private readonly HashSet<DevicePlatform> interruptedPlatforms = [];

        private void RefuseDefaults(DevicePlatform platform, int refused, int arrived, AdeException error)
        {
            if (error.ErrorId is nameof(ErrorCatalog.AppleServiceUnavailable) or nameof(ErrorCatalog.AppleTimeout)
                or nameof(ErrorCatalog.AppleConnectionRefused) or nameof(ErrorCatalog.AppleHostNotFound) or nameof(ErrorCatalog.AppleTlsFailed))
            {
                interruptedPlatforms.Add(platform);
            }

            RefuseDefaults(platform, refused, arrived, error.Message);
        }

        private void RefuseDefaults(DevicePlatform platform, int refused, int arrived, string reason)
        {
            var (r, a, first) = defaultRefusals.GetValueOrDefault(platform);
            defaultRefusals[platform] = (r + refused, a + arrived, first ?? (refused > 0 ? reason : null));
        }

        private void WriteDefaultRefusals()
        {
            foreach (var (platform, (refused, arrived, reason)) in defaultRefusals.Where(r => r.Value.Refused > 0))
            {
                var name = token.Name.Replace("'", "''", StringComparison.Ordinal);
                Host.WriteWarning($"{Counted.N(refused)} of {Counted.N(arrived)} new {platform} devices of token '{token.Name}' did not get the default profile ({reason}). "
                    + (interruptedPlatforms.Contains(platform) ? "The next sync of the token (a manual one, or Sync-AdeDevice -IfDue's next) is a full one and offers it again; or assign it now with: " : "Assign it with: ")
                    + $"Get-AdeDevice -Token '{name}' -Unassigned -Platform {platform} | Set-AdeDeviceProfile -Profile <{platform} profile>");
            }
        }

        /// <summary>
        /// Pages through POST /server/devices; returns the cursor to continue with a delta sync. The next page is asked
        /// of Apple while this one is committed: a fetch pages through the listing Apple froze when it started, so asking
        /// early changes nothing Apple returns. A cursor is still stored only with its committed page, and a page fetched
        /// ahead of a run that stops is dropped (the next sync asks for it again from the last committed cursor).
        /// </summary>
        private string FullFetch(AppleClient client, string? cursor, long fullSyncId)
        {
            Host.WriteVerbose(cursor is null ? $"Full sync of token '{token.Name}': fetching every device from Apple." : $"Resuming the full sync of token '{token.Name}' from its last committed page.");
            using var dropAhead = CancellationTokenSource.CreateLinkedTokenSource(Host.Cancellation);
            Task<AppleDevicePage>? ahead = null;
            try
            {
                return FullFetchPages(client, cursor, fullSyncId, dropAhead.Token, ref ahead);
            }
            finally
            {
                // The run stops with a page whose default-profile request is under way: the request is waited for and
                // the page dropped (not written: the next sync fetches it again and sees what Apple did).
                if (waiting is { Defaults.First: { } request })
                {
                    AssignmentService.AbandonDefault(request);
                }

                waiting = null;

                DropAhead(dropAhead, ahead);
            }
        }

        private string FullFetchPages(AppleClient client, string? cursor, long fullSyncId, CancellationToken aheadCancellation, ref Task<AppleDevicePage>? ahead)
        {
            while (true)
            {
                // Ctrl+C during a commit stops before the next page, as it would if that page had not been asked yet.
                Host.Cancellation.ThrowIfCancellationRequested();
                AppleDevicePage page;
                try
                {
                    var request = ahead ?? client.FetchDevicesAsync(cursor, PageSize, Host.Cancellation);
                    ahead = null;
                    page = Blocking.Wait(request);
                }
                catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.AppleCursorExhausted) && cursor is not null)
                {
                    // The listing was complete already: continue with delta from this cursor.
                    CommitWaiting();
                    Commit([], cursor, SyncCursorKind.Sync, fullSyncId, fullDone: true);
                    return cursor;
                }
                catch (AdeException ex) when (ex.ErrorId is nameof(ErrorCatalog.AppleCursorExpired) or nameof(ErrorCatalog.AppleCursorInvalid) && cursor is not null)
                {
                    CommitWaiting();
                    Host.WriteWarning($"Apple no longer accepts the fetch cursor of token '{token.Name}' ({ex.ErrorId}); starting the full fetch again.");
                    cursor = null;
                    continue;
                }

                var next = page.Cursor ?? cursor ?? throw ErrorCatalog.AppleResponseInvalid(token.Name, "POST /server/devices", "the page has no cursor.");
                if (page.MoreToFollow && WithinPageBound(uncommitted: waiting is null ? 0 : 1))
                {
                    ahead = client.FetchDevicesAsync(next, PageSize, aheadCancellation);
                }

                // Page N's default-profile request goes to Apple while page N-1 (whose answers came first) is written:
                // one request in flight, pages still written whole and in order, each with its own cursor and answers.
                var previous = waiting is null ? null : Complete(waiting);
                waiting = null;
                var latest = SyncPage.Latest(page.Devices ?? [], events: false);
                if (previous is not null && latest.NeedsStoreForDefaults)
                {
                    // who arrives without a profile depends on the store: read it after the previous page is written
                    Commit(previous);
                    previous = null;
                }

                var started = Start(latest, page.Devices?.Count ?? 0, next, page.MoreToFollow ? SyncCursorKind.Fetch : SyncCursorKind.Sync, fullSyncId,
                    fullDone: !page.MoreToFollow, uncommitted: previous is null ? 0 : 1);
                if (previous is not null)
                {
                    // While the previous page is written, this one's request is under way: a write that fails leaves
                    // it to the finally of FullFetch, which waits for it (the last page's request too).
                    waiting = started.Defaults?.First is not null ? started : null;
                    Commit(previous);
                    if (!page.MoreToFollow)
                    {
                        waiting = null;
                    }
                }
                else if (page.MoreToFollow && started.Defaults?.First is not null)
                {
                    waiting = started;
                }

                if (waiting is null)
                {
                    var ready = Complete(started);
                    if (!page.MoreToFollow && defaultProfiles.Count == 0)
                    {
                        held = ready; // written with the end of the run (see held)
                    }
                    else
                    {
                        Commit(ready);
                    }
                }

                cursor = next;
                if (!page.MoreToFollow)
                {
                    return cursor;
                }
            }
        }

        /// <summary>The run stops with a page in flight: it is dropped, and nothing of it outlives the run.</summary>
        private static void DropAhead(CancellationTokenSource dropAhead, Task<AppleDevicePage>? ahead)
        {
            if (ahead is null)
            {
                return;
            }

            dropAhead.Cancel();
            try
            {
                Blocking.Wait(ahead);
            }
            catch (Exception)
            {
                // the dropped page's own failure (or its cancellation) is nobody's error
            }
        }

        /// <summary>
        /// Pages through POST /devices/sync. Every page but the last is committed as it comes; the last one (for a token
        /// of a few hundred devices, the only one) is returned prepared and written by <see cref="Finish"/> in the same
        /// transaction as the end of the run: a small sync costs one transaction less, and the page is still stored
        /// together with its cursor, under the lease check, before the run counts as succeeded. The next page is asked
        /// of Apple while this one is prepared and committed (after a default assignment Apple reports every device
        /// again: hundreds of pages to read); its content is fixed by the cursor it is asked with, so asking early
        /// changes nothing but how many events past the cursor exist yet. It is read (its default-profile candidates
        /// too) only after this page is committed, and a run that stops drops it, as a full fetch does.
        /// </summary>
        private PreparedPage Delta(AppleClient client, string cursor)
        {
            var sampled = false;
            using var dropAhead = CancellationTokenSource.CreateLinkedTokenSource(Host.Cancellation);
            Task<AppleDevicePage>? ahead = null;
            try
            {
                while (true)
                {
                    var request = ahead ?? client.SyncDevicesAsync(cursor, PageSize, Host.Cancellation);
                    ahead = null;
                    var page = Blocking.Wait(request);
                    var next = page.Cursor ?? cursor;
                    if (page.MoreToFollow && WithinPageBound(uncommitted: 0))
                    {
                        ahead = client.SyncDevicesAsync(next, PageSize, dropAhead.Token);
                    }

                    var prepared = Prepare(page.Devices ?? [], events: true, next, SyncCursorKind.Sync, historyId, fullDone: false);
                    if (!page.MoreToFollow)
                    {
                        return prepared;
                    }

                    CommitHeld(); // the fetch's last page goes first: pages are stored in the order Apple gave them
                    if (!sampled)
                    {
                        // A delta of many pages (Apple's echo of a default or a large assignment: every device again)
                        // follows writes that can leave a server store's planner statistics far behind the table, whose
                        // own sampling runs later; each page reads its stored rows by serial, and a stale picture plans
                        // that as a scan of the token's whole key range. The store decides whether to sample again.
                        sampled = true;
                        owner.store.Write(s => s.Devices.RefreshPlannerStatistics());
                    }

                    Commit(prepared, mayCarry: true);
                    cursor = next;
                    // Ctrl+C during a commit stops before the next page, as it would if that page had not been asked yet.
                    Host.Cancellation.ThrowIfCancellationRequested();
                }
            }
            finally
            {
                DropAhead(dropAhead, ahead);
            }
        }

        /// <summary>A page asked of Apple, reduced and with the answers to its default-profile requests, ready to be written.</summary>
        private sealed record PreparedPage(SyncPage Page, int Received, List<AssignmentService.AssignmentAnswer>? Answers, string Cursor, SyncCursorKind CursorKind, long SyncId, bool FullDone);

        /// <summary>
        /// One transaction: the page's devices, the cursor it came with, and a check that the lease is still ours. Devices
        /// that arrive without a profile are offered their platform's default at Apple first, and the page is written with
        /// Apple's answers: each device is written once, and a device holds a profile in the store only once Apple took it.
        /// </summary>
        private void Commit(IReadOnlyList<AppleDevice> devices, string cursor, SyncCursorKind cursorKind, long syncId, bool fullDone)
            => Commit(Prepare(devices, events: false, cursor, cursorKind, syncId, fullDone));

        /// <remarks>
        /// With <paramref name="mayCarry"/> (a delta's page before its last), a page that changes nothing — above all
        /// Apple's echo of the default profile this run assigned, hundreds of pages of it — stores no cursor either: its
        /// cursor is carried to the next page that writes, or to the transaction that ends the run, which checks the lease.
        /// The cursor is still only ever stored with the page it came with having been written; a run that stops after
        /// such pages asks for them again from the last stored cursor, and they change nothing again.
        /// </remarks>
        private void Commit(PreparedPage prepared, bool mayCarry = false)
        {
            var now = owner.time.GetUtcNow();
            Account(prepared, owner.store.WriteForToken(token.Id, s => WritePage(s, prepared, now, mayCarry)));
        }

        /// <summary>Everything of a page that happens before its transaction: the page bound, and the default-profile requests.</summary>
        private PreparedPage Prepare(IReadOnlyList<AppleDevice> devices, bool events, string cursor, SyncCursorKind cursorKind, long syncId, bool fullDone)
            => Complete(Start(SyncPage.Latest(devices, events), devices.Count, cursor, cursorKind, syncId, fullDone, uncommitted: 0));

        /// <summary>A page whose default-profile request may still be with Apple.</summary>
        private sealed record StartedPage(SyncPage Page, int Received, DefaultsUnderWay? Defaults, string Cursor, SyncCursorKind CursorKind, long SyncId, bool FullDone);

        /// <summary>
        /// Whether the page in hand (after <paramref name="uncommitted"/> pages prepared before it) is within the page
        /// bound. A page past it stops the run, so nothing is asked of Apple ahead of it: an endless cursor costs Apple
        /// exactly the bound plus one request, however the timing falls.
        /// </summary>
        private bool WithinPageBound(int uncommitted) => Read + uncommitted < owner.MaxPagesPerSync;

        /// <summary>Pages read and kept so far: the committed ones and the held one.</summary>
        private int Read => pages + (held is null ? 0 : 1);

        /// <summary>
        /// The full fetch's last page of a run without default profiles, not yet written: it goes with the delta's last page
        /// and the end of the run in one transaction (<see cref="Finish"/>), so a token whose devices fit on one page costs
        /// one transaction less. It is written by itself before anything else is (a delta of several pages, a fetch
        /// started again after an expired cursor) and when the run fails other than by the store (<see cref="KeepHeld"/>), so the store keeps what
        /// it kept before: a fetched page is only lost with the process. Not with default profiles: a delta page's
        /// default-profile decision may read the store, which must hold the page first.
        /// </summary>
        private PreparedPage? held;

        private void CommitHeld()
        {
            if (held is { } page)
            {
                held = null;
                Commit(page);
            }
        }

        /// <summary>
        /// A failing run writes its held page if it still can (the lease is checked as always); the run's own failure
        /// stands. Not when the store is what failed (busy past its wait, unreachable): asking it again would only add
        /// another wait before the failure is reported, and the next sync fetches the page again.
        /// </summary>
        private void KeepHeld(Exception failure)
        {
            if (failure is AdeException { IsStoreFailure: true })
            {
                held = null;
                return;
            }

            try
            {
                CommitHeld();
            }
            catch (Exception)
            {
                // the page is fetched again by the next sync; the failure being recorded is the run's own
            }
        }

        /// <summary>The page bound (counting <paramref name="uncommitted"/> pages prepared before it), and the default-profile requests sent.</summary>
        private StartedPage Start(SyncPage page, int count, string cursor, SyncCursorKind cursorKind, long syncId, bool fullDone, int uncommitted)
        {
            received += count;
            if (!WithinPageBound(uncommitted) || received > 2L * MaxDevicesPerToken)
            {
                throw ErrorCatalog.SyncPageLimitExceeded(token.Name, Read + uncommitted + 1, received);
            }

            return new StartedPage(page, count, defaultProfiles.Count == 0 ? null : StartDefaults(page), cursor, cursorKind, syncId, fullDone);
        }

        /// <summary>Apple's answers to a started page's requests: the page, ready to be written.</summary>
        private PreparedPage Complete(StartedPage s)
            => new(s.Page, s.Received, s.Defaults is null ? null : FinishDefaults(s.Defaults), s.Cursor, s.CursorKind, s.SyncId, s.FullDone);

        /// <summary>The page whose default-profile request is with Apple while the page before it is written (full fetch only).</summary>
        private StartedPage? waiting;

        private void CommitWaiting()
        {
            if (waiting is { } w)
            {
                waiting = null;
                Commit(Complete(w));
            }
        }

        /// <summary>The page's writes, inside the caller's transaction (touches nothing outside the session: it may be run again).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
        private PagePlan WritePage(IStoreSession s, PreparedPage p, DateTimeOffset now, bool mayCarry = false)
        {
            var plan = SyncPage.Plan(p.Page, s.Devices.GetForSync(token.Id, p.Page.Serials), p.Answers, now);
            if (mayCarry && !p.FullDone && plan.ChangesNothing)
            {
                plan.CursorCarried = true; // nothing to write: the cursor goes with the next page that writes (Commit)
                return plan;
            }

            s.Devices.WriteSyncPage(token.Id, p.SyncId, now, plan.Upserts, plan.Removals);
            if (p.FullDone)
            {
                foreach (var serial in s.Devices.MarkUnseenRemoved(token.Id, p.SyncId, now, now + DeviceRepository.PurgeDelay))
                {
                    plan.Removed++;
                    plan.Events.Add(new NewDeviceEventRow(serial, AdeDeviceEventKind.DeletedFromAbm));
                }
            }

            if (!s.Sync.SaveCursor(token.Id, lease, now, new SyncCursor(p.Cursor, p.CursorKind, p.CursorKind == SyncCursorKind.Fetch ? p.SyncId : null), p.FullDone ? startedAt : null,
                    new SyncPageCounts(historyId, plan.Added, plan.Modified, plan.Removed, plan.DefaultAssigned)))
            {
                // rolls the page back: the lease lapsed (15 minutes are over) or another run owns the token now
                throw ErrorCatalog.SyncLeaseLost(token.Name);
            }

            // The journal last: on a server store its insert takes the journal's lock until commit (ids visible in
            // order), so syncs of other tokens wait only for this insert and the commit.
            s.DeviceEvents.Append(token.Id, now, plan.Events);
            return plan;
        }

        /// <summary>Counts a committed page.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
        private void Account(PreparedPage prepared, PagePlan written)
        {
            // Devices of a platform without a default (or of unknown platform) stay unassigned and are counted per platform.
            foreach (var (platform, count) in written.WithoutProfile)
            {
                if (!defaultProfiles.ContainsKey(platform))
                {
                    CountWithoutDefault(platform.ToString(), count);
                }
            }

            CountWithoutDefault(DevicePlatforms.Unknown, written.WithoutProfileUnknownPlatform);

            pages++;
            carried = written.CursorCarried ? carried + 1 : 0; // a written page stores its cursor: the carried ones are committed with it
            added += written.Added;
            modified += written.Modified;
            removed += written.Removed;
            defaultAssigned += written.DefaultAssigned;
            Host.WriteVerbose($"Page {pages}: {prepared.Received} devices from Apple; {written.Added} added, {written.Modified} modified, {written.Removed} removed.");
            Host.WriteProgress(new AdeProgress(progressId, Activity, $"Page {pages}: {Counted.N(added)} added, {Counted.N(modified)} modified, {Counted.N(removed)} removed"));
        }

        private void CountWithoutDefault(string platform, int count)
        {
            if (count > 0)
            {
                withoutDefault[platform] = withoutDefault.GetValueOrDefault(platform) + count;
            }
        }

        /// <summary>A page's default-profile requests: one per platform; the first is sent when the page is started.</summary>
        private sealed class DefaultsUnderWay
        {
            public List<(DevicePlatform Platform, Guid ProfileId, List<string> Arrivals)> Groups { get; } = [];

            public AssignmentService.DefaultRequest? First { get; set; }

            public bool FirstFailed { get; set; }
        }

        /// <summary>
        /// Offers the devices of a page that arrive without a profile their own platform's default, never another's: at
        /// most one assignment request per page and platform. The first request is sent here without waiting for Apple's
        /// answer (<see cref="FinishDefaults"/> takes it). A refusal does not fail the sync: the devices stay without a
        /// profile and the admin is told.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
        private DefaultsUnderWay? StartDefaults(SyncPage page)
        {
            // Whether a device arrives without a profile can depend on the store (a delta's "modified" device the store
            // does not know); a fetched page needs no read.
            var stored = page.NeedsStoreForDefaults
                ? owner.store.Read(s => s.Devices.GetForSync(token.Id, page.Serials))
                : null;
            DefaultsUnderWay? defaults = null;
            var notIPads = sharedIPadDefault ? new List<string>() : null;
            foreach (var (platform, arrivals) in page.ArrivingWithoutProfile(stored, notIPads))
            {
                if (defaultProfiles.TryGetValue(platform, out var profileId))
                {
                    (defaults ??= new()).Groups.Add((platform, profileId, arrivals));
                }
            }

            if (notIPads is { Count: > 0 })
            {
                // no default applies to them: counted with the devices of platforms without one
                CountWithoutDefault(nameof(DevicePlatform.iOS), notIPads.Count);
                RefuseDefaults(DevicePlatform.iOS, notIPads.Count, notIPads.Count, $"the iOS default is a Shared iPad profile, for iPads only, and these are not known to be iPads: {Counted.FirstFew(notIPads)}");
            }

            if (defaults is not null)
            {
                var (platform, profileId, arrivals) = defaults.Groups[0];
                try
                {
                    defaults.First = owner.assignments.StartDefault(client!, token, profileId, arrivals);
                }
                catch (AdeException ex) when (ex.ErrorId is not (nameof(ErrorCatalog.SyncLeaseLost) or nameof(ErrorCatalog.AppleTokenRejected)))
                {
                    defaults.FirstFailed = true;
                    RefuseDefaults(platform, arrivals.Count, arrivals.Count, ex);
                }
            }

            return defaults;
        }

        /// <summary>Apple's answers to a page's default-profile requests (the first one sent already), written with the page.</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
        private List<AssignmentService.AssignmentAnswer> FinishDefaults(DefaultsUnderWay defaults)
        {
            var answers = new List<AssignmentService.AssignmentAnswer>();
            for (var i = 0; i < defaults.Groups.Count; i++)
            {
                var (platform, profileId, arrivals) = defaults.Groups[i];
                if (i == 0 && defaults.FirstFailed)
                {
                    continue;
                }

                var before = answers.Count;
                try
                {
                    if (i == 0)
                    {
                        owner.assignments.FinishDefault(client!, token, defaults.First!, answers);
                    }
                    else
                    {
                        owner.assignments.AttemptDefault(client!, token, profileId, arrivals, answers);
                    }
                }
                catch (AdeException ex) when (ex.ErrorId is not (nameof(ErrorCatalog.SyncLeaseLost) or nameof(ErrorCatalog.AppleTokenRejected)))
                {
                    RefuseDefaults(platform, arrivals.Count, arrivals.Count, ex);
                    continue;
                }

                var assigned = 0;
                for (var a = before; a < answers.Count; a++)
                {
                    if (answers[a].Answer == AppleDeviceStatus.Success) assigned++;
                }

                RefuseDefaults(platform, arrivals.Count - assigned, arrivals.Count, "Apple answered NOT_ACCESSIBLE, FAILED or THROTTLED");
            }

            return answers;
        }

        /// <summary>
        /// Ends a run in one transaction: the full fetch's held last page (<see cref="held"/>), the last page of the delta
        /// with its cursor, the purge of devices due, the
        /// journal's retention, the history row, the lease released, and the counts and state the result reports.
        /// </summary>
        private AdeSyncResult Finish(AdeSyncTrigger trigger, PreparedPage last)
        {
            var now = owner.time.GetUtcNow();
            var first = held;
            var (firstWritten, written, purgedCount, counted, finalState, lag) = owner.store.WriteForToken(token.Id, s =>
            {
                var firstPlan = first is null ? null : WritePage(s, first, now);
                var plan = WritePage(s, last, now);
                var purgedSerials = s.Devices.PurgeDue(token.Id, now);
                s.DeviceEvents.Append(token.Id, now, [.. purgedSerials.Select(serial => new NewDeviceEventRow(serial, AdeDeviceEventKind.Purged))]);
                // The store's journal retention (Set-AdeStore -JournalRetentionDays): the one statement here that reaches past
                // this token. Runs of other tokens may prune at the same time; each deletes what is still there.
                DeviceJournal.Prune(s, now);
                s.Tokens.ClearAppleRefusals(token.Id); // Apple accepted the token: a 401 or unsigned terms before no longer hold
                // The run's totals with the last page's (the run's own counters move only once the transaction committed).
                // The lease is ours (the page above checked it in this transaction), so the run ends with the state it leaves.
                var ended = s.Sync.FinishRun(token.Id, lease, historyId, new SyncHistoryEnd(AdeSyncStatus.Succeeded, now, kind, trigger,
                    added + (firstPlan?.Added ?? 0) + plan.Added, modified + (firstPlan?.Modified ?? 0) + plan.Modified,
                    removed + (firstPlan?.Removed ?? 0) + plan.Removed, purgedSerials.Count,
                    defaultAssigned + (firstPlan?.DefaultAssigned ?? 0) + plan.DefaultAssigned, pages + (firstPlan is null ? 1 : 2), null, null), now)
                    ?? throw ErrorCatalog.SyncLeaseLost(token.Name);
                if (DefaultsInterrupted)
                {
                    s.Sync.DemandFullSync(token.Id);
                    ended = ended with { NextMustBeFull = true };
                }

                // what completed Apple Business activities moved that this sync has not shown yet (reads only)
                return (firstPlan, plan, purgedSerials.Count, s.Devices.CountForSync(token.Id), ended, DepVisibility.Check(s, token.Id, now));
            });

            if (first is not null)
            {
                held = null; // written (a failed end of the run leaves it to KeepHeld)
                Account(first, firstWritten!);
            }

            Account(last, written);
            purged = purgedCount;
            if (counted.InAbm > MaxDevicesPerToken)
            {
                Host.WriteWarning($"Token '{token.Name}' now has {Counted.N(counted.InAbm)} devices assigned in ABM, more than the {Counted.N(MaxDevicesPerToken)} Intune supports per token. Split the devices over more MDM servers (tokens) in Apple Business Manager.");
            }

            if (withoutDefault.Count > 0)
            {
                Host.WriteVerbose($"Arrived without a profile and no default for them: {string.Join(", ", withoutDefault.Select(w => $"{w.Key} {Counted.N(w.Value)}"))} (Set-AdeDefaultProfile gives a platform its default).");
            }

            if (purged > 0)
            {
                Host.WriteVerbose($"Purged {purged} devices removed from ABM more than 45 days ago.");
            }

            if (lag.Devices > 0)
            {
                Host.WriteWarning($"{Counted.Of(lag.Devices, "device")} that Apple Business {(lag.ActivityIds.Count == 1 ? "activity" : "activities")} {Counted.FirstFew(lag.ActivityIds, 3)} moved to or from the MDM server of token '{token.Name}' did not show in this sync yet: Apple shows completed assignments in the sync after a delay. A later Sync-AdeDevice brings them (PendingFromActivities on the result).");
            }

            var state = HistoryOf(finalState);
            var (nextManual, nextFull) = SyncPolicy.NextAllowed(state, now);
            var nextAutomatic = SyncPolicy.NextAutomatic(state, now);
            return new AdeSyncResult
            {
                Token = token.Name,
                TokenId = token.Id,
                Kind = kind,
                Trigger = trigger,
                Status = AdeSyncStatus.Succeeded,
                Added = added,
                Modified = modified,
                Removed = removed,
                Purged = purged,
                DefaultProfileAssigned = defaultAssigned,
                WithoutDefaultProfile = ValueList.Of(withoutDefault.Select(w => new AdePlatformCount { Platform = w.Key, Count = w.Value })),
                Pages = pages,
                StartedAt = startedAt,
                Duration = now - startedAt,
                DeviceCount = counted.All,
                NextManualSyncAt = nextManual,
                NextFullSyncAt = nextFull,
                NextAutomaticSyncAt = nextAutomatic,
                ExpectedAbmDeliveryMinutes = ExpectedMinutes(counted),
                PendingFromActivities = lag.Devices,
            };
        }

        /// <summary>
        /// Records the failed run (with a catalogued error ID, whatever failed) and returns that catalogued error. A run
        /// stopped by Ctrl+C or a stopped pipeline (OperationStopped) is recorded Stopped: not a failure, its committed
        /// pages stand and the next sync continues from them. A stopped delta leaves the next sync as it was (a delta from
        /// its last committed page, not the full sync that follows a failure); a stopped full sync is continued by a
        /// full sync, which resumes its fetch where it ended.
        /// </summary>
        private AdeException Fail(Exception ex)
        {
            var error = ErrorCatalog.FromException(ex, $"The sync of token '{token.Name}'");
            var stopped = error.ErrorId == nameof(ErrorCatalog.OperationStopped);
            try
            {
                owner.tokens.RecordAppleRefusal(token.Id, error);
            }
            catch (AdeException)
            {
                // the store failed too: the sync's own error is the one to report
            }

            var trying = System.Diagnostics.Stopwatch.StartNew();
            for (var attempt = 0; ; attempt++)
            {
                try
                {
                    RecordFailure(error, stopped);
                    break;
                }
                catch (AdeException storeError) when (!stopped && attempt < EndRetries.Length && trying.Elapsed < EndRetryBudget && owner.store.Provider == "PostgreSQL"
                    && storeError.ErrorId is nameof(ErrorCatalog.StoreUnavailable) or nameof(ErrorCatalog.StoreIoError))
                {
                    // A server that restarts or fails over is back within seconds: ending the run then releases the token
                    // at once, where giving up would hold it for the rest of its 15-minute lease (every host's syncs refused).
                    Host.WriteVerbose($"The store could not record the end of the sync of token '{token.Name}' ({storeError.ErrorId}); trying again in {EndRetries[attempt].TotalSeconds:0} s so that the token is not held for the rest of its lease.");
                    try
                    {
                        EngineClock.Wait(EndRetries[attempt], Host.Cancellation).GetAwaiter().GetResult();
                    }
                    catch (OperationCanceledException)
                    {
                        break; // Ctrl+C: the lease is left to lapse
                    }
                }
                catch (AdeException)
                {
                    break; // the store itself failed; the lease lapses after 15 minutes and the sync then counts as failed
                }
            }

            if (!stopped)
            {
                Host.WriteVerbose($"The sync of token '{token.Name}' failed after {pages - carried} committed pages; the next sync is a full sync.");
            }

            return error;
        }

        /// <summary>How long a failed run waits before it tries again to record its end on a server store that failed too (30 s of waits in all).</summary>
        private static readonly TimeSpan[] EndRetries = [TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(4), TimeSpan.FromSeconds(8), TimeSpan.FromSeconds(16)];

        /// <summary>No attempt to record a failed run's end starts after this long (each attempt has the store's own time-outs).</summary>
        private static readonly TimeSpan EndRetryBudget = TimeSpan.FromSeconds(45);

        private void RecordFailure(AdeException error, bool stopped) => owner.store.WriteForToken(token.Id, s =>
        {
            // a stopped delta keeps the full-sync demand as it was, unless its pages' default profiles could not be offered;
            // so does a run refused before anything was asked of Apple (a token past its expiry: renewed, the next sync
            // goes on from the same cursor instead of fetching every device again)
            var nothingSent = error.ErrorId == nameof(ErrorCatalog.StoredTokenExpired) && pages == 0;
            var ended = s.Sync.FinishRun(token.Id, lease, historyId, new SyncHistoryEnd(stopped ? AdeSyncStatus.Stopped : AdeSyncStatus.Failed, owner.time.GetUtcNow(), kind, null,
                added, modified, removed, 0, defaultAssigned, pages - carried, error.ErrorId, error.Message), null, keepFullDemand: (stopped && kind == AdeSyncKind.Delta) || nothingSent);
            if (ended is not null && DefaultsInterrupted)
            {
                s.Sync.DemandFullSync(token.Id);
            }

            return ended;
        });
    }
}

/// <summary>One token's outcome in a scheduler's pass (<see cref="SyncService.SyncIfDue"/>): its result (null under -WhatIf), or its failure.</summary>
public sealed record SyncOutcome(string TokenRef, AdeSyncResult? Result, Exception? Failure);

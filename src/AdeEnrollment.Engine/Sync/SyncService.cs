using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;
using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

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
        var forSync = tokens.ForSync(tokenRef);
        var token = forSync.Token;
        var now = time.GetUtcNow();
        var lease = Guid.NewGuid().ToString();
        var (decision, historyId, state) = store.WriteSql((c, tx) =>
        {
            var s = LoadState(c, token.Id) ?? InsertState(c, token.Id);
            s = LapseExpiredLease(c, token.Id, s, now);
            if (s.LeaseId is not null)
            {
                if (ifDue)
                {
                    // A scheduler's sync is not due while another one runs: no error, nothing asked of Apple.
                    return (new SyncDecision(false, AdeSyncKind.Delta, AdeSyncTrigger.Automatic, s.LeaseExpiresAt, SyncInProgressNotDue), 0L, s);
                }

                throw ErrorCatalog.SyncInProgress(token.Name, s.LeaseExpiresAt!.Value - SyncPolicy.LeaseDuration, s.LeaseExpiresAt.Value);
            }

            var d = SyncPolicy.Decide(s.History, now, full, ifDue);
            if (!d.Run)
            {
                return (d, 0L, s);
            }

            if (!host.ShouldProcess(token.Name, $"{d.Kind} sync of the devices Apple assigns to this token ({d.Trigger})"))
            {
                return (d with { Run = false, RefusedBy = WhatIf }, 0L, s);
            }

            if (d.ClockSkew)
            {
                // Once: the times from the future are dropped, so the next decision no longer sees them.
                var limit = ToUnixMs(now + SyncPolicy.MaxClockSkew);
                c.Execute(
                    """
                    UPDATE sync_state SET last_success_at = CASE WHEN last_success_at > $limit THEN NULL ELSE last_success_at END,
                                          last_full_at = CASE WHEN last_full_at > $limit THEN NULL ELSE last_full_at END
                    WHERE token_id = $t
                    """, ("$limit", limit), ("$t", token.Id.ToString()));
            }

            var id = c.Scalar<long>(
                "INSERT INTO sync_history (token_id, kind, trigger_kind, status, started_at) VALUES ($t, $k, $tr, 'Running', $now) RETURNING id",
                ("$t", token.Id.ToString()), ("$k", d.Kind.ToString()), ("$tr", d.Trigger.ToString()), ("$now", ToUnixMs(now)));
            c.Execute("UPDATE sync_state SET lease_id = $l, lease_expires_at = $exp, lease_history_id = $h, last_started_at = $now WHERE token_id = $t",
                ("$l", lease), ("$exp", ToUnixMs(now + SyncPolicy.LeaseDuration)), ("$h", id), ("$now", ToUnixMs(now)), ("$t", token.Id.ToString()));
            return (d, id, s);
        });

        if (decision.Run && decision.ClockSkew)
        {
            var future = new[] { state.History.LastSyncStartedAt, state.History.LastSuccessfulSyncAt, state.History.LastFullSyncAt }.Max();
            host.WriteWarning($"The sync history of token '{token.Name}' has a sync at {future:u}, later than the current time {now:u}: this computer's clock went backwards or was wrong when that sync ran. The sync runs anyway and the wrong time is dropped; check the system clock and its time synchronisation.");
        }

        if (!decision.Run)
        {
            return decision.RefusedBy switch
            {
                SyncPolicy.ManualSyncTooSoon => throw ErrorCatalog.ManualSyncTooSoon(token.Name, decision.AllowedAt!.Value),
                SyncPolicy.FullSyncTooSoon => throw ErrorCatalog.FullSyncTooSoon(token.Name, decision.AllowedAt!.Value),
                WhatIf => null,
                _ => NotDueResult(token, decision, state, now),
            };
        }

        var run = new SyncRun(this, forSync, lease, historyId, decision.Kind, state, now);
        return run.Execute(decision.Trigger);
    }

    /// <summary>Get-AdeSyncStatus for one token.</summary>
    public AdeSyncState GetStatus(AdeToken token)
    {
        var now = time.GetUtcNow();
        return store.ReadSql(c =>
        {
            var s = LoadState(c, token.Id) ?? SyncStateRow.Empty;
            var leaseLive = s.LeaseId is not null && s.LeaseExpiresAt > now;
            var lapsed = s.LeaseId is not null && !leaseLive;
            var history = s.History with { NextMustBeFull = s.History.NextMustBeFull || lapsed };
            var (nextManual, nextFull) = SyncPolicy.NextAllowed(history, now);
            var devices = c.Scalar<long>("SELECT count(*) FROM device WHERE token_id = $t", ("$t", token.Id.ToString()));
            var list = ReadHistory(c, token, HistoryShown);
            return new AdeSyncState
            {
                Token = token.Name,
                TokenId = token.Id,
                LastSyncAt = s.History.LastSyncStartedAt,
                LastStatus = list.FirstOrDefault(h => h.Status != AdeSyncStatus.Running)?.Status,
                LastSuccessfulSyncAt = s.History.LastSuccessfulSyncAt,
                LastFullSyncAt = s.History.LastFullSyncAt,
                InProgress = leaseLive,
                LeaseStartedAt = leaseLive ? s.LeaseExpiresAt - SyncPolicy.LeaseDuration : null,
                LeaseExpiresAt = leaseLive ? s.LeaseExpiresAt : null,
                NextSyncIsFull = history.LastSyncStartedAt is null || history.NextMustBeFull,
                NextManualSyncAt = nextManual,
                NextFullSyncAt = nextFull,
                NextAutomaticSyncAt = leaseLive ? Later(SyncPolicy.NextAutomatic(history, now), s.LeaseExpiresAt!.Value) : SyncPolicy.NextAutomatic(history, now),
                DeviceCount = devices,
                ExpectedAbmDeliveryMinutes = ExpectedMinutes(devices),
                History = list,
            };
        });
    }

    private static DateTimeOffset Later(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    internal static double ExpectedMinutes(long devices) => Math.Round(devices / (double)DevicesPerMinuteFromApple, 1);

    private AdeSyncResult NotDueResult(AdeToken token, SyncDecision decision, SyncStateRow state, DateTimeOffset now)
    {
        var (nextManual, nextFull) = SyncPolicy.NextAllowed(state.History, now);
        // When a scheduler's next -IfDue run will really sync: while another sync runs, not before its lease ends.
        var nextAutomatic = decision.RefusedBy == SyncInProgressNotDue
            ? Later(SyncPolicy.NextAutomatic(state.History, now), decision.AllowedAt ?? now)
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
            ExpectedAbmDeliveryMinutes = ExpectedMinutes(token.DeviceCount),
        };
    }

    // ---- state -----------------------------------------------------------------------------------------------------

    internal sealed record SyncStateRow(SyncHistoryState History, string? Cursor, string? CursorKind, long? FullSyncId, string? LeaseId, DateTimeOffset? LeaseExpiresAt, long? LeaseHistoryId)
    {
        public static readonly SyncStateRow Empty = new(new SyncHistoryState(null, null, null, false), null, null, null, null, null, null);
    }

    private static SyncStateRow? LoadState(SqliteConnection c, Guid tokenId)
    {
        using var command = c.Command(
            """
            SELECT last_started_at, last_success_at, last_full_at, next_must_be_full, cursor, cursor_kind, full_sync_id,
                   lease_id, lease_expires_at, lease_history_id
            FROM sync_state WHERE token_id = $t
            """, ("$t", tokenId.ToString()));
        using var r = command.ExecuteReader();
        if (!r.Read())
        {
            return null;
        }

        static DateTimeOffset? T(SqliteDataReader r, int i) => r.IsDBNull(i) ? null : ToTime(r.GetInt64(i));
        return new SyncStateRow(
            new SyncHistoryState(T(r, 0), T(r, 1), T(r, 2), r.GetInt64(3) != 0),
            r.GetStringOrNull(4), r.GetStringOrNull(5), r.GetInt64OrNull(6), r.GetStringOrNull(7), T(r, 8), r.GetInt64OrNull(9));
    }

    private static SyncStateRow InsertState(SqliteConnection c, Guid tokenId)
    {
        c.Execute("INSERT INTO sync_state (token_id) VALUES ($t)", ("$t", tokenId.ToString()));
        return SyncStateRow.Empty;
    }

    /// <summary>A lease older than 15 minutes lapses: that sync counts as failed and the next sync is full.</summary>
    private SyncStateRow LapseExpiredLease(SqliteConnection c, Guid tokenId, SyncStateRow s, DateTimeOffset now)
    {
        if (s.LeaseId is null || s.LeaseExpiresAt > now)
        {
            return s;
        }

        c.Execute(
            """
            UPDATE sync_history SET status = 'Failed', finished_at = $exp, error_id = 'SyncLeaseLost',
                   error_message = 'The sync did not finish within its 15-minute lease (the process stopped or hung).'
            WHERE id = $h AND status = 'Running'
            """, ("$exp", ToUnixMs(s.LeaseExpiresAt!.Value)), ("$h", s.LeaseHistoryId));
        c.Execute("UPDATE sync_state SET lease_id = NULL, lease_expires_at = NULL, lease_history_id = NULL, next_must_be_full = 1 WHERE token_id = $t",
            ("$t", tokenId.ToString()));
        host.WriteWarning($"The previous sync of this token did not finish within its 15-minute lease; it counts as failed and this sync is a full sync.");
        return s with { LeaseId = null, LeaseExpiresAt = null, LeaseHistoryId = null, History = s.History with { NextMustBeFull = true } };
    }

    private static List<AdeSyncResult> ReadHistory(SqliteConnection c, AdeToken token, int count)
    {
        using var command = c.Command(
            """
            SELECT kind, trigger_kind, status, started_at, finished_at, added, modified, removed, purged, default_assigned, pages, error_id, error_message
            FROM sync_history WHERE token_id = $t ORDER BY id DESC LIMIT $n
            """, ("$t", token.Id.ToString()), ("$n", count));
        using var r = command.ExecuteReader();
        var list = new List<AdeSyncResult>();
        while (r.Read())
        {
            var started = ToTime(r.GetInt64(3));
            list.Add(new AdeSyncResult
            {
                Token = token.Name,
                TokenId = token.Id,
                Kind = Enum.Parse<AdeSyncKind>(r.GetString(0)),
                Trigger = Enum.Parse<AdeSyncTrigger>(r.GetString(1)),
                Status = Enum.Parse<AdeSyncStatus>(r.GetString(2)),
                StartedAt = started,
                Duration = r.IsDBNull(4) ? TimeSpan.Zero : ToTime(r.GetInt64(4)) - started,
                Added = r.GetInt32(5),
                Modified = r.GetInt32(6),
                Removed = r.GetInt32(7),
                Purged = r.GetInt32(8),
                DefaultProfileAssigned = r.GetInt32(9),
                Pages = r.GetInt32(10),
                ErrorId = r.GetStringOrNull(11),
                ErrorMessage = r.GetStringOrNull(12),
            });
        }

        return list;
    }

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
        private AdeSyncKind kind;
        private int added, modified, removed, purged, pages, defaultAssigned;
        private long received;
        private AppleClient? client;
        private Dictionary<DevicePlatform, Guid> defaultProfiles = [];
        private readonly SortedDictionary<string, int> withoutDefault = new(StringComparer.Ordinal);

        public SyncRun(SyncService owner, TokenForSync forSync, string lease, long historyId, AdeSyncKind kind, SyncStateRow initial, DateTimeOffset startedAt)
        {
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

        public AdeSyncResult Execute(AdeSyncTrigger trigger)
        {
            try
            {
                client = owner.apple.ForToken(forSync.Credentials);
                defaultProfiles = new Dictionary<DevicePlatform, Guid>(forSync.DefaultProfileIds);
                var cursor = initial.Cursor;
                if (kind == AdeSyncKind.Full)
                {
                    // Resume a full fetch that an earlier run left half-way (its pages are committed); else start over.
                    var resume = initial.CursorKind == "fetch" && initial.FullSyncId is not null;
                    cursor = FullFetch(client, resume ? initial.Cursor : null, resume ? initial.FullSyncId!.Value : historyId);
                }
                else if (cursor is null || initial.CursorKind != "sync")
                {
                    kind = AdeSyncKind.Full;
                    cursor = FullFetch(client, null, historyId);
                }

                try
                {
                    Delta(client, cursor!);
                }
                catch (AdeException ex) when (ex.ErrorId is nameof(ErrorCatalog.AppleCursorExpired) or nameof(ErrorCatalog.AppleCursorInvalid))
                {
                    Host.WriteWarning($"Apple no longer accepts the sync cursor of token '{token.Name}' ({ex.ErrorId}); fetching every device again.");
                    kind = AdeSyncKind.Full;
                    trigger = AdeSyncTrigger.CursorExpired; // Apple's cursor rule, not a failed sync
                    cursor = FullFetch(client, null, historyId);
                    Delta(client, cursor);
                }

                return Finish(trigger);
            }
            catch (Exception ex)
            {
                var error = Fail(ex);
                if (ReferenceEquals(error, ex))
                {
                    throw;
                }

                throw error;
            }
            finally
            {
                Host.WriteProgress(new AdeProgress(1, Activity, "Done", 100, Completed: true));
            }
        }

        private string Activity => $"Syncing devices of token '{token.Name}'";

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
                // The run stops with a page in flight: it is dropped, and nothing of it outlives the run.
                if (ahead is not null)
                {
                    dropAhead.Cancel();
                    try
                    {
                        ahead.GetAwaiter().GetResult();
                    }
                    catch (Exception)
                    {
                        // the dropped page's own failure (or its cancellation) is nobody's error
                    }
                }
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
                    page = request.GetAwaiter().GetResult();
                }
                catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.AppleCursorExhausted) && cursor is not null)
                {
                    // The listing was complete already: continue with delta from this cursor.
                    Commit([], cursor, "sync", fullSyncId, fullDone: true);
                    return cursor;
                }
                catch (AdeException ex) when (ex.ErrorId is nameof(ErrorCatalog.AppleCursorExpired) or nameof(ErrorCatalog.AppleCursorInvalid) && cursor is not null)
                {
                    Host.WriteWarning($"Apple no longer accepts the fetch cursor of token '{token.Name}' ({ex.ErrorId}); starting the full fetch again.");
                    cursor = null;
                    continue;
                }

                var next = page.Cursor ?? cursor ?? throw ErrorCatalog.AppleResponseInvalid(token.Name, "POST /server/devices", "the page has no cursor.");
                if (page.MoreToFollow)
                {
                    ahead = client.FetchDevicesAsync(next, PageSize, aheadCancellation);
                }

                Commit(page.Devices ?? [], next, page.MoreToFollow ? "fetch" : "sync", fullSyncId, fullDone: !page.MoreToFollow);
                cursor = next;
                if (!page.MoreToFollow)
                {
                    return cursor;
                }
            }
        }

        private void Delta(AppleClient client, string cursor)
        {
            while (true)
            {
                var page = client.SyncDevicesAsync(cursor, PageSize, Host.Cancellation).GetAwaiter().GetResult();
                var next = page.Cursor ?? cursor;
                Commit(page.Devices ?? [], next, "sync", historyId, fullDone: false);
                cursor = next;
                if (!page.MoreToFollow)
                {
                    return;
                }
            }
        }

        /// <summary>One transaction: the page's devices, the cursor it came with, and a check that the lease is still ours.</summary>
        private void Commit(IReadOnlyList<AppleDevice> devices, string cursor, string cursorKind, long syncId, bool fullDone)
        {
            received += devices.Count;
            if (pages >= owner.MaxPagesPerSync || received > 2L * MaxDevicesPerToken)
            {
                throw ErrorCatalog.SyncPageLimitExceeded(token.Name, pages + 1, received);
            }

            var now = owner.time.GetUtcNow();
            var counts = owner.store.WriteSql((c, tx) =>
            {
                var pageCounts = DeviceRepository.ApplyPage(c, tx, token.Id, syncId, devices, now);
                if (fullDone)
                {
                    pageCounts.Removed += DeviceRepository.MarkUnseenRemoved(c, tx, token.Id, syncId, now);
                }

                var updated = c.Execute(
                    """
                    UPDATE sync_state SET cursor = $c, cursor_kind = $k, full_sync_id = $f,
                           last_full_at = CASE WHEN $done = 1 THEN $started ELSE last_full_at END
                    WHERE token_id = $t AND lease_id = $l AND lease_expires_at > $now
                    """,
                    ("$now", ToUnixMs(now)), ("$c", cursor), ("$k", cursorKind), ("$f", cursorKind == "fetch" ? syncId : null), ("$done", fullDone ? 1 : 0),
                    ("$started", ToUnixMs(startedAt)), ("$t", token.Id.ToString()), ("$l", lease));
                if (updated == 0)
                {
                    // rolls the page back: the lease lapsed (15 minutes are over) or another run owns the token now
                    throw ErrorCatalog.SyncLeaseLost(token.Name);
                }

                return pageCounts;
            });

            // Each arriving device gets the default of its own platform, never another's; devices of a platform
            // without a default (or of unknown platform) stay unassigned and are counted per platform.
            foreach (var (platform, arrivals) in counts.WithoutProfile ?? [])
            {
                if (defaultProfiles.TryGetValue(platform, out var profileId))
                {
                    AssignDefault(platform, profileId, arrivals);
                }
                else
                {
                    CountWithoutDefault(platform.ToString(), arrivals.Count);
                }
            }

            CountWithoutDefault(DevicePlatforms.Unknown, counts.WithoutProfileUnknownPlatform?.Count ?? 0);
            pages++;
            added += counts.Added;
            modified += counts.Modified;
            removed += counts.Removed;
            Host.WriteVerbose($"Page {pages}: {devices.Count} devices from Apple; {counts.Added} added, {counts.Modified} modified, {counts.Removed} removed.");
            Host.WriteProgress(new AdeProgress(1, Activity, $"Page {pages}: {added:N0} added, {modified:N0} modified, {removed:N0} removed"));
        }

        private void CountWithoutDefault(string platform, int count)
        {
            if (count > 0)
            {
                withoutDefault[platform] = withoutDefault.GetValueOrDefault(platform) + count;
            }
        }

        private void AssignDefault(DevicePlatform platform, Guid profileId, List<string> arrivals)
        {
            // In the same sync, batched: at most one assignment request per page and platform. A refusal does not fail
            // the sync (its pages are committed): the devices stay without a profile and the admin is told.
            try
            {
                var assigned = owner.assignments.AssignDefault(client!, token, profileId, arrivals);
                defaultAssigned += assigned;
                if (assigned < arrivals.Count)
                {
                    Host.WriteWarning($"{arrivals.Count - assigned} of {arrivals.Count} new {platform} devices of token '{token.Name}' did not get the default profile (Apple answered NOT_ACCESSIBLE, FAILED or THROTTLED). Assign it with Get-AdeDevice -Token '{token.Name}' -Unassigned | Set-AdeDeviceProfile.");
                }
            }
            catch (AdeException ex) when (ex.ErrorId is not (nameof(ErrorCatalog.SyncLeaseLost) or nameof(ErrorCatalog.AppleTokenRejected)))
            {
                Host.WriteWarning($"{arrivals.Count} new {platform} devices of token '{token.Name}' did not get the default profile: {ex.Message}");
            }
        }

        private AdeSyncResult Finish(AdeSyncTrigger trigger)
        {
            var now = owner.time.GetUtcNow();
            var counted = owner.store.WriteSql((c, tx) =>
            {
                purged = DeviceRepository.Purge(c, tx, token.Id, now);
                DeviceJournal.Prune(c, tx, now); // the store's journal retention (Set-AdeStore -JournalRetentionDays)
                c.Execute("UPDATE token SET terms_not_signed_at = NULL WHERE id = $t AND terms_not_signed_at IS NOT NULL", ("$t", token.Id.ToString()));
                c.Execute(
                    """
                    UPDATE sync_history SET status = 'Succeeded', finished_at = $now, kind = $k, trigger_kind = $tr, added = $a, modified = $m,
                           removed = $r, purged = $p, pages = $pg, default_assigned = $da WHERE id = $h
                    """,
                    ("$now", ToUnixMs(now)), ("$k", kind.ToString()), ("$a", added), ("$m", modified), ("$r", removed), ("$p", purged), ("$pg", pages),
                    ("$da", defaultAssigned), ("$tr", trigger.ToString()), ("$h", historyId));
                c.Execute(
                    """
                    UPDATE sync_state SET last_success_at = $now, next_must_be_full = 0, lease_id = NULL, lease_expires_at = NULL, lease_history_id = NULL
                    WHERE token_id = $t AND lease_id = $l
                    """, ("$now", ToUnixMs(now)), ("$t", token.Id.ToString()), ("$l", lease));
                return (All: c.Scalar<long>("SELECT count(*) FROM device WHERE token_id = $t", ("$t", token.Id.ToString())),
                        Assigned: c.Scalar<long>("SELECT count(*) FROM device WHERE token_id = $t AND removed_at IS NULL", ("$t", token.Id.ToString())));
            });

            if (counted.Assigned > MaxDevicesPerToken)
            {
                Host.WriteWarning($"Token '{token.Name}' now has {counted.Assigned:N0} devices assigned in ABM, more than the {MaxDevicesPerToken:N0} Intune supports per token. Split the devices over more MDM servers (tokens) in Apple Business Manager.");
            }

            if (withoutDefault.Count > 0)
            {
                Host.WriteVerbose($"Arrived without a profile and no default for their platform: {string.Join(", ", withoutDefault.Select(w => $"{w.Key} {w.Value:N0}"))} (Set-AdeDefaultProfile gives a platform its default).");
            }

            if (purged > 0)
            {
                Host.WriteVerbose($"Purged {purged} devices removed from ABM more than 45 days ago.");
            }

            var state = owner.store.ReadSql(c => LoadState(c, token.Id)!);
            var (nextManual, nextFull) = SyncPolicy.NextAllowed(state.History, now);
            var nextAutomatic = SyncPolicy.NextAutomatic(state.History, now);
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
                ExpectedAbmDeliveryMinutes = ExpectedMinutes(counted.Assigned),
            };
        }

        /// <summary>Records the failed run (with a catalogued error ID, whatever failed) and returns that catalogued error.</summary>
        private AdeException Fail(Exception ex)
        {
            var error = ErrorCatalog.FromException(ex, $"The sync of token '{token.Name}'");
            owner.tokens.RecordAppleRefusal(token.Id, error);

            try
            {
                owner.store.WriteSql((c, tx) =>
                {
                    c.Execute(
                        """
                        UPDATE sync_history SET status = 'Failed', finished_at = $now, kind = $k, added = $a, modified = $m, removed = $r,
                               pages = $pg, error_id = $e, error_message = $msg WHERE id = $h AND status = 'Running'
                        """,
                        ("$now", ToUnixMs(owner.time.GetUtcNow())), ("$k", kind.ToString()), ("$a", added), ("$m", modified), ("$r", removed),
                        ("$pg", pages), ("$e", error.ErrorId), ("$msg", error.Message), ("$h", historyId));
                    c.Execute(
                        "UPDATE sync_state SET next_must_be_full = 1, lease_id = NULL, lease_expires_at = NULL, lease_history_id = NULL WHERE token_id = $t AND lease_id = $l",
                        ("$t", token.Id.ToString()), ("$l", lease));
                    return 0;
                });
            }
            catch (AdeException)
            {
                // The store itself failed; the lease lapses after 15 minutes and the sync then counts as failed.
            }

            Host.WriteVerbose($"The sync of token '{token.Name}' failed after {pages} committed pages; the next sync is a full sync.");
            return error;
        }
    }
}

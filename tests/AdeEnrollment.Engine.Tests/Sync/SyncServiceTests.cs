using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Health;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Sync;
using AdeEnrollment.Engine.Tests.Support;
using Xunit;

namespace AdeEnrollment.Engine.Tests.Sync;

public class SyncServiceTests
{
    private static readonly TimeSpan Quarter = TimeSpan.FromMinutes(15);

    [Fact]
    public void First_sync_is_full_and_brings_every_device_Apple_assigns()
    {
        using var f = new EngineSimFixture(devices: 2500);
        var result = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal(AdeSyncKind.Full, result.Kind);
        Assert.Equal(AdeSyncTrigger.First, result.Trigger);
        Assert.Equal(AdeSyncStatus.Succeeded, result.Status);
        Assert.Equal(2500, result.Added);
        Assert.Equal(2500, result.DeviceCount);
        Assert.True(result.Pages >= 3, $"pages: {result.Pages}");
        Assert.Equal(f.AppleSerials(), f.EngineSerials());
        Assert.Equal(Math.Round(2500 / 3000.0, 1), result.ExpectedAbmDeliveryMinutes);
        Assert.Equal(f.Time.GetUtcNow() + Quarter, result.NextManualSyncAt);
        Assert.Equal(f.Time.GetUtcNow() + TimeSpan.FromDays(7), result.NextFullSyncAt);
        Assert.All(f.Simulator.GetRequests("/server/devices"), r => Assert.True(r.DeviceCount <= 1000));
    }

    [Fact]
    public void Manual_sync_within_15_minutes_is_refused_naming_when_it_is_allowed()
    {
        using var f = new EngineSimFixture(devices: 10);
        f.Engine.Sync.Sync("iPads");
        var started = f.Time.GetUtcNow();
        f.Advance(Quarter - TimeSpan.FromSeconds(1));
        var ex = Assert.Throws<AdeException>(() => f.Engine.Sync.Sync("iPads"));
        Assert.Equal("ManualSyncTooSoon", ex.ErrorId);
        Assert.Contains((started + Quarter).ToString("u"), ex.Message);
        f.Advance(TimeSpan.FromSeconds(1));
        var delta = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal(AdeSyncKind.Delta, delta.Kind);
        Assert.Equal(AdeSyncTrigger.Manual, delta.Trigger);
    }

    [Fact]
    public void Delta_sync_brings_added_and_deleted_devices_and_deleted_ones_are_purged_after_45_days()
    {
        using var f = new EngineSimFixture(devices: 20);
        f.Engine.Sync.Sync("iPads");
        var gone = f.AppleSerials().First();
        f.Simulator.RemoveDevice(EngineSimFixture.Server, gone);
        f.Simulator.AddDevices(EngineSimFixture.Server, 5);
        f.Advance(Quarter);
        var delta = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal((5, 1), (delta.Added, delta.Removed));
        var removed = f.Engine.Devices.Get(new Devices.DeviceQuery(SerialNumber: gone)).Single();
        Assert.Equal(AdeAbmState.RemovedFromAbm, removed.AbmState);
        Assert.Equal(removed.RemovedAt!.Value.AddDays(45), removed.PurgeAfter);
        Assert.Single(f.Engine.Devices.Get(new Devices.DeviceQuery(RemovedFromAbm: true)));

        f.Advance(TimeSpan.FromDays(44));
        Assert.Equal(0, f.Engine.Sync.Sync("iPads")!.Purged);
        f.Advance(TimeSpan.FromDays(1));
        var later = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal(1, later.Purged);
        Assert.Empty(f.Engine.Devices.Get(new Devices.DeviceQuery(SerialNumber: gone)));
    }

    [Fact]
    public void Full_sync_is_refused_within_7_days_and_allowed_after()
    {
        using var f = new EngineSimFixture(devices: 5);
        f.Engine.Sync.Sync("iPads");
        f.Advance(TimeSpan.FromDays(7) - TimeSpan.FromHours(1));
        var ex = Assert.Throws<AdeException>(() => f.Engine.Sync.Sync("iPads", full: true));
        Assert.Equal("FullSyncTooSoon", ex.ErrorId);
        f.Advance(TimeSpan.FromHours(1));
        Assert.Equal(AdeSyncKind.Full, f.Engine.Sync.Sync("iPads", full: true)!.Kind);
    }

    [Fact]
    public void IfDue_returns_NotDue_without_asking_Apple_until_12_hours_have_passed()
    {
        using var f = new EngineSimFixture(devices: 5);
        f.Engine.Sync.Sync("iPads");
        f.Simulator.ClearRequests();
        f.Advance(TimeSpan.FromHours(11));
        var notDue = f.Engine.Sync.Sync("iPads", ifDue: true)!;
        Assert.Equal(AdeSyncStatus.NotDue, notDue.Status);
        Assert.Empty(f.Simulator.GetRequests());
        f.Advance(TimeSpan.FromHours(1));
        var due = f.Engine.Sync.Sync("iPads", ifDue: true)!;
        Assert.Equal((AdeSyncStatus.Succeeded, AdeSyncTrigger.Automatic, AdeSyncKind.Delta), (due.Status, due.Trigger, due.Kind));
    }

    [Fact]
    public void A_token_past_its_expiry_is_StoredTokenExpired_and_nothing_is_sent_to_Apple_by_a_sync_or_an_assignment()
    {
        using var f = new EngineSimFixture(devices: 2);
        f.Engine.Sync.Sync("iPads");
        f.Engine.Profiles.New("iPads", "Staff", new ProfileSettings { UserAffinity = UserAffinity.WithUserAffinity });
        var expires = f.Engine.Tokens.GetTokens().Single().ExpiresAt;
        f.Advance(expires - f.Time.GetUtcNow() + TimeSpan.FromMinutes(1));
        f.Simulator.ClearRequests();

        var sync = Assert.Throws<AdeException>(() => f.Engine.Sync.Sync("iPads", ifDue: true));
        Assert.Equal(("StoredTokenExpired", AdeErrorCategory.AuthenticationError), (sync.ErrorId, sync.Category));
        Assert.Contains("Update-AdeToken -Token 'iPads'", sync.Message, StringComparison.Ordinal);
        AdeAssert.Throws("StoredTokenExpired", () => f.Engine.Assignments.Assign("Staff", null, f.AppleSerials().Take(1)).ToList());
        Assert.Empty(f.Simulator.GetRequests());
        Assert.Equal(AdeTokenStatus.Expired, f.Engine.Tokens.GetTokens().Single().Status);
        // nothing was asked of Apple, so the cursor is as good as before: once the token is renewed, the next sync is a
        // delta, not a full fetch of every device
        Assert.False(f.Engine.Sync.GetStatus(f.Token).NextSyncIsFull);
    }

    [Fact]
    public void IfDue_NotDue_names_when_the_scheduled_sync_really_runs_not_the_next_manual_time()
    {
        using var f = new EngineSimFixture(devices: 5);
        var first = f.Engine.Sync.Sync("iPads")!;
        var succeededAt = f.Time.GetUtcNow();
        Assert.Equal(succeededAt + TimeSpan.FromHours(12), first.NextAutomaticSyncAt);
        f.Advance(TimeSpan.FromHours(1));

        var notDue = f.Engine.Sync.Sync("iPads", ifDue: true)!;

        Assert.Equal(AdeSyncStatus.NotDue, notDue.Status);
        Assert.Equal(succeededAt + TimeSpan.FromHours(12), notDue.NextAutomaticSyncAt);
        Assert.Equal(f.Time.GetUtcNow(), notDue.NextManualSyncAt); // a manual sync would be allowed now: not what -IfDue does
        Assert.Equal(notDue.NextAutomaticSyncAt, f.Engine.Sync.GetStatus(f.Token).NextAutomaticSyncAt);
        Assert.Contains(f.Host.Verbose, v => v.Contains((succeededAt + TimeSpan.FromHours(12)).ToString("u"), StringComparison.Ordinal));
    }

    [Fact]
    public void History_rows_carry_when_each_sync_ran_and_no_next_times()
    {
        using var f = new EngineSimFixture(devices: 5);
        var started = f.Time.GetUtcNow();
        f.Engine.Sync.Sync("iPads");
        f.Advance(Quarter);
        f.Engine.Sync.Sync("iPads");

        var history = f.Engine.Sync.GetStatus(f.Token).History;

        Assert.Equal([started + Quarter, started], history.Select(h => h.StartedAt));
        Assert.All(history, h => Assert.Null(h.NextManualSyncAt));
        Assert.All(history, h => Assert.Null(h.NextFullSyncAt));
        Assert.All(history, h => Assert.Null(h.NextAutomaticSyncAt));
    }

    [Fact]
    public void A_clock_that_went_backwards_does_not_lock_the_token_out_and_warns_once()
    {
        using var f = new EngineSimFixture(devices: 5);
        f.Engine.Sync.Sync("iPads");
        f.Time.AdjustTime(f.Time.GetUtcNow() - TimeSpan.FromDays(365)); // the clock is set back a year
        f.Host.Warnings.Clear();

        Assert.Equal(f.Time.GetUtcNow(), f.Engine.Sync.GetStatus(f.Token).NextManualSyncAt);
        var manual = f.Engine.Sync.Sync("iPads")!;

        Assert.Equal((AdeSyncStatus.Succeeded, AdeSyncKind.Delta), (manual.Status, manual.Kind));
        var warning = Assert.Single(f.Host.Warnings);
        Assert.Contains("clock", warning, StringComparison.OrdinalIgnoreCase);

        // From now on the normal rules hold again, and nothing more is said about the clock.
        f.Host.Warnings.Clear();
        f.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal("ManualSyncTooSoon", Assert.Throws<AdeException>(() => f.Engine.Sync.Sync("iPads")).ErrorId);
        f.Advance(TimeSpan.FromHours(12));
        Assert.Equal(AdeSyncStatus.Succeeded, f.Engine.Sync.Sync("iPads", ifDue: true)!.Status);
        f.Advance(TimeSpan.FromDays(7));
        Assert.Equal(AdeSyncKind.Full, f.Engine.Sync.Sync("iPads", full: true)!.Kind);
        Assert.Empty(f.Host.Warnings);
    }

    [Fact]
    public void A_held_lease_refuses_a_second_sync_and_a_lapsed_one_counts_as_failed_and_forces_a_full_sync()
    {
        using var f = new EngineSimFixture(devices: 5);
        f.Engine.Sync.Sync("iPads");
        f.Advance(Quarter);
        // Another process took the lease and died.
        var now = f.Time.GetUtcNow().ToUnixTimeMilliseconds();
        f.Sql($"INSERT INTO sync_history (token_id, kind, trigger_kind, status, started_at) VALUES ('{f.Token.Id}', 'Delta', 'Manual', 'Running', {now})");
        f.Sql($"UPDATE sync_state SET lease_id = 'other', lease_expires_at = {now + (long)Quarter.TotalMilliseconds}, lease_history_id = (SELECT max(id) FROM sync_history), last_started_at = {now}");
        var ex = Assert.Throws<AdeException>(() => f.Engine.Sync.Sync("iPads"));
        Assert.Equal("SyncInProgress", ex.ErrorId);
        Assert.True(f.Engine.Sync.GetStatus(f.Token).InProgress);

        f.Advance(Quarter);
        // shown failed as soon as the lease lapsed, before any sync records it so
        var shown = f.Engine.Sync.GetStatus(f.Token);
        Assert.Equal((false, AdeSyncStatus.Failed, true), (shown.InProgress, shown.LastStatus, shown.NextSyncIsFull));
        Assert.Equal((AdeSyncStatus.Failed, "SyncLeaseLost"), (shown.History[0].Status, shown.History[0].ErrorId));
        var recovery = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal((AdeSyncKind.Full, AdeSyncTrigger.Recovery), (recovery.Kind, recovery.Trigger));
        var history = f.Engine.Sync.GetStatus(f.Token).History;
        Assert.Contains(history, h => h.Status == AdeSyncStatus.Failed && h.ErrorId == "SyncLeaseLost");
        // the warning names the token: in a pass over many tokens "this token" said nothing
        Assert.Contains(f.Host.Warnings, w => w.StartsWith($"The previous sync of token '{f.Token.Name}' did not finish", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("lapsed lease")]
    [InlineData("clock skew")]
    public void A_warning_at_the_start_of_a_run_is_written_outside_the_write_and_one_the_host_turns_into_a_stop_ends_the_run_Stopped_releasing_its_lease(string cause)
    {
        using var f = new EngineSimFixture(devices: 5);
        f.Engine.Sync.Sync("iPads");
        f.Advance(Quarter);
        var now = f.Time.GetUtcNow().ToUnixTimeMilliseconds();
        if (cause == "lapsed lease")
        {
            // another process took the lease and died; it lapsed a second ago
            f.Sql($"INSERT INTO sync_history (token_id, kind, trigger_kind, status, started_at) VALUES ('{f.Token.Id}', 'Delta', 'Manual', 'Running', {now - (long)Quarter.TotalMilliseconds - 1000})");
            f.Sql($"UPDATE sync_state SET lease_id = 'other', lease_expires_at = {now - 1000}, lease_history_id = (SELECT max(id) FROM sync_history)");
        }
        else
        {
            f.Sql($"UPDATE sync_state SET last_success_at = {now + (long)TimeSpan.FromDays(2).TotalMilliseconds}");
        }

        var writable = true;
        f.Host.OnWarning = _ =>
        {
            // Another process writes while the warning is shown (a prompt may wait for a person): the sync holds no lock.
            var engine = f.NewEngine(new RecordingHost(), f.OpenStore());
            writable = engine.Profiles.New("iPads", $"Written during the warning {Guid.NewGuid():N}", new ProfileSettings { UserAffinity = UserAffinity.WithUserAffinity }) is not null;
            throw new Hosting.HostStoppedException(new InvalidOperationException("The running command stopped because the preference variable \"WarningPreference\" is set to Stop."));
        };

        var ex = AdeAssert.Throws(nameof(ErrorCatalog.OperationStopped), () => f.Engine.Sync.Sync("iPads"));

        Assert.IsType<Hosting.HostStoppedException>(ex.InnerException);
        Assert.True(writable);
        var status = f.Engine.Sync.GetStatus(f.Token);
        Assert.False(status.InProgress);
        Assert.Equal(AdeSyncStatus.Stopped, status.History[0].Status);
        f.Host.OnWarning = null;
        f.Advance(Quarter);
        Assert.Equal(AdeSyncStatus.Succeeded, f.Engine.Sync.Sync("iPads")!.Status);
    }

    [Fact]
    public void While_a_sync_holds_the_lease_neither_the_token_nor_its_profiles_can_be_removed_until_it_ends_or_lapses()
    {
        using var f = new EngineSimFixture(devices: 0);
        f.Engine.Profiles.New("iPads", "Kiosk", new ProfileSettings { UserAffinity = UserAffinity.WithUserAffinity });
        void AnotherProcessSyncs()
        {
            // a first sync of another process, before its first page: a lease, no devices yet
            var now = f.Time.GetUtcNow().ToUnixTimeMilliseconds();
            f.Sql($"INSERT INTO sync_history (token_id, kind, trigger_kind, status, started_at) VALUES ('{f.Token.Id}', 'Full', 'Manual', 'Running', {now})");
            f.Sql($"INSERT INTO sync_state (token_id) SELECT '{f.Token.Id}' WHERE NOT EXISTS (SELECT 1 FROM sync_state WHERE token_id = '{f.Token.Id}')");
            f.Sql($"UPDATE sync_state SET lease_id = 'other', lease_expires_at = {now + (long)Quarter.TotalMilliseconds}, lease_history_id = (SELECT max(id) FROM sync_history), last_started_at = {now}");
        }

        AnotherProcessSyncs();
        var ex = AdeAssert.Throws("SyncInProgress", () => f.Engine.Profiles.Remove("Kiosk", "iPads"));
        Assert.StartsWith("A sync of token 'iPads' has been running since ", ex.Message, StringComparison.Ordinal);
        Assert.Single(f.Engine.Profiles.Get(f.Token.Id));
        f.Advance(Quarter + TimeSpan.FromSeconds(1));
        Assert.True(f.Engine.Profiles.Remove("Kiosk", "iPads"));

        AnotherProcessSyncs();
        AdeAssert.Throws("SyncInProgress", () => f.Engine.Tokens.RemoveToken("iPads"));
        Assert.Single(f.Engine.Tokens.GetTokens(id: f.Token.Id));
        f.Advance(Quarter + TimeSpan.FromSeconds(1));
        Assert.True(f.Engine.Tokens.RemoveToken("iPads"));
    }

    [Fact]
    public void A_lease_from_before_the_clock_went_backwards_lapses_at_once_instead_of_locking_the_token_out()
    {
        using var f = new EngineSimFixture(devices: 5);
        f.Engine.Sync.Sync("iPads");
        f.Advance(Quarter);
        // A process took the lease when the clock was two days ahead, and died; the clock has been put right since.
        var then = f.Time.GetUtcNow().AddDays(2).ToUnixTimeMilliseconds();
        f.Sql($"INSERT INTO sync_history (token_id, kind, trigger_kind, status, started_at) VALUES ('{f.Token.Id}', 'Delta', 'Manual', 'Running', {then})");
        f.Sql($"UPDATE sync_state SET lease_id = 'other', lease_expires_at = {then + (long)Quarter.TotalMilliseconds}, lease_history_id = (SELECT max(id) FROM sync_history)");
        Assert.False(f.Engine.Sync.GetStatus(f.Token).InProgress);
        Assert.Equal(AdeHealthStatus.Warning, f.Engine.Health.Test(f.Token.Name).Single(c => c.Check == "SyncLease").Status);

        var recovery = f.Engine.Sync.Sync("iPads")!;

        Assert.Equal((AdeSyncStatus.Succeeded, AdeSyncKind.Full, AdeSyncTrigger.Recovery), (recovery.Status, recovery.Kind, recovery.Trigger));
        Assert.Contains(f.Engine.Sync.GetStatus(f.Token).History, h => h.Status == AdeSyncStatus.Failed && h.ErrorId == "SyncLeaseLost");
    }

    [Fact]
    public void A_sync_of_one_page_opens_the_store_three_times_the_fetched_page_riding_with_the_end_of_the_run()
    {
        // Token, lease, and the fetched page with the delta's last page and the end of the run: a token of a few hundred
        // devices (2,000 of them in a scheduler's run) costs no transaction more than that.
        using var f = new EngineSimFixture(devices: 40);
        var opens = 0;
        f.Store.ConnectionHook = _ => Interlocked.Increment(ref opens);
        try
        {
            var result = f.Engine.Sync.Sync(f.Token.Id.ToString())!;
            Assert.Equal((AdeSyncStatus.Succeeded, 40, 2), (result.Status, result.Added, result.Pages));
            Assert.Equal(3, opens);
        }
        finally
        {
            f.Store.ConnectionHook = null;
        }

        var history = f.Engine.Sync.GetStatus(f.Token).History[0];
        Assert.Equal((AdeSyncStatus.Succeeded, 40, 2), (history.Status, history.Added, history.Pages));
    }

    [Fact]
    public void The_last_page_of_a_delta_is_stored_with_the_end_of_the_run_or_not_at_all()
    {
        using var f = new EngineSimFixture(devices: 10);
        f.Engine.Sync.Sync("iPads");
        var before = f.EngineSerials();
        f.Simulator.AddDevices(EngineSimFixture.Server, 3);
        f.Advance(Quarter);

        // Another run takes the token over just before the transaction that would store the delta's only page and end the run.
        var opens = 0;
        f.Store.ConnectionHook = c =>
        {
            if (Interlocked.Increment(ref opens) == 3)
            {
                using var steal = c.CreateCommand();
                steal.CommandText = "UPDATE sync_state SET lease_id = 'other'";
                steal.ExecuteNonQuery();
            }
        };
        try
        {
            Assert.Equal("SyncLeaseLost", Assert.Throws<AdeException>(() => f.Engine.Sync.Sync(f.Token.Id.ToString())).ErrorId);
        }
        finally
        {
            f.Store.ConnectionHook = null;
        }

        Assert.Equal(before, f.EngineSerials()); // the 3 new devices were rolled back with the end of the run
        var failed = f.Engine.Sync.GetStatus(f.Token).History[0];
        Assert.Equal((AdeSyncStatus.Failed, "SyncLeaseLost", 0, 0), (failed.Status, failed.ErrorId, failed.Added, failed.Pages));
        Assert.Equal(0, f.Sql($"SELECT count(*) FROM device_event WHERE kind = 'Added' AND token_id = '{f.Token.Id}' AND serial_number NOT IN ({string.Join(", ", before.Select(b => $"'{b}'"))})"));
    }

    [Fact]
    public void A_first_sync_whose_delta_fails_still_keeps_the_fetched_page()
    {
        // The fetched page waits for the end of the run; a run that fails before it still writes that page by itself.
        using var f = new EngineSimFixture(devices: 40);
        f.Simulator.AddFault("/devices/sync", 500, count: 10);

        Assert.Equal("AppleServiceUnavailable", Assert.Throws<AdeException>(() => f.Engine.Sync.Sync("iPads")).ErrorId);

        Assert.Equal(f.AppleSerials(), f.EngineSerials());
        Assert.Equal(40, f.Sql($"SELECT count(*) FROM device_event WHERE kind = 'Added' AND token_id = '{f.Token.Id}'"));
        var failed = f.Engine.Sync.GetStatus(f.Token).History[0];
        Assert.Equal((AdeSyncStatus.Failed, 40, 1), (failed.Status, failed.Added, failed.Pages));
    }

    [Fact]
    public void A_first_sync_that_fails_on_a_busy_store_at_its_end_does_not_ask_the_store_again_for_the_fetched_page()
    {
        // The end of the run waits for the store's lock and gives up (StoreBusy); the held page is left to the next
        // sync instead of waiting for the lock once more. After the delta: the end of the run, then the failure record.
        using var f = new EngineSimFixture(devices: 40);
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        Microsoft.Data.Sqlite.SqliteConnection? holder = null;
        var afterDelta = 0;
        f.Store.ConnectionHook = c =>
        {
            if (f.Simulator.GetRequests("/devices/sync").Count == 0)
            {
                return;
            }

            afterDelta++;
            c.DefaultTimeout = 1;
            using (var busy = c.CreateCommand())
            {
                busy.CommandText = "PRAGMA busy_timeout = 50";
                busy.ExecuteNonQuery();
            }

            if (holder is null)
            {
                holder = new Microsoft.Data.Sqlite.SqliteConnection(c.ConnectionString);
                holder.Open();
                using var begin = holder.CreateCommand();
                begin.CommandText = "BEGIN IMMEDIATE";
                begin.ExecuteNonQuery();
            }
        };
        try
        {
            Assert.Equal("StoreBusy", Assert.Throws<AdeException>(() => f.Engine.Sync.Sync("iPads")).ErrorId);
            Assert.Equal(2, afterDelta);
        }
        finally
        {
            f.Store.ConnectionHook = null;
            holder?.Dispose();
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        }

        Assert.Empty(f.EngineSerials());
    }

    [Theory]
    [InlineData(false, 0)]
    [InlineData(true, 40)]
    public void The_fetched_page_is_stored_before_the_delta_only_with_a_default_profile(bool withDefault, long storedWhenTheDeltaIsAnswered)
    {
        // A delta page's default-profile decision may read the store, so with a default profile the fetched page is
        // written by itself before the delta; without one it rides with the end of the run.
        using var f = new EngineSimFixture(devices: 40);
        if (withDefault)
        {
            f.Engine.Profiles.New("iPads", "Staff", new ProfileSettings { UserAffinity = UserAffinity.WithUserAffinity });
            f.Engine.Profiles.SetDefault("iPads", "Staff");
        }

        long? seen = null;
        f.Store.ConnectionHook = c =>
        {
            if (seen is null && f.Simulator.GetRequests("/devices/sync").Count > 0)
            {
                using var count = c.CreateCommand();
                count.CommandText = "SELECT count(*) FROM device";
                seen = (long)count.ExecuteScalar()!;
            }
        };
        try
        {
            Assert.Equal(AdeSyncStatus.Succeeded, f.Engine.Sync.Sync("iPads")!.Status);
        }
        finally
        {
            f.Store.ConnectionHook = null;
        }

        Assert.Equal(storedWhenTheDeltaIsAnswered, seen);
        Assert.Equal(f.AppleSerials(), f.EngineSerials());
    }

    [Fact]
    public void A_failed_delta_sync_keeps_committed_pages_and_the_next_sync_is_a_full_recovery()
    {
        using var f = new EngineSimFixture(devices: 10);
        f.Engine.Sync.Sync("iPads");
        f.Simulator.AddDevices(EngineSimFixture.Server, 3);
        f.Simulator.AddFault("/devices/sync", 500, count: 10);
        f.Advance(Quarter);
        var ex = Assert.Throws<AdeException>(() => f.Engine.Sync.Sync("iPads"));
        Assert.Equal("AppleServiceUnavailable", ex.ErrorId);
        var status = f.Engine.Sync.GetStatus(f.Token);
        Assert.True(status.NextSyncIsFull);
        Assert.False(status.InProgress);
        Assert.Equal(AdeSyncStatus.Failed, status.LastStatus);

        f.Simulator.ClearFaults();
        f.Advance(Quarter);
        var recovery = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal((AdeSyncKind.Full, AdeSyncTrigger.Recovery), (recovery.Kind, recovery.Trigger));
        Assert.Equal(f.AppleSerials(), f.EngineSerials());
    }

    [Fact]
    public void A_full_fetch_stopped_after_two_pages_resumes_from_its_last_committed_page()
    {
        using var f = new EngineSimFixture(devices: 3500);
        var host = new StopAfterPagesHost(2);
        // Ctrl+C is a catalogued error, and the sync history records its catalogued ID (never a .NET type name).
        AdeAssert.Throws("OperationStopped", () => f.NewEngine(host).Sync.Sync("iPads"));
        var committed = f.Sql($"SELECT count(*) FROM device WHERE token_id = '{f.Token.Id}'");
        Assert.Equal(2000, committed);
        var status = f.Engine.Sync.GetStatus(f.Token);
        Assert.Equal((AdeSyncStatus.Stopped, "OperationStopped"), (status.History[0].Status, status.History[0].ErrorId));
        Assert.Equal(AdeSyncStatus.Stopped, status.LastStatus);

        // The stopped run had asked for page 3 ahead: on a loaded machine that request can still reach the simulator
        // after the stop. Let it land before the log is cleared, so that the log holds only the resumed run's requests.
        for (int before = -1, now = f.Simulator.GetRequests("/server/devices").Count; before != now; now = f.Simulator.GetRequests("/server/devices").Count)
        {
            before = now;
            Thread.Sleep(300);
        }

        f.Simulator.ClearFaults();
        f.Simulator.ClearRequests();
        f.Advance(Quarter);
        var resumed = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal((AdeSyncKind.Full, AdeSyncTrigger.Recovery), (resumed.Kind, resumed.Trigger)); // a full sync continues it
        Assert.Equal(1500, resumed.Added);
        Assert.Equal(f.AppleSerials(), f.EngineSerials());
        Assert.Equal(2, f.Simulator.GetRequests("/server/devices").Count(r => r.StatusCode == 200)); // pages 3 and 4 only (a 401 for the expired session comes first)
    }

    [Fact]
    public void A_manual_sync_right_after_a_stopped_one_is_refused_saying_that_the_stopped_attempt_counts()
    {
        using var f = new EngineSimFixture(devices: 10);
        f.Engine.Sync.Sync("iPads");
        f.Advance(TimeSpan.FromMinutes(1));
        var soon = AdeAssert.Throws("ManualSyncTooSoon", () => f.Engine.Sync.Sync("iPads"));
        Assert.Contains("was synced less than 15 minutes ago", soon.Message, StringComparison.Ordinal); // the last one succeeded

        f.Simulator.AddDevices(EngineSimFixture.Server, 2500);
        f.Advance(Quarter);
        var started = f.Time.GetUtcNow();
        AdeAssert.Throws("OperationStopped", () => f.NewEngine(new StopAfterPagesHost(1)).Sync.Sync("iPads")); // Ctrl+C
        f.Advance(TimeSpan.FromMinutes(1));

        var refused = AdeAssert.Throws("ManualSyncTooSoon", () => f.Engine.Sync.Sync("iPads"));
        Assert.Equal(AdeErrorCategory.LimitsExceeded, refused.Category);
        Assert.Contains($"started a sync at {started.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z that did not succeed (it failed or was stopped)", refused.Message, StringComparison.Ordinal);
        Assert.Contains($"allowed again at {(started + Quarter).UtcDateTime:yyyy-MM-dd HH:mm:ss}Z", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_delta_stopped_after_two_pages_keeps_them_whole_and_drops_the_page_asked_ahead()
    {
        using var f = new EngineSimFixture(devices: 10);
        f.Engine.Sync.Sync("iPads");
        var first = f.EngineSerials();
        f.Simulator.AddDevices(EngineSimFixture.Server, 3500); // a delta of four pages
        f.Advance(Quarter);

        // Stopped once page 2 is committed: page 3 was asked of Apple while page 2 was written; it is not written.
        AdeAssert.Throws("OperationStopped", () => f.NewEngine(new StopAfterPagesHost(2)).Sync.Sync("iPads"));
        var token = f.Token.Id;
        Assert.Equal(2010, f.Sql($"SELECT count(*) FROM device WHERE token_id = '{token}'"));
        Assert.Equal(2010, f.Sql($"SELECT count(*) FROM device_event WHERE kind = 'Added' AND token_id = '{token}'"));
        var stopped = f.Engine.Sync.GetStatus(f.Token).History[0];
        Assert.Equal((AdeSyncStatus.Stopped, "OperationStopped", 2000, 2), (stopped.Status, stopped.ErrorId, stopped.Added, stopped.Pages));
        Assert.False(f.Engine.Sync.GetStatus(f.Token).NextSyncIsFull); // a stop is not a failure: no recovery full sync

        // The next sync, a delta from the last committed page, brings the rest once: every device and every journal
        // entry exactly once, without fetching the devices of the committed pages again.
        f.Advance(Quarter);
        f.Simulator.ClearRequests();
        var next = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal((AdeSyncKind.Delta, AdeSyncTrigger.Manual, 1500, 0), (next.Kind, next.Trigger, next.Added, next.Modified));
        Assert.Empty(f.Simulator.GetRequests("/server/devices"));
        Assert.Equal(f.AppleSerials(), f.EngineSerials());
        Assert.Equal(3510, f.Sql($"SELECT count(*) FROM device_event WHERE kind = 'Added' AND token_id = '{token}'"));
        Assert.Equal(3510, f.Sql($"SELECT count(DISTINCT serial_number) FROM device_event WHERE kind = 'Added' AND token_id = '{token}'"));
        Assert.Equal(0, f.Sql($"SELECT count(*) FROM device_event WHERE kind = 'Modified' AND token_id = '{token}'"));
        Assert.Subset(f.EngineSerials().ToHashSet(), first.ToHashSet());
    }

    [Fact]
    public void An_expired_cursor_turns_the_delta_into_a_full_refetch()
    {
        using var f = new EngineSimFixture(devices: 8);
        f.Engine.Sync.Sync("iPads");
        f.Advance(TimeSpan.FromDays(8));
        var result = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal(AdeSyncKind.Full, result.Kind);
        Assert.Equal(AdeSyncTrigger.CursorExpired, result.Trigger); // Apple's cursor rule, not a recovery from a failure
        Assert.Equal(AdeSyncTrigger.CursorExpired, f.Engine.Sync.GetStatus(f.Token).History.First().Trigger);
        Assert.Contains(f.Host.Warnings, w => w.Contains("AppleCursorExpired"));
        Assert.Equal(f.AppleSerials(), f.EngineSerials());
    }

    [Fact]
    public void A_device_removed_from_the_engine_returns_at_the_next_full_sync_not_at_a_delta()
    {
        using var f = new EngineSimFixture(devices: 6);
        f.Engine.Sync.Sync("iPads");
        var serial = f.AppleSerials().First();
        Assert.Equal(1, f.Engine.Devices.Remove(serial, null));
        Assert.Contains(f.Host.Warnings, w => w.Contains(serial) && w.Contains("next full sync"));
        f.Advance(Quarter);
        f.Engine.Sync.Sync("iPads");
        Assert.DoesNotContain(serial, f.EngineSerials());
        f.Advance(TimeSpan.FromDays(7));
        f.Engine.Sync.Sync("iPads", full: true);
        Assert.Contains(serial, f.EngineSerials());
    }

    [Fact]
    public void A_sync_that_brings_a_token_over_200000_devices_completes_and_warns()
    {
        using var f = new EngineSimFixture(devices: 3);
        f.Engine.Sync.Sync("iPads");
        // 200,000 devices the token already holds (synced earlier), then a delta sync brings one more.
        var now = f.Time.GetUtcNow().ToUnixTimeMilliseconds();
        f.Sql($"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 199997)
            INSERT INTO device (token_id, serial_number, updated_at) SELECT '{f.Token.Id}', 'X' || i, {now} FROM n
            """);
        f.Simulator.AddDevices(EngineSimFixture.Server, 1);
        f.Advance(Quarter);
        var result = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal((AdeSyncStatus.Succeeded, 1), (result.Status, result.Added));
        Assert.Contains(f.Host.Warnings, w => w.Contains("200,001") && w.Contains("200,000") && w.Contains("Split"));
    }

    [Fact]
    public void Devices_removed_from_ABM_do_not_count_towards_the_200000_limit()
    {
        using var f = new EngineSimFixture(devices: 3);
        var now = f.Time.GetUtcNow().ToUnixTimeMilliseconds();
        f.Sql($"""
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000)
            INSERT INTO device (token_id, serial_number, updated_at, removed_at, purge_after) SELECT '{f.Token.Id}', 'X' || i, {now}, {now}, {now + 3_888_000_000} FROM n
            """);
        Assert.Equal(AdeSyncStatus.Succeeded, f.Engine.Sync.Sync("iPads")!.Status);
        Assert.DoesNotContain(f.Host.Warnings, w => w.Contains("Split"));
    }

    [Fact]
    public void Two_engines_on_one_store_cannot_hold_the_lease_at_once()
    {
        using var f = new EngineSimFixture(devices: 1200);
        f.Simulator.AddFault("/server/devices", null, latency: TimeSpan.FromMilliseconds(300), count: 100);
        var other = f.NewEngine(new RecordingHost());
        var results = new AdeException?[2];
        Parallel.For(0, 2, i =>
        {
            try
            {
                (i == 0 ? f.Engine : other).Sync.Sync("iPads");
            }
            catch (AdeException ex)
            {
                results[i] = ex;
            }
        });
        Assert.Single(results, r => r is null);
        Assert.Single(results, r => r?.ErrorId == "SyncInProgress");
    }
}

/// <summary>Presses Ctrl+C once the sync reported <c>pages</c> committed pages.</summary>
internal sealed class StopAfterPagesHost(int pages) : Hosting.IAdeHost
{
    private readonly CancellationTokenSource stop = new();

    public CancellationToken Cancellation => stop.Token;

    public bool ShouldProcess(string target, string action) => true;

    public void WriteDebug(string message) { }

    public void WriteVerbose(string message) { }

    public void WriteWarning(string message) { }

    public void WriteProgress(Hosting.AdeProgress progress)
    {
        if (progress.Status.StartsWith($"Page {pages}:", StringComparison.Ordinal))
        {
            stop.Cancel();
        }
    }
}

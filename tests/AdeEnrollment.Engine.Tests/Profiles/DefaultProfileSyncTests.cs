using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Sync;
using AdeEnrollment.Engine.Tests.Sync;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Simulator;

namespace AdeEnrollment.Engine.Tests.Profiles;

/// <summary>The default profile: devices that arrive without a profile get the token's default during the sync.</summary>
public class DefaultProfileSyncTests
{
    private const string Server = EngineSimFixture.Server;
    private static readonly TimeSpan Quarter = TimeSpan.FromMinutes(15);
    private static readonly ProfileSettings User = new() { UserAffinity = UserAffinity.WithUserAffinity };

    private static List<AdeSimRequest> AssignRequests(EngineSimFixture f)
        => [.. f.Simulator.GetRequests("/profile/devices").Where(r => r.Method is "POST" or "PUT" && r.StatusCode == 200)];

    private static string DefaultUuid(EngineSimFixture f) => f.Engine.Profiles.Resolve("Staff").AppleProfileUuid!;

    private static EngineSimFixture WithDefault(int devices)
    {
        var f = new EngineSimFixture(devices: devices);
        f.Engine.Profiles.New("iPads", "Staff", User);
        f.Engine.Profiles.SetDefault("iPads", "Staff");
        return f;
    }

    [Fact]
    public void FullSync_AssignsTheDefaultProfileToEveryArrivingDevice_InBatchesOfAtMost1000()
    {
        using var f = WithDefault(2500);

        var result = f.Engine.Sync.Sync("iPads")!;

        Assert.Equal(AdeSyncKind.Full, result.Kind);
        Assert.Equal(2500, result.Added);
        Assert.Equal(0, result.Modified); // Apple's echo of the module's own assignments is not Modified
        Assert.Equal(2500, result.DefaultProfileAssigned);
        Assert.Equal(2500, f.Engine.Sync.GetStatus(f.Token).History.First().DefaultProfileAssigned);
        var uuid = DefaultUuid(f);
        Assert.All(f.Simulator.GetDevices(Server), d => Assert.Equal((uuid, "assigned"), (d.ProfileUuid, d.ProfileStatus)));
        Assert.All(f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)), d => Assert.Equal("Staff", d.EnrollmentProfileName));

        var requests = AssignRequests(f);
        Assert.All(requests, r => Assert.InRange(r.DeviceCount, 1, 1000));
        Assert.Equal(2500, requests.Sum(r => r.DeviceCount));
        Assert.Single(f.Simulator.GetRequests("/profile"), r => r.Method == "POST" && r.StatusCode == 200);
    }

    [Fact]
    public void ASharedIPadDefault_IsOfferedToIPadsOnly_TheIPhonesAreOneWarning()
    {
        using var f = new EngineSimFixture();
        f.Simulator.AddDevices(Server, 3, deviceFamily: "iPad");
        f.Simulator.AddDevices(Server, 2, deviceFamily: "iPhone");
        f.Engine.Profiles.New("iPads", "Shared", new ProfileSettings { UserAffinity = UserAffinity.WithoutUserAffinity, SharedIPad = true });
        f.Engine.Profiles.SetDefault("iPads", "Shared");

        var result = f.Engine.Sync.Sync("iPads")!;

        Assert.Equal(3, result.DefaultProfileAssigned);
        Assert.All(f.Simulator.GetDevices(Server), d => Assert.Equal(d.DeviceFamily == "iPad", d.ProfileUuid is not null));
        Assert.Equal(3, AssignRequests(f).Sum(r => r.DeviceCount));
        var warning = Assert.Single(f.Host.Warnings, w => w.Contains("default profile", StringComparison.Ordinal));
        Assert.StartsWith("2 of 5 new iOS devices of token 'iPads' did not get the default profile (the iOS default is a Shared iPad profile, for iPads only, and these are not known to be iPads", warning, StringComparison.Ordinal);
        // the result counts them too: a script that reads it sees the iPhones left without a profile
        Assert.Equal(["iOS:2"], result.WithoutDefaultProfile.Select(w => $"{w.Platform}:{w.Count}"));

        // setting such a default says so at once, and how many iPhones are without a profile now
        Assert.Contains(f.Host.Warnings, w => w.StartsWith("'Shared' is a Shared iPad profile: as the iOS default of token 'iPads' it goes to arriving iPads only", StringComparison.Ordinal)
            && !w.Contains("no profile now", StringComparison.Ordinal));
        f.Host.Warnings.Clear();
        f.Engine.Profiles.SetDefault("iPads", "Shared");
        Assert.Contains("2 iPhones or iPods of the token have no profile now.", Assert.Single(f.Host.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void DeltaSync_AssignsTheDefaultProfileToAddedDevicesOnly()
    {
        using var f = WithDefault(10);
        Assert.Equal(10, f.Engine.Sync.Sync("iPads")!.DefaultProfileAssigned);
        var added = f.Simulator.AddDevices(Server, 25).Select(d => d.SerialNumber).ToHashSet();
        f.Simulator.ClearRequests();
        f.Advance(Quarter);

        var delta = f.Engine.Sync.Sync("iPads")!;

        Assert.Equal(AdeSyncKind.Delta, delta.Kind);
        Assert.Equal((25, 25), (delta.Added, delta.DefaultProfileAssigned));
        Assert.Equal(25, AssignRequests(f).Sum(r => r.DeviceCount));
        Assert.DoesNotContain(f.Simulator.GetRequests("/profile"), r => r.Method == "POST"); // already defined
        Assert.All(f.Simulator.GetDevices(Server, added), d => Assert.Equal(DefaultUuid(f), d.ProfileUuid));

        // The modified events of those assignments come in the next sync: nothing is assigned again, and Apple's echo
        // of the module's own assignment is not counted as a modification.
        f.Simulator.ClearRequests();
        f.Advance(Quarter);
        var next = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal((0, 0, 0), (next.Added, next.Modified, next.DefaultProfileAssigned));
        Assert.Empty(AssignRequests(f));
    }

    [Fact]
    public async Task DeltaSync_DoesNotReassignKnownModifiedDevicesOrOnesWhoseProfileWasRemoved_ButAssignsOtherModifiedOnesTheEngineDidNotKnow()
    {
        using var f = new EngineSimFixture(devices: 6);
        f.Engine.Sync.Sync("iPads"); // no default profile yet: the devices stay without one
        f.Engine.Profiles.New("iPads", "Staff", User);
        f.Engine.Profiles.SetDefault("iPads", "Staff");
        var s = f.AppleSerials().ToList();
        Assert.Equal(1, f.Engine.Devices.Remove(s[3], f.Token.Id)); // the engine forgets one device

        Assert.Equal(1, f.Engine.Devices.Remove(s[4], f.Token.Id)); // and another

        // Apple reports five devices as modified: three known ones and a forgotten one had their profile removed, the
        // other forgotten one (never given a profile) became a replacement device; none has a profile.
        var client = f.Engine.Apple.ForToken(f.Engine.Tokens.Credentials(f.Token));
        await client.RemoveProfileAsync(s.Take(4).ToList());
        f.Simulator.SetDevice(Server, s[4], null, clearDeadline: false, isReplacementDevice: true);
        f.Simulator.ClearRequests();
        f.Advance(Quarter);

        var delta = f.Engine.Sync.Sync("iPads")!;

        // only the device the engine did not know and whose profile nobody took away gets the default
        Assert.Equal((2, 3, 1), (delta.Added, delta.Modified, delta.DefaultProfileAssigned));
        Assert.Equal(1, Assert.Single(AssignRequests(f)).DeviceCount);
        Assert.Equal(DefaultUuid(f), f.Simulator.GetDevices(Server, [s[4]]).Single().ProfileUuid);
        Assert.All(f.Simulator.GetDevices(Server, s.Take(4).ToList()), d => Assert.Null(d.ProfileUuid));
        Assert.Equal("Staff", f.Engine.Devices.Get(new DeviceQuery(SerialNumber: s[4])).Single().EnrollmentProfileName);
    }

    [Fact]
    public void ALaterFullSync_AssignsDevicesWithoutAProfile_AndLeavesAssignedOnesAlone()
    {
        using var f = new EngineSimFixture(devices: 4);
        f.Engine.Sync.Sync("iPads");
        f.Engine.Profiles.New("iPads", "Kiosk", new ProfileSettings { UserAffinity = UserAffinity.WithoutUserAffinity });
        var s = f.AppleSerials().ToList();
        f.Engine.Assignments.Assign("Kiosk", null, [s[0]]).ToList();
        f.Engine.Profiles.New("iPads", "Staff", User);
        f.Engine.Profiles.SetDefault("iPads", "Staff");
        f.Advance(TimeSpan.FromDays(7));
        f.Simulator.ClearRequests();

        var full = f.Engine.Sync.Sync("iPads", full: true)!;

        Assert.Equal(AdeSyncKind.Full, full.Kind);
        Assert.Equal(3, full.DefaultProfileAssigned);
        Assert.Equal(3, AssignRequests(f).Sum(r => r.DeviceCount));
        Assert.Equal(f.Engine.Profiles.Resolve("Kiosk").AppleProfileUuid, f.Simulator.GetDevices(Server, [s[0]]).Single().ProfileUuid);
        Assert.All(f.Simulator.GetDevices(Server, s.Skip(1).ToList()), d => Assert.Equal(DefaultUuid(f), d.ProfileUuid));
    }

    [Fact]
    public void ALaterFullSync_NeverGivesTheDefaultBackToADeviceWhoseProfileWasCleared()
    {
        using var f = new EngineSimFixture(devices: 3);
        f.Engine.Profiles.New("iPads", "Staff", User);
        f.Engine.Profiles.SetDefault("iPads", "Staff");
        Assert.Equal(3, f.Engine.Sync.Sync("iPads")!.DefaultProfileAssigned);
        var s = f.AppleSerials().ToList();
        f.Engine.DeviceActions.ClearProfile([new DeviceTarget(s[0])], null).ToList();
        Assert.Equal("removed", f.Simulator.GetDevices(Server, [s[0]]).Single().ProfileStatus);
        f.Advance(TimeSpan.FromDays(7));
        f.Simulator.ClearRequests();

        // a full fetch (also what a recovery or an expired cursor makes) lists it without a profile: it stays so
        var full = f.Engine.Sync.Sync("iPads", full: true)!;
        Assert.Equal((AdeSyncKind.Full, 0), (full.Kind, full.DefaultProfileAssigned));
        Assert.Empty(AssignRequests(f));
        Assert.Null(f.Simulator.GetDevices(Server, [s[0]]).Single().ProfileUuid);
        Assert.Equal("", f.Engine.Devices.Get(new DeviceQuery(SerialNumber: s[0])).Single().EnrollmentProfileName ?? "");

        // the admin gives it a profile again explicitly
        Assert.Equal("Success", f.Engine.Assignments.Assign("Staff", null, [s[0]]).Single().Status.ToString());
    }

    [Fact]
    public void WithoutADefaultProfile_NothingIsAssigned()
    {
        using var f = new EngineSimFixture(devices: 5);
        f.Engine.Profiles.New("iPads", "Staff", User);
        var result = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal((5, 0), (result.Added, result.DefaultProfileAssigned));
        Assert.Empty(f.Simulator.GetRequests("/profile*"));
        Assert.All(f.Simulator.GetDevices(Server), d => Assert.Null(d.ProfileUuid));
    }

    [Fact]
    public void DefaultProfileAssigned_CountsOnlyTheDevicesAppleAccepted()
    {
        using var f = WithDefault(5);
        var s = f.AppleSerials().ToList();
        f.Simulator.SetDeviceOutcome(Server, s[2], "FAILED", count: 1);

        var result = f.Engine.Sync.Sync("iPads")!;

        Assert.Equal((5, 4), (result.Added, result.DefaultProfileAssigned));
        Assert.Null(f.Simulator.GetDevices(Server, [s[2]]).Single().ProfileUuid);
        Assert.Equal("", f.Engine.Devices.Get(new DeviceQuery(SerialNumber: s[2])).Single().EnrollmentProfileName);
        // The failure is held back like any other: an assignment within 24 hours reports it without asking Apple.
        var held = Assert.Single(f.Engine.Assignments.Assign("Staff", null, [s[2]]).ToList());
        Assert.Equal(AdeAssignmentStatus.Failed, held.Status);
    }

    [Fact]
    public void DevicesAppleRefusesTheDefault_AreOneWarningPerPlatformForTheWholeRun_NotOnePerPage_WithARunnableRemedy()
    {
        using var f = WithDefault(2500); // three pages of one platform
        var s = f.AppleSerials().ToList();
        foreach (var serial in new[] { s[0], s[1200], s[2400] })
        {
            f.Simulator.SetDeviceOutcome(Server, serial, "FAILED", count: 1);
        }

        var result = f.Engine.Sync.Sync("iPads")!;

        Assert.Equal(2497, result.DefaultProfileAssigned);
        var warning = Assert.Single(f.Host.Warnings, w => w.Contains("default profile", StringComparison.Ordinal));
        Assert.Equal("3 of 2,500 new iOS devices of token 'iPads' did not get the default profile (Apple answered NOT_ACCESSIBLE, FAILED or THROTTLED). "
            + "Assign it with: Get-AdeDevice -Token 'iPads' -Unassigned -Platform iOS | Set-AdeDeviceProfile -Profile <iOS profile>", warning);
    }

    private static (AdeSyncStatus, AdeSyncKind) Pick(AdeSyncResult r) => (r.Status, r.Kind);

    [Fact]
    public void ADefaultAssignmentAppleCouldNotTake_MakesTheNextSyncAFullOneThatOffersItAgain_RefusedDevicesDoNot()
    {
        using var f = WithDefault(30);
        f.Simulator.AddFault("/profile/devices", 500, count: 100);

        var first = f.Engine.Sync.Sync("iPads")!;

        Assert.Equal((AdeSyncStatus.Succeeded, 30, 0), (first.Status, first.Added, first.DefaultProfileAssigned));
        Assert.True(f.Engine.Sync.GetStatus(f.Token).NextSyncIsFull);
        Assert.Contains(f.Host.Warnings, w => w.Contains("is a full one and offers it again", StringComparison.Ordinal));
        f.Simulator.ClearFaults();
        f.Advance(Quarter);

        // not a Recovery every 15 minutes for the scheduler (an outage would make every pass a full fetch): at its cadence
        Assert.Equal((AdeSyncStatus.NotDue, AdeSyncKind.Full), Pick(f.Engine.Sync.Sync("iPads", ifDue: true)!));
        // a manual sync (or the scheduler's next) is full, and gives the default to all 30
        var next = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal((AdeSyncStatus.Succeeded, AdeSyncKind.Full, AdeSyncTrigger.Recovery, 30), (next.Status, next.Kind, next.Trigger, next.DefaultProfileAssigned));
        Assert.False(f.Engine.Sync.GetStatus(f.Token).NextSyncIsFull);
        Assert.All(f.Simulator.GetDevices(Server), d => Assert.Equal(DefaultUuid(f), d.ProfileUuid));

        // devices Apple itself refused (per-device answers) owe no full sync: the warning's remedy is the way for them
        f.Simulator.SetDeviceOutcome(Server, f.Simulator.AddDevices(Server, 1).Single().SerialNumber, "FAILED", count: 1);
        f.Advance(Quarter);
        Assert.Equal(0, f.Engine.Sync.Sync("iPads")!.DefaultProfileAssigned);
        Assert.False(f.Engine.Sync.GetStatus(f.Token).NextSyncIsFull);
    }

    [Fact]
    public void TheDefaultProfileIsWrittenWithItsPage_JournalledAfterTheArrival_WithApplesAnswerPerDevice()
    {
        using var f = WithDefault(4);
        var s = f.AppleSerials().ToList();
        f.Simulator.SetDeviceOutcome(Server, s[1], "FAILED", count: 1);

        var result = f.Engine.Sync.Sync("iPads")!;

        Assert.Equal((4, 3), (result.Added, result.DefaultProfileAssigned));
        var devices = f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)).ToDictionary(d => d.SerialNumber);
        foreach (var serial in s)
        {
            var failed = serial == s[1];
            var events = f.Engine.Devices.GetEvents(new DeviceEventQuery(f.Token.Id, serial)).Select(e => (e.Kind, e.Detail)).ToList();
            Assert.Equal([(AdeDeviceEventKind.Added, null), failed ? (AdeDeviceEventKind.AssignmentFailed, "Staff: FAILED") : (AdeDeviceEventKind.ProfileAssigned, "Staff: SUCCESS")], events);
            Assert.Equal((failed ? "" : "Staff", "Staff", failed ? "FAILED" : "SUCCESS"),
                (devices[serial].EnrollmentProfileName, devices[serial].LastAssignmentProfile, devices[serial].LastAssignmentResult));
        }
    }

    [Fact]
    public void ADeltaEventThatRestatesTheStoredDevice_IsNotWrittenJournalledOrCounted_OneThatDiffersIs()
    {
        using var f = new EngineSimFixture(devices: 3);
        f.Engine.Sync.Sync("iPads");
        var s = f.AppleSerials().ToList();
        long UpdatedAt(string serial) => f.Sql($"SELECT updated_at FROM device WHERE serial_number = '{serial}'");
        var writtenAt = UpdatedAt(s[0]);

        // Apple reports two devices as modified: one with the very values the store holds, one with a field changed.
        f.Simulator.SetDevice(Server, s[0], null, clearDeadline: false, isReplacementDevice: null);
        var current = f.Simulator.GetDevices(Server, [s[1]]).Single().IsReplacementDevice ?? false;
        f.Simulator.SetDevice(Server, s[1], null, clearDeadline: false, isReplacementDevice: !current);
        f.Advance(Quarter);

        var delta = f.Engine.Sync.Sync("iPads")!;

        Assert.Equal((0, 1, 0), (delta.Added, delta.Modified, delta.Removed));
        Assert.Equal(writtenAt, UpdatedAt(s[0])); // the row was not written again
        Assert.NotEqual(writtenAt, UpdatedAt(s[1]));
        Assert.Equal([AdeDeviceEventKind.Added], f.Engine.Devices.GetEvents(new DeviceEventQuery(f.Token.Id, s[0])).Select(e => e.Kind));
        Assert.Equal([(AdeDeviceEventKind.Added, null), (AdeDeviceEventKind.Modified, "IsReplacementDevice")],
            f.Engine.Devices.GetEvents(new DeviceEventQuery(f.Token.Id, s[1])).Select(e => (e.Kind, e.Detail)));
        Assert.Equal(!current, f.Engine.Devices.Get(new DeviceQuery(SerialNumber: s[1])).Single().IsReplacementDevice);
    }

    [Fact]
    public void TheEchoOfTheDefaultAssignment_InTheSameSync_LeavesTheRowsAsTheAssignmentWroteThem()
    {
        using var f = WithDefault(30);
        var started = f.Time.GetUtcNow().ToUnixTimeMilliseconds();

        var result = f.Engine.Sync.Sync("iPads")!;

        // The closing delta brings 30 'modified' events (Apple now reports the profile): none is a change.
        Assert.Equal((30, 0, 30), (result.Added, result.Modified, result.DefaultProfileAssigned));
        Assert.Equal(60, f.Sql("SELECT count(*) FROM device_event"));
        Assert.Equal(0, f.Sql("SELECT count(*) FROM device WHERE last_op_date IS NOT NULL")); // no event's row was written
        Assert.Equal(30, f.Sql($"SELECT count(*) FROM device WHERE profile_status = 'assigned' AND profile_assign_time = {started}"));
    }

    [Fact]
    public void APageWriteThatFailsWhileTheNextPagesAssignmentIsWithApple_LeavesOnlyWholePages_AndTheNextSyncFindsTheRest()
    {
        using var f = WithDefault(3000);
        var token = f.Token.Id;
        // Once the first page is in the store, another run takes the lease: the next page write fails (SyncLeaseLost),
        // while the request of the page after it is already with Apple.
        var stolen = 0;
        f.Store.ConnectionHook = c =>
        {
            using var count = c.CreateCommand();
            count.CommandText = "SELECT count(*) FROM device";
            if (Convert.ToInt64(count.ExecuteScalar()) >= 1000 && Interlocked.Exchange(ref stolen, 1) == 0)
            {
                using var steal = c.CreateCommand();
                steal.CommandText = "UPDATE sync_state SET lease_id = 'other'";
                steal.ExecuteNonQuery();
            }
        };
        try
        {
            Assert.Equal("SyncLeaseLost", Assert.Throws<AdeException>(() => f.Engine.Sync.Sync("iPads")).ErrorId);
        }
        finally
        {
            f.Store.ConnectionHook = null;
        }

        // Page 1 only, whole: its devices with the default and their journal; nothing of pages 2 and 3.
        Assert.Equal(1000, f.Sql($"SELECT count(*) FROM device WHERE token_id = '{token}'"));
        Assert.Equal(1000, f.Sql($"SELECT count(*) FROM device WHERE token_id = '{token}' AND profile_id IS NOT NULL AND last_attempt_result = 'SUCCESS'"));
        Assert.Equal(1000, f.Sql($"SELECT count(*) FROM device_event WHERE kind = 'Added'"));
        Assert.Equal(1000, f.Sql($"SELECT count(*) FROM device_event WHERE kind = 'ProfileAssigned'"));
        Assert.Equal(0, f.Sql("SELECT count(*) FROM device_event e WHERE NOT EXISTS (SELECT 1 FROM device d WHERE d.serial_number = e.serial_number)"));
        var failed = f.Engine.Sync.GetStatus(f.Token).History[0];
        Assert.Equal((AdeSyncStatus.Failed, "SyncLeaseLost", 1000, 1000, 1), (failed.Status, failed.ErrorId, failed.Added, failed.DefaultProfileAssigned, failed.Pages));
        // Apple took the requests of the pages not written (the one in flight was waited for, not dropped half-way).
        Assert.Equal(3000, AssignRequests(f).Sum(r => r.DeviceCount));

        // The next sync (a full recovery) stores the rest as Apple now reports them, with the default, asking nothing again.
        f.Simulator.ClearRequests();
        f.Sql("UPDATE sync_state SET lease_id = NULL, lease_expires_at = NULL, lease_history_id = NULL");
        f.Advance(Quarter);
        var next = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal((2000, 0), (next.Added, next.DefaultProfileAssigned));
        Assert.Empty(AssignRequests(f));
        Assert.All(f.Engine.Devices.Get(new DeviceQuery(token)), d => Assert.Equal("Staff", d.EnrollmentProfileName));
    }

    [Fact]
    public void ASyncStoppedWhileAPagesAssignmentIsWithApple_KeepsTheWrittenPagesWhole()
    {
        using var f = WithDefault(3000);
        var host = new StopAfterPagesHost(1);

        AdeAssert.Throws("OperationStopped", () => f.NewEngine(host).Sync.Sync("iPads"));

        var token = f.Token.Id;
        Assert.Equal(1000, f.Sql($"SELECT count(*) FROM device WHERE token_id = '{token}'"));
        Assert.Equal(1000, f.Sql($"SELECT count(*) FROM device WHERE token_id = '{token}' AND profile_id IS NOT NULL"));
        Assert.Equal(2000, f.Sql("SELECT count(*) FROM device_event"));
        Assert.Equal(0, f.Sql("SELECT count(*) FROM device_event e WHERE NOT EXISTS (SELECT 1 FROM device d WHERE d.serial_number = e.serial_number)"));
        Assert.Equal((1000, 1), (f.Engine.Sync.GetStatus(f.Token).History[0].DefaultProfileAssigned, f.Engine.Sync.GetStatus(f.Token).History[0].Pages));
    }

    /// <summary>Logs every cursor the store keeps for the token (a trigger in the test's store file).</summary>
    private static void LogCursorSaves(EngineSimFixture f)
    {
        f.Sql("CREATE TABLE test_cursor_log (n INTEGER PRIMARY KEY, cursor TEXT, kind TEXT)");
        f.Sql("CREATE TRIGGER test_cursor_saved AFTER UPDATE OF cursor ON sync_state BEGIN INSERT INTO test_cursor_log (cursor, kind) VALUES (new.cursor, new.cursor_kind); END");
    }

    [Fact]
    public void TheEchoOfTheDefaultAssignment_StoresNoCursorPerPage_TheEndOfTheRunStoresTheLast()
    {
        using var f = WithDefault(3000);
        LogCursorSaves(f);

        var result = f.Engine.Sync.Sync("iPads")!;

        // 3 fetched pages, then Apple's echo of the 3000 assignments in the delta: counted as pages, but they change
        // nothing, so none commits; the cursor of the last one is stored by the transaction that ends the run.
        Assert.Equal((3000, 0, 3000), (result.Added, result.Modified, result.DefaultProfileAssigned));
        Assert.True(result.Pages >= 6, $"{result.Pages} pages");
        Assert.Equal(4, f.Sql("SELECT count(*) FROM test_cursor_log"));
        Assert.Equal(f.Sql("SELECT n FROM test_cursor_log ORDER BY n DESC LIMIT 1"),
            f.Sql("SELECT n FROM test_cursor_log WHERE cursor = (SELECT cursor FROM sync_state) AND kind = 'sync' ORDER BY n DESC LIMIT 1"));
        Assert.Equal(result.Pages, f.Engine.Sync.GetStatus(f.Token).History[0].Pages);
        Assert.Equal(6000, f.Sql("SELECT count(*) FROM device_event"));

        // The next delta starts after the echo: nothing comes again.
        f.Advance(Quarter);
        var next = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal((AdeSyncKind.Delta, 0, 0, 0, 1), (next.Kind, next.Added, next.Modified, next.DefaultProfileAssigned, next.Pages));
    }

    [Fact]
    public void ASyncStoppedInTheEcho_KeepsTheStoreWhole_CountsOnlyCommittedPages_AndTheNextSyncChangesNothing()
    {
        using var f = WithDefault(3000);
        LogCursorSaves(f);

        // Stopped after the fifth page: three fetched pages, then two pages of Apple's echo (not committed).
        AdeAssert.Throws("OperationStopped", () => f.NewEngine(new StopAfterPagesHost(5)).Sync.Sync("iPads"));

        var token = f.Token.Id;
        Assert.Equal(3000, f.Sql($"SELECT count(*) FROM device WHERE token_id = '{token}' AND profile_id IS NOT NULL AND last_attempt_result = 'SUCCESS'"));
        Assert.Equal(6000, f.Sql("SELECT count(*) FROM device_event"));
        Assert.Equal(0, f.Sql("SELECT count(*) FROM device WHERE last_op_date IS NOT NULL")); // no echo was written
        Assert.Equal(3, f.Sql("SELECT count(*) FROM test_cursor_log")); // the fetched pages' cursors only
        Assert.Equal("sync", f.SqlText("SELECT cursor_kind FROM sync_state"));
        var stopped = f.Engine.Sync.GetStatus(f.Token).History[0];
        Assert.Equal((AdeSyncStatus.Stopped, "OperationStopped", 3000, 0, 3000, 3),
            (stopped.Status, stopped.ErrorId, stopped.Added, stopped.Modified, stopped.DefaultProfileAssigned, stopped.Pages));

        // The next sync asks for the echo again from the stored cursor (or fetches everything again): it changes nothing.
        f.Simulator.ClearRequests();
        f.Advance(Quarter);
        var next = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal((AdeSyncStatus.Succeeded, 0, 0, 0, 0), (next.Status, next.Added, next.Modified, next.Removed, next.DefaultProfileAssigned));
        Assert.Empty(AssignRequests(f));
        Assert.Equal(6000, f.Sql("SELECT count(*) FROM device_event"));
        Assert.All(f.Engine.Devices.Get(new DeviceQuery(token)), d => Assert.Equal("Staff", d.EnrollmentProfileName));
    }

    [Fact]
    public void ALeaseLostDuringTheEcho_FailsTheRunAtItsLastCommit_WithTheStoreWhole()
    {
        using var f = WithDefault(3000);
        LogCursorSaves(f);
        // Another run takes the lease once the fourth page (the first of the echo) is read.
        var host = new OnPageHost(4, () => f.Sql("UPDATE sync_state SET lease_id = 'other'"));

        AdeAssert.Throws("SyncLeaseLost", () => f.NewEngine(host).Sync.Sync("iPads"));

        Assert.Equal(3000, f.Sql("SELECT count(*) FROM device WHERE profile_id IS NOT NULL"));
        Assert.Equal(6000, f.Sql("SELECT count(*) FROM device_event"));
        Assert.Equal(3, f.Sql("SELECT count(*) FROM test_cursor_log")); // nothing stored after the lease was lost
        var failed = f.Engine.Sync.GetStatus(f.Token).History[0];
        Assert.Equal((AdeSyncStatus.Failed, "SyncLeaseLost", 3000, 3000, 3), (failed.Status, failed.ErrorId, failed.Added, failed.DefaultProfileAssigned, failed.Pages));

        f.Sql("UPDATE sync_state SET lease_id = NULL, lease_expires_at = NULL, lease_history_id = NULL");
        f.Simulator.ClearRequests();
        f.Advance(Quarter);
        var next = f.Engine.Sync.Sync("iPads")!;
        Assert.Equal((AdeSyncStatus.Succeeded, 0, 0, 0), (next.Status, next.Added, next.Modified, next.DefaultProfileAssigned));
        Assert.Empty(AssignRequests(f));
        Assert.Equal(6000, f.Sql("SELECT count(*) FROM device_event"));
    }
}

/// <summary>Runs an action once the sync reports page <paramref name="page"/> (on the sync's thread, between transactions).</summary>
internal sealed class OnPageHost(int page, Action act) : Hosting.IAdeHost
{
    private int done;

    public CancellationToken Cancellation => CancellationToken.None;

    public bool ShouldProcess(string target, string action) => true;

    public void WriteDebug(string message) { }

    public void WriteVerbose(string message) { }

    public void WriteWarning(string message) { }

    public void WriteProgress(Hosting.AdeProgress progress)
    {
        if (progress.Status.StartsWith($"Page {page}:", StringComparison.Ordinal) && Interlocked.Exchange(ref done, 1) == 0)
        {
            act();
        }
    }
}

using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tests.TestSupport;

namespace AdeEnrollment.Engine.Tests.Storage.Contract;

/// <summary>
/// What every store provider promises for tables sync_state and sync_history (the lease, cursors, history rows) and
/// for the page writes a sync makes on table device and device_event. A provider runs it through a subclass.
/// </summary>
public abstract class SyncTableContract : IDisposable
{
    private TestStore? store;
    private Guid? tokenId;

    /// <summary>A fresh, empty store of the provider under test.</summary>
    protected abstract TestStore CreateStore();

    private TestStore Store => store ??= CreateStore();

    private Guid TokenId => tokenId ??= Store.AddToken("Contract").Token.Id;

    private static readonly DateTimeOffset T0 = new(2026, 1, 5, 8, 0, 0, TimeSpan.Zero);

    public void Dispose()
    {
        store?.Dispose();
        GC.SuppressFinalize(this);
    }

    // The token exists before a unit of work starts (adding it inside one would wait for that unit's own lock).
    private T Write<T>(Func<IStoreSession, T> work) => TokenId == Guid.Empty ? default! : Store.Store.Write(work);

    private void Write(Action<IStoreSession> work) => Write(s => { work(s); return 0; });

    private T Read<T>(Func<IStoreSession, T> work) => TokenId == Guid.Empty ? default! : Store.Store.Read(work);

    private SyncStateRow State() => Read(s => s.Sync.GetState(TokenId))!;

    // ---- sync_state: the lease and cursors ------------------------------------------------------------------------

    [Fact]
    public void State_IsAbsentUntilCreated_ThenEmpty()
    {
        Assert.Null(Read(s => s.Sync.GetState(TokenId)));
        Assert.Equal(SyncStateRow.Empty, Write(s => s.Sync.CreateState(TokenId)));
        Assert.Equal(SyncStateRow.Empty, State());
    }

    [Fact]
    public void TakeLease_RecordsTheLeaseItsExpiryItsRunAndTheStart()
    {
        var run = Write(s =>
        {
            s.Sync.CreateState(TokenId);
            var id = s.Sync.StartHistory(TokenId, AdeSyncKind.Full, AdeSyncTrigger.First, T0);
            s.Sync.TakeLease(TokenId, "lease-1", T0.AddMinutes(15), id, T0);
            return id;
        });

        var state = State();
        Assert.Equal(("lease-1", T0.AddMinutes(15), run, T0), (state.LeaseId, state.LeaseExpiresAt, state.LeaseHistoryId, state.LastStartedAt));
    }

    [Fact]
    public void SaveCursor_RoundTrips_WhileTheLeaseIsHeldAndUnexpired()
    {
        TakeLease("lease-1", T0.AddMinutes(15));

        Assert.True(Write(s => s.Sync.SaveCursor(TokenId, "lease-1", T0.AddMinutes(1), new SyncCursor("fetch-cursor", SyncCursorKind.Fetch, 42), null)));
        Assert.Equal(new SyncCursor("fetch-cursor", SyncCursorKind.Fetch, 42), State().Cursor);
        Assert.Null(State().LastFullAt);

        Assert.True(Write(s => s.Sync.SaveCursor(TokenId, "lease-1", T0.AddMinutes(2), new SyncCursor("sync-cursor", SyncCursorKind.Sync, null), T0)));
        Assert.Equal(new SyncCursor("sync-cursor", SyncCursorKind.Sync, null), State().Cursor);
        Assert.Equal(T0, State().LastFullAt);

        // without a full sync completing, the last full time stays
        Assert.True(Write(s => s.Sync.SaveCursor(TokenId, "lease-1", T0.AddMinutes(3), new SyncCursor("next", SyncCursorKind.Sync, null), null)));
        Assert.Equal(T0, State().LastFullAt);
    }

    [Fact]
    public void SaveCursor_IsRefused_ForAnotherLease_OrOnceTheLeaseExpired()
    {
        TakeLease("lease-1", T0.AddMinutes(15));
        Write(s => s.Sync.SaveCursor(TokenId, "lease-1", T0, new SyncCursor("kept", SyncCursorKind.Sync, null), null));

        Assert.False(Write(s => s.Sync.SaveCursor(TokenId, "lease-2", T0.AddMinutes(1), new SyncCursor("other", SyncCursorKind.Sync, null), T0)));
        Assert.False(Write(s => s.Sync.SaveCursor(TokenId, "lease-1", T0.AddMinutes(15), new SyncCursor("late", SyncCursorKind.Sync, null), T0)));

        Assert.Equal(new SyncCursor("kept", SyncCursorKind.Sync, null), State().Cursor);
        Assert.Null(State().LastFullAt);
    }

    [Fact]
    public void ReleaseLease_AfterSuccess_RecordsItAndClearsTheFullSyncDemand()
    {
        TakeLease("lease-1", T0.AddMinutes(15));
        Write(s => s.Sync.ReleaseLease(TokenId, null, null)); // a failed run before: the next must be full
        TakeLease("lease-2", T0.AddMinutes(30));
        Assert.True(State().NextMustBeFull);

        Assert.True(Write(s => s.Sync.ReleaseLease(TokenId, "lease-2", T0.AddMinutes(20))));

        var state = State();
        Assert.Equal((null, null, null), (state.LeaseId, state.LeaseExpiresAt, state.LeaseHistoryId));
        Assert.Equal(T0.AddMinutes(20), state.LastSuccessAt);
        Assert.False(state.NextMustBeFull);
    }

    [Fact]
    public void ReleaseLease_AfterFailure_DemandsAFullSync_AndKeepsTheLastSuccess()
    {
        TakeLease("lease-1", T0.AddMinutes(15));
        Write(s => s.Sync.ReleaseLease(TokenId, "lease-1", T0.AddMinutes(5)));
        TakeLease("lease-2", T0.AddMinutes(30));

        Assert.True(Write(s => s.Sync.ReleaseLease(TokenId, "lease-2", null)));

        var state = State();
        Assert.Null(state.LeaseId);
        Assert.True(state.NextMustBeFull);
        Assert.Equal(T0.AddMinutes(5), state.LastSuccessAt);
    }

    [Fact]
    public void ReleaseLease_OfAnotherLease_ChangesNothing_AndATakeoverEndsTheOldRunsCommits()
    {
        TakeLease("old", T0.AddMinutes(15));
        Assert.False(Write(s => s.Sync.ReleaseLease(TokenId, "someone-else", T0)));
        Assert.Equal("old", State().LeaseId);

        // the old lease lapsed: released whatever it was, then taken by a new run
        Assert.True(Write(s => s.Sync.ReleaseLease(TokenId, null, null)));
        Assert.False(Write(s => s.Sync.ReleaseLease(TokenId, null, null))); // nothing held any more
        TakeLease("new", T0.AddMinutes(40));

        Assert.False(Write(s => s.Sync.SaveCursor(TokenId, "old", T0.AddMinutes(26), new SyncCursor("stale", SyncCursorKind.Sync, null), null)));
        Assert.True(Write(s => s.Sync.SaveCursor(TokenId, "new", T0.AddMinutes(26), new SyncCursor("fresh", SyncCursorKind.Sync, null), null)));
        Assert.Equal("fresh", State().Cursor!.Cursor);
        Assert.False(Write(s => s.Sync.ReleaseLease(TokenId, "old", T0)));
        Assert.Equal("new", State().LeaseId);
    }

    [Fact]
    public void DropTimesAfter_ForgetsOnlyTheTimesLaterThanTheLimit()
    {
        TakeLease("a", T0.AddMinutes(15));
        Write(s => s.Sync.SaveCursor(TokenId, "a", T0, new SyncCursor("c", SyncCursorKind.Sync, null), T0.AddDays(2)));
        Write(s => s.Sync.ReleaseLease(TokenId, "a", T0.AddDays(-1)));

        Write(s => s.Sync.DropTimesAfter(TokenId, T0.AddDays(1)));

        var state = State();
        Assert.Null(state.LastFullAt);
        Assert.Equal(T0.AddDays(-1), state.LastSuccessAt);
    }

    // ---- sync_history ----------------------------------------------------------------------------------------------

    [Fact]
    public void History_RoundTripsEveryColumn_NewestFirst_AndLimited()
    {
        var first = Write(s => s.Sync.StartHistory(TokenId, AdeSyncKind.Full, AdeSyncTrigger.First, T0));
        var second = Write(s => s.Sync.StartHistory(TokenId, AdeSyncKind.Delta, AdeSyncTrigger.Manual, T0.AddHours(1)));
        var third = Write(s => s.Sync.StartHistory(TokenId, AdeSyncKind.Delta, AdeSyncTrigger.Automatic, T0.AddHours(2)));
        Assert.True(first < second && second < third);

        Assert.True(Write(s => s.Sync.FinishHistory(first, new SyncHistoryEnd(AdeSyncStatus.Succeeded, T0.AddMinutes(3), AdeSyncKind.Full, AdeSyncTrigger.CursorExpired,
            1000, 20, 3, 2, 900, 7, null, null))));
        Assert.True(Write(s => s.Sync.FinishHistory(second, new SyncHistoryEnd(AdeSyncStatus.Failed, T0.AddHours(1).AddSeconds(5), null, null,
            1, 2, 3, 0, 4, 5, "AppleUnavailable", "Apple did not answer."))));

        var all = Read(s => s.Sync.GetHistory(TokenId, 10));
        Assert.Equal([third, second, first], all.Select(h => h.Id));
        Assert.Equal(new SyncHistoryRow(third, AdeSyncKind.Delta, AdeSyncTrigger.Automatic, AdeSyncStatus.Running, T0.AddHours(2), null, 0, 0, 0, 0, 0, 0, null, null), all[0]);
        Assert.Equal(new SyncHistoryRow(second, AdeSyncKind.Delta, AdeSyncTrigger.Manual, AdeSyncStatus.Failed, T0.AddHours(1), T0.AddHours(1).AddSeconds(5),
            1, 2, 3, 0, 4, 5, "AppleUnavailable", "Apple did not answer."), all[1]);
        Assert.Equal(new SyncHistoryRow(first, AdeSyncKind.Full, AdeSyncTrigger.CursorExpired, AdeSyncStatus.Succeeded, T0, T0.AddMinutes(3),
            1000, 20, 3, 2, 900, 7, null, null), all[2]);
        Assert.Equal([third, second], Read(s => s.Sync.GetHistory(TokenId, 2)).Select(h => h.Id));
    }

    [Fact]
    public void FinishHistory_LeavesARowThatIsNoLongerRunning()
    {
        var id = Write(s => s.Sync.StartHistory(TokenId, AdeSyncKind.Full, AdeSyncTrigger.First, T0));
        Write(s => s.Sync.FinishHistory(id, new SyncHistoryEnd(AdeSyncStatus.Failed, T0.AddMinutes(15), null, null, 0, 0, 0, 0, 0, 0, "SyncLeaseLost", "lapsed")));

        Assert.False(Write(s => s.Sync.FinishHistory(id, new SyncHistoryEnd(AdeSyncStatus.Succeeded, T0.AddMinutes(20), AdeSyncKind.Full, null, 5, 0, 0, 0, 0, 1, null, null))));

        var row = Assert.Single(Read(s => s.Sync.GetHistory(TokenId, 5)));
        Assert.Equal((AdeSyncStatus.Failed, "SyncLeaseLost", 0, T0.AddMinutes(15)), (row.Status, row.ErrorId, row.Added, row.FinishedAt!.Value));
    }

    [Fact]
    public void History_IsPerToken()
    {
        var other = Store.AddToken("Other").Token.Id;
        Write(s => s.Sync.StartHistory(TokenId, AdeSyncKind.Full, AdeSyncTrigger.First, T0));
        Assert.Empty(Read(s => s.Sync.GetHistory(other, 5)));
        Assert.Null(Read(s => s.Sync.GetState(other)));
    }

    // ---- the page writes of a sync ---------------------------------------------------------------------------------

    private static DeviceDetailsRow Record(string serial, string model = "iPad Pro", string? profileUuid = null) => new(
        serial, model, "IPAD PRO 12.9", "SPACE GRAY", "A-" + serial, "iPadOS", "iPad", profileUuid, profileUuid is null ? "empty" : "assigned",
        profileUuid is null ? null : T0.AddDays(-3), profileUuid is null ? null : T0.AddDays(-2), T0.AddDays(-30), "buyer@contoso.com", T0.AddDays(60), false);

    private static SyncDeviceUpsert Upsert(DeviceDetailsRow details, DateTimeOffset? opDate = null, SyncAssignmentAttempt? attempt = null) => new(details, opDate, attempt);

    private void WritePage(long syncId, DateTimeOffset now, IReadOnlyList<SyncDeviceUpsert> upserts, IReadOnlyList<SyncDeviceRemoval>? removals = null)
        => Write(s => s.Devices.WriteSyncPage(TokenId, syncId, now, upserts, removals ?? []));

    private IReadOnlyDictionary<string, StoredSyncDevice> Stored(params string[] serials) => Read(s => s.Devices.GetForSync(TokenId, serials));

    private static void AssertSame(DeviceDetailsRow expected, DeviceStateRow actual) => Assert.Equal(expected, actual.Details);

    [Fact]
    public void WriteSyncPage_InsertsEveryColumn_AndGetForSyncReturnsOnlyKnownSerials()
    {
        var a = Record("A1");
        var b = Record("B2", "iPhone 16", "uuid-unknown-to-the-store");
        WritePage(1, T0, [Upsert(a, T0.AddMinutes(-5)), Upsert(b)]);

        var stored = Stored("A1", "B2", "NOT-THERE");
        Assert.Equal(["A1", "B2"], stored.Keys.Order());
        AssertSame(a, stored["A1"].State);
        AssertSame(b, stored["B2"].State);
        Assert.Equal((false, T0.AddMinutes(-5)), (stored["A1"].State.RemovedFromAbm, stored["A1"].LastOpDate));
        Assert.Equal((false, (DateTimeOffset?)null), (stored["B2"].State.RemovedFromAbm, stored["B2"].LastOpDate));
        Assert.Equal(new SyncDeviceTotals(2, 2), Read(s => s.Devices.CountForSync(TokenId)));
    }

    [Fact]
    public void WriteSyncPage_UpdatesAKnownDevice_AndWritingTheSameRecordAgainChangesNothing()
    {
        WritePage(1, T0, [Upsert(Record("A1"))]);
        var changed = new DeviceDetailsRow("A1", Model: "iPad Air", Color: "BLUE", Os: "iPadOS", DeviceFamily: "iPad", ProfileStatus: "empty",
            AssignedAt: T0.AddDays(-1), IsReplacementDevice: true);

        WritePage(2, T0.AddHours(1), [Upsert(changed, T0)]);
        AssertSame(changed, Stored("A1")["A1"].State);

        WritePage(3, T0.AddHours(2), [Upsert(changed, T0)]);
        var again = Stored("A1")["A1"];
        AssertSame(changed, again.State);
        Assert.Equal(T0, again.LastOpDate);
        Assert.Equal(new SyncDeviceTotals(1, 1), Read(s => s.Devices.CountForSync(TokenId)));
    }

    [Fact]
    public void WriteSyncPage_Removals_MarkDevicesRemovedFromAbm_AndAnUpsertBringsThemBack()
    {
        WritePage(1, T0, [Upsert(Record("A1")), Upsert(Record("B2"))]);

        WritePage(2, T0.AddHours(1), [], [new SyncDeviceRemoval("A1", T0.AddMinutes(30), T0.AddMinutes(30).AddDays(45), T0.AddMinutes(30))]);

        var removed = Stored("A1", "B2");
        Assert.Equal((true, T0.AddMinutes(30)), (removed["A1"].State.RemovedFromAbm, removed["A1"].LastOpDate));
        Assert.False(removed["B2"].State.RemovedFromAbm);
        Assert.Equal(new SyncDeviceTotals(2, 1), Read(s => s.Devices.CountForSync(TokenId)));
        var device = Store.Engine.Devices.Get(new DeviceQuery(TokenId, "A1")).Single();
        Assert.Equal((AdeAbmState.RemovedFromAbm, T0.AddMinutes(30), T0.AddMinutes(30).AddDays(45)), (device.AbmState, device.RemovedAt!.Value, device.PurgeAfter!.Value));

        WritePage(3, T0.AddHours(2), [Upsert(Record("A1"), T0.AddHours(2))]);
        Assert.False(Stored("A1")["A1"].State.RemovedFromAbm);
        Assert.Equal(new SyncDeviceTotals(2, 2), Read(s => s.Devices.CountForSync(TokenId)));
    }

    [Fact]
    public void WriteSyncPage_MapsApplesProfileUuidToTheStoresProfile_AndWritesAnAssignmentAttemptWithTheRecord()
    {
        Assert.NotEqual(Guid.Empty, TokenId); // the token "Contract" the profiles belong to
        var staff = Store.Engine.Profiles.New("Contract", "Staff", new ProfileSettings { UserAffinity = UserAffinity.WithUserAffinity })!;
        var kiosk = Store.Engine.Profiles.New("Contract", "Kiosk", new ProfileSettings { UserAffinity = UserAffinity.WithoutUserAffinity })!;
        Store.Execute("UPDATE profile SET apple_profile_uuid = 'uuid-kiosk' WHERE id = $id", ("$id", kiosk.Id.ToString()));
        var at = T0.AddMinutes(1);

        WritePage(1, at, [
            Upsert(Record("HELD", profileUuid: "uuid-kiosk")),
            Upsert(Record("TAKEN"), attempt: new SyncAssignmentAttempt(at, "Staff", "SUCCESS", new SyncAssignedProfile(staff.Id, "uuid-staff"), Failed: false)),
            Upsert(Record("REFUSED"), attempt: new SyncAssignmentAttempt(at, "Staff", "FAILED", null, Failed: true)),
            Upsert(Record("PLAIN")),
        ]);

        var devices = Store.Engine.Devices.Get(new DeviceQuery(TokenId)).ToDictionary(d => d.SerialNumber);
        Assert.Equal("Kiosk", devices["HELD"].EnrollmentProfileName);
        Assert.Equal(("Staff", staff.Id, AdeProfileStatus.Assigned, at), (devices["TAKEN"].EnrollmentProfileName, devices["TAKEN"].ProfileId!.Value, devices["TAKEN"].ProfileStatus, devices["TAKEN"].ProfileAssignedAt!.Value));
        Assert.Equal((at, "Staff", "SUCCESS"), (devices["TAKEN"].LastAssignmentAt!.Value, devices["TAKEN"].LastAssignmentProfile, devices["TAKEN"].LastAssignmentResult));
        Assert.Equal("uuid-staff", Stored("TAKEN")["TAKEN"].State.Details.ProfileUuid);
        Assert.Equal(("", "FAILED"), (devices["REFUSED"].EnrollmentProfileName, devices["REFUSED"].LastAssignmentResult));
        Assert.Equal((null, null), (devices["PLAIN"].LastAssignmentResult, devices["PLAIN"].ProfileId));

        // A later record without an attempt keeps the last attempt; the same UUID keeps the profile it maps to.
        WritePage(2, T0.AddHours(1), [Upsert(Record("TAKEN", profileUuid: "uuid-staff"))]);
        var taken = Store.Engine.Devices.Get(new DeviceQuery(TokenId, "TAKEN")).Single();
        Assert.Equal(("Staff", "SUCCESS"), (taken.EnrollmentProfileName, taken.LastAssignmentResult));

        // Apple reporting no profile clears it.
        WritePage(3, T0.AddHours(2), [Upsert(Record("TAKEN"))]);
        Assert.Equal("", Store.Engine.Devices.Get(new DeviceQuery(TokenId, "TAKEN")).Single().EnrollmentProfileName);
    }

    [Fact]
    public void MarkUnseenRemoved_MarksOnlyDevicesInAbmTheSyncDidNotSee()
    {
        WritePage(1, T0, [Upsert(Record("A1")), Upsert(Record("B2")), Upsert(Record("C3"))]);
        WritePage(2, T0.AddHours(1), [], [new SyncDeviceRemoval("C3", T0, T0.AddDays(45), null)]);
        WritePage(7, T0.AddHours(2), [Upsert(Record("A1"))]);

        var unseen = Write(s => s.Devices.MarkUnseenRemoved(TokenId, 7, T0.AddHours(3), T0.AddHours(3).AddDays(45)));

        Assert.Equal(["B2"], unseen);
        var stored = Stored("A1", "B2", "C3");
        Assert.Equal((false, true, true), (stored["A1"].State.RemovedFromAbm, stored["B2"].State.RemovedFromAbm, stored["C3"].State.RemovedFromAbm));
        Assert.Equal(new SyncDeviceTotals(3, 1), Read(s => s.Devices.CountForSync(TokenId)));
    }

    [Fact]
    public void PurgeDue_DeletesTheDevicesWhosePurgeTimeCame()
    {
        WritePage(1, T0, [Upsert(Record("A1")), Upsert(Record("B2")), Upsert(Record("C3"))]);
        WritePage(2, T0, [], [new SyncDeviceRemoval("A1", T0, T0.AddDays(45), null), new SyncDeviceRemoval("B2", T0.AddDays(1), T0.AddDays(46), null)]);

        Assert.Empty(Write(s => s.Devices.PurgeDue(TokenId, T0.AddDays(44))));
        Assert.Equal(["A1"], Write(s => s.Devices.PurgeDue(TokenId, T0.AddDays(45))));

        Assert.Equal(["B2", "C3"], Stored("A1", "B2", "C3").Keys.Order());
        Assert.Equal(new SyncDeviceTotals(2, 1), Read(s => s.Devices.CountForSync(TokenId)));
    }

    [Fact]
    public void DevicesOfOneToken_AreNotSeenFromAnother()
    {
        var other = Store.AddToken("Other").Token.Id;
        WritePage(1, T0, [Upsert(Record("A1"))]);
        Assert.Empty(Read(s => s.Devices.GetForSync(other, ["A1"])));
        Assert.Equal(new SyncDeviceTotals(0, 0), Read(s => s.Devices.CountForSync(other)));
        Assert.Empty(Write(s => s.Devices.MarkUnseenRemoved(other, 9, T0, T0.AddDays(45))));
    }

    // ---- the journal of a sync -----------------------------------------------------------------------------------

    [Fact]
    public void Append_JournalsTheEventsInOrder_AndDeleteBeforeDropsOlderOnes()
    {
        Write(s => s.DeviceEvents.Append(TokenId, T0, [new NewDeviceEventRow("A1", AdeDeviceEventKind.Added), new NewDeviceEventRow("B2", AdeDeviceEventKind.Modified, "Model, Color")]));
        Write(s => s.DeviceEvents.Append(TokenId, T0.AddDays(10), [new NewDeviceEventRow("A1", AdeDeviceEventKind.ProfileAssigned, "Staff: SUCCESS")]));
        Write(s => s.DeviceEvents.Append(TokenId, T0.AddDays(10), []));

        var events = Store.Engine.Devices.GetEvents(new DeviceEventQuery(TokenId)).ToList();
        Assert.Equal(
            [("A1", AdeDeviceEventKind.Added, null, T0), ("B2", AdeDeviceEventKind.Modified, "Model, Color", T0), ("A1", AdeDeviceEventKind.ProfileAssigned, "Staff: SUCCESS", T0.AddDays(10))],
            events.Select(e => (e.SerialNumber, e.Kind, e.Detail, e.At)));
        Assert.True(events[0].Id < events[1].Id && events[1].Id < events[2].Id);

        Assert.Equal(2, Write(s => s.DeviceEvents.DeleteBefore(T0.AddDays(5))));
        Assert.Equal(["A1"], Store.Engine.Devices.GetEvents(new DeviceEventQuery(TokenId)).Select(e => e.SerialNumber));
    }

    private void TakeLease(string lease, DateTimeOffset expires)
        => Write(s =>
        {
            if (s.Sync.GetState(TokenId) is null)
            {
                s.Sync.CreateState(TokenId);
            }

            s.Sync.TakeLease(TokenId, lease, expires, s.Sync.StartHistory(TokenId, AdeSyncKind.Full, AdeSyncTrigger.Manual, T0), T0);
        });
}

public sealed class SqliteSyncTableContract : SyncTableContract
{
    protected override TestStore CreateStore() => new();
}

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

    protected TestStore Store => store ??= CreateStore();

    private Guid TokenId => tokenId ??= Store.AddToken("Contract").Token.Id;

    private static readonly DateTimeOffset T0 = new(2026, 1, 5, 8, 0, 0, TimeSpan.Zero);

    /// <summary>Adds a profile row (the profile service is not under test here); returns its id.</summary>
    protected virtual Guid SeedProfile(Guid tokenId, string name, string? appleUuid)
    {
        var id = Guid.NewGuid();
        Store.Execute("INSERT INTO profile (id, token_id, name, settings, apple_profile_uuid, created_at, modified_at) VALUES ($id, $t, $n, '{}', $u, 0, 0)",
            ("$id", id.ToString()), ("$t", tokenId.ToString()), ("$n", name), ("$u", appleUuid));
        return id;
    }

    /// <summary>Every column of the token's device rows as stored (integers as long, text as string, NULL as null), by serial.</summary>
    protected virtual IReadOnlyDictionary<string, Dictionary<string, object?>> DeviceRows(Guid tokenId)
    {
        using var connection = Store.Store.OpenConnection();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT * FROM device WHERE token_id = $t";
        command.Parameters.AddWithValue("$t", tokenId.ToString());
        using var r = command.ExecuteReader();
        var rows = new Dictionary<string, Dictionary<string, object?>>(StringComparer.Ordinal);
        while (r.Read())
        {
            var row = Enumerable.Range(0, r.FieldCount).ToDictionary(r.GetName, i => r.IsDBNull(i) ? null : r.GetValue(i));
            rows[(string)row["serial_number"]!] = row;
        }

        return rows;
    }

    private static object?[] Cols(Dictionary<string, object?> row, params string[] columns) => [.. columns.Select(c => row[c])];

    protected static long Ms(DateTimeOffset time) => time.ToUnixTimeMilliseconds();

    protected static long? Ms(DateTimeOffset? time) => time?.ToUnixTimeMilliseconds();

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
    public void StartRun_AddsARunningHistoryRowAndTakesTheLeaseForIt_AsStartHistoryThenTakeLeaseDo()
    {
        var other = Store.AddToken("Other").Token.Id;
        var earlier = Write(s =>
        {
            s.Sync.CreateState(other);
            return s.Sync.StartRun(other, AdeSyncKind.Full, AdeSyncTrigger.First, T0, "other-lease", T0.AddMinutes(15));
        });
        var run = Write(s =>
        {
            s.Sync.CreateState(TokenId);
            return s.Sync.StartRun(TokenId, AdeSyncKind.Delta, AdeSyncTrigger.Automatic, T0.AddMinutes(1), "lease-1", T0.AddMinutes(16));
        });

        Assert.True(run > earlier);
        var state = State();
        Assert.Equal(("lease-1", T0.AddMinutes(16), run, T0.AddMinutes(1)), (state.LeaseId, state.LeaseExpiresAt, state.LeaseHistoryId, state.LastStartedAt));
        var history = Assert.Single(Read(s => s.Sync.GetHistory(TokenId, 10)));
        Assert.Equal((run, AdeSyncKind.Delta, AdeSyncTrigger.Automatic, AdeSyncStatus.Running, T0.AddMinutes(1)), (history.Id, history.Kind, history.Trigger, history.Status, history.StartedAt));
        // the other token's lease and run are its own
        var others = Read(s => s.Sync.GetState(other))!;
        Assert.Equal(("other-lease", earlier), (others.LeaseId, others.LeaseHistoryId));
    }

    [Fact]
    public void FinishRun_RecordsTheRunAndReleasesItsLease_ReturningTheStateLeft_OrNullAndNoReleaseUnderAnotherLease()
    {
        var run = Write(s =>
        {
            s.Sync.CreateState(TokenId);
            return s.Sync.StartRun(TokenId, AdeSyncKind.Full, AdeSyncTrigger.First, T0, "lease-1", T0.AddMinutes(15));
        });
        var end = new SyncHistoryEnd(AdeSyncStatus.Succeeded, T0.AddMinutes(3), AdeSyncKind.Full, AdeSyncTrigger.First, 5, 4, 3, 2, 1, 6, null, null);

        var left = Write(s => s.Sync.FinishRun(TokenId, "lease-1", run, end, T0.AddMinutes(3)));

        Assert.Equal(State(), left);
        Assert.Equal((null, null, null, T0.AddMinutes(3), false), (left!.LeaseId, left.LeaseExpiresAt, left.LeaseHistoryId, left.LastSuccessAt, left.NextMustBeFull));
        var row = Assert.Single(Read(s => s.Sync.GetHistory(TokenId, 10)));
        Assert.Equal((AdeSyncStatus.Succeeded, T0.AddMinutes(3), 5, 4, 3, 2, 1, 6), (row.Status, row.FinishedAt!.Value, row.Added, row.Modified, row.Removed, row.Purged, row.DefaultAssigned, row.Pages));

        // A run whose lease was taken over: its row is recorded as failed, the new lease stays.
        var lapsed = Write(s => s.Sync.StartRun(TokenId, AdeSyncKind.Delta, AdeSyncTrigger.Automatic, T0.AddHours(1), "old", T0.AddHours(1).AddMinutes(15)));
        var current = Write(s => s.Sync.StartRun(TokenId, AdeSyncKind.Full, AdeSyncTrigger.Recovery, T0.AddHours(2), "new", T0.AddHours(2).AddMinutes(15)));
        var failed = new SyncHistoryEnd(AdeSyncStatus.Failed, T0.AddHours(2), null, null, 0, 0, 0, 0, 0, 0, "SyncLeaseLost", "lost");
        Assert.Null(Write(s => s.Sync.FinishRun(TokenId, "old", lapsed, failed, null)));
        Assert.Equal(("new", current, T0.AddMinutes(3)), (State().LeaseId, State().LeaseHistoryId, State().LastSuccessAt));
        var history = Read(s => s.Sync.GetHistory(TokenId, 10));
        Assert.Equal(AdeSyncStatus.Failed, history.Single(h => h.Id == lapsed).Status);
        Assert.Equal(AdeSyncStatus.Running, history.Single(h => h.Id == current).Status);

        // A failed run under its own lease: released, the next sync must be full.
        var stopped = Write(s => s.Sync.FinishRun(TokenId, "new", current, failed, null));
        Assert.Equal((null, true, T0.AddMinutes(3)), (stopped!.LeaseId, stopped.NextMustBeFull, stopped.LastSuccessAt));
    }

    [Fact]
    public void GetStates_ReadsEachTokensStateAsGetStateDoes_AndLeavesOutTokensWithoutOne()
    {
        TakeLease("lease-1", T0.AddMinutes(15));
        var other = Store.AddToken("Other").Token.Id;
        var none = Store.AddToken("Never synced").Token.Id;
        Write(s =>
        {
            s.Sync.CreateState(other);
            s.Sync.ReleaseLease(other, null, T0);
        });

        var states = Read(s => s.Sync.GetStates([TokenId, other, none, Guid.NewGuid()]));
        Assert.Equal(new[] { TokenId, other }.Order(), states.Keys.Order());
        Assert.Equal(State(), states[TokenId]);
        Assert.Equal(Read(s => s.Sync.GetState(other)), states[other]);
        Assert.Empty(Read(s => s.Sync.GetStates([])));
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
    public void SaveCursor_AddsEachCommittedPagesCounts_ToItsRunningHistoryRow_OnlyWhileTheLeaseHolds()
    {
        var run = Write(s =>
        {
            s.Sync.CreateState(TokenId);
            return s.Sync.StartRun(TokenId, AdeSyncKind.Full, AdeSyncTrigger.First, T0, "lease-1", T0.AddMinutes(15));
        });
        var cursor = new SyncCursor("c", SyncCursorKind.Fetch, run);

        Assert.True(Write(s => s.Sync.SaveCursor(TokenId, "lease-1", T0.AddMinutes(1), cursor, null, new SyncPageCounts(run, 100, 2, 1, 90))));
        Assert.True(Write(s => s.Sync.SaveCursor(TokenId, "lease-1", T0.AddMinutes(2), cursor, null, new SyncPageCounts(run, 50, 0, 0, 50))));
        Assert.False(Write(s => s.Sync.SaveCursor(TokenId, "lease-2", T0.AddMinutes(3), cursor, null, new SyncPageCounts(run, 7, 7, 7, 7))));
        Assert.False(Write(s => s.Sync.SaveCursor(TokenId, "lease-1", T0.AddMinutes(16), cursor, null, new SyncPageCounts(run, 7, 7, 7, 7))));

        // a run killed now still shows what its pages committed
        var row = Assert.Single(Read(s => s.Sync.GetHistory(TokenId, 10)));
        Assert.Equal((AdeSyncStatus.Running, 150, 2, 1, 140, 2), (row.Status, row.Added, row.Modified, row.Removed, row.DefaultAssigned, row.Pages));
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
    public void ReleaseLease_OfAStoppedDelta_KeepsTheFullSyncDemandAsItWas()
    {
        TakeLease("lease-1", T0.AddMinutes(15));
        Assert.True(Write(s => s.Sync.ReleaseLease(TokenId, "lease-1", null, keepFullDemand: true)));
        Assert.False(State().NextMustBeFull); // no demand before, none after

        TakeLease("lease-2", T0.AddMinutes(30));
        Write(s => s.Sync.ReleaseLease(TokenId, "lease-2", null)); // a failure demands a full sync
        TakeLease("lease-3", T0.AddMinutes(45));
        Assert.True(Write(s => s.Sync.ReleaseLease(TokenId, "lease-3", null, keepFullDemand: true)));
        var state = State();
        Assert.True(state.NextMustBeFull); // the demand stays
        Assert.Null(state.LeaseId);
        Assert.Null(state.LastSuccessAt);
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

    private static SyncDeviceUpsert Upsert(DeviceDetailsRow details, DateTimeOffset? opDate = null, SyncAssignmentAttempt? attempt = null, bool isNew = false) => new(details, opDate, attempt, isNew);

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
    public void GetForSync_ReadsASerialGivenTwiceOnce_AndSkipsUnknownSerials()
    {
        var a = Record("A1");
        WritePage(1, T0, [Upsert(a), Upsert(Record("B2"))]);

        var stored = Stored("A1", "NOT-THERE", "A1", "a1");
        Assert.Equal(["A1"], stored.Keys);
        AssertSame(a, stored["A1"].State);
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
        var device = DeviceRows(TokenId)["A1"];
        Assert.Equal([Ms(T0.AddMinutes(30)), Ms(T0.AddMinutes(30).AddDays(45))], Cols(device, "removed_at", "purge_after"));

        WritePage(3, T0.AddHours(2), [Upsert(Record("A1"), T0.AddHours(2))]);
        Assert.False(Stored("A1")["A1"].State.RemovedFromAbm);
        Assert.Equal(new SyncDeviceTotals(2, 2), Read(s => s.Devices.CountForSync(TokenId)));
    }

    [Fact]
    public void WriteSyncPage_MapsApplesProfileUuidToTheStoresProfile_AndWritesAnAssignmentAttemptWithTheRecord()
    {
        var staff = SeedProfile(TokenId, "Staff", null);
        var kiosk = SeedProfile(TokenId, "Kiosk", "uuid-kiosk");
        var at = T0.AddMinutes(1);

        WritePage(1, at, [
            Upsert(Record("HELD", profileUuid: "uuid-kiosk")),
            Upsert(Record("TAKEN"), attempt: new SyncAssignmentAttempt(at, "Staff", "SUCCESS", new SyncAssignedProfile(staff, "uuid-staff"), Failed: false)),
            Upsert(Record("REFUSED"), attempt: new SyncAssignmentAttempt(at, "Staff", "FAILED", null, Failed: true)),
            Upsert(Record("PLAIN")),
        ]);

        var devices = DeviceRows(TokenId);
        Assert.Equal(kiosk.ToString(), devices["HELD"]["profile_id"]);
        Assert.Equal([staff.ToString(), "uuid-staff", "assigned", Ms(at)], Cols(devices["TAKEN"], "profile_id", "profile_uuid", "profile_status", "profile_assign_time"));
        Assert.Equal([Ms(at), "Staff", "SUCCESS", null], Cols(devices["TAKEN"], "last_attempt_at", "last_attempt_profile", "last_attempt_result", "assign_failed_at"));
        Assert.Equal("uuid-staff", Stored("TAKEN")["TAKEN"].State.Details.ProfileUuid);
        Assert.Equal([null, "FAILED", Ms(at)], Cols(devices["REFUSED"], "profile_id", "last_attempt_result", "assign_failed_at"));
        Assert.Equal([null, null], Cols(devices["PLAIN"], "last_attempt_result", "profile_id"));

        // Only this token's profiles count: another token's profile of Apple's UUID, or a UUID no profile has, maps to none.
        SeedProfile(Store.AddToken("Other").Token.Id, "Elsewhere", "uuid-elsewhere");
        WritePage(1, at, [Upsert(Record("FOREIGN", profileUuid: "uuid-elsewhere")), Upsert(Record("UNKNOWN", profileUuid: "uuid-none")),
            Upsert(Record("HELD2", profileUuid: "uuid-kiosk"))]);
        devices = DeviceRows(TokenId);
        Assert.Equal([null, "uuid-elsewhere"], Cols(devices["FOREIGN"], "profile_id", "profile_uuid"));
        Assert.Equal([null, "uuid-none"], Cols(devices["UNKNOWN"], "profile_id", "profile_uuid"));
        Assert.Equal(kiosk.ToString(), devices["HELD2"]["profile_id"]);

        // A later record without an attempt keeps the last attempt; the same UUID keeps the profile it maps to.
        WritePage(2, T0.AddHours(1), [Upsert(Record("TAKEN", profileUuid: "uuid-staff"))]);
        var taken = DeviceRows(TokenId)["TAKEN"];
        Assert.Equal([staff.ToString(), "SUCCESS"], Cols(taken, "profile_id", "last_attempt_result"));

        // Apple reporting no profile clears it.
        WritePage(3, T0.AddHours(2), [Upsert(Record("TAKEN"))]);
        Assert.Null(DeviceRows(TokenId)["TAKEN"]["profile_id"]);
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

    /// <summary>
    /// A token's device count as every reader of it sees it (the token list, one token's row, a scheduler's batch) and
    /// the store's total; the device table counted by CountForSync is what they must agree with.
    /// </summary>
    private (int Listed, int Own, int OfMany, int InBatch, long All) DeviceCounts(Guid token) => Read(s => (
        s.Tokens.List().Single(t => t.Id == token).DeviceCount,
        s.Tokens.List(token).Single().DeviceCount,
        s.Tokens.ListOf([token]).Single().DeviceCount,
        s.Tokens.ListOfWithSyncStates([token]).Single().Token.DeviceCount,
        s.Meta.Facts().Devices));

    private void AssertDeviceCounts(int mine, int others)
    {
        Assert.Equal((mine, mine, mine, mine, (long)(mine + others)), DeviceCounts(TokenId));
        Assert.Equal(mine, Read(s => s.Devices.CountForSync(TokenId)).All);
    }

    [Fact]
    public void ATokensDeviceCount_FollowsEveryWriteOfItsDevices_AndNoOtherTokens()
    {
        var other = Store.AddToken("Other").Token.Id;
        var empty = Store.AddToken("Empty").Token.Id;
        Write(s => s.Devices.WriteSyncPage(other, 1, T0, [Upsert(Record("O1")), Upsert(Record("O2"))], []));
        AssertDeviceCounts(0, 2);

        WritePage(1, T0, [Upsert(Record("A1")), Upsert(Record("B2")), Upsert(Record("C3")), Upsert(Record("A1", "iPad Air"))]); // A1 twice: one device
        AssertDeviceCounts(3, 2);
        WritePage(2, T0, [Upsert(Record("A1", "iPad mini")), Upsert(Record("D4"))]); // one known, one new
        AssertDeviceCounts(4, 2);

        // Removed from Apple's side: still stored (and counted) until purged.
        WritePage(3, T0, [], [new SyncDeviceRemoval("A1", T0, T0.AddDays(45), null)]);
        Assert.Equal(["B2", "C3"], Write(s => s.Devices.MarkUnseenRemoved(TokenId, 2, T0, T0.AddDays(46))));
        AssertDeviceCounts(4, 2);
        Assert.Equal(new SyncDeviceTotals(4, 1), Read(s => s.Devices.CountForSync(TokenId)));

        Assert.Equal(["A1"], Write(s => s.Devices.PurgeDue(TokenId, T0.AddDays(45))));
        AssertDeviceCounts(3, 2);
        Assert.Equal(1, Write(s => s.Devices.Delete(TokenId, ["D4"])));
        Assert.Equal(0, Write(s => s.Devices.Delete(TokenId, ["D4"])));
        AssertDeviceCounts(2, 2);

        // A unit of work that fails after its writes counts nothing.
        Assert.Throws<InvalidOperationException>(() => Write(s =>
        {
            s.Devices.WriteSyncPage(TokenId, 4, T0, [Upsert(Record("E5")), Upsert(Record("F6"))], []);
            s.Devices.Delete(TokenId, ["B2"]);
            throw new InvalidOperationException("after the writes");
        }));
        AssertDeviceCounts(2, 2);

        // Every device of the token purged; then the token goes, and the other tokens keep their counts.
        Assert.Equal(["B2", "C3"], Write(s => s.Devices.PurgeDue(TokenId, T0.AddDays(46))));
        AssertDeviceCounts(0, 2);
        Write(s => s.Tokens.Delete(TokenId));
        Assert.DoesNotContain(Read(s => s.Tokens.List()), t => t.Id == TokenId);
        Assert.Equal((2, 0, 2L), Read(s => (s.Tokens.List(other).Single().DeviceCount, s.Tokens.List(empty).Single().DeviceCount, s.Meta.Facts().Devices)));
    }

    /// <summary>A record whose columns vary with <paramref name="i"/>: some null, some text that needs quoting, all times distinct.</summary>
    private static DeviceDetailsRow Varied(string serial, int i) => new(
        serial,
        Model: $"Model {i}",
        Description: i % 2 == 0 ? null : $"Désc \"{i}\", 'quoted'\ttab",
        Color: i % 3 == 0 ? null : "RED",
        AssetTag: i % 5 == 0 ? null : $"A-{i}",
        Os: "iOS",
        DeviceFamily: i % 4 == 0 ? "iPad" : "iPhone",
        ProfileUuid: (i % 7) switch { 0 => "uuid-staff", 1 => "uuid-unknown", _ => null },
        ProfileStatus: (i % 7) switch { 0 or 1 => "pushed", _ => "empty" },
        ProfileAssignTime: i % 2 == 0 ? T0.AddSeconds(-i) : null,
        ProfilePushTime: i % 3 == 0 ? T0.AddSeconds(-2 * i) : null,
        AssignedAt: T0.AddDays(-i),
        AssignedBy: i % 2 == 1 ? "buyer@contoso.com" : null,
        MdmMigrationDeadline: i % 6 == 0 ? T0.AddDays(i) : null,
        IsReplacementDevice: (i % 3) switch { 0 => null, 1 => true, _ => false });

    private static string Describe(IReadOnlyDictionary<string, object?> row)
        => string.Join("; ", row.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => $"{c.Key}={c.Value ?? "NULL"}"));

    /// <remarks>
    /// <paramref name="newOnItsOwn"/>: the 500 devices new to the store go as a page of their own first (each marked
    /// <see cref="SyncDeviceUpsert.New"/>, which a server store may insert without a conflict check), then the 500 known
    /// ones with the removals, in the same transaction; else all in one page.
    /// </remarks>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WriteSyncPage_AThousandUpsertsAndRemovals_RoundTripEveryColumn_AndTheJournalHoldsExactlyThePagesEvents(bool newOnItsOwn)
    {
        var staff = SeedProfile(TokenId, "Staff", "uuid-staff");
        var assigned = SeedProfile(TokenId, "Kiosk", null);
        WritePage(1, T0, [.. Enumerable.Range(0, 600).Select(i => Upsert(Record($"S{i:D4}")))]);
        var before = DeviceRows(TokenId);
        var now = T0.AddHours(1);

        // 500 known devices changed and 500 new ones (some with an assignment attempt), and 100 removals.
        var upserts = new List<SyncDeviceUpsert>();
        foreach (var i in Enumerable.Range(0, 500).Concat(Enumerable.Range(600, 500)))
        {
            var at = now.AddSeconds(-i);
            var attempt = (i % 10) switch
            {
                0 => new SyncAssignmentAttempt(at, "Kiosk", "SUCCESS", new SyncAssignedProfile(assigned, "uuid-kiosk"), Failed: false),
                1 => new SyncAssignmentAttempt(at, "Kiosk", "NOT_ACCESSIBLE", null, Failed: true),
                _ => null,
            };
            upserts.Add(Upsert(Varied($"S{i:D4}", i), i % 3 == 0 ? now.AddMinutes(-i) : null, attempt, isNew: i >= 600));
        }

        var removals = Enumerable.Range(500, 100)
            .Select(i => new SyncDeviceRemoval($"S{i:D4}", now.AddMinutes(-(i % 7)), now.AddDays(45), i % 2 == 0 ? now.AddSeconds(-i) : null)).ToList();
        List<NewDeviceEventRow> events =
        [
            .. upserts.Select(u => before.ContainsKey(u.Details.SerialNumber)
                ? new NewDeviceEventRow(u.Details.SerialNumber, AdeDeviceEventKind.Modified, "Model, Description")
                : new NewDeviceEventRow(u.Details.SerialNumber, AdeDeviceEventKind.Added)),
            .. removals.Select(r => new NewDeviceEventRow(r.SerialNumber, AdeDeviceEventKind.DeletedFromAbm)),
        ];

        var appended = Write(s =>
        {
            if (newOnItsOwn)
            {
                s.Devices.WriteSyncPage(TokenId, 2, now, [.. upserts.Where(u => u.New)], []);
                s.Devices.WriteSyncPage(TokenId, 2, now, [.. upserts.Where(u => !u.New)], removals);
            }
            else
            {
                s.Devices.WriteSyncPage(TokenId, 2, now, upserts, removals);
            }

            return s.DeviceEvents.Append(TokenId, now, events);
        });

        var rows = DeviceRows(TokenId);
        Assert.Equal(1100, rows.Count);
        foreach (var (d, opDate, attempt, _) in upserts)
        {
            var known = before.TryGetValue(d.SerialNumber, out var old);
            var uuid = attempt?.Assigned?.ProfileUuid ?? d.ProfileUuid;
            var expected = new Dictionary<string, object?>
            {
                ["token_id"] = TokenId.ToString(),
                ["serial_number"] = d.SerialNumber,
                ["model"] = d.Model,
                ["description"] = d.Description,
                ["color"] = d.Color,
                ["asset_tag"] = d.AssetTag,
                ["os"] = d.Os,
                ["device_family"] = d.DeviceFamily,
                ["profile_id"] = attempt?.Assigned is { } a ? a.ProfileId.ToString() : uuid == "uuid-staff" ? staff.ToString() : null,
                ["profile_uuid"] = uuid,
                ["profile_status"] = attempt?.Assigned is null ? d.ProfileStatus : "assigned",
                ["profile_assign_time"] = attempt?.Assigned is null ? Ms(d.ProfileAssignTime) : Ms(attempt.At),
                ["profile_push_time"] = Ms(d.ProfilePushTime),
                ["device_assigned_date"] = Ms(d.AssignedAt),
                ["device_assigned_by"] = d.AssignedBy,
                ["removed_at"] = null,
                ["purge_after"] = null,
                ["updated_at"] = Ms(now),
                ["last_seen_sync"] = 2L,
                ["last_op_date"] = Ms(opDate),
                ["first_seen_sync"] = known ? 1L : 2L,
                ["mdm_migration_deadline"] = Ms(d.MdmMigrationDeadline),
                ["is_replacement_device"] = d.IsReplacementDevice is { } rep ? (rep ? 1L : 0L) : null,
                ["assign_failed_at"] = attempt is { Failed: true } ? Ms(attempt.At) : null,
                ["last_attempt_at"] = Ms(attempt?.At),
                ["last_attempt_profile"] = attempt?.ProfileName,
                ["last_attempt_result"] = attempt?.Result,
                ["released_at"] = null,
            };
            Assert.Equal(Describe(expected), Describe(rows[d.SerialNumber]));
        }

        foreach (var r in removals)
        {
            var expected = new Dictionary<string, object?>(before[r.SerialNumber])
            {
                ["removed_at"] = Ms(r.RemovedAt),
                ["purge_after"] = Ms(r.PurgeAfter),
                ["updated_at"] = Ms(now),
                ["last_op_date"] = Ms(r.OpDate),
            };
            Assert.Equal(Describe(expected), Describe(rows[r.SerialNumber]));
        }

        Assert.Equal(new SyncDeviceTotals(1100, 1000), Read(s => s.Devices.CountForSync(TokenId)));
        Assert.Equal(1100, appended);
        var journal = Read(s => s.DeviceEvents.Query(new DeviceEventFilter(TokenId: TokenId)).ToList());
        Assert.Equal(events.Select(e => (e.SerialNumber, e.Kind, e.Detail, now)), journal.Select(e => (e.SerialNumber, e.Kind, e.Detail, e.At)));
        Assert.Equal(journal.Select(e => e.Id).Order(), journal.Select(e => e.Id));
    }

    [Fact]
    public void WriteSyncPage_InAUnitOfWorkThatFailsBeforeCommit_LeavesNothing()
    {
        TakeLease("lease-1", T0.AddMinutes(15));
        WritePage(1, T0, [Upsert(Record("KEPT"))]);
        var before = DeviceRows(TokenId).ToDictionary(r => r.Key, r => Describe(r.Value));
        var upserts = Enumerable.Range(0, 1000).Select(i => Upsert(Varied(i == 0 ? "KEPT" : $"N{i:D4}", i))).ToList();

        var ex = Assert.Throws<InvalidOperationException>(() => Write(s =>
        {
            s.Devices.WriteSyncPage(TokenId, 2, T0.AddMinutes(1), upserts, [new SyncDeviceRemoval("KEPT", T0, T0.AddDays(45), null)]);
            s.DeviceEvents.Append(TokenId, T0.AddMinutes(1), [.. upserts.Select(u => new NewDeviceEventRow(u.Details.SerialNumber, AdeDeviceEventKind.Added))]);
            Assert.True(s.Sync.SaveCursor(TokenId, "lease-1", T0.AddMinutes(1), new SyncCursor("page-2", SyncCursorKind.Fetch, 2), null));
            Assert.Equal(new SyncDeviceTotals(1000, 999), s.Devices.CountForSync(TokenId)); // written inside the unit of work
            throw new InvalidOperationException("stopped before the commit");
        }));

        Assert.Equal("stopped before the commit", ex.Message);
        Assert.Equal(before, DeviceRows(TokenId).ToDictionary(r => r.Key, r => Describe(r.Value)));
        Assert.Empty(Read(s => s.DeviceEvents.Query(new DeviceEventFilter()).ToList()));
        Assert.Null(State().Cursor);

        // the next unit of work on the same store writes the same page in full
        Write(s => s.Devices.WriteSyncPage(TokenId, 2, T0.AddMinutes(2), upserts, []));
        Assert.Equal(new SyncDeviceTotals(1000, 1000), Read(s => s.Devices.CountForSync(TokenId)));
    }

    [Fact]
    public void Lease_AfterExpiry_IsTakenOverByANewRun_AndTheOldRunCanNoLongerCommitOrFinish()
    {
        TakeLease("old", T0.AddMinutes(15));
        var oldRun = State().LeaseHistoryId!.Value;

        // the old run stopped; 16 minutes later a new run finds the lease expired and takes over (as the sync service does)
        var later = T0.AddMinutes(16);
        Assert.False(Write(s => s.Sync.SaveCursor(TokenId, "old", later, new SyncCursor("late", SyncCursorKind.Sync, null), null)));
        var newRun = Write(s =>
        {
            var st = s.Sync.GetState(TokenId)!;
            Assert.True(st.LeaseExpiresAt <= later);
            Assert.True(s.Sync.FinishHistory(st.LeaseHistoryId!.Value, new SyncHistoryEnd(AdeSyncStatus.Failed, st.LeaseExpiresAt!.Value, null, null, 0, 0, 0, 0, 0, 0, "SyncLeaseLost", "lapsed")));
            Assert.True(s.Sync.ReleaseLease(TokenId, null, null));
            var id = s.Sync.StartHistory(TokenId, AdeSyncKind.Full, AdeSyncTrigger.Recovery, later);
            s.Sync.TakeLease(TokenId, "new", later.AddMinutes(15), id, later);
            return id;
        });

        var state = State();
        Assert.Equal(("new", later.AddMinutes(15), newRun, later, true), (state.LeaseId, state.LeaseExpiresAt, state.LeaseHistoryId, state.LastStartedAt, state.NextMustBeFull));

        // the old run wakes up: it can neither store a cursor, nor finish its history row, nor end the new lease
        Assert.False(Write(s => s.Sync.SaveCursor(TokenId, "old", later.AddMinutes(1), new SyncCursor("stale", SyncCursorKind.Sync, null), null)));
        Assert.False(Write(s => s.Sync.FinishHistory(oldRun, new SyncHistoryEnd(AdeSyncStatus.Succeeded, later.AddMinutes(1), AdeSyncKind.Delta, null, 9, 0, 0, 0, 0, 1, null, null))));
        Assert.False(Write(s => s.Sync.ReleaseLease(TokenId, "old", later.AddMinutes(1))));
        Assert.Equal("new", State().LeaseId);
        Assert.Null(State().Cursor);

        // the new run completes
        Assert.True(Write(s => s.Sync.SaveCursor(TokenId, "new", later.AddMinutes(2), new SyncCursor("fresh", SyncCursorKind.Sync, null), later)));
        Assert.True(Write(s => s.Sync.FinishHistory(newRun, new SyncHistoryEnd(AdeSyncStatus.Succeeded, later.AddMinutes(3), null, null, 1, 0, 0, 0, 0, 1, null, null))));
        Assert.True(Write(s => s.Sync.ReleaseLease(TokenId, "new", later.AddMinutes(3))));
        var history = Read(s => s.Sync.GetHistory(TokenId, 5));
        Assert.Equal([(newRun, AdeSyncStatus.Succeeded, (string?)null), (oldRun, AdeSyncStatus.Failed, "SyncLeaseLost")], history.Select(h => (h.Id, h.Status, h.ErrorId)));
        Assert.Equal((null, later.AddMinutes(3), false, "fresh"), (State().LeaseId, State().LastSuccessAt, State().NextMustBeFull, State().Cursor!.Cursor));
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

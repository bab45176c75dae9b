using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Simulator;

namespace AdeEnrollment.Engine.Tests.DeviceActions;

/// <summary>Clear-AdeDeviceProfile, Update-AdeDevice and Unregister-AdeDevice through the engine against the simulator.</summary>
public class DeviceActionTests
{
    private const string Server = EngineSimFixture.Server;

    private static EngineSimFixture Assigned(int devices)
    {
        var f = new EngineSimFixture(devices: devices);
        f.Engine.Sync.Sync("iPads");
        f.Engine.Profiles.New("iPads", "Staff", new ProfileSettings { UserAffinity = UserAffinity.WithUserAffinity });
        f.Engine.Assignments.Assign("Staff", null, f.AppleSerials()).ToList();
        f.Simulator.ClearRequests();
        return f;
    }

    private static IEnumerable<DeviceTarget> Targets(IEnumerable<string> serials) => serials.Select(s => new DeviceTarget(s));

    private static IReadOnlyList<AdeSimRequest> Requests(EngineSimFixture f, string path, string method)
        => f.Simulator.GetRequests(path).Where(r => r.Method == method && r.StatusCode == 200).ToList();

    [Fact]
    public void ClearProfile_2500Devices_BatchesOf1000_StoreAndAppleAndJournalUpdated()
    {
        using var f = Assigned(2500);
        var serials = f.AppleSerials().ToList();
        var last = f.Engine.Devices.GetEvents(new DeviceEventQuery()).Max(e => e.Id);

        var results = f.Engine.DeviceActions.ClearProfile(Targets(serials), null).ToList();

        Assert.Equal(2500, results.Count);
        Assert.All(results, r => Assert.Equal((AdeDeviceActionStatus.Success, "Staff", "iPads", "ClearProfile"), (r.Status, r.PreviousProfile, r.Token, r.Action)));
        var requests = Requests(f, "/profile/devices", "DELETE");
        Assert.Equal([1000, 1000, 500], requests.Select(r => r.DeviceCount));
        Assert.All(f.Simulator.GetDevices(Server), d => Assert.Equal((null, "removed"), (d.ProfileUuid, d.ProfileStatus)));
        Assert.All(f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)), d => Assert.Equal(("", AdeProfileStatus.Removed), (d.EnrollmentProfileName, d.ProfileStatus)));
        Assert.Equal(0, f.Engine.Profiles.Resolve("Staff").DeviceCount);
        var events = f.Engine.Devices.GetEvents(new DeviceEventQuery(AfterId: last)).ToList();
        Assert.Equal(2500, events.Count);
        Assert.All(events, e => Assert.Equal((AdeDeviceEventKind.ProfileCleared, "Staff"), (e.Kind, e.Detail)));
    }

    [Fact]
    public void ClearProfile_ReportsNotAccessibleFailedAndUnknown_PerDevice_AndOnlySuccessesChangeTheStore()
    {
        using var f = Assigned(3);
        var s = f.AppleSerials().ToList();
        f.Simulator.SetDeviceOutcome(Server, s[1], "FAILED");
        f.Simulator.SetDeviceOutcome(Server, s[2], "NOT_ACCESSIBLE");

        var summary = new DeviceActionSummary();
        var results = f.Engine.DeviceActions.ClearProfile(Targets([s[0], s[1], s[2], "C02UNKNOWN01", "\u001b[2JC02"]), null, summary).ToDictionary(r => r.SerialNumber);
        // one warning names every kind of device not done, the unknown serials too (a typo in a list is not silent)
        Assert.StartsWith("4 devices of 5 were not cleared: ", summary.NotDoneWarning, StringComparison.Ordinal);
        Assert.Contains("2 UnknownDevice (not a device of AdeEnrollment's store", summary.NotDoneWarning, StringComparison.Ordinal);
        // a serial typed with a terminal escape comes back as harmless text
        Assert.Equal(AdeDeviceActionStatus.UnknownDevice, results["\ufffd[2JC02"].Status);

        Assert.Equal(AdeDeviceActionStatus.Success, results[s[0]].Status);
        Assert.Equal((AdeDeviceActionStatus.Failed, "FAILED"), (results[s[1]].Status, results[s[1]].AppleStatus));
        Assert.Equal((AdeDeviceActionStatus.NotAccessible, "NOT_ACCESSIBLE"), (results[s[2]].Status, results[s[2]].AppleStatus));
        Assert.Equal(AdeDeviceActionStatus.UnknownDevice, results["C02UNKNOWN01"].Status);
        Assert.Equal(3, Assert.Single(Requests(f, "/profile/devices", "DELETE")).DeviceCount); // the unknown serial is not sent
        var names = f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)).ToDictionary(d => d.SerialNumber, d => d.EnrollmentProfileName);
        Assert.Equal(("", "Staff", "Staff"), (names[s[0]], names[s[1]], names[s[2]]));
    }

    [Fact]
    public void ClearProfile_WhatIf_AsksPerDevice_SendsNothing_ChangesNothing()
    {
        using var f = Assigned(3);
        f.Host.ShouldProcessAnswer = false;
        f.Host.ShouldProcessCalls.Clear();
        var summary = new DeviceActionSummary();

        var results = f.Engine.DeviceActions.ClearProfile(Targets([.. f.AppleSerials(), "C02UNKNOWN01"]), null, summary).ToList();

        Assert.Single(results); // only the unknown serial
        Assert.Equal(3, f.Host.ShouldProcessCalls.Count);
        Assert.All(f.Host.ShouldProcessCalls, c => Assert.Equal("Clear the enrollment profile at Apple (now: 'Staff')", c.Action));
        Assert.Empty(Requests(f, "/profile/devices", "DELETE"));
        Assert.Equal("3 devices would have their enrollment profile cleared at Apple (1 serial unknown to AdeEnrollment).", summary.WhatIfSummary);
        Assert.All(f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)), d => Assert.Equal("Staff", d.EnrollmentProfileName));
    }

    [Fact]
    public void Refresh_UpdatesProfileStatusPushTimeAndFields_WithoutUsingTheSyncAllowance()
    {
        using var f = Assigned(2);
        var s = f.AppleSerials().ToList();
        f.Simulator.ActivateDevice(Server, s[0]);
        f.Simulator.SetDevice(Server, s[1], new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), false, true);
        var syncsBefore = f.Engine.Sync.GetStatus(f.Token);
        var last = f.Engine.Devices.GetEvents(new DeviceEventQuery()).Max(e => e.Id);

        var results = f.Engine.DeviceActions.Refresh(Targets([s[0], s[1], "C02UNKNOWN01"]), null).ToDictionary(r => r.SerialNumber);

        Assert.Equal(AdeDeviceActionStatus.UnknownDevice, results["C02UNKNOWN01"].Status);
        var pushed = results[s[0]].Device!;
        Assert.Equal((AdeProfileStatus.Pushed, f.Time.GetUtcNow(), "Staff"), (pushed.ProfileStatus, pushed.ProfilePushedAt!.Value, pushed.EnrollmentProfileName));
        Assert.Equal((true, new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero)), (results[s[1]].Device!.IsReplacementDevice, results[s[1]].Device!.MdmMigrationDeadline));
        Assert.Equal(2, Assert.Single(Requests(f, "/devices", "POST")).DeviceCount);
        Assert.Empty(f.Simulator.GetRequests("/devices/sync"));
        Assert.Equal(syncsBefore.LastSyncAt, f.Engine.Sync.GetStatus(f.Token).LastSyncAt);
        var modified = f.Engine.Devices.GetEvents(new DeviceEventQuery(AfterId: last, Kinds: [AdeDeviceEventKind.Modified])).ToList();
        Assert.Contains(modified, e => e.SerialNumber == s[0] && e.ChangedFields.SequenceEqual(["ProfileStatus", "ProfilePushedAt"]));
    }

    [Fact]
    public void Refresh_2500Devices_AsksAppleInBatchesOf1000_AndReportsEachDevice()
    {
        using var f = Assigned(2500);
        var serials = f.AppleSerials().ToList();

        var results = f.Engine.DeviceActions.Refresh(Targets(serials), null).ToList();

        Assert.Equal(serials.Order(StringComparer.Ordinal), results.Select(r => r.SerialNumber).Order(StringComparer.Ordinal));
        Assert.All(results, r => Assert.Equal(AdeDeviceActionStatus.Success, r.Status));
        Assert.Equal([1000, 1000, 500], Requests(f, "/devices", "POST").Select(r => r.DeviceCount));
    }

    [Fact]
    public void Refresh_ASerialAppleDoesNotKnow_IsNotAccessible()
    {
        using var f = Assigned(2);
        var s = f.AppleSerials().ToList();
        f.Simulator.RemoveDevice(Server, s[0]);

        var result = Assert.Single(f.Engine.DeviceActions.Refresh(Targets([s[0]]), "iPads"));

        Assert.Equal((AdeDeviceActionStatus.NotAccessible, (AdeDevice?)null), (result.Status, result.Device));
    }

    [Fact]
    public void Release_DisownsAtApple_MarksTheDevicesReleased_AndJournalsThem()
    {
        using var f = Assigned(2);
        var s = f.AppleSerials().ToList();

        var result = Assert.Single(f.Engine.DeviceActions.Release(Targets([s[0]]), null));

        Assert.Equal(AdeDeviceActionStatus.Success, result.Status);
        Assert.Equal([s[1]], f.AppleSerials());
        var device = f.Engine.Devices.Get(new DeviceQuery(f.Token.Id, s[0])).Single();
        Assert.Equal((AdeAbmState.RemovedFromAbm, f.Time.GetUtcNow()), (device.AbmState, device.ReleasedAt!.Value));
        var released = f.Engine.Devices.GetEvents(new DeviceEventQuery(SerialNumber: s[0])).Last();
        Assert.Equal((AdeDeviceEventKind.Released, "Staff"), (released.Kind, released.Detail)); // the profile it held
    }

    [Theory]
    [InlineData("/devices/disown")]
    [InlineData("/profile/devices")]
    public void StoppedWhileTheRequestIsWithApple_ItsAnswerIsStillRecorded_SoTheStoreMatchesApple(string endpoint)
    {
        using var f = Assigned(2);
        var s = f.AppleSerials().ToList();
        f.Simulator.AddFault(endpoint, null, count: 1, latency: TimeSpan.FromSeconds(1));
        f.Host.Stop.CancelAfter(TimeSpan.FromMilliseconds(200)); // Ctrl+C while Apple works on it

        var results = endpoint == "/devices/disown"
            ? f.Engine.DeviceActions.Release(Targets([s[0]]), null).ToList()
            : f.Engine.DeviceActions.ClearProfile(Targets([s[0]]), null).ToList();

        Assert.True(f.Host.Cancellation.IsCancellationRequested);
        Assert.Equal(AdeDeviceActionStatus.Success, Assert.Single(results).Status);
        var kind = endpoint == "/devices/disown" ? AdeDeviceEventKind.Released : AdeDeviceEventKind.ProfileCleared;
        Assert.Equal(kind, f.Engine.Devices.GetEvents(new DeviceEventQuery(SerialNumber: s[0])).Last().Kind);
        var device = f.Engine.Devices.Get(new DeviceQuery(f.Token.Id, s[0])).Single();
        Assert.Equal(endpoint == "/devices/disown", device.ReleasedAt is not null);
    }

    [Fact]
    public void Release_WhenAppleDoesNotAllowIt_IsReleaseNotAllowed_AndChangesNothing()
    {
        using var f = Assigned(2);
        var s = f.AppleSerials().ToList();
        f.Simulator.SetServer(Server, allowDeviceRelease: false);

        var results = f.Engine.DeviceActions.Release(Targets(s), null).ToList();

        // the token's request failed as a whole: its devices are NotSent, the first carrying the failure
        Assert.All(results, r => Assert.Equal(AdeDeviceActionStatus.NotSent, r.Status));
        var ex = Assert.Single(results, r => r.Failure is not null).Failure!;
        Assert.Equal(nameof(ErrorCatalog.ReleaseNotAllowed), ex.ErrorId);
        Assert.Equal(AdeErrorCategory.PermissionDenied, ex.Category);
        Assert.Contains("'iPads'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(f.Simulator.Uri.ToString(), ex.Message, StringComparison.Ordinal);
        Assert.Equal(s, f.AppleSerials());
        Assert.All(f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)), d => Assert.Null(d.ReleasedAt));
    }

    [Theory]
    [InlineData(true, null)]  // the connection dropped after Apple carried the release out
    [InlineData(false, 500)]  // Apple carried it out, then answered 500
    public void ARelease_SentAgainAfterAnAnswerWasLost_AndAnsweredNotAccessible_IsNamedInAWarning_AndTheNextSyncRecordsWhatAppleDid(bool drop, int? status)
    {
        using var f = Assigned(3);
        var s = f.AppleSerials().ToList();
        f.Simulator.AddFault("/devices/disown", status, count: 1, dropConnection: drop, afterApplying: true);

        var results = f.Engine.DeviceActions.Release(Targets(s[..2]), null).ToList();

        // what Apple answered, nothing the store cannot prove: NOT_ACCESSIBLE can also be a device moved since the last sync
        Assert.All(results, r => Assert.Equal((AdeDeviceActionStatus.NotAccessible, "NOT_ACCESSIBLE"), (r.Status, r.AppleStatus)));
        Assert.Equal(2, f.Simulator.GetRequests("/devices/disown").Count); // the request was sent again
        Assert.Equal([s[2]], f.AppleSerials());
        var warning = Assert.Single(f.Host.Warnings, w => w.Contains("sent again", StringComparison.Ordinal));
        Assert.Contains("2 devices the store holds as assigned", warning, StringComparison.Ordinal);
        Assert.Contains("most likely the first request released them", warning, StringComparison.Ordinal);

        f.Advance(TimeSpan.FromMinutes(16));
        f.Engine.Sync.Sync("iPads");
        Assert.All(s[..2], serial => Assert.Equal(AdeAbmState.RemovedFromAbm, f.Engine.Devices.Get(new DeviceQuery(f.Token.Id, serial)).Single().AbmState));
    }

    [Fact]
    public void ARelease_ThrottledFirst_IsNotTakenForPossiblyDelivered()
    {
        using var f = Assigned(2);
        var s = f.AppleSerials().ToList();
        f.Simulator.RemoveDevice(Server, s[0]); // not on the server: NOT_ACCESSIBLE at the only answer
        f.Simulator.AddFault("/devices/disown", 429, count: 1, retryAfterSeconds: 1); // throttled: not carried out

        var result = Assert.Single(f.Engine.DeviceActions.Release(Targets([s[0]]), null));

        Assert.Equal(AdeDeviceActionStatus.NotAccessible, result.Status);
        Assert.DoesNotContain(f.Host.Warnings, w => w.Contains("sent again", StringComparison.Ordinal));
    }

    [Fact]
    public void ASerialAlone_OfADeviceMovedToAnotherServer_GoesOnlyToTheTokenWhereAbmHasItNow()
    {
        using var f = Assigned(2);
        var s = f.AppleSerials().ToList();
        f.AddToken("Other");
        f.Simulator.RemoveDevice(Server, s[0]); // ABM moves it to the other MDM server
        f.Simulator.AddDevices("Server Other", serialNumbers: [s[0]]);
        f.Advance(TimeSpan.FromMinutes(16));
        f.Engine.Sync.Sync("iPads");
        f.Engine.Sync.Sync("Other");
        Assert.Equal(2, f.Engine.Devices.Get(new DeviceQuery(SerialNumber: s[0])).Count()); // a removed copy under the old token

        var results = f.Engine.DeviceActions.Release(Targets([s[0]]), null).ToList();

        var result = Assert.Single(results);
        Assert.Equal(("Other", AdeDeviceActionStatus.Success), (result.Token, result.Status));
        Assert.DoesNotContain(Requests(f, "/devices/disown", "POST"), r => r.Server == Server);
        Assert.DoesNotContain(f.Host.Warnings, w => w.Contains("not released", StringComparison.Ordinal));
    }

    [Fact]
    public void ARelease_NotAccessibleAtTheFirstAnswer_StaysNotAccessible_AndChangesNothing()
    {
        using var f = Assigned(2);
        var s = f.AppleSerials().ToList();
        f.Simulator.RemoveDevice(Server, s[0]); // gone from the server before the release

        var result = Assert.Single(f.Engine.DeviceActions.Release(Targets([s[0]]), null));

        Assert.Equal(AdeDeviceActionStatus.NotAccessible, result.Status);
        Assert.Null(f.Engine.Devices.Get(new DeviceQuery(f.Token.Id, s[0])).Single().ReleasedAt);
        Assert.DoesNotContain(f.Host.Warnings, w => w.Contains("sent again", StringComparison.Ordinal));
    }

    [Fact]
    public void ARelease_WhoseSessionIsRefused_IsAppleAccessDenied_NotReleaseNotAllowed()
    {
        using var f = Assigned(2);
        var s = f.AppleSerials().ToList();
        f.Simulator.AddFault("/devices/disown", 401, "UNAUTHORIZED", count: 1); // the open session is refused: a new one is asked for
        f.Simulator.AddFault("/session", 403, body: "ACCESS_DENIED", count: 10);

        var results = f.Engine.DeviceActions.Release(Targets(s), null).ToList();

        var ex = Assert.Single(results, r => r.Failure is not null).Failure!;
        Assert.Equal(nameof(ErrorCatalog.AppleAccessDenied), ex.ErrorId);
        Assert.Equal(s, f.AppleSerials());
        Assert.Empty(Requests(f, "/devices/disown", "POST"));
    }

    [Fact]
    public void ASummaryWarning_WritesItsCounts_TheSameWhateverTheSessionsCulture()
    {
        var saved = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo("de-DE"); // 1.500 there
            var summary = new DeviceActionSummary { Done = "released" };
            for (var i = 0; i < 1500; i++)
            {
                summary.Count(new AdeDeviceActionResult { SerialNumber = $"S{i}", Status = AdeDeviceActionStatus.NotAccessible });
            }

            Assert.StartsWith("1,500 devices of 1,500 were not released: 1,500 NotAccessible", summary.NotDoneWarning, StringComparison.Ordinal);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = saved;
        }
    }

    [Fact]
    public void ATokenWhoseRequestFails_LeavesItsDevicesNotSent_WithItsError_AndTheOtherTokensDevicesAreStillDone_WithOneWarning()
    {
        using var f = Assigned(3);
        var other = f.AddToken("Other", devices: 2);
        f.Engine.Sync.Sync("Other");
        var ours = f.AppleSerials().ToList();
        var theirs = f.Engine.Devices.Get(new DeviceQuery(other.Id)).Select(d => d.SerialNumber).ToList();
        f.Simulator.ExportServerToken(Server, out _); // the iPads token is replaced in ABM: Apple rejects it now
        var summary = new DeviceActionSummary();

        var results = f.Engine.DeviceActions.ClearProfile(Targets([.. ours, .. theirs]), null, summary).ToList();

        Assert.Equal(5, results.Count);
        Assert.All(results.Where(r => r.Token == "iPads"), r => Assert.Equal(AdeDeviceActionStatus.NotSent, r.Status));
        Assert.Equal(nameof(ErrorCatalog.AppleTokenRejected), Assert.Single(results, r => r.Failure is not null).Failure!.ErrorId);
        Assert.All(results.Where(r => r.Token == "Other"), r => Assert.Equal(AdeDeviceActionStatus.Success, r.Status));
        Assert.StartsWith("3 devices of 5 were not cleared: 3 NotSent (a request of its token failed (see the error)", summary.NotDoneWarning, StringComparison.Ordinal);
    }

    [Fact]
    public void AnExpiredToken_LeavesItsDevicesNotSent_AndTheOtherTokensDevicesAreStillDone()
    {
        using var f = Assigned(2);
        var other = f.AddToken("Other", devices: 2);
        f.Engine.Sync.Sync("Other");
        var theirs = f.Engine.Devices.Get(new DeviceQuery(other.Id)).Select(d => d.SerialNumber).ToList();
        f.Sql($"UPDATE token SET expires_at = {f.Time.GetUtcNow().AddDays(-1).ToUnixTimeMilliseconds()} WHERE id = '{f.Token.Id}'"); // its token expired

        var results = f.Engine.DeviceActions.Refresh(Targets([.. f.AppleSerials(), .. theirs]), null).ToList();

        Assert.Equal(4, results.Count);
        Assert.Equal(nameof(ErrorCatalog.StoredTokenExpired), Assert.Single(results, r => r.Failure is not null).Failure!.ErrorId);
        Assert.All(results.Where(r => r.Token == "iPads"), r => Assert.Equal(AdeDeviceActionStatus.NotSent, r.Status));
        Assert.All(results.Where(r => r.Token == "Other"), r => Assert.Equal(AdeDeviceActionStatus.Success, r.Status));
    }

    [Fact]
    public void ALaterRequestThatFails_KeepsTheEarlierAnswers_AndLeavesTheRestNotSent()
    {
        using var f = Assigned(2100);
        f.Simulator.AddFault("/profile/devices", 500, method: "DELETE", count: 100, skip: 1);
        var results = f.Engine.DeviceActions.ClearProfile(Targets(f.AppleSerials()), null).ToList();

        Assert.Equal(1000, results.Count(r => r.Status == AdeDeviceActionStatus.Success));
        Assert.Equal(1100, results.Count(r => r.Status == AdeDeviceActionStatus.NotSent));
        Assert.Equal(nameof(ErrorCatalog.AppleServiceUnavailable), Assert.Single(results, r => r.Failure is not null).Failure!.ErrorId);
        Assert.Equal(1000, f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)).Count(d => d.ProfileStatus == AdeProfileStatus.Removed));
    }
}

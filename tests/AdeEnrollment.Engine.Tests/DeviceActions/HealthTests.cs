using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tests.TestSupport;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Health;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Devices;

namespace AdeEnrollment.Engine.Tests.DeviceActions;

/// <summary>Test-AdeHealth's verdicts, each made to pass and to fail.</summary>
public class HealthTests
{
    private const string Server = EngineSimFixture.Server;

    private static Dictionary<string, AdeHealthResult> Checks(EngineSimFixture f, TimeSpan? threshold = null)
        => f.Engine.Health.Test("iPads", threshold).Where(r => r.Check != "DevicesWithoutProfile").ToDictionary(r => r.Check);

    [Fact]
    public void AHealthyToken_PassesEveryCheck_WithoutRemedies()
    {
        using var f = new EngineSimFixture(devices: 2);
        f.Engine.Profiles.New("iPads", "Staff", new ProfileSettings { UserAffinity = UserAffinity.WithUserAffinity });
        f.Engine.Profiles.SetDefault("iPads", "Staff");
        f.Engine.Sync.Sync("iPads");

        var results = f.Engine.Health.Test().ToList();

        Assert.Equal(["Store", "TokenExpiry", "AppleTerms", "TokenRejected", "LastSync", "SyncLease", "DevicesWithoutProfile", "DevicesHeldAfterFailure"], results.Select(r => r.Check));
        Assert.All(results, r => Assert.Equal((AdeHealthStatus.Pass, ""), (r.Status, r.Remedy)));
    }

    [Fact]
    public void LastSync_WarnsAfter24Hours_FailsAfter7Days_NamingTheCommand()
    {
        using var f = new EngineSimFixture(devices: 1);
        Assert.Equal(AdeHealthStatus.Warning, Checks(f)["LastSync"].Status); // never synced
        f.Engine.Sync.Sync("iPads");
        f.Advance(TimeSpan.FromHours(25));
        var warning = Checks(f)["LastSync"];
        Assert.Equal((AdeHealthStatus.Warning, "Sync-AdeDevice -Token 'iPads' -IfDue"), (warning.Status, warning.Remedy));
        f.Advance(TimeSpan.FromDays(7));
        var fail = Checks(f)["LastSync"];
        Assert.Equal((AdeHealthStatus.Fail, "Sync-AdeDevice -Token 'iPads'"), (fail.Status, fail.Remedy));
    }

    [Fact]
    public void ASyncRemedy_WithinTheSyncLimit_SaysFromWhenTheCommandIsAllowed()
    {
        using var f = new EngineSimFixture(devices: 1);
        f.Simulator.AddFault("/server/devices", 500, "", count: 10);
        Assert.Throws<AdeException>(() => f.Engine.Sync.Sync("iPads"));
        f.Simulator.ClearFaults();
        var next = f.Engine.Tokens.ResolveToken("iPads").NextManualSyncAt;
        Assert.True(next > f.Time.GetUtcNow());

        var soon = Checks(f)["LastSync"];
        Assert.Equal((AdeHealthStatus.Warning, $"From {next:u} (the sync limit after the last attempt): Sync-AdeDevice -Token 'iPads'"), (soon.Status, soon.Remedy));
        AdeAssert.Throws(nameof(ErrorCatalog.ManualSyncTooSoon), () => f.Engine.Sync.Sync("iPads")); // what the bare command would meet now

        f.Advance(next - f.Time.GetUtcNow());
        Assert.Equal("Sync-AdeDevice -Token 'iPads'", Checks(f)["LastSync"].Remedy);
        Assert.Equal(AdeSyncStatus.Succeeded, f.Engine.Sync.Sync("iPads")!.Status);
    }

    [Fact]
    public void TermsNotSigned_IsPersistedFromApplesAnswer_AndClearedByTheNextSuccessfulSync()
    {
        using var f = new EngineSimFixture(devices: 1);
        f.Simulator.AddFault("/server/devices", 403, "T_C_NOT_SIGNED", count: 5);
        var ex = Assert.Throws<AdeException>(() => f.Engine.Sync.Sync("iPads"));
        Assert.Equal(nameof(ErrorCatalog.AppleTermsNotSigned), ex.ErrorId);

        var terms = Checks(f)["AppleTerms"];
        Assert.Equal(AdeHealthStatus.Fail, terms.Status);
        Assert.Contains("T_C_NOT_SIGNED", terms.Detail, StringComparison.Ordinal);
        Assert.Contains("Sync-AdeDevice -Token 'iPads'", terms.Remedy, StringComparison.Ordinal);

        f.Simulator.ClearFaults();
        f.Advance(TimeSpan.FromMinutes(16));
        f.Engine.Sync.Sync("iPads");
        Assert.Equal(AdeHealthStatus.Pass, Checks(f)["AppleTerms"].Status);
    }

    [Fact]
    public void TermsNotSigned_IsClearedByAnyCallAppleAnswersForTheToken_NotOnlyByASync()
    {
        using var f = new EngineSimFixture(devices: 1);
        f.Engine.Sync.Sync("iPads");
        f.Advance(TimeSpan.FromMinutes(16));
        f.Simulator.AddFault("/devices/sync", 403, "T_C_NOT_SIGNED", count: 1);
        AdeAssert.Throws(nameof(ErrorCatalog.AppleTermsNotSigned), () => f.Engine.Sync.Sync("iPads"));
        Assert.Equal(AdeHealthStatus.Fail, Checks(f)["AppleTerms"].Status);

        // the admin accepted the terms; the next thing the script does is an assignment, not a sync
        f.Engine.Profiles.New("iPads", "Staff", new ProfileSettings { UserAffinity = UserAffinity.WithUserAffinity });
        f.Engine.Assignments.Assign("Staff", null, [f.AppleSerials().First()]).ToList();
        Assert.Equal(AdeHealthStatus.Pass, Checks(f)["AppleTerms"].Status);
    }

    [Fact]
    public void LastSync_FailsAtOnce_WhenAppleDeniesTheMdmServerAccess_NamingTheErrorAndWhatToCheck()
    {
        using var f = new EngineSimFixture(devices: 1);
        f.Engine.Sync.Sync("iPads");
        f.Advance(TimeSpan.FromHours(13));
        f.Simulator.AddFault("/devices/sync", 401, "UNAUTHORIZED", count: 1); // the open session is refused: a new one is asked for
        f.Simulator.AddFault("/session", 403, body: "ACCESS_DENIED", count: 10);
        AdeAssert.Throws(nameof(ErrorCatalog.AppleAccessDenied), () => f.Engine.Sync.Sync("iPads", ifDue: true));

        var last = Checks(f)["LastSync"];

        Assert.Equal(AdeHealthStatus.Fail, last.Status); // a scheduled sync cannot fix it, so no 7-day grace
        Assert.Contains("failed with AppleAccessDenied", last.Detail, StringComparison.Ordinal);
        Assert.Contains("Device Enrollment Manager", last.Remedy, StringComparison.Ordinal);

        // a passing failure is named but keeps the grace period
        f.Simulator.ClearFaults();
        f.Advance(TimeSpan.FromMinutes(16));
        f.Engine.Sync.Sync("iPads");
        Assert.Equal(AdeHealthStatus.Pass, Checks(f)["LastSync"].Status);
        f.Advance(TimeSpan.FromHours(13));
        f.Simulator.AddFault("/devices/sync", 503, count: 10);
        Assert.ThrowsAny<AdeException>(() => f.Engine.Sync.Sync("iPads", ifDue: true));
        var passing = Checks(f)["LastSync"];
        Assert.Equal(AdeHealthStatus.Pass, passing.Status); // within 24 hours of the last success
        Assert.Contains("failed with AppleServiceUnavailable", passing.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void WhileTheTokenIsRejected_ItsDetailSaysSoOnce_AndTheDevicesRemedyRenewsTheTokenFirst()
    {
        using var f = new EngineSimFixture(devices: 2);
        f.Engine.Sync.Sync("iPads");
        f.Advance(TimeSpan.FromHours(25));
        f.Simulator.AddFault("/devices/sync", 401, "UNAUTHORIZED", count: 2);
        AdeAssert.Throws("AppleTokenRejected", () => f.Engine.Sync.Sync("iPads"));

        var checks = f.Engine.Health.Test("iPads", TimeSpan.FromHours(1)).ToList();

        Assert.Single(System.Text.RegularExpressions.Regex.Matches(checks.Single(c => c.Check == "TokenRejected").Detail, "Apple rejected"));
        var devices = checks.Single(c => c.Check == "DevicesWithoutProfile");
        Assert.Equal(AdeHealthStatus.Warning, devices.Status);
        Assert.StartsWith("Download a new server token", devices.Remedy, StringComparison.Ordinal);
    }

    [Fact]
    public void ATokenAppleRejectedOnce_IsActiveAgain_OnceAppleAcceptsIt()
    {
        using var f = new EngineSimFixture(devices: 1);
        f.Simulator.AddFault("/server/devices", 401, "UNAUTHORIZED", count: 2); // a passing refusal (also after a new session), not a replaced token
        AdeAssert.Throws("AppleTokenRejected", () => f.Engine.Sync.Sync("iPads"));
        Assert.Equal(AdeTokenStatus.Invalid, f.Engine.Tokens.ResolveToken("iPads").Status);
        Assert.Equal(AdeHealthStatus.Fail, Checks(f)["TokenRejected"].Status);

        f.Advance(TimeSpan.FromMinutes(16));
        f.Engine.Sync.Sync("iPads");
        var token = f.Engine.Tokens.ResolveToken("iPads");
        Assert.Equal((AdeTokenStatus.Active, null), (token.Status, token.InvalidReason));
        Assert.Equal(AdeHealthStatus.Pass, Checks(f)["TokenRejected"].Status);
    }

    [Fact]
    public void AClockTooFarFromApples_IsAppleClockSkew_AndLeavesTheTokenValid()
    {
        using var f = new EngineSimFixture(devices: 1);
        f.Simulator.AddFault("/session", 401, "oauth_problem=timestamp_refused");
        f.Simulator.AddFault("/server/devices", 401, "UNAUTHORIZED", count: 1); // the open session is refused: a new one is asked for

        var e = AdeAssert.Throws(nameof(ErrorCatalog.AppleClockSkew), () => f.Engine.Sync.Sync("iPads"));

        Assert.Equal(AdeErrorCategory.AuthenticationError, e.Category);
        Assert.Contains("correct the system clock", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Update-AdeToken", e.Message, StringComparison.Ordinal);
        var token = f.Engine.Tokens.ResolveToken("iPads");
        Assert.Equal((AdeTokenStatus.Active, null), (token.Status, token.InvalidReason));
    }

    [Fact]
    public void TokenExpiry_WarnsWithin30Days_AndFailsWhenExpired()
    {
        using var f = new EngineSimFixture();
        var expires = f.Token.ExpiresAt;
        f.Advance(expires - f.Time.GetUtcNow() - TimeSpan.FromDays(10));
        var warning = Checks(f)["TokenExpiry"];
        Assert.Equal(AdeHealthStatus.Warning, warning.Status);
        Assert.StartsWith("Download a new server token", warning.Remedy, StringComparison.Ordinal);
        Assert.Contains("Update-AdeToken -Token 'iPads' -Path", warning.Remedy, StringComparison.Ordinal);
        f.Advance(TimeSpan.FromDays(11));
        Assert.Equal(AdeHealthStatus.Fail, Checks(f)["TokenExpiry"].Status);
    }

    [Fact]
    public void DevicesWithoutAProfile_AreCountedPerPlatform_AfterTheThreshold_NamingTheMissingDefault_WithRunnableRemedies()
    {
        using var f = new EngineSimFixture();
        f.Simulator.AddDevices(Server, 2, deviceFamily: "iPad");
        f.Simulator.AddDevices(Server, 1, deviceFamily: "iPhone");
        f.Simulator.AddDevices(Server, 1, deviceFamily: "Mac");
        f.Engine.Sync.Sync("iPads");
        Assert.Equal(AdeHealthStatus.Pass, f.Engine.Health.Test("iPads").Single(r => r.Check == "DevicesWithoutProfile").Status); // not yet 24 h

        f.Advance(TimeSpan.FromHours(25));
        var results = f.Engine.Health.Test("iPads").Where(r => r.Check == "DevicesWithoutProfile").ToList();

        Assert.Equal(2, results.Count); // iPads and iPhones are one platform
        Assert.All(results, r => Assert.Equal(AdeHealthStatus.Warning, r.Status));
        Assert.StartsWith("1 macOS device (Mac 1) without", results[1].Detail, StringComparison.Ordinal);
        // Set-AdeDefaultProfile takes the platform from the profile (its -Platform is only for -Clear), and the devices
        // given the profile are those of its platform
        Assert.Equal("3 iOS devices (iPad 2, iPhone 1) without an enrollment profile for more than 24 hours; the token has no iOS profile, so new iOS devices arrive without one. Create one first (New-AdeProfile -Token 'iPads' -Platform iOS …).", results[0].Detail);
        Assert.Equal("Set-AdeDefaultProfile -Token 'iPads' -Profile <iOS profile>; Get-AdeDevice -Token 'iPads' -Unassigned -Platform iOS | Where-Object ProfileStatus -ne 'Removed' | Set-AdeDeviceProfile -Profile <iOS profile>", results[0].Remedy);
        Assert.Single(f.Engine.Health.Test("iPads", TimeSpan.FromHours(48)), r => r.Check == "DevicesWithoutProfile" && r.Status == AdeHealthStatus.Pass);

        f.Engine.Profiles.New("iPads", "Macs", new ProfileSettings { Platform = DevicePlatform.macOS, UserAffinity = UserAffinity.WithoutUserAffinity });
        f.Engine.Profiles.SetDefault("iPads", "Macs", null);
        var mac = f.Engine.Health.Test("iPads").Single(r => r.Check == "DevicesWithoutProfile" && r.Detail.Contains("macOS", StringComparison.Ordinal));
        Assert.Equal("1 macOS device (Mac 1) without an enrollment profile for more than 24 hours.", mac.Detail);
        Assert.Equal("Get-AdeDevice -Token 'iPads' -Unassigned -Platform macOS | Where-Object ProfileStatus -ne 'Removed' | Set-AdeDeviceProfile -Profile 'Macs'", mac.Remedy);

        // one iOS profile, not the default: the remedy names it (pasteable as it is); two: a placeholder again
        f.Engine.Profiles.New("iPads", "Staff", new ProfileSettings { UserAffinity = UserAffinity.WithoutUserAffinity });
        var ios = f.Engine.Health.Test("iPads").Single(r => r.Check == "DevicesWithoutProfile" && r.Detail.Contains("iOS", StringComparison.Ordinal));
        Assert.EndsWith("; the token has no default iOS profile, so new iOS devices arrive without one.", ios.Detail, StringComparison.Ordinal);
        Assert.Equal("Set-AdeDefaultProfile -Token 'iPads' -Profile 'Staff'; Get-AdeDevice -Token 'iPads' -Unassigned -Platform iOS | Where-Object ProfileStatus -ne 'Removed' | Set-AdeDeviceProfile -Profile 'Staff'", ios.Remedy);
        f.Engine.Profiles.New("iPads", "Kiosk", new ProfileSettings { UserAffinity = UserAffinity.WithoutUserAffinity });
        Assert.StartsWith("Set-AdeDefaultProfile -Token 'iPads' -Profile <iOS profile>;",
            f.Engine.Health.Test("iPads").Single(r => r.Check == "DevicesWithoutProfile" && r.Detail.Contains("iOS", StringComparison.Ordinal)).Remedy, StringComparison.Ordinal);
    }

    [Fact]
    public void ASharedIPadProfile_IsNotTheRemedysProfile_ForIPhones()
    {
        using var f = new EngineSimFixture();
        f.Simulator.AddDevices(Server, 1, deviceFamily: "iPhone");
        f.Engine.Sync.Sync("iPads");
        f.Engine.Profiles.New("iPads", "Shared", new ProfileSettings { UserAffinity = UserAffinity.WithoutUserAffinity, SharedIPad = true });
        f.Advance(TimeSpan.FromHours(25));

        var ios = f.Engine.Health.Test("iPads").Single(r => r.Check == "DevicesWithoutProfile");

        Assert.StartsWith("Set-AdeDefaultProfile -Token 'iPads' -Profile <iOS profile>;", ios.Remedy, StringComparison.Ordinal);
        Assert.DoesNotContain("'Shared'", ios.Remedy, StringComparison.Ordinal);
    }

    [Fact]
    public void DevicesWhoseProfileWasCleared_OnPurpose_AreNotCountedAsWithoutAProfile()
    {
        using var f = new EngineSimFixture();
        f.Simulator.AddDevices(Server, 3, deviceFamily: "iPad");
        f.Engine.Profiles.New("iPads", "Staff", new ProfileSettings { UserAffinity = UserAffinity.WithoutUserAffinity });
        f.Engine.Profiles.SetDefault("iPads", "Staff", null);
        f.Engine.Sync.Sync("iPads");
        var serials = f.AppleSerials().Order(StringComparer.Ordinal).ToList();
        var cleared = f.Engine.DeviceActions.ClearProfile(serials.Take(2).Select(s => new DeviceTarget(s)), null).ToList();
        Assert.All(cleared, r => Assert.Equal(AdeDeviceActionStatus.Success, r.Status));

        f.Advance(TimeSpan.FromHours(25));
        Assert.Equal(AdeHealthStatus.Pass, f.Engine.Health.Test("iPads").Single(r => r.Check == "DevicesWithoutProfile").Status);
    }

    [Fact]
    public void TheSameTokenNamedAgain_WithinOneCommand_IsCheckedOnce_AndTheStoreOnce()
    {
        using var f = new EngineSimFixture(devices: 2);
        f.Engine.Sync.Sync("iPads");
        var done = new HealthChecked();
        var first = f.Engine.Health.Test("iPads", null, done).ToList();
        Assert.Equal(8, first.Count);
        Assert.Empty(f.Engine.Health.Test("iPads", null, done));
        Assert.Empty(f.Engine.Health.Test("iPa*", null, done));
        Assert.Equal(8, f.Engine.Health.Test("iPads").Count()); // a new command checks again
    }

    [Fact]
    public void DevicesHeldAfterFailed_AreAWarning_ForTheCooldown()
    {
        using var f = new EngineSimFixture(devices: 2);
        f.Engine.Sync.Sync("iPads");
        f.Engine.Profiles.New("iPads", "Staff", new ProfileSettings { UserAffinity = UserAffinity.WithUserAffinity });
        var s = f.AppleSerials().First();
        f.Simulator.SetDeviceOutcome(Server, s, "FAILED");
        var failedAt = f.Time.GetUtcNow();
        f.Engine.Assignments.Assign("Staff", null, [s]).ToList();

        var held = Checks(f)["DevicesHeldAfterFailure"];
        var free = Assert.Single(f.Engine.Devices.Get(new DeviceQuery(f.Token.Id, s))).LastAssignmentAt!.Value + AssignmentService.FailedCooldown;
        Assert.InRange(free, failedAt + AssignmentService.FailedCooldown, failedAt + AssignmentService.FailedCooldown + TimeSpan.FromMinutes(1));
        Assert.Equal(AdeHealthStatus.Warning, held.Status);
        Assert.EndsWith($"until {free:u} for the last of them.", held.Detail, StringComparison.Ordinal);
        Assert.Equal($"From {free:u}: Get-AdeDevice -Token 'iPads' -LastAssignmentResult Failed | Group-Object LastAssignmentProfile | ForEach-Object {{ $_.Group | Set-AdeDeviceProfile -Profile $_.Name }}", held.Remedy);
        f.Advance(TimeSpan.FromHours(25));
        Assert.Equal(AdeHealthStatus.Pass, Checks(f)["DevicesHeldAfterFailure"].Status);
    }

    [Fact]
    public void ALeaseHeldPastItsEnd_IsAWarning_ALeaseWithinItsTime_Passes()
    {
        using var f = new EngineSimFixture(devices: 1);
        f.Engine.Sync.Sync("iPads");
        var now = f.Time.GetUtcNow().ToUnixTimeMilliseconds();
        f.Sql($"UPDATE sync_state SET lease_id = 'crashed', lease_expires_at = {now + 60_000}");
        Assert.Equal((AdeHealthStatus.Pass, ""), (Checks(f)["SyncLease"].Status, Checks(f)["SyncLease"].Remedy));

        f.Advance(TimeSpan.FromMinutes(2)); // the sync that holds it never finished
        var held = Checks(f)["SyncLease"];
        var next = f.Engine.Tokens.ResolveToken("iPads").NextManualSyncAt; // 15 minutes after the sync that took the lease
        Assert.Equal((AdeHealthStatus.Warning, $"From {next:u} (the sync limit after the last attempt): Sync-AdeDevice -Token 'iPads'"), (held.Status, held.Remedy));
    }

    [Fact]
    public void ATokenAppleRejected_Fails_NamingUpdateAdeToken()
    {
        using var f = new EngineSimFixture(devices: 1);
        f.Engine.Sync.Sync("iPads");
        f.Simulator.ExportServerToken(Server, out _); // a newer token was downloaded: Apple no longer accepts the stored one
        f.Advance(TimeSpan.FromMinutes(16));
        AdeAssert.Throws("AppleTokenRejected", () => f.Engine.Sync.Sync("iPads"));

        var rejected = Checks(f)["TokenRejected"];
        Assert.Equal(AdeHealthStatus.Fail, rejected.Status);
        Assert.StartsWith("Apple rejected the ", rejected.Detail, StringComparison.Ordinal);
        Assert.Single(System.Text.RegularExpressions.Regex.Matches(rejected.Detail, "Apple rejected"));
        Assert.EndsWith("Update-AdeToken -Token 'iPads' -Path <token.p7m>", rejected.Remedy, StringComparison.Ordinal);

        // a sync cannot work with a rejected or expired token: the stale-sync remedy starts with the token
        f.Advance(TimeSpan.FromHours(25));
        Assert.Equal("Download a new server token in Apple Business Manager, then: Update-AdeToken -Token 'iPads' -Path <token.p7m>; Sync-AdeDevice -Token 'iPads'", Checks(f)["LastSync"].Remedy);
    }

    [Fact]
    public void AnExpiredToken_MakesTheStaleSyncRemedyStartWithTheToken()
    {
        using var f = new EngineSimFixture(devices: 1);
        f.Engine.Sync.Sync("iPads");
        f.Advance(TimeSpan.FromDays(400));
        var checks = Checks(f);
        Assert.Equal(AdeHealthStatus.Fail, checks["TokenExpiry"].Status);
        Assert.Equal(AdeHealthStatus.Fail, checks["LastSync"].Status);
        Assert.StartsWith("Download a new server token in Apple Business Manager, then: Update-AdeToken -Token 'iPads'", checks["LastSync"].Remedy, StringComparison.Ordinal);
    }

    [Fact]
    public void AStoreWhoseKeyFileIsGone_FailsTheStoreCheck_NamingTheFileToRestore()
    {
        using var f = new EngineSimFixture(devices: 1);
        var path = f.Store.Path;
        File.Delete(path + ".key");
        var store = AdeStore.Open(path);
        try
        {
            var check = new AdeEngine(store, new RecordingHost()).Health.Test().First();
            Assert.Equal(("Store", AdeHealthStatus.Fail), (check.Check, check.Status));
            Assert.Equal($"Restore the key file '{path}.key' from backup", check.Remedy);
        }
        finally
        {
            store.Release();
        }
    }

    [Fact]
    public void AStoreWithoutTokens_FailsTheStoreCheck_AndAnUnopenableStore_IsAFailedStoreCheck()
    {
        using var empty = new TestStore();
        var check = Assert.Single(empty.Engine.Health.Test());
        Assert.Equal(("Store", AdeHealthStatus.Fail), (check.Check, check.Status));
        Assert.Contains("holds no ADE token", check.Detail, StringComparison.Ordinal);

        var tooNew = HealthService.StoreUnusable(ErrorCatalog.StoreSchemaTooNew("/x/ade.db", 99, 14));
        Assert.Equal(("Store", AdeHealthStatus.Fail), (tooNew.Check, tooNew.Status));
        Assert.StartsWith("Update-Module", tooNew.Remedy, StringComparison.Ordinal);
        Assert.True(HealthService.IsStoreUnusable(ErrorCatalog.StoreInvalid("/x/ade.db", "damaged")));
        Assert.True(HealthService.IsStoreUnusable(ErrorCatalog.StoreUpgradeFailed("/x/ade.db", 13, 14, 14, "duplicate column.", new InvalidOperationException())));
        Assert.True(HealthService.IsStoreUnusable(ErrorCatalog.StoreNotConnected("/x/ade.db", "StoreKeyInvalid")));
        Assert.False(HealthService.IsStoreUnusable(ErrorCatalog.TokenNotFound("x")));
    }

    [Fact]
    public void ANegativeOrEndlessThreshold_IsArgumentInvalid_BeforeAnyResult()
    {
        using var f = new EngineSimFixture();
        foreach (var threshold in new[] { TimeSpan.FromHours(-1), TimeSpan.MaxValue, TimeSpan.FromDays(3651) })
        {
            var results = new List<AdeHealthResult>();
            var ex = Assert.Throws<AdeException>(() => results.AddRange(f.Engine.Health.Test(null, threshold)));
            Assert.Equal(nameof(ErrorCatalog.ArgumentInvalid), ex.ErrorId);
            Assert.Empty(results);
        }

        Assert.Contains(f.Engine.Health.Test("iPads", TimeSpan.FromDays(3650)), r => r.Check == "DevicesWithoutProfile");
    }
}

using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Simulator;

namespace AdeEnrollment.Engine.Tests.Profiles;

/// <summary>Set-AdeDeviceProfile through the engine against the simulator: batching, statuses, retries, -WhatIf, redefinition.</summary>
public class AssignmentServiceTests
{
    private const string Server = EngineSimFixture.Server;
    private static readonly ProfileSettings User = new() { UserAffinity = UserAffinity.WithUserAffinity };
    private static readonly ProfileSettings Kiosk = new() { UserAffinity = UserAffinity.WithoutUserAffinity };

    /// <summary>A fixture with <paramref name="devices"/> synced into the engine and the profiles Staff and Kiosk.</summary>
    private static EngineSimFixture Synced(int devices)
    {
        var f = new EngineSimFixture(devices: devices);
        f.Engine.Sync.Sync("iPads");
        f.Engine.Profiles.New("iPads", "Staff", User);
        f.Engine.Profiles.New("iPads", "Kiosk", Kiosk);
        f.Simulator.ClearRequests();
        return f;
    }

    private static List<AdeAssignmentResult> Assign(EngineSimFixture f, string profile, IEnumerable<string> serials)
        => f.Engine.Assignments.Assign(profile, null, serials).ToList();

    private static IReadOnlyList<AdeSimRequest> AssignRequests(EngineSimFixture f)
        => f.Simulator.GetRequests("/profile/devices").Where(r => r.Method is "POST" or "PUT" && r.StatusCode == 200).ToList(); // not the 401s of an expired session

    private static IReadOnlyList<AdeSimRequest> DefineRequests(EngineSimFixture f)
        => f.Simulator.GetRequests("/profile").Where(r => r.Method == "POST" && r.StatusCode == 200).ToList();

    /// <summary>The serials of <paramref name="devices"/> that hold the Staff profile in the store, in ordinal order.</summary>
    private static List<string> StaffHolders(IEnumerable<AdeDevice> devices)
        => devices.Where(d => d.EnrollmentProfileName == "Staff").Select(d => d.SerialNumber).Order(StringComparer.Ordinal).ToList();

    private static string? AppleProfileOf(EngineSimFixture f, string serial) => f.Simulator.GetDevices(Server, [serial]).Single().ProfileUuid;

    /// <summary>A fixture with <paramref name="iPads"/> iPads and <paramref name="iPhones"/> iPhones synced, and the profile given.</summary>
    private static EngineSimFixture IPadsAndIPhones(int iPads, int iPhones, string profile, ProfileSettings settings)
    {
        var f = new EngineSimFixture();
        f.Simulator.AddDevices(Server, iPads, deviceFamily: "iPad");
        f.Simulator.AddDevices(Server, iPhones, deviceFamily: "iPhone");
        f.Engine.Sync.Sync("iPads");
        f.Engine.Profiles.New("iPads", profile, settings);
        return f;
    }

    [Fact]
    public void ASharedIPadProfile_GoesToIPadsOnly_IPhonesAreSharedIPadOnly_AndNothingIsSentForThem()
    {
        using var f = IPadsAndIPhones(2, 2, "Shared", Kiosk with { SharedIPad = true });
        var families = f.Simulator.GetDevices(Server).ToDictionary(d => d.SerialNumber, d => d.DeviceFamily);
        var summary = new AssignmentService.AssignmentSummary();

        var results = f.Engine.Assignments.AssignInBatches("Shared", null, [.. families.Keys.Select(s => new DeviceTarget(s))], summary, force: false, _ => { }).SelectMany(b => b).ToList();

        Assert.All(results, r => Assert.Equal(families[r.SerialNumber] == "iPad" ? AdeAssignmentStatus.Success : AdeAssignmentStatus.SharedIPadOnly, r.Status));
        Assert.Equal(2, summary.NotIPad);
        Assert.Contains("2 SharedIPadOnly (iPhones or iPods: a Shared iPad profile is for iPads only", summary.NotAssignedWarning, StringComparison.Ordinal);
        Assert.Equal(2, AssignRequests(f).Sum(r => r.DeviceCount));
        Assert.All(f.Simulator.GetDevices(Server).Where(d => d.DeviceFamily == "iPhone"), d => Assert.Null(d.ProfileUuid));
    }

    [Fact]
    public void TurningSharedIPadOn_WhileIPhonesHoldTheProfile_IsRefused_AndNothingChanges()
    {
        using var f = IPadsAndIPhones(1, 1, "Kiosk", Kiosk);
        Assign(f, "Kiosk", f.AppleSerials());
        var iPhone = f.Simulator.GetDevices(Server).Single(d => d.DeviceFamily == "iPhone").SerialNumber;
        var before = f.Engine.Profiles.Get(name: "Kiosk").Single();

        var error = AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => f.Engine.ProfileChanges.Set("Kiosk", null, null, new ProfileSettings { SharedIPad = true }));

        Assert.Contains(iPhone, error.Message, StringComparison.Ordinal);
        Assert.Contains("for iPads only", error.Message, StringComparison.Ordinal);
        var after = f.Engine.Profiles.Get(name: "Kiosk").Single();
        Assert.Equal((false, before.AppleProfileUuid), (after.SharedIPad, after.AppleProfileUuid));
    }

    [Fact]
    public void ARenameToATakenName_IsProfileNameConflict_BeforeAnyQuestion()
    {
        using var f = Synced(2);
        Assign(f, "Staff", f.AppleSerials());
        f.Host.ShouldProcessCalls.Clear();
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileNameConflict), () => f.Engine.ProfileChanges.Set("Staff", null, "kiosk", new ProfileSettings { Department = "Elsewhere" }));
        Assert.Empty(f.Host.ShouldProcessCalls);
        Assert.Null(f.Engine.Profiles.Get(name: "Staff").Single().Department);
    }

    [Fact]
    public void AChangeApplesDefinitionRefuses_IsProfileDefinitionRefused_NamingTheSetting_AndTheStoreKeepsTheProfileAsItWas()
    {
        using var f = Synced(3);
        var serials = f.AppleSerials().ToList();
        Assign(f, "Staff", serials);
        var before = f.Engine.Profiles.Get(name: "Staff").Single();
        var uuid = before.AppleProfileUuid!;

        f.Simulator.AddFault("/profile", 400, body: "SUPPORT_EMAIL_INVALID", method: "POST", count: 1);
        var error = AdeAssert.Throws(nameof(ErrorCatalog.ProfileDefinitionRefused),
            () => f.Engine.ProfileChanges.Set("Staff", null, "Staff renamed", new ProfileSettings { Department = "Elsewhere", SupportEmail = "help@contoso.com" }));

        Assert.Contains("SUPPORT_EMAIL_INVALID", error.Message, StringComparison.Ordinal);
        Assert.Contains("-SupportEmail", error.Message, StringComparison.Ordinal);
        Assert.Contains("kept as it was", error.Message, StringComparison.Ordinal);
        var after = f.Engine.Profiles.Get(id: before.Id).Single();
        Assert.Equal((before.Name, before.Department, before.SupportEmail, before.ModifiedAt, uuid), (after.Name, after.Department, after.SupportEmail, after.ModifiedAt, after.AppleProfileUuid));
        Assert.All(serials, s => Assert.Equal(uuid, AppleProfileOf(f, s)));

        // the same change once Apple takes it: defined again and re-assigned
        var changed = f.Engine.ProfileChanges.Set("Staff", null, null, new ProfileSettings { Department = "Elsewhere" })!;
        Assert.Equal("Elsewhere", changed.Department);
        Assert.NotEqual(uuid, changed.AppleProfileUuid);
    }

    [Fact]
    public void AFirstAssignment_WhoseDefinitionAppleRefuses_IsProfileDefinitionRefused_AndNothingIsRecorded()
    {
        using var f = Synced(2);
        f.Simulator.AddFault("/profile", 400, body: "DEPARTMENT_INVALID", method: "POST", count: 1);
        var error = AdeAssert.Throws(nameof(ErrorCatalog.ProfileDefinitionRefused), () => Assign(f, "Staff", f.AppleSerials()));
        Assert.Contains("-Department", error.Message, StringComparison.Ordinal);
        Assert.Null(f.Engine.Profiles.Get(name: "Staff").Single().AppleProfileUuid);
        Assert.Empty(StaffHolders(f.Engine.Devices.Get(new DeviceQuery())));
    }

    [Fact]
    public void AProfileRemovedByAnotherHostWhileItsAssignmentIsSent_IsProfileRemovedDuringAssignment_NamingWhatAppleHolds()
    {
        using var f = Synced(3);
        var serials = f.EngineSerials().ToList();
        Assign(f, "Staff", serials.Take(1)); // defined at Apple: the next request is the assignment alone
        Assign(f, "Kiosk", serials.Take(1)); // and held by no device, so another host may remove it
        var staff = f.Engine.Profiles.Get(f.Token.Id, "Staff").Single();
        f.Simulator.AddFault("/profile/devices", null, latency: TimeSpan.FromSeconds(2), count: 1);
        var other = f.NewEngine(new RecordingHost(), f.OpenStore());
        AdeException? error = null;
        var assigning = new Thread(() => error = Assert.Throws<AdeException>(() => Assign(f, "Staff", serials.Skip(1))));
        assigning.Start();
        // the other host's removal, while Apple takes the request: no device holds Staff in the store yet
        Thread.Sleep(500);
        Assert.True(other.Profiles.Remove("Staff", "iPads"));
        assigning.Join();

        Assert.Equal(nameof(ErrorCatalog.ProfileRemovedDuringAssignment), error!.ErrorId);
        Assert.Equal(AdeErrorCategory.ObjectNotFound, error.Category);
        Assert.Contains("Apple now assigns it to 2 devices (", error.Message, StringComparison.Ordinal);
        Assert.Contains(serials[1], error.Message, StringComparison.Ordinal);
        Assert.Equal(staff.AppleProfileUuid, AppleProfileOf(f, serials[1])); // what the message says Apple holds
        Assert.All(f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)).Where(d => d.SerialNumber != serials[0]), d => Assert.Equal("", d.EnrollmentProfileName));
        Assert.Empty(f.Engine.Profiles.Get(f.Token.Id, "Staff"));
    }

    [Fact]
    public void TwoHostsAssigningANewProfileAtOnce_DefineItTwice_ButBothAssignTheDefinitionTheStoreKeeps()
    {
        using var f = Synced(4);
        var serials = f.EngineSerials().ToList();
        // Both definitions are in flight at once: neither host has stored its own when the other reads the profile.
        f.Simulator.AddFault("/profile", null, latency: TimeSpan.FromSeconds(2), count: 2, method: "POST");
        var stores = new[] { f.OpenStore(), f.OpenStore() };
        var engines = stores.Select(s => f.NewEngine(new RecordingHost(), s)).ToArray();
        var results = new List<AdeAssignmentResult>[2];
        using var start = new Barrier(2);
        var threads = Enumerable.Range(0, 2).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            results[i] = engines[i].Assignments.Assign("Staff", null, serials.Skip(i * 2).Take(2)).ToList();
        })).ToList();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        stores.ToList().ForEach(s => s.Release());

        Assert.Equal(2, DefineRequests(f).Count); // the race happened: two definitions of Staff at Apple
        Assert.All(results.SelectMany(r => r), r => Assert.Equal(AdeAssignmentStatus.Success, r.Status));
        var kept = f.Engine.Profiles.Resolve("Staff").AppleProfileUuid;
        Assert.NotNull(kept);
        Assert.All(serials, serial => Assert.Equal(kept, AppleProfileOf(f, serial)));
    }

    [Fact]
    public void Assigning2500Devices_SendsRequestsOfAtMost1000_AndEveryDeviceGetsTheProfile()
    {
        using var f = Synced(2500);
        var serials = f.AppleSerials().ToList();

        var results = Assign(f, "Staff", serials);

        Assert.Equal(2500, results.Count);
        Assert.All(results, r => Assert.Equal((AdeAssignmentStatus.Success, "Staff", "iPads"), (r.Status, r.Profile, r.Token)));
        Assert.Equal(serials.Order(StringComparer.Ordinal), results.Select(r => r.SerialNumber).Order(StringComparer.Ordinal));

        var requests = AssignRequests(f);
        Assert.All(requests, r => Assert.InRange(r.DeviceCount, 1, 1000));
        Assert.Equal(2500, requests.Sum(r => r.DeviceCount));
        Assert.Equal(3, requests.Count);
        Assert.Single(DefineRequests(f)); // defined once, at its first assignment

        var uuid = f.Engine.Profiles.Resolve("Staff").AppleProfileUuid;
        Assert.NotNull(uuid);
        Assert.All(f.Simulator.GetDevices(Server), d => Assert.Equal((uuid, "assigned"), (d.ProfileUuid, d.ProfileStatus)));
        Assert.All(f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)), d => Assert.Equal(("Staff", AdeProfileStatus.Assigned), (d.EnrollmentProfileName, d.ProfileStatus)));
        Assert.Equal(2500, f.Engine.Profiles.Resolve("Staff").DeviceCount);

        Assert.Contains(f.Host.Progress, p => p.Status.Contains("Batch 3 of 3", StringComparison.Ordinal));
        Assert.Contains(f.Host.Progress, p => p.Completed);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)] // a batch's answers written while the next batch is checked (a server store's way)
    public void InBatches_EachRecordedBatchComesOutAsOneGroup_AndAFailureAtAppleLeavesOnlyThatBatchUnrecorded(bool overlap)
    {
        using var f = Synced(2500);
        f.Engine.Assignments.OverlapRecording = overlap;
        var serials = f.AppleSerials().ToList();
        var groups = new List<IReadOnlyList<AdeAssignmentResult>>();
        var ex = Assert.Throws<AdeException>(() =>
        {
            foreach (var group in f.Engine.Assignments.AssignInBatches("Staff", null, serials.Select(s => new DeviceTarget(s))))
            {
                groups.Add(group);
                if (groups.Count == 1)
                {
                    // Batch 2's request is already under way: the third request is the one that fails. The fault waits
                    // until Apple has answered it (the enumeration is paused here, so nothing else is sent meanwhile):
                    // on a busy machine the request may still be on its way when batch 1's results come out.
                    Assert.True(SpinWait.SpinUntil(() => AssignRequests(f).Count == 2, TimeSpan.FromSeconds(30)));
                    f.Simulator.AddFault("/profile/devices", 500, count: 100);
                }
            }
        });

        Assert.Equal("AppleServiceUnavailable", ex.ErrorId);
        Assert.Equal([1000, 1000], groups.Select(g => g.Count));
        var reported = groups.SelectMany(g => g).ToList();
        Assert.All(reported, r => Assert.Equal(AdeAssignmentStatus.Success, r.Status));
        Assert.Equal(2000, reported.Select(r => r.SerialNumber).Distinct().Count());

        // The two answered batches are recorded (devices, journal, count); nothing of the third is.
        var devices = f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)).ToList();
        var assigned = StaffHolders(devices);
        Assert.Equal(reported.Select(r => r.SerialNumber).Order(StringComparer.Ordinal), assigned);
        Assert.All(devices.Where(d => string.IsNullOrEmpty(d.EnrollmentProfileName)), d => Assert.Null(d.LastAssignmentAt));
        Assert.Equal(500, devices.Count(d => string.IsNullOrEmpty(d.EnrollmentProfileName)));
        var journal = f.Engine.Devices.GetEvents(new DeviceEventQuery()).Where(e => e.Kind == AdeDeviceEventKind.ProfileAssigned).ToList();
        Assert.Equal(assigned, journal.Select(e => e.SerialNumber).Order(StringComparer.Ordinal));
        Assert.Equal(2000, f.Engine.Profiles.Resolve("Staff").DeviceCount);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void StoppedWhileTheNextBatchIsChecked_ThePreviousBatchIsRecordedWhole_AndNothingOfTheNext(bool overlap)
    {
        using var f = Synced(2500);
        f.Engine.Assignments.OverlapRecording = overlap;
        var serials = f.AppleSerials().ToList();
        // Stopped (Ctrl+C) at batch 2's first device: batch 1 was answered by Apple and is being written (with the
        // overlap, by a task of its own) while batch 2 is checked.
        f.Host.OnShouldProcess = target =>
        {
            if (target.StartsWith(serials[1000] + " ", StringComparison.Ordinal)) throw new OperationCanceledException();
        };

        Assert.Throws<OperationCanceledException>(() => f.Engine.Assignments.Assign("Staff", null, serials).ToList());

        Assert.Single(AssignRequests(f));
        var devices = f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)).ToList();
        var assigned = StaffHolders(devices);
        Assert.Equal(serials.Take(1000).Order(StringComparer.Ordinal), assigned);
        Assert.Equal(1000, devices.Count(d => d.LastAssignmentAt is not null));
        var journal = f.Engine.Devices.GetEvents(new DeviceEventQuery(f.Token.Id, Kinds: [AdeDeviceEventKind.ProfileAssigned])).ToList();
        Assert.Equal(assigned, journal.Select(e => e.SerialNumber).Order(StringComparer.Ordinal));
        Assert.Equal(1000, f.Engine.Profiles.Resolve("Staff").DeviceCount);
    }

    /// <summary>
    /// Assigns Staff to the serials with batch 2's request taking Apple <paramref name="latency"/> (the delay is added while
    /// batch 2 is checked, so batch 1's request is not delayed), and stops the operation as soon as batch 1's results come
    /// out (as Select-Object -First 1 stops the pipeline), while batch 2's request is still with Apple, which carries it
    /// out anyway. Returns how many results batch 1 gave.
    /// </summary>
    private static int StopAtBatchOneWhileBatchTwoIsWithApple(EngineSimFixture f, List<string> serials, TimeSpan latency)
    {
        f.Host.OnShouldProcess = target =>
        {
            if (target.StartsWith(serials[1000] + " ", StringComparison.Ordinal)) f.Simulator.AddFault("/profile/devices", null, count: 1, latency: latency);
        };

        using var batches = f.Engine.Assignments.AssignInBatches("Staff", null, serials.Select(s => new DeviceTarget(s))).GetEnumerator();
        Assert.True(batches.MoveNext());
        f.Host.Stop.Cancel();
        return batches.Current.Count;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void StoppedWhileARequestIsWithApple_ItsAnswerIsStillAwaitedAndRecorded_SoTheStoreMatchesApple(bool overlap)
    {
        using var f = Synced(2500);
        f.Engine.Assignments.OverlapRecording = overlap;
        var serials = f.AppleSerials().ToList();

        Assert.Equal(1000, StopAtBatchOneWhileBatchTwoIsWithApple(f, serials, TimeSpan.FromSeconds(1)));

        // Apple assigned both batches; the store recorded both, and nothing of batch 3 was sent.
        Assert.Equal(2, AssignRequests(f).Count);
        var devices = f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)).ToList();
        var assigned = StaffHolders(devices);
        Assert.Equal(serials.Take(2000).Order(StringComparer.Ordinal), assigned);
        Assert.Equal(2000, f.Engine.Profiles.Resolve("Staff").DeviceCount);
    }

    [Fact]
    public void StoppedWhileARequestIsWithApple_WhichDoesNotAnswerInTime_GivesItUp_AndRecordsNothingOfIt()
    {
        using var f = Synced(2500);
        f.Engine.Assignments.StoppedRequestWait = TimeSpan.FromMilliseconds(200);
        var serials = f.AppleSerials().ToList();

        // Batch 2's request takes Apple 5 seconds, far past the wait a stop gives it.
        StopAtBatchOneWhileBatchTwoIsWithApple(f, serials, TimeSpan.FromSeconds(5));

        // The stop returned before Apple answered batch 2 (its outcome is unknown: the next sync brings Apple's state),
        // and only batch 1 is recorded.
        Assert.Single(AssignRequests(f));
        var assigned = StaffHolders(f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)));
        Assert.Equal(serials.Take(1000).Order(StringComparer.Ordinal), assigned);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void InBatches_GivesTheSameResultsInTheSameOrderAsOnePerDevice(bool overlap)
    {
        using var f = Synced(1500);
        f.Engine.Assignments.OverlapRecording = overlap;
        var serials = f.AppleSerials().ToList();
        f.Simulator.SetDeviceOutcome(Server, serials[1200], "NOT_ACCESSIBLE");
        f.Simulator.SetDeviceOutcome(Server, serials[10], "FAILED");
        var targets = serials.Append("NOSUCH1").Select(s => new DeviceTarget(s)).ToList();

        var groups = f.Engine.Assignments.AssignInBatches("Staff", null, targets).ToList();
        var expected = new[] { AdeAssignmentStatus.Failed, AdeAssignmentStatus.NotAccessible, AdeAssignmentStatus.UnknownDevice };

        Assert.All(groups, g => Assert.InRange(g.Count, 1, 1000));
        var flat = groups.SelectMany(g => g).ToList();
        Assert.Equal(1501, flat.Count);
        Assert.Equal(expected.Order(), flat.Where(r => r.Status != AdeAssignmentStatus.Success).Select(r => r.Status).Order());
        Assert.Equal(1498, flat.Count(r => r.Status == AdeAssignmentStatus.Success));

        // The same operation again, one result at a time: same devices, same order (now all held or held back).
        var again = f.Engine.Assignments.Assign("Staff", null, targets).ToList();
        Assert.Equal(flat.Select(r => r.SerialNumber), again.Select(r => r.SerialNumber));
    }

    [Fact]
    public void Serials_AreNormalisedAndDeDuplicated_BeforeTheyAreSent()
    {
        using var f = Synced(3);
        var s = f.AppleSerials().ToList();
        var given = new[] { s[0].ToLowerInvariant(), "  " + s[0] + " ", s[0], "\t" + s[1].ToLowerInvariant() + "\n", s[1], "", "   ", s[2].ToLowerInvariant() };

        var results = Assign(f, "Staff", given);

        Assert.Equal(s.Order(StringComparer.Ordinal), results.Select(r => r.SerialNumber).Order(StringComparer.Ordinal));
        Assert.All(results, r => Assert.Equal(AdeAssignmentStatus.Success, r.Status));
        Assert.Equal(3, Assert.Single(AssignRequests(f)).DeviceCount);
        Assert.All(s, serial => Assert.NotNull(AppleProfileOf(f, serial)));
    }

    [Fact]
    public void UnknownSerials_AreUnknownDevice_AndAreNotSentToApple()
    {
        using var f = Synced(2);
        var known = f.AppleSerials().ToList();

        var results = Assign(f, "Staff", [known[0], "C02UNKNOWN01", known[1], "c02unknown02"]);

        Assert.Equal(AdeAssignmentStatus.UnknownDevice, results.Single(r => r.SerialNumber == "C02UNKNOWN01").Status);
        Assert.Equal(AdeAssignmentStatus.UnknownDevice, results.Single(r => r.SerialNumber == "C02UNKNOWN02").Status);
        Assert.Null(results.Single(r => r.SerialNumber == "C02UNKNOWN02").PreviousProfile);
        Assert.Equal(2, results.Count(r => r.Status == AdeAssignmentStatus.Success));
        Assert.Equal(2, Assert.Single(AssignRequests(f)).DeviceCount);
    }

    [Fact]
    public void OnlyUnknownSerials_AskNothingOfApple()
    {
        using var f = Synced(1);
        var results = Assign(f, "Staff", ["C02UNKNOWN01", "C02UNKNOWN02"]);
        Assert.All(results, r => Assert.Equal(AdeAssignmentStatus.UnknownDevice, r.Status));
        Assert.Empty(f.Simulator.GetRequests("/profile*"));
        Assert.Null(f.Engine.Profiles.Resolve("Staff").AppleProfileUuid);
    }

    [Fact]
    public void DevicesThatDidNotGetTheProfile_AreOneSummaryWarningByStatus_AndNoneWhenAllDid()
    {
        using var f = Synced(4);
        var s = f.AppleSerials().ToList();
        f.Simulator.SetDeviceOutcome(Server, s[0], "FAILED", count: 1);
        f.Simulator.SetDeviceOutcome(Server, s[1], "NOT_ACCESSIBLE", count: 1);

        var summary = new AssignmentService.AssignmentSummary();
        var results = f.Engine.Assignments.Assign("Staff", null, [.. s.Select(x => new DeviceTarget(x)), new DeviceTarget("C02UNKNOWN01")], summary).ToList();

        Assert.Equal(5, results.Count);
        Assert.Equal("3 devices of 5 did not get profile 'Staff': 1 NotAccessible (not on this token's MDM server in Apple Business Manager), "
            + "1 Failed (Apple refused; not sent again for 24 hours), 1 UnknownDevice (not among the devices of the profile's token: another token's device, or not synced yet). "
            + "The results say which (| Where-Object Status -ne 'Success').", summary.NotAssignedWarning);

        var all = new AssignmentService.AssignmentSummary();
        f.Engine.Assignments.Assign("Kiosk", null, [new DeviceTarget(s[2]), new DeviceTarget(s[3])], all).ToList();
        Assert.Null(all.NotAssignedWarning);
    }

    [Fact]
    public void NotAccessible_IsReported_AndTheDeviceKeepsItsProfile()
    {
        using var f = Synced(3);
        var s = f.AppleSerials().ToList();
        Assign(f, "Kiosk", [s[0]]);
        f.Simulator.SetDeviceOutcome(Server, s[0], "NOT_ACCESSIBLE", count: 1);
        f.Simulator.RemoveDevice(Server, s[1]); // released in ABM; the engine does not know yet

        var results = Assign(f, "Staff", s);

        var first = results.Single(r => r.SerialNumber == s[0]);
        Assert.Equal((AdeAssignmentStatus.NotAccessible, "Kiosk", null), (first.Status, first.PreviousProfile, first.RetryAfter));
        Assert.Equal(AdeAssignmentStatus.NotAccessible, results.Single(r => r.SerialNumber == s[1]).Status);
        Assert.Equal(AdeAssignmentStatus.Success, results.Single(r => r.SerialNumber == s[2]).Status);
        Assert.Equal("Kiosk", f.Engine.Devices.Get(new DeviceQuery(SerialNumber: s[0])).Single().EnrollmentProfileName);
        Assert.Equal(f.Engine.Profiles.Resolve("Kiosk").AppleProfileUuid, AppleProfileOf(f, s[0]));
    }

    [Fact]
    public void Throttled_IsRetriedAfterAppleRetryAfterSeconds_AndThenSucceeds()
    {
        using var f = Synced(3);
        var s = f.AppleSerials().ToList();
        f.Simulator.SetDeviceOutcome(Server, s[1], "THROTTLED", count: 1, retryAfterSeconds: 1);

        var results = Assign(f, "Staff", s);

        Assert.All(results, r => Assert.Equal(AdeAssignmentStatus.Success, r.Status));
        Assert.Equal([3, 1], AssignRequests(f).Select(r => r.DeviceCount)); // the retry carries only the throttled serial
        Assert.Equal(f.Engine.Profiles.Resolve("Staff").AppleProfileUuid, AppleProfileOf(f, s[1]));
        Assert.Contains(f.Host.Verbose, v => v.Contains("throttled 1 device;", StringComparison.Ordinal));
    }

    [Fact]
    public void Throttled_LongerThanTheCommandMayWait_IsReportedWithTheTimeToRetry()
    {
        using var f = Synced(2);
        var s = f.AppleSerials().ToList();
        f.Simulator.SetDeviceOutcome(Server, s[0], "THROTTLED", retryAfterSeconds: 600);
        var now = f.Time.GetUtcNow();

        var results = Assign(f, "Staff", s);

        var throttled = results.Single(r => r.SerialNumber == s[0]);
        Assert.Equal(AdeAssignmentStatus.Throttled, throttled.Status);
        Assert.Equal(now.AddSeconds(600), throttled.RetryAfter);
        Assert.Equal(AdeAssignmentStatus.Success, results.Single(r => r.SerialNumber == s[1]).Status);
        Assert.Single(AssignRequests(f));
        Assert.Equal("", f.Engine.Devices.Get(new DeviceQuery(SerialNumber: s[0])).Single().EnrollmentProfileName);
    }

    [Fact]
    public void Failed_IsHeldBack24Hours_ThenSentAgain()
    {
        using var f = Synced(2);
        var s = f.AppleSerials().ToList();
        f.Simulator.SetDeviceOutcome(Server, s[0], "FAILED", count: 1);
        var failedAt = f.Time.GetUtcNow();

        var first = Assign(f, "Staff", s);

        var failed = first.Single(r => r.SerialNumber == s[0]);
        Assert.Equal(AdeAssignmentStatus.Failed, failed.Status);
        Assert.Equal(failedAt.AddHours(24), failed.RetryAfter);
        Assert.Equal(AdeAssignmentStatus.Success, first.Single(r => r.SerialNumber == s[1]).Status);
        Assert.Null(AppleProfileOf(f, s[0]));

        f.Advance(TimeSpan.FromHours(23));
        f.Simulator.ClearRequests();
        var held = Assert.Single(Assign(f, "Staff", [s[0]]));
        Assert.Equal((AdeAssignmentStatus.Failed, failedAt.AddHours(24)), (held.Status, held.RetryAfter));
        Assert.Empty(AssignRequests(f));

        f.Advance(TimeSpan.FromHours(1));
        var retried = Assert.Single(Assign(f, "Staff", [s[0]]));
        Assert.Equal(AdeAssignmentStatus.Success, retried.Status);
        Assert.Null(retried.RetryAfter);
        Assert.Equal(1, Assert.Single(AssignRequests(f)).DeviceCount);
        Assert.Equal(f.Engine.Profiles.Resolve("Staff").AppleProfileUuid, AppleProfileOf(f, s[0]));

        // A success clears the hold: a later failure starts a new 24 hours from then.
        f.Simulator.SetDeviceOutcome(Server, s[0], "FAILED", count: 1);
        f.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(f.Time.GetUtcNow().AddHours(24), Assert.Single(Assign(f, "Kiosk", [s[0]])).RetryAfter);
    }

    [Fact]
    public void WhatIf_SendsNothingToApple_AndAsksPerDeviceWithCurrentAndNewProfile()
    {
        using var f = Synced(3);
        var s = f.AppleSerials().ToList();
        Assign(f, "Kiosk", [s[0]]);
        f.Simulator.ClearRequests();
        var before = f.Simulator.GetDevices(Server).Select(d => (d.SerialNumber, d.ProfileUuid, d.ProfileStatus)).ToList();
        f.Host.ShouldProcessAnswer = false;
        f.Host.ShouldProcessCalls.Clear();

        var results = Assign(f, "Staff", [.. s, "C02UNKNOWN01"]);

        Assert.Empty(f.Simulator.GetRequests());
        Assert.Equal(before, f.Simulator.GetDevices(Server).Select(d => (d.SerialNumber, d.ProfileUuid, d.ProfileStatus)).ToList());
        Assert.Null(f.Engine.Profiles.Resolve("Staff").AppleProfileUuid);
        Assert.Equal("Kiosk", f.Engine.Devices.Get(new DeviceQuery(SerialNumber: s[0])).Single().EnrollmentProfileName);
        Assert.Equal("", f.Engine.Devices.Get(new DeviceQuery(SerialNumber: s[1])).Single().EnrollmentProfileName);
        Assert.Equal("C02UNKNOWN01", Assert.Single(results).SerialNumber); // only the unknown serial is reported

        Assert.Equal(3, f.Host.ShouldProcessCalls.Count);
        var kiosk = Assert.Single(f.Host.ShouldProcessCalls, c => c.Target == $"{s[0]} (token '{f.Token.Name}')");
        Assert.Contains("'Staff' (now: 'Kiosk')", kiosk.Action, StringComparison.Ordinal);
        Assert.Contains("'Staff' (now: none)", Assert.Single(f.Host.ShouldProcessCalls, c => c.Target == $"{s[1]} (token '{f.Token.Name}')").Action, StringComparison.Ordinal);
    }

    [Fact]
    public void AssigningAnotherProfile_ReportsThePreviousOne()
    {
        using var f = Synced(1);
        var serial = f.AppleSerials().Single();
        Assert.Null(Assert.Single(Assign(f, "Kiosk", [serial])).PreviousProfile);
        var moved = Assert.Single(Assign(f, "Staff", [serial]));
        Assert.Equal(("Kiosk", "Staff", AdeAssignmentStatus.Success), (moved.PreviousProfile, moved.Profile, moved.Status));
        Assert.Equal(2, DefineRequests(f).Count); // one definition per profile
        Assert.Equal(f.Engine.Profiles.Resolve("Staff").AppleProfileUuid, AppleProfileOf(f, serial));
    }

    [Fact]
    public async Task AChangedProfile_IsDefinedAgain_AndTheDevicesHoldingItAreReassigned()
    {
        using var f = Synced(5);
        var s = f.AppleSerials().ToList();
        Assign(f, "Staff", s.Take(3));
        var oldUuid = f.Engine.Profiles.Resolve("Staff").AppleProfileUuid!;

        // Unchanged, or changed only where Apple does not see it: no new definition.
        f.Engine.ProfileChanges.Set("Staff", null, null, new ProfileSettings { Description = "admins only", DeviceNameTemplate = "{{SERIAL}}" });
        Assign(f, "Staff", [s[3]]);
        Assert.Equal(oldUuid, f.Engine.Profiles.Resolve("Staff").AppleProfileUuid);
        Assert.Single(DefineRequests(f));

        // A change Apple sees: the profile is defined again at once (Set-AdeProfile) and its 4 devices re-assigned.
        f.Simulator.ClearRequests();
        f.Engine.ProfileChanges.Set("Staff", null, null, new ProfileSettings { Department = "IT", LockedEnrollment = true });
        var newUuid = f.Engine.Profiles.Resolve("Staff").AppleProfileUuid!;
        Assert.NotEqual(oldUuid, newUuid);
        Assert.Single(DefineRequests(f));
        var results = Assign(f, "Staff", [s[4]]);

        Assert.Equal(AdeAssignmentStatus.Success, Assert.Single(results).Status);
        Assert.Single(DefineRequests(f)); // the next assignment uses the new definition
        Assert.All(s, serial => Assert.Equal(newUuid, AppleProfileOf(f, serial)));
        Assert.All(f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)), d => Assert.Equal("Staff", d.EnrollmentProfileName));
        Assert.Equal(0L, f.Sql($"SELECT count(*) FROM device WHERE profile_uuid = '{oldUuid}'"));
        Assert.Contains(f.Host.Verbose, v => v.Contains("defined again", StringComparison.Ordinal) && v.Contains("4 devices", StringComparison.Ordinal));
        Assert.All(AssignRequests(f), r => Assert.InRange(r.DeviceCount, 1, 1000));

        // What Apple holds now carries the change.
        var client = f.Engine.Apple.ForToken(f.Engine.Tokens.Credentials(f.Token));
        var held = await client.GetProfileAsync(newUuid);
        Assert.Equal(("IT", false), (held.Department, held.IsMdmRemovable));
    }

    [Fact]
    public void AnAnswerThatLeavesOutDevicesSent_IsAppleResponseInvalid_AndNothingIsRecordedOrHeldBack()
    {
        using var f = Synced(3);
        var s = f.AppleSerials().ToList();
        Assign(f, "Staff", [s[0]]); // defined at Apple: the next request is the assignment itself
        f.Simulator.AddFault("/profile/devices", 200, body: $"{{\"profile_uuid\":\"{f.Engine.Profiles.Resolve("Staff").AppleProfileUuid}\",\"devices\":{{\"{s[1]}\":\"SUCCESS\",\"NOTMINE\":\"SUCCESS\"}}}}", count: 1, method: "POST");
        string State() => string.Join(",", f.Engine.Devices.Get(new DeviceQuery()).OrderBy(d => d.SerialNumber, StringComparer.Ordinal)
            .Select(d => $"{d.SerialNumber}:{d.EnrollmentProfileName}:{d.LastAssignmentResult}:{d.LastAssignmentAt:O}"));
        var before = State();
        var ex = Assert.Throws<AdeException>(() => f.Engine.Assignments.Assign("Staff", null, s.Skip(1)).ToList());
        Assert.Equal(("AppleResponseInvalid", AdeErrorCategory.InvalidData), (ex.ErrorId, ex.Category));
        Assert.Contains($"no outcome for 1 device of the 2 sent ({s[2]})", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, State());

        // keys that differ from the serials sent only in case are not the serials sent either (the answer is read by them)
        f.Simulator.AddFault("/profile/devices", 200, body: $"{{\"devices\":{{\"{s[1].ToLowerInvariant()}\":\"SUCCESS\",\"{s[2].ToLowerInvariant()}\":\"SUCCESS\"}}}}", count: 1, method: "POST");
        AdeAssert.Throws("AppleResponseInvalid", () => f.Engine.Assignments.Assign("Staff", null, s.Skip(1)).ToList());
        Assert.Equal(before, State());

        // a serial typed with a terminal escape comes back neutralised in its result
        Assert.Equal("\ufffd[2JX", Assert.Single(f.Engine.Assignments.Assign("Staff", null, ["\u001b[2Jx"])).SerialNumber);

        // nothing held back: the next assignment sends both again
        var again = f.Engine.Assignments.Assign("Staff", null, s.Skip(1)).ToList();
        Assert.All(again, r => Assert.Equal(AdeAssignmentStatus.Success, r.Status));
    }

    [Fact]
    public void ARedefinitionWhoseReassignmentFails_IsRedoneByTheNextOperation_UntilEveryHolderHasTheNewDefinition()
    {
        using var f = Synced(5);
        var s = f.AppleSerials().ToList();
        Assign(f, "Staff", s.Take(3));

        // The change is defined at Apple, but re-assigning its 3 holders fails (Apple refuses the request once).
        f.Simulator.AddFault("/profile/devices", 400, count: 1, method: "POST");
        Assert.ThrowsAny<AdeException>(() => f.Engine.ProfileChanges.Set("Staff", null, null, new ProfileSettings { Department = "IT" }));
        var changed = f.Engine.Profiles.Resolve("Staff").AppleProfileUuid!;
        Assert.NotEqual(changed, AppleProfileOf(f, s[0]));

        // The next assignment of the profile defines it again and re-sends the holders first.
        f.Simulator.ClearRequests();
        Assign(f, "Staff", [s[3]]);

        var now = f.Engine.Profiles.Resolve("Staff").AppleProfileUuid!;
        Assert.Single(DefineRequests(f));
        Assert.All(s.Take(4), serial => Assert.Equal(now, AppleProfileOf(f, serial)));
        Assert.Equal(4L, f.Sql($"SELECT count(*) FROM device WHERE profile_uuid = '{now}'"));

        // Up to date now: the operation after that defines nothing.
        f.Simulator.ClearRequests();
        Assign(f, "Staff", [s[4]]);
        Assert.Empty(DefineRequests(f));
    }

    [Fact]
    public void AProfileWhoseTokenHasNoEnrollmentUrl_IsEnrollmentUrlMissing_AndNothingIsSent()
    {
        using var f = Synced(2);
        f.Sql($"UPDATE token SET enrollment_url = NULL WHERE id = '{f.Token.Id}'");
        var ex = AdeAssert.Throws(nameof(ErrorCatalog.EnrollmentUrlMissing), () => Assign(f, "Staff", f.AppleSerials()));
        Assert.Contains("'iPads'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Set-AdeToken", ex.Message, StringComparison.Ordinal);
        Assert.Empty(f.Simulator.GetRequests("/profile*"));
        Assert.All(f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)), d => Assert.Equal("", d.EnrollmentProfileName));
    }

    [Fact]
    public void AnUnknownProfile_IsProfileNotFound()
    {
        using var f = Synced(1);
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileNotFound), () => Assign(f, "Nope", f.AppleSerials()));
    }
}

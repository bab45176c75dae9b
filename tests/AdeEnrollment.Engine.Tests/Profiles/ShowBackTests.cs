using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Tests.Support;

namespace AdeEnrollment.Engine.Tests.Profiles;

/// <summary>
/// What the device and profile services show back: serial column names, counted nouns, one removal warning per
/// operation, warnings only at risk, confirmation before devices are re-sent a profile, released devices as holders.
/// </summary>
public sealed class ShowBackTests
{
    private static readonly ProfileSettings User = new() { UserAffinity = UserAffinity.WithUserAffinity };

    [Theory]
    [InlineData("SerialNumber")]
    [InlineData("Serial Number")]
    [InlineData("serial")]
    [InlineData("SerialNo")]
    [InlineData("Serial No.")]
    [InlineData("Serial_Number")]
    [InlineData("SERIAL-NR")]
    [InlineData("Device Serial Number")]
    [InlineData("DeviceSerial")]
    public void SerialColumns_AcceptTheCommonSpellings(string column)
        => Assert.Equal(column, SerialColumns.Find(["Owner", column, "Room"]));

    [Fact]
    public void SerialColumns_RefuseOtherNames_AndPreferTheMostSpecific()
    {
        Assert.Null(SerialColumns.Find(["Seriennummer", "Owner", "Name", "Length"]));
        Assert.Equal("Serial Number", SerialColumns.Find(["Serial", "Serial Number"]));
    }

    [Theory]
    [InlineData(0, "0 devices")]
    [InlineData(1, "1 device")]
    [InlineData(2, "2 devices")]
    [InlineData(1250, "1,250 devices")]
    public void Counted_PluralisesAndGroupsDigits(long n, string expected) => Assert.Equal(expected, Counted.Of(n, "device"));

    [Fact]
    public void ValueList_IsItsItemsAsText()
    {
        Assert.Equal("Default; Sales", ValueList.Of(["Default", "Sales"]).ToString());
        Assert.Equal("", ValueList<string>.Empty.ToString());
    }

    [Fact]
    public void RemoveDevices_StillInAbm_WarnOncePerOperation_WithCountAndFirstSerials()
    {
        using var f = new EngineSimFixture(devices: 12);
        f.Engine.Sync.Sync("iPads");
        var serials = f.EngineSerials().ToList();
        var errors = new List<AdeException>();

        var removal = f.Engine.Devices.Remove(serials.Select(s => new DeviceTarget(s)).Append(new DeviceTarget("NOSUCHSERIAL")), errors.Add);

        Assert.Equal(12, removal.Removed);
        var warning = Assert.Single(f.Host.Warnings);
        Assert.StartsWith("12 removed devices are still assigned to the MDM server of token 'iPads'", warning, StringComparison.Ordinal);
        Assert.Contains(serials[0], warning, StringComparison.Ordinal);
        Assert.Contains("and 7 more", warning, StringComparison.Ordinal);
        Assert.Equal(nameof(ErrorCatalog.DeviceNotFound), Assert.Single(errors).ErrorId);
    }

    [Fact]
    public void RemoveDevices_ReleasedFromAbm_NoWarning_AndTheActionDoesNotSayItStaysInAbm()
    {
        using var f = new EngineSimFixture(devices: 2);
        f.Engine.Sync.Sync("iPads");
        var serial = f.EngineSerials().First();
        f.Simulator.RemoveDevice(EngineSimFixture.Server, serial);
        f.Advance(TimeSpan.FromMinutes(16));
        f.Engine.Sync.Sync("iPads");

        Assert.Equal(1, f.Engine.Devices.Remove(serial, null));

        Assert.Empty(f.Host.Warnings);
        Assert.DoesNotContain(f.Host.ShouldProcessCalls, c => c.Action.Contains("stays", StringComparison.Ordinal) && c.Target.StartsWith(serial, StringComparison.Ordinal));
    }

    [Fact]
    public void SetProfile_NoDeviceHoldsIt_NoWarning()
    {
        using var f = new EngineSimFixture();
        f.Engine.Profiles.New("iPads", "Staff", User);
        f.Engine.ProfileChanges.Set("Staff", null, null, new ProfileSettings { Department = "Finance" });
        Assert.Empty(f.Host.Warnings);
        Assert.Empty(f.Host.ShouldContinueCalls);
    }

    [Fact]
    public void SetProfile_LeavingUserAffinityOfAHeldProfile_AsksFirst_NamingDevicesAndClearedSettings_AndNoChangesNothing()
    {
        using var f = new EngineSimFixture(devices: 3);
        f.Engine.Sync.Sync("iPads");
        f.Engine.Profiles.New("iPads", "Staff", User with { AuthenticationMethod = AuthenticationMethod.SetupAssistantModern });
        Assert.All(f.Engine.Assignments.Assign("Staff", null, f.EngineSerials()).ToList(), r => Assert.Equal(AdeAssignmentStatus.Success, r.Status));
        f.Host.ShouldContinueAnswer = false;

        Assert.Null(f.Engine.ProfileChanges.Set("Staff", null, null, new ProfileSettings { UserAffinity = UserAffinity.WithoutUserAffinity }));

        var (query, _) = Assert.Single(f.Host.ShouldContinueCalls);
        Assert.Contains("3 devices", query, StringComparison.Ordinal);
        Assert.Contains("AuthenticationMethod (was SetupAssistantModern)", query, StringComparison.Ordinal);
        Assert.Contains("defines it again at Apple", query, StringComparison.Ordinal);
        var unchanged = f.Engine.Profiles.Resolve("Staff");
        Assert.Equal(UserAffinity.WithUserAffinity, unchanged.UserAffinity);
        Assert.Equal(AuthenticationMethod.SetupAssistantModern, unchanged.AuthenticationMethod);

        f.Host.ShouldContinueAnswer = true;
        var changed = f.Engine.ProfileChanges.Set("Staff", null, null, new ProfileSettings { UserAffinity = UserAffinity.WithoutUserAffinity })!;
        Assert.Null(changed.AuthenticationMethod);
        Assert.Contains("cleared AuthenticationMethod (was SetupAssistantModern)", Assert.Single(f.Host.Warnings), StringComparison.Ordinal);
    }

    [Fact]
    public void RemoveProfile_HeldOnlyByDevicesReleasedFromAbm_Succeeds_AndTheyLoseTheReference()
    {
        using var f = new EngineSimFixture(devices: 2);
        f.Engine.Sync.Sync("iPads");
        f.Engine.Profiles.New("iPads", "Staff", User);
        var serials = f.EngineSerials().ToList();
        f.Engine.Assignments.Assign("Staff", null, serials).ToList();
        var inUse = AdeAssert.Throws(nameof(ErrorCatalog.ProfileInUse), () => f.Engine.Profiles.Remove("Staff", null));
        Assert.Contains("assigned to 2 devices still in Apple Business Manager", inUse.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Set-AdeDefaultProfile", inUse.Message, StringComparison.Ordinal);

        foreach (var serial in serials) f.Simulator.RemoveDevice(EngineSimFixture.Server, serial);
        f.Advance(TimeSpan.FromMinutes(16));
        f.Engine.Sync.Sync("iPads");

        Assert.True(f.Engine.Profiles.Remove("Staff", null));
        Assert.All(f.Engine.Devices.Get(new DeviceQuery(RemovedFromAbm: true)).ToList(), d => Assert.Equal("", d.EnrollmentProfileName));
    }

    [Fact]
    public void Assign_DevicesCarryingTheirToken_ResolveTheProfileNameWithinIt()
    {
        using var f = new EngineSimFixture(devices: 2);
        f.Engine.Sync.Sync("iPads");
        f.Engine.Profiles.New("iPads", "Staff", User);
        f.Engine.Profiles.New("iPads", "Other", User);
        // A second token with a same-named profile: a bare name is ambiguous, a device's token decides.
        var request = f.Engine.Tokens.NewRequest(true, null)!;
        f.Simulator.NewServer("South", request.PublicKeyPem, out var p7m, "Contoso Ltd", "it@contoso.example");
        var file = f.Temp.File("south.p7m");
        File.WriteAllText(file, p7m);
        f.Engine.Tokens.NewToken(new AdeEnrollment.Engine.Tokens.NewTokenArgs(request.Id.ToString(), file, "it@contoso.example", Name: "South",
            EnrollmentUrl: "https://mdm.contoso.example/enroll", ServiceUri: f.Simulator.Uri));
        f.Engine.Profiles.New("South", "Staff", User);
        var serials = f.EngineSerials().ToList();
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileAmbiguous), () => f.Engine.Assignments.Assign("Staff", null, serials).ToList());

        var summary = new AssignmentService.AssignmentSummary();
        var results = f.Engine.Assignments.Assign("Staff", null, serials.Select(s => new DeviceTarget(s, f.Token.Id)), summary).ToList();

        Assert.All(results, r => Assert.Equal(AdeAssignmentStatus.Success, r.Status));
        Assert.All(results, r => Assert.Equal("iPads", r.Token));
        f.Host.ShouldProcessAnswer = false;
        f.Engine.Assignments.Assign("Staff", null, serials.Select(s => new DeviceTarget(s, f.Token.Id)).Append(new DeviceTarget("NOSUCH", f.Token.Id)), summary).ToList();
        Assert.Equal("2 devices would be assigned profile 'Staff' on token 'iPads' (2 unchanged; 1 serial unknown to AdeEnrollment).", summary.WhatIfSummary);


        // devices held back after Apple's FAILED, and of another platform, are counted too
        f.Simulator.SetDeviceOutcome(EngineSimFixture.Server, serials[0], "FAILED");
        f.Host.ShouldProcessAnswer = true;
        f.Engine.Assignments.Assign("Staff", null, [new DeviceTarget(serials[0], f.Token.Id)]).ToList();
        f.Host.ShouldProcessAnswer = false;
        var held = new AssignmentService.AssignmentSummary();
        f.Engine.Assignments.Assign("Staff", null, serials.Select(s => new DeviceTarget(s, f.Token.Id)), held).ToList();
        Assert.Equal("1 device would be assigned profile 'Staff' on token 'iPads' (1 unchanged; 1 device held back 24 hours after Apple's FAILED).", held.WhatIfSummary);

        // devices of two tokens, one without the profile: an error for that token's devices, the others assigned;
        // without a way to report it, the command fails before anything is sent, as before
        f.Host.ShouldProcessAnswer = true;
        var south = f.Engine.Tokens.ResolveToken("South").Id;
        var mixed = serials.Select(s => new DeviceTarget(s, f.Token.Id)).Append(new DeviceTarget("SOUTH0001", south)).ToList();
        var errors = new List<AdeException>();
        var other = f.Engine.Assignments.AssignInBatches("Other", null, mixed, reportError: errors.Add).SelectMany(b => b).ToList();
        Assert.Equal(serials.Order(StringComparer.Ordinal), other.Select(r => r.SerialNumber).Order(StringComparer.Ordinal)); // the iPads devices only
        Assert.Contains(other, r => r.Status == AdeAssignmentStatus.Success && r.Profile == "Other");
        var error = Assert.Single(errors);
        Assert.Equal(nameof(ErrorCatalog.ProfileNotFound), error.ErrorId);
        Assert.EndsWith("Its 1 device (SOUTH0001) got nothing; the devices of the other tokens are still assigned.", error.Message, StringComparison.Ordinal);
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileNotFound), () => f.Engine.Assignments.AssignInBatches("Other", null, mixed).ToList());
    }
}

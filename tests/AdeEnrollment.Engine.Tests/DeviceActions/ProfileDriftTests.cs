using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Tests.DeviceActions;

/// <summary>Test-AdeProfile: drift between the store's definition and Apple's copy, and -Repair.</summary>
public class ProfileDriftTests
{
    private const string Server = EngineSimFixture.Server;

    private static EngineSimFixture Defined()
    {
        var f = new EngineSimFixture(devices: 2);
        f.Engine.Sync.Sync("iPads");
        f.Engine.Profiles.New("iPads", "Staff", new ProfileSettings { UserAffinity = UserAffinity.WithUserAffinity, Department = "IT" });
        f.Engine.Assignments.Assign("Staff", null, f.AppleSerials()).ToList();
        return f;
    }

    [Fact]
    public void AProfileAsDefined_IsInSync()
    {
        using var f = Defined();
        var drift = f.Engine.ProfileDrift.Test(f.Engine.Profiles.Resolve("Staff"), repair: false);
        Assert.Equal(("InSync", 0), (drift.State, drift.Differences.Count));
    }

    [Fact]
    public void AKeyChangedAtApple_IsReportedWithBothValues_AndRepairDefinesItAgainAndReassigns()
    {
        using var f = Defined();
        var profile = f.Engine.Profiles.Resolve("Staff");
        f.Simulator.SetProfileKeys(Server, profile.AppleProfileUuid!, new Dictionary<string, object?> { ["department"] = "Elsewhere", ["support_phone_number"] = "555" });

        var drift = f.Engine.ProfileDrift.Test(profile, repair: false);
        Assert.Equal("Drifted", drift.State);
        Assert.Equal([new AdeProfileDifference("department", "IT", "Elsewhere"), new AdeProfileDifference("support_phone_number", null, "555")], drift.Differences);
        Assert.False(drift.Repaired);

        var repaired = f.Engine.ProfileDrift.Test(profile, repair: true);
        Assert.True(repaired.Repaired);
        Assert.NotEqual(profile.AppleProfileUuid, repaired.AppleProfileUuid);
        Assert.All(f.Simulator.GetDevices(Server), d => Assert.Equal(repaired.AppleProfileUuid, d.ProfileUuid));
        Assert.Equal("InSync", f.Engine.ProfileDrift.Test(f.Engine.Profiles.Resolve("Staff"), repair: false).State);
    }

    [Fact]
    public void KeysLeftOutOfTheDefinition_ThatAppleReturnsAtTheirDefaults_AreNoDrift_OtherValuesAre()
    {
        using var f = Defined();
        var profile = f.Engine.Profiles.Resolve("Staff");
        // Apple's copy with flags and lists the iPad definition left out, at Apple's defaults.
        f.Simulator.SetProfileKeys(Server, profile.AppleProfileUuid!, new Dictionary<string, object?>
        {
            ["auto_advance_setup"] = false, ["is_return_to_service"] = false, ["do_not_use_profile_from_backup"] = false,
            ["anchor_certs"] = Array.Empty<string>(), ["supervising_host_certs"] = Array.Empty<string>(), ["support_email_address"] = "",
        });
        var same = f.Engine.ProfileDrift.Test(profile, repair: false);
        Assert.Equal(("InSync", 0), (same.State, same.Differences.Count));

        f.Simulator.SetProfileKeys(Server, profile.AppleProfileUuid!, new Dictionary<string, object?> { ["auto_advance_setup"] = true, ["anchor_certs"] = new[] { "MIIB" } });
        var drift = f.Engine.ProfileDrift.Test(profile, repair: false);
        Assert.Equal("Drifted", drift.State);
        Assert.Equal([new AdeProfileDifference("anchor_certs", null, "MIIB"), new AdeProfileDifference("auto_advance_setup", null, "true")], drift.Differences);
    }

    [Fact]
    public void AllowPairingAndMdmRemovable_DefaultToTrueAtApple_EveryOtherFlagToFalse()
    {
        var defined = new AppleProfile { ProfileName = "Mac" }; // a Mac profile leaves allow_pairing and is_multi_user out
        Assert.Empty(ProfileDriftService.Compare(defined, new AppleProfile { ProfileName = "Mac", AllowPairing = true, IsMultiUser = false }));
        Assert.Equal([new AdeProfileDifference("allow_pairing", null, "false"), new AdeProfileDifference("is_multi_user", null, "true")],
            ProfileDriftService.Compare(defined, new AppleProfile { ProfileName = "Mac", AllowPairing = false, IsMultiUser = true }));
    }

    [Fact]
    public void Differences_ShowValuesAsAdministratorsReadThem_NotAsJsonText()
    {
        var defined = new AppleProfile { ProfileName = "Staff", SupportPhoneNumber = "+1 555 0100", SkipSetupItems = ["Siri", "Appearance"] };
        var atApple = new AppleProfile { ProfileName = "Staff", SupportPhoneNumber = "+1 555 0199", SkipSetupItems = ["Siri"] };
        Assert.Equal([new AdeProfileDifference("skip_setup_items", "Appearance, Siri", "Siri"), new AdeProfileDifference("support_phone_number", "+1 555 0100", "+1 555 0199")],
            ProfileDriftService.Compare(defined, atApple));
    }

    [Fact]
    public void Repair_DeclinedByWhatIf_ChangesNothing()
    {
        using var f = Defined();
        var profile = f.Engine.Profiles.Resolve("Staff");
        f.Simulator.SetProfileKeys(Server, profile.AppleProfileUuid!, new Dictionary<string, object?> { ["department"] = "Elsewhere" });
        f.Host.ShouldProcessAnswer = false;

        var drift = f.Engine.ProfileDrift.Test(profile, repair: true);

        Assert.Equal(("Drifted", false, profile.AppleProfileUuid), (drift.State, drift.Repaired, drift.AppleProfileUuid));
        Assert.Equal(profile.AppleProfileUuid, f.Engine.Profiles.Resolve("Staff").AppleProfileUuid);
    }

    [Fact]
    public void AProfileNeverDefined_IsNotDefined_WithoutCallingApple()
    {
        using var f = new EngineSimFixture();
        f.Engine.Profiles.New("iPads", "Unused", new ProfileSettings { UserAffinity = UserAffinity.WithUserAffinity });
        f.Simulator.ClearRequests();
        Assert.Equal("NotDefined", f.Engine.ProfileDrift.Test(f.Engine.Profiles.Resolve("Unused"), repair: false).State);
        Assert.Empty(f.Simulator.GetRequests("/profile"));
    }
}

using System.Text.Json;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Tests.Profiles;

/// <summary>The Apple profile JSON (about_AdeEnrollment.md, "Enrollment profiles") built from profile settings, checked against the simulator's validation.</summary>
public class AppleProfileBuilderTests
{
    private const string Url = "https://mdm.contoso.example/enroll";

    private static readonly ProfileSettings User = new() { UserAffinity = UserAffinity.WithUserAffinity };
    private static readonly ProfileSettings Kiosk = new() { UserAffinity = UserAffinity.WithoutUserAffinity };

    /// <summary>Every pane an iOS profile can hide (the table in the engine).</summary>
    private static readonly SetupScreen[] IosPanes = [.. SetupScreens.On(DevicePlatform.iOS).Select(r => r.Screen)];

    /// <summary>Apple's SkipKeys (apple/device-management other/skipkeys.yaml, as in the protocol reference §3.6).</summary>
    private static readonly HashSet<string> AppleSkipKeys =
    [
        "Accessibility", "ActionButton", "Android", "Appearance", "AppleID", "AppStore", "Biometric", "CameraButton", "DeviceToDeviceMigration",
        "Diagnostics", "DisplayTone", "EnableLockdownMode", "FileVault", "HomeButtonSensitivity", "iCloudDiagnostics", "iCloudStorage",
        "iMessageAndFaceTime", "Intelligence", "Keyboard", "Location", "MessagingActivationUsingPhoneNumber", "OnBoarding", "Passcode", "Payment",
        "Privacy", "Restore", "RestoreCompleted", "Safety", "ScreenSaver", "ScreenTime", "SIMSetup", "Siri", "SoftwareUpdate", "SpokenLanguage",
        "TapToSetup", "TermsOfAddress", "TOS", "TVHomeScreenSync", "TVProviderSignIn", "TVRoom", "UpdateCompleted", "Wallpaper", "WatchMigration",
        "WebContentFiltering", "Welcome", "Zoom",
        // added in Apple's 2026 file (iOS 26, macOS 26, visionOS 26)
        "AdditionalPrivacySettings", "Multitasking", "OSShowcase", "SafetyAndHandling", "Tips", "UnlockWithWatch",
    ];

    /// <summary>Each Intune pane and the SkipKey Intune sends for it.</summary>
    public static TheoryData<SetupScreen, string> Panes() => new()
    {
        { SetupScreen.Passcode, "Passcode" },
        { SetupScreen.LocationServices, "Location" },
        { SetupScreen.Restore, "Restore" },
        { SetupScreen.AppleId, "AppleID" },
        { SetupScreen.TermsAndConditions, "TOS" },
        { SetupScreen.TouchIdFaceId, "Biometric" },
        { SetupScreen.ApplePay, "Payment" },
        { SetupScreen.Zoom, "Zoom" },
        { SetupScreen.Siri, "Siri" },
        { SetupScreen.DiagnosticsData, "Diagnostics" },
        { SetupScreen.DisplayTone, "DisplayTone" },
        { SetupScreen.Privacy, "Privacy" },
        { SetupScreen.AndroidMigration, "Android" },
        { SetupScreen.iMessageAndFaceTime, "iMessageAndFaceTime" },
        { SetupScreen.Onboarding, "OnBoarding" },
        { SetupScreen.ScreenTime, "ScreenTime" },
        { SetupScreen.SimSetup, "SIMSetup" },
        { SetupScreen.SoftwareUpdate, "SoftwareUpdate" },
        { SetupScreen.WatchMigration, "WatchMigration" },
        { SetupScreen.Appearance, "Appearance" },
        { SetupScreen.DeviceToDeviceMigration, "DeviceToDeviceMigration" },
        { SetupScreen.RestoreCompleted, "RestoreCompleted" },
        { SetupScreen.SoftwareUpdateCompleted, "UpdateCompleted" },
        { SetupScreen.GetStarted, "Welcome" },
        { SetupScreen.TermsOfAddress, "TermsOfAddress" },
    };

    private static readonly string Cert1 = ProfileRulesTests.Certificate();
    private static readonly string Cert2 = ProfileRulesTests.Certificate();

    /// <summary>Representative profiles, each valid under the profile rules.</summary>
    private static readonly Dictionary<string, ProfileSettings> Profiles = new()
    {
        ["Staff (modern)"] = User with { AuthenticationMethod = AuthenticationMethod.SetupAssistantModern, Department = "IT Services", DepartmentPhone = "+31 20 555 0100", HiddenScreens = [SetupScreen.Siri, SetupScreen.ApplePay] },
        ["Staff (legacy)"] = User with { AuthenticationMethod = AuthenticationMethod.SetupAssistantLegacy, InstallCompanyPortal = true },
        ["Staff (Company Portal)"] = User with { AuthenticationMethod = AuthenticationMethod.CompanyPortal, CompanyPortalVppToken = "Contoso VPP", RunCompanyPortalInSingleAppMode = true },
        ["Locked"] = User with { LockedEnrollment = true },
        ["Unsupervised"] = User with { Supervised = false },
        ["Shared iPad"] = Kiosk with { SharedIPad = true, MaximumCachedUsers = 8, PasscodeLockGracePeriodSeconds = 300, UserSessionTimeoutSeconds = 1800, HiddenScreens = [SetupScreen.Zoom] },
        ["Shared iPad (temporary)"] = Kiosk with { SharedIPad = true, RequireTemporarySession = true, TemporarySessionTimeoutSeconds = 600 },
        ["Every pane hidden"] = Kiosk with { HiddenScreens = IosPanes },
        ["Configurator"] = Kiosk with { SyncWithComputers = SyncWithComputers.AllowByCertificate, ConfiguratorCertificates = [Cert1, Cert2] },
        ["Charging only"] = Kiosk with { SyncWithComputers = SyncWithComputers.DenyAll, DeviceNameTemplate = "Kiosk-{{SERIAL}}", CellularDataPlanUrl = "https://carrier.example/a" },
    };

    private static AppleProfile Build(string name, ProfileSettings settings)
    {
        var normalised = ProfileRules.Normalise(settings);
        ProfileRules.Validate(normalised);
        return AppleProfileBuilder.Build(name, normalised, Url);
    }

    private static JsonElement Json(AppleProfile profile)
    {
        using var document = JsonDocument.Parse(JsonSerializer.Serialize(profile, AppleJsonContext.Default.AppleProfile));
        return document.RootElement.Clone();
    }

    private static JsonElement Json(string name, ProfileSettings settings) => Json(Build(name, settings));

    private static string[] Strings(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetString()!)];

    // ---- the JSON ----------------------------------------------------------------------------------------------------

    [Fact]
    public void EveryProfile_HasItsNameTheTokensEnrollmentUrlAndIsMdmRemovable()
    {
        foreach (var (name, settings) in Profiles)
        {
            var json = Json(name, settings);
            Assert.Equal(name, json.GetProperty("profile_name").GetString());
            Assert.Equal(Url, json.GetProperty("url").GetString());
            Assert.True(json.GetProperty("is_supervised").ValueKind is JsonValueKind.True or JsonValueKind.False, $"{name}: is_supervised");
            Assert.True(json.TryGetProperty("is_mdm_removable", out _), $"{name}: is_mdm_removable must always be sent");
        }
    }

    [Fact]
    public void ModernAuthentication_SendsConfigurationWebUrl_OtherMethodsDoNot()
    {
        Assert.Equal(Url, Json("Modern", User with { AuthenticationMethod = AuthenticationMethod.SetupAssistantModern }).GetProperty("configuration_web_url").GetString());
        Assert.Equal(Url, Json("Default", User).GetProperty("configuration_web_url").GetString()); // modern is the default with user affinity
        Assert.False(Json("Legacy", User with { AuthenticationMethod = AuthenticationMethod.SetupAssistantLegacy }).TryGetProperty("configuration_web_url", out _));
        Assert.False(Json("Portal", User with { AuthenticationMethod = AuthenticationMethod.CompanyPortal }).TryGetProperty("configuration_web_url", out _));
        Assert.False(Json("Kiosk", Kiosk).TryGetProperty("configuration_web_url", out _));
    }

    [Fact]
    public void LockedEnrollment_SendsIsMdmRemovableFalse_AndUnlockedSendsTrueExplicitly()
    {
        var locked = Json("Locked", User with { LockedEnrollment = true });
        Assert.Equal(JsonValueKind.False, locked.GetProperty("is_mdm_removable").ValueKind);
        Assert.Equal(JsonValueKind.True, locked.GetProperty("is_supervised").ValueKind);
        Assert.Equal(JsonValueKind.True, Json("Open", User).GetProperty("is_mdm_removable").ValueKind);
        Assert.Equal(JsonValueKind.True, Json("Open", User with { LockedEnrollment = false }).GetProperty("is_mdm_removable").ValueKind);
    }

    [Fact]
    public void Supervised_IsSentAsIsSupervised()
    {
        Assert.Equal(JsonValueKind.True, Json("On", User).GetProperty("is_supervised").ValueKind);
        Assert.Equal(JsonValueKind.False, Json("Off", User with { Supervised = false }).GetProperty("is_supervised").ValueKind);
    }

    [Fact]
    public void SharedIPad_SendsIsMultiUser_AndSkipsEveryPaneWhateverHiddenScreenSays()
    {
        // Every key iOS has (none of them is removed on iOS): the original 25 and the newer ones.
        var allKeys = SetupScreens.On(DevicePlatform.iOS).Select(r => r.Key).ToHashSet();
        Assert.Superset(Panes().Select(row => (string)row[1]).ToHashSet(), allKeys);
        foreach (var hidden in new IReadOnlyList<SetupScreen>?[] { null, [SetupScreen.Siri] })
        {
            var json = Json("Shared", Kiosk with { SharedIPad = true, HiddenScreens = hidden });
            Assert.Equal(JsonValueKind.True, json.GetProperty("is_multi_user").ValueKind);
            var skipped = Strings(json.GetProperty("skip_setup_items"));
            Assert.Equal(allKeys.Count, skipped.Length);
            Assert.Equal(allKeys, skipped.ToHashSet());
        }

        Assert.Equal(JsonValueKind.False, Json("Single", Kiosk).GetProperty("is_multi_user").ValueKind);

        // a key Apple added after the module's table (-AdditionalSkipKey) is skipped on a Shared iPad too
        var withNew = Strings(Json("Shared", Kiosk with { SharedIPad = true, AdditionalSkipKeys = ["FutureKey2026", "Siri"] }).GetProperty("skip_setup_items"));
        Assert.Equal(allKeys.Count + 1, withNew.Length);
        Assert.Contains("FutureKey2026", withNew);
    }

    [Theory]
    [MemberData(nameof(Panes))]
    public void EachHiddenScreen_MapsToItsAppleSkipKey(SetupScreen pane, string skipKey)
    {
        Assert.Contains(skipKey, AppleSkipKeys);
        Assert.Equal([skipKey], Strings(Json("One pane", User with { HiddenScreens = [pane] }).GetProperty("skip_setup_items")));
    }

    [Fact]
    public void AllPanesHidden_SendsEveryIosSkipKeyOnce_AndNoPaneHiddenSendsNone()
    {
        Assert.Equal(39, IosPanes.Length);
        var skipped = Strings(Json("All", Kiosk with { HiddenScreens = IosPanes }).GetProperty("skip_setup_items"));
        Assert.Equal(39, skipped.Distinct().Count());
        Assert.All(skipped, k => Assert.Contains(k, AppleSkipKeys));
        Assert.False(Json("None", Kiosk).TryGetProperty("skip_setup_items", out _));
    }

    [Fact]
    public void AllowByCertificate_SendsTheConfiguratorCertificates_WithPairingOff()
    {
        // the certificates are the hosts that may pair while pairing is off: with pairing on, any computer could
        var json = Json("Configurator", Kiosk with { SyncWithComputers = SyncWithComputers.AllowByCertificate, ConfiguratorCertificates = [Cert1, Cert2] });
        Assert.Equal([Cert1, Cert2], Strings(json.GetProperty("supervising_host_certs")));
        Assert.Equal(JsonValueKind.False, json.GetProperty("allow_pairing").ValueKind);
    }

    [Fact]
    public void DenyAll_SendsAllowPairingFalse_AllowAllSendsTrue_NeitherSendsCertificates()
    {
        var deny = Json("Deny", Kiosk with { SyncWithComputers = SyncWithComputers.DenyAll });
        Assert.Equal(JsonValueKind.False, deny.GetProperty("allow_pairing").ValueKind);
        Assert.False(deny.TryGetProperty("supervising_host_certs", out _));
        var allow = Json("Allow", Kiosk);
        Assert.Equal(JsonValueKind.True, allow.GetProperty("allow_pairing").ValueKind);
        Assert.False(allow.TryGetProperty("supervising_host_certs", out _));
    }

    [Fact]
    public void DepartmentAndPhone_AreSentAsDepartmentAndSupportPhoneNumber()
    {
        var json = Json("Dept", User with { Department = "IT Services", DepartmentPhone = "+31 20 555 0100" });
        Assert.Equal("IT Services", json.GetProperty("department").GetString());
        Assert.Equal("+31 20 555 0100", json.GetProperty("support_phone_number").GetString());
        var none = Json("No dept", User);
        Assert.False(none.TryGetProperty("department", out _));
        Assert.False(none.TryGetProperty("support_phone_number", out _));
    }

    [Fact]
    public void EngineOnlySettings_DoNotReachApple_AndDoNotChangeTheHash()
    {
        var baseline = Build("P", User);
        var engineOnly = Build("P", User with { Description = "admins only", DeviceNameTemplate = "{{SERIAL}}", CellularDataPlanUrl = "https://carrier.example/a" });
        Assert.Equal(AppleProfileBuilder.Hash(baseline), AppleProfileBuilder.Hash(engineOnly));
        var json = JsonSerializer.Serialize(engineOnly, AppleJsonContext.Default.AppleProfile);
        Assert.DoesNotContain("admins only", json, StringComparison.Ordinal);
        Assert.DoesNotContain("carrier.example", json, StringComparison.Ordinal);

        Assert.NotEqual(AppleProfileBuilder.Hash(baseline), AppleProfileBuilder.Hash(Build("P", User with { Department = "IT" })));
        Assert.NotEqual(AppleProfileBuilder.Hash(baseline), AppleProfileBuilder.Hash(Build("Renamed", User)));
        Assert.NotEqual(AppleProfileBuilder.Hash(baseline), AppleProfileBuilder.Hash(AppleProfileBuilder.Build("P", ProfileRules.Normalise(User), Url + "/other")));
    }

    // ---- against the simulator's (Apple's) validation ---------------------------------------------------------------

    [Fact]
    public async Task EveryRepresentativeProfile_IsAcceptedByApple_WhichHoldsWhatWasSent()
    {
        using var f = new EngineSimFixture();
        var client = f.Engine.Apple.ForToken(f.Engine.Tokens.Credentials(f.Token));
        var uuids = new HashSet<string>();
        foreach (var (name, settings) in Profiles)
        {
            var profile = AppleProfileBuilder.Build(name, ProfileRules.Normalise(settings), f.Token.EnrollmentUrl!);
            var defined = await client.DefineProfileAsync(profile);
            Assert.Matches("^[0-9A-F]{32}$", defined.ProfileUuid);
            Assert.True(uuids.Add(defined.ProfileUuid));

            var held = await client.GetProfileAsync(defined.ProfileUuid);
            Assert.Equal(defined.ProfileUuid, held.ProfileUuid);
            held.ProfileUuid = null;
            Assert.Equal(JsonSerializer.Serialize(profile, AppleJsonContext.Default.AppleProfile), JsonSerializer.Serialize(held, AppleJsonContext.Default.AppleProfile));
        }

        Assert.Equal(Profiles.Count, f.Simulator.GetRequests("/profile").Count(r => r.Method == "POST" && r.StatusCode == 200));
    }

    public static TheoryData<string, string> Forced() => new()
    {
        { "LockedWithoutSupervision", "FLAGS_INVALID" },
        { "Department126", "DEPARTMENT_INVALID" },
        { "Phone51", "SUPPORT_PHONE_INVALID" },
        { "Name126", "CONFIG_NAME_INVALID" },
        { "NoUrl", "CONFIG_URL_REQUIRED" },
    };

    [Theory]
    [MemberData(nameof(Forced))]
    public async Task AProfileTheRulesWouldRefuse_ForcedThroughTheBuilder_IsRefusedByApple(string kind, string appleCode)
    {
        // The builder trusts validated settings: bypass ProfileRules.Validate to see that Apple (the simulator) refuses.
        var (name, settings, url) = kind switch
        {
            "LockedWithoutSupervision" => ("Locked", User with { LockedEnrollment = true, Supervised = false }, Url),
            "Department126" => ("Dept", User with { Department = new string('D', 126) }, Url),
            "Phone51" => ("Phone", User with { DepartmentPhone = new string('5', 51) }, Url),
            "Name126" => (new string('n', 126), User, Url),
            _ => ("No URL", Kiosk, ""),
        };
        var normalised = ProfileRules.Normalise(settings);
        if (kind == "Name126")
        {
            AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => ProfileRules.ValidateName(name));
        }
        else if (kind != "NoUrl") // a token without an enrollment URL is EnrollmentUrlMissing before anything is built
        {
            AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => ProfileRules.Validate(normalised));
        }

        var profile = AppleProfileBuilder.Build(name, normalised, url);
        using var f = new EngineSimFixture();
        var client = f.Engine.Apple.ForToken(f.Engine.Tokens.Credentials(f.Token));
        var ex = await Assert.ThrowsAsync<AdeException>(() => client.DefineProfileAsync(profile));
        Assert.Equal(nameof(ErrorCatalog.AppleRequestInvalid), ex.ErrorId);
        Assert.Contains(appleCode, ex.Message, StringComparison.Ordinal);
        Assert.Contains("400", ex.Message, StringComparison.Ordinal);
        Assert.Single(f.Simulator.GetRequests("/profile"), r => r.StatusCode == 400 && r.ErrorCode == appleCode);
    }
}

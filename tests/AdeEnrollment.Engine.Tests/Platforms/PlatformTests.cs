using System.Text.Json;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Tests.TestSupport;

namespace AdeEnrollment.Engine.Tests.Platforms;

/// <summary>Mixed tokens (docs/about_AdeEnrollment.md "Platforms"): profiles, defaults and assignment per platform.</summary>
public class PlatformTests
{
    private const string Server = EngineSimFixture.Server;
    private const string Url = "https://mdm.contoso.example/enroll";

    private static readonly Dictionary<string, DevicePlatform> FamilyPlatform = new()
    {
        ["iPhone"] = DevicePlatform.iOS, ["iPad"] = DevicePlatform.iOS, ["iPod"] = DevicePlatform.iOS,
        ["Mac"] = DevicePlatform.macOS, ["AppleTV"] = DevicePlatform.tvOS, ["Vision"] = DevicePlatform.visionOS,
    };

    private static ProfileSettings For(DevicePlatform platform) => platform == DevicePlatform.iOS
        ? new ProfileSettings { Platform = platform, UserAffinity = UserAffinity.WithUserAffinity }
        : new ProfileSettings { Platform = platform };

    private static EngineSimFixture MixedToken(params DevicePlatform[] withDefault)
    {
        var f = new EngineSimFixture();
        foreach (var family in FamilyPlatform.Keys)
        {
            f.Simulator.AddDevices(Server, 4, deviceFamily: family);
        }

        foreach (var platform in Enum.GetValues<DevicePlatform>())
        {
            f.Engine.Profiles.New("iPads", $"{platform} default", For(platform));
            if (withDefault.Contains(platform))
            {
                f.Engine.Profiles.SetDefault("iPads", $"{platform} default");
            }
        }

        return f;
    }

    private static string AppleJson(ProfileSettings settings, string name = "P")
    {
        var normalised = ProfileRules.Normalise(settings);
        ProfileRules.Validate(normalised);
        return JsonSerializer.Serialize(AppleProfileBuilder.Build(name, normalised, Url), AppleJsonContext.Default.AppleProfile);
    }

    private static JsonElement AppleRoot(ProfileSettings settings) => JsonDocument.Parse(AppleJson(settings)).RootElement;

    [Theory]
    [InlineData("iPhone", "iOS", "iOS")]
    [InlineData("iPad", "iPadOS", "iOS")]
    [InlineData("iPod", "iOS", "iOS")]
    [InlineData("Mac", "OSX", "macOS")]
    [InlineData("AppleTV", "tvOS", "tvOS")]
    [InlineData("Vision", "visionOS", "visionOS")]
    [InlineData(null, "iPadOS", "iOS")]
    [InlineData(null, "OSX", "macOS")]
    [InlineData(null, "tvOS", "tvOS")]
    [InlineData(null, "visionOS", "visionOS")]
    public void DevicePlatform_ComesFromTheFamily_ElseFromTheOs(string? family, string os, string platform)
        => Assert.Equal(Enum.Parse<DevicePlatform>(platform), DevicePlatforms.Of(family, os));

    [Theory]
    [InlineData(null, null)]
    [InlineData(null, "watchOS")]
    [InlineData("Watch", "iOS")] // a family we do not know wins over the os: unknown, never guessed
    public void DevicePlatform_IsUnknown_WhenNeitherSays(string? family, string? os)
        => Assert.Null(DevicePlatforms.Of(family, os));

    [Fact]
    public void MixedToken_EachFamilyGetsExactlyItsOwnPlatformsDefault()
    {
        using var f = MixedToken(Enum.GetValues<DevicePlatform>());

        var result = f.Engine.Sync.Sync("iPads")!;

        Assert.Equal(24, result.Added);
        Assert.Equal(24, result.DefaultProfileAssigned);
        Assert.Empty(result.WithoutDefaultProfile);
        var uuids = f.Engine.Profiles.Get(f.Token.Id).ToDictionary(p => p.Platform, p => p.AppleProfileUuid);
        Assert.Equal(4, uuids.Values.Distinct().Count());
        foreach (var device in f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)))
        {
            Assert.Equal($"{FamilyPlatform[device.DeviceFamily!]} default", device.EnrollmentProfileName);
        }

        // Apple's side holds the same: each device the UUID of its own platform's profile, nothing else.
        foreach (var device in f.Simulator.GetDevices(Server))
        {
            Assert.Equal(uuids[FamilyPlatform[device.DeviceFamily!]], device.ProfileUuid);
        }
    }

    [Fact]
    public void MixedToken_EachPlatformsWarning_SaysItsOwnRemedy_WhenOnlyOnePlatformsDefaultRequestWasInterrupted()
    {
        using var f = MixedToken(DevicePlatform.iOS, DevicePlatform.macOS);
        // Apple refuses every iOS and Mac device one by one, and the first default request of the page fails as a whole
        foreach (var device in f.Simulator.GetDevices(Server).Where(d => d.DeviceFamily is not ("AppleTV" or "Vision")))
        {
            f.Simulator.SetDeviceOutcome(Server, device.SerialNumber, "FAILED", count: 1);
        }

        f.Simulator.AddFault("/profile/devices", 500, count: new AppleClientOptions().MaxRetryAttempts + 1); // the request and its retries

        var result = f.Engine.Sync.Sync("iPads")!;

        Assert.Equal((AdeSyncStatus.Succeeded, 0), (result.Status, result.DefaultProfileAssigned));
        Assert.True(f.Engine.Sync.GetStatus(f.Token).NextSyncIsFull);
        var warnings = f.Host.Warnings.Where(w => w.Contains("did not get the default profile", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, warnings.Count);
        // the interrupted platform's warning promises the full sync; the refused platform's gives the command only
        var interrupted = Assert.Single(warnings, w => w.Contains("is a full one and offers it again", StringComparison.Ordinal));
        var refused = Assert.Single(warnings, w => w.Contains("Apple answered NOT_ACCESSIBLE, FAILED or THROTTLED). Assign it with:", StringComparison.Ordinal));
        Assert.NotEqual(interrupted.Contains("-Platform iOS", StringComparison.Ordinal), refused.Contains("-Platform iOS", StringComparison.Ordinal));
    }

    [Fact]
    public void MixedToken_PlatformsWithoutADefault_StayUnassigned_AndAreCountedPerPlatform()
    {
        using var f = MixedToken(DevicePlatform.iOS, DevicePlatform.tvOS);

        var result = f.Engine.Sync.Sync("iPads")!;

        Assert.Equal(16, result.DefaultProfileAssigned); // 12 iPhones/iPads/iPods + 4 Apple TVs
        Assert.Equal(["macOS: 4", "visionOS: 4"], result.WithoutDefaultProfile.Select(c => c.ToString()).ToArray());
        var devices = f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)).ToList();
        Assert.All(devices.Where(d => d.DeviceFamily is "Mac" or "Vision"), d => Assert.Equal("", d.EnrollmentProfileName));
        Assert.All(f.Simulator.GetDevices(Server).Where(d => d.DeviceFamily is "Mac" or "Vision"), d => Assert.Null(d.ProfileUuid));
    }

    [Fact]
    public void DevicesAndProfiles_FilterByPlatform_AlsoWithOtherFiltersAndInBatchedLookups()
    {
        using var f = MixedToken(DevicePlatform.iOS);
        f.Engine.Sync.Sync("iPads");

        var macs = f.Engine.Devices.Get(new DeviceQuery(f.Token.Id, Platforms: [DevicePlatform.macOS])).ToList();
        Assert.Equal(4, macs.Count);
        Assert.All(macs, d => Assert.Equal("Mac", d.DeviceFamily));
        Assert.Equal(4, f.Engine.Devices.Get(new DeviceQuery(f.Token.Id, Unassigned: true, Platforms: [DevicePlatform.tvOS])).Count());
        Assert.Empty(f.Engine.Devices.Get(new DeviceQuery(f.Token.Id, Unassigned: true, Platforms: [DevicePlatform.iOS]))); // the default took them
        Assert.Equal(12, f.Engine.Devices.Get(new DeviceQuery(f.Token.Id, Platforms: [DevicePlatform.iOS])).Count());
        // several platforms at once: any of them
        Assert.Equal(16, f.Engine.Devices.Get(new DeviceQuery(f.Token.Id, Platforms: [DevicePlatform.iOS, DevicePlatform.macOS])).Count());
        Assert.Equal(["Mac"], f.Engine.Devices.GetEach([new DeviceQuery(f.Token.Id, macs[0].SerialNumber, Platforms: [DevicePlatform.tvOS, DevicePlatform.macOS])])[0].Select(d => d.DeviceFamily));

        // the batched lookup of piped serials keeps the platform filter
        var iPhone = f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)).First(d => d.DeviceFamily == "iPhone").SerialNumber;
        var answers = f.Engine.Devices.GetEach([new DeviceQuery(SerialNumber: macs[0].SerialNumber, Platforms: [DevicePlatform.macOS]), new DeviceQuery(SerialNumber: iPhone, Platforms: [DevicePlatform.macOS])]);
        Assert.Equal([1, 0], answers.Select(a => a.Count));

        Assert.Equal(["macOS default"], f.Engine.Profiles.Get(f.Token.Id, platform: DevicePlatform.macOS).Select(p => p.Name));
        Assert.Equal(4, f.Engine.Profiles.Get(f.Token.Id).Count);
    }

    [Fact]
    public void Assignment_NeverCrossesPlatforms_PlatformMismatchPerDevice_NothingSent()
    {
        using var f = MixedToken();
        f.Engine.Sync.Sync("iPads");
        var devices = f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)).ToList();
        var macs = devices.Where(d => d.DeviceFamily == "Mac").Select(d => d.SerialNumber).ToHashSet();
        f.Simulator.ClearRequests();

        var results = f.Engine.Assignments.Assign("macOS default", "iPads", devices.Select(d => d.SerialNumber)).ToList();

        Assert.Equal(24, results.Count);
        Assert.All(results, r => Assert.Equal(macs.Contains(r.SerialNumber) ? AdeAssignmentStatus.Success : AdeAssignmentStatus.PlatformMismatch, r.Status));
        var sent = f.Simulator.GetRequests("/profile/devices").Where(r => r.Method is "POST" or "PUT").ToList();
        Assert.Equal(4, sent.Sum(r => r.DeviceCount));
        Assert.All(f.Simulator.GetDevices(Server).Where(d => d.DeviceFamily != "Mac"), d => Assert.Null(d.ProfileUuid));
    }

    [Fact]
    public void Assignment_ToADeviceOfUnknownPlatform_IsRefused_UnlessForced()
    {
        using var f = MixedToken();
        f.Engine.Sync.Sync("iPads");
        var serial = f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)).First(d => d.DeviceFamily == "iPhone").SerialNumber;
        f.Sql($"UPDATE device SET device_family = NULL, os = NULL WHERE serial_number = '{serial}'");

        Assert.Equal(AdeAssignmentStatus.PlatformMismatch, f.Engine.Assignments.Assign("iOS default", "iPads", [serial]).Single().Status);
        Assert.Equal(AdeAssignmentStatus.Success, f.Engine.Assignments.Assign("iOS default", "iPads", [serial], force: true).Single().Status);
        // -Force never crosses a known platform.
        var mac = f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)).First(d => d.DeviceFamily == "Mac").SerialNumber;
        Assert.Equal(AdeAssignmentStatus.PlatformMismatch, f.Engine.Assignments.Assign("iOS default", "iPads", [mac], force: true).Single().Status);
    }

    [Fact]
    public void Defaults_ArePerPlatform_ClearTakesAPlatform_AndRemovalCountsEveryDefault()
    {
        using var f = MixedToken(Enum.GetValues<DevicePlatform>());
        var token = f.Engine.Tokens.GetTokens(id: f.Token.Id).Single();
        Assert.Equal(("iOS default", "macOS default", "tvOS default", "visionOS default"),
            (token.DefaultProfile, token.DefaultMacOSProfile, token.DefaultTvOSProfile, token.DefaultVisionOSProfile));

        token = f.Engine.Profiles.SetDefault("iPads", null, DevicePlatform.tvOS)!;
        Assert.Null(token.DefaultTvOSProfile);
        Assert.Equal("macOS default", token.DefaultMacOSProfile);

        var error = Assert.Throws<AdeException>(() => f.Engine.Tokens.RemoveToken("iPads"));
        Assert.Equal(nameof(ErrorCatalog.TokenHasDependents), error.ErrorId);
        Assert.Contains("the default profiles 'iOS default' (iOS), 'macOS default' (macOS), 'visionOS default' (visionOS)", error.Message);
        Assert.Equal(nameof(ErrorCatalog.ProfileInUse), Assert.Throws<AdeException>(() => f.Engine.Profiles.Remove("visionOS default", "iPads")).ErrorId);

        token = f.Engine.Profiles.SetDefault("iPads", null)!;
        Assert.Null(token.DefaultProfile);
        Assert.Null(token.DefaultMacOSProfile);

        // clearing what is not there changes nothing, the token's ModifiedAt included
        f.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(token.ModifiedAt, f.Engine.Profiles.SetDefault("iPads", null, DevicePlatform.tvOS)!.ModifiedAt);
        Assert.Equal(token.ModifiedAt, f.Engine.Profiles.SetDefault("iPads", null)!.ModifiedAt);
        Assert.Contains(f.Host.Verbose, v => v.Contains("has no tvOS default profile: nothing to clear", StringComparison.Ordinal));
        Assert.Equal(token.ModifiedAt, f.Engine.Tokens.GetTokens(id: f.Token.Id).Single().ModifiedAt);
    }

    public static TheoryData<SetupScreen, string, DevicePlatform> ScreensOnTheirPlatforms()
    {
        var data = new TheoryData<SetupScreen, string, DevicePlatform>();
        foreach (var row in SetupScreens.All)
        {
            foreach (var platform in row.Platforms)
            {
                data.Add(row.Screen, row.Key, platform);
            }
        }

        return data;
    }

    public static TheoryData<SetupScreen, DevicePlatform> ScreensNotOnPlatforms()
    {
        var data = new TheoryData<SetupScreen, DevicePlatform>();
        foreach (var row in SetupScreens.All)
        {
            foreach (var platform in Enum.GetValues<DevicePlatform>().Except(row.Platforms))
            {
                data.Add(row.Screen, platform);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ScreensOnTheirPlatforms))]
    public void EverySkipKey_ReachesApplesJsonExactly(SetupScreen screen, string key, DevicePlatform platform)
    {
        var root = AppleRoot(For(platform) with { HiddenScreens = [screen] });

        Assert.Equal([key], root.GetProperty("skip_setup_items").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }

    [Theory]
    [MemberData(nameof(ScreensNotOnPlatforms))]
    public void ASkipKeyOfAnotherPlatform_IsRefused_NamingSettingAndPlatform(SetupScreen screen, DevicePlatform platform)
    {
        var error = Assert.Throws<AdeException>(() => ProfileRules.Validate(ProfileRules.Normalise(For(platform) with { HiddenScreens = [screen] })));

        Assert.Equal(nameof(ErrorCatalog.ProfileSettingInvalid), error.ErrorId);
        Assert.Contains("-HiddenScreen", error.Message);
        Assert.Contains($"does not exist on {platform}", error.Message);
    }

    [Theory]
    [InlineData("Biometric", SetupScreen.TouchIdFaceId)]
    [InlineData("tos", SetupScreen.TermsAndConditions)]
    [InlineData("Location", SetupScreen.LocationServices)]
    [InlineData("Payment", SetupScreen.ApplePay)]
    [InlineData("Safety", SetupScreen.EmergencySos)]
    [InlineData("SafetyAndHandling", SetupScreen.SafetyAndHandling)]
    [InlineData("Welcome", SetupScreen.GetStarted)]
    [InlineData(" touchidfaceid ", SetupScreen.TouchIdFaceId)]
    public void AHiddenScreen_IsReadByItsNameOrByApplesSkipKey(string given, SetupScreen screen)
        => Assert.Equal(screen, SetupScreens.Parse(given));

    [Theory]
    [InlineData("LocationServices,Restore")] // Enum.TryParse read this as AppleId (1 | 2)
    [InlineData("Siri, Zoom")]
    [InlineData("+5")]
    [InlineData("5")]
    [InlineData("-1")]
    public void AHiddenScreen_OfSeveralNamesInOneText_OrANumber_IsRefused_NotReadAsAnotherPane(string given)
    {
        var error = Assert.Throws<AdeException>(() => SetupScreens.Parse(given));
        Assert.Equal(nameof(ErrorCatalog.ProfileSettingInvalid), error.ErrorId);
        Assert.Contains(given.Contains(',') ? "one pane per value" : "not a Setup Assistant pane", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AHiddenScreen_ThatIsNeitherNameNorKey_IsRefused_SayingBothAreAccepted()
    {
        var error = Assert.Throws<AdeException>(() => SetupScreens.Parse("Biometrics"));
        Assert.Equal(nameof(ErrorCatalog.ProfileSettingInvalid), error.ErrorId);
        Assert.Contains("or Apple's skip keys", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ATvOSProfile_WithUserAffinity_IsRefused_AndWithoutItIsAccepted()
    {
        var error = Assert.Throws<AdeException>(() => ProfileRules.Validate(ProfileRules.Normalise(new ProfileSettings { Platform = DevicePlatform.tvOS, UserAffinity = UserAffinity.WithUserAffinity })));
        Assert.Equal(nameof(ErrorCatalog.ProfileSettingInvalid), error.ErrorId);
        Assert.Contains("tvOS profiles enroll WithoutUserAffinity only", error.Message, StringComparison.Ordinal);

        var tv = ProfileRules.Normalise(new ProfileSettings { Platform = DevicePlatform.tvOS });
        ProfileRules.Validate(tv);
        Assert.Equal((UserAffinity.WithoutUserAffinity, (AuthenticationMethod?)null), (tv.UserAffinity, tv.AuthenticationMethod));
        // macOS keeps user affinity (Setup Assistant's web view signs the user in)
        ProfileRules.Validate(ProfileRules.Normalise(new ProfileSettings { Platform = DevicePlatform.macOS, UserAffinity = UserAffinity.WithUserAffinity }));
    }

    [Fact]
    public void TheScreenTable_HasEveryKeyOnce_TheIntuneNewcomers_AndTheOriginal25()
    {
        Assert.Equal(52, SetupScreens.All.Count);
        Assert.Equal(SetupScreens.All.Count, SetupScreens.All.Select(s => s.Key).Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(Enum.GetValues<SetupScreen>().Length, SetupScreens.All.Count);
        Assert.Equal("Safety", SetupScreens.Of(SetupScreen.EmergencySos).Key);
        Assert.Equal("ActionButton", SetupScreens.Of(SetupScreen.ActionButton).Key);
        Assert.Equal("Intelligence", SetupScreens.Of(SetupScreen.Intelligence).Key);
        Assert.Equal(new Version(14, 1), SetupScreens.Of(SetupScreen.Wallpaper).On(DevicePlatform.macOS)!.Since);
        Assert.Equal(new Version(26, 0), SetupScreens.Of(SetupScreen.Wallpaper).On(DevicePlatform.macOS)!.Removed);
        Assert.Null(SetupScreens.Of(SetupScreen.Wallpaper).On(DevicePlatform.iOS));
    }

    [Theory]
    [InlineData(DevicePlatform.macOS, "Supervised")]
    [InlineData(DevicePlatform.tvOS, "SharedIPad")]
    [InlineData(DevicePlatform.visionOS, "DeviceNameTemplate")]
    [InlineData(DevicePlatform.macOS, "InstallCompanyPortal")]
    [InlineData(DevicePlatform.iOS, "Language")]
    [InlineData(DevicePlatform.visionOS, "Region")]
    [InlineData(DevicePlatform.iOS, "AutoAdvanceSetup")]
    [InlineData(DevicePlatform.macOS, "ReturnToService")]
    [InlineData(DevicePlatform.tvOS, "DoNotUseProfileFromBackup")]
    public void ASettingThatDoesNotExistOnThePlatform_IsProfileSettingInvalid_NamingSettingAndPlatform(DevicePlatform platform, string setting)
    {
        var s = For(platform);
        s = setting switch
        {
            "Supervised" => s with { Supervised = true },
            "SharedIPad" => s with { SharedIPad = true },
            "DeviceNameTemplate" => s with { DeviceNameTemplate = "{{SERIAL}}" },
            "InstallCompanyPortal" => s with { InstallCompanyPortal = false },
            "Language" => s with { Language = "en" },
            "Region" => s with { Region = "US" },
            "AutoAdvanceSetup" => s with { AutoAdvanceSetup = true },
            "ReturnToService" => s with { ReturnToService = true },
            _ => s with { DoNotUseProfileFromBackup = true },
        };

        var error = Assert.Throws<AdeException>(() => ProfileRules.Validate(ProfileRules.Normalise(s)));

        Assert.Equal(nameof(ErrorCatalog.ProfileSettingInvalid), error.ErrorId);
        Assert.StartsWith($"-{setting} ", error.Message);
        Assert.Contains($"does not exist on {platform} profiles", error.Message);
    }

    [Fact]
    public void AwaitFinalConfiguration_IsOnForNewProfiles_AndOffReachesAppleAsFalse()
    {
        Assert.True(AppleRoot(For(DevicePlatform.iOS)).GetProperty("await_device_configured").GetBoolean());
        Assert.False(AppleRoot(For(DevicePlatform.iOS) with { AwaitFinalConfiguration = false }).GetProperty("await_device_configured").GetBoolean());
        Assert.False(AppleRoot(For(DevicePlatform.macOS) with { AwaitFinalConfiguration = false }).GetProperty("await_device_configured").GetBoolean());
    }

    [Fact]
    public void ApplesNewerKeys_AreMappedExactly()
    {
        using var key = System.Security.Cryptography.RSA.Create(2048);
        using var cert = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=Contoso Root", key, System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var der = Convert.ToBase64String(cert.RawData);

        var tv = AppleRoot(For(DevicePlatform.tvOS) with { Language = "EN", Region = "gb", AutoAdvanceSetup = true, SupportEmail = "it-help@contoso.com", AnchorCertificates = [der] });
        Assert.Equal("en", tv.GetProperty("language").GetString());
        Assert.Equal("GB", tv.GetProperty("region").GetString());
        Assert.True(tv.GetProperty("auto_advance_setup").GetBoolean());
        Assert.Equal("it-help@contoso.com", tv.GetProperty("support_email_address").GetString());
        Assert.Equal([der], tv.GetProperty("anchor_certs").EnumerateArray().Select(e => e.GetString()!).ToArray());
        Assert.False(tv.TryGetProperty("allow_pairing", out _));
        Assert.False(tv.TryGetProperty("is_multi_user", out _));

        var vision = AppleRoot(For(DevicePlatform.visionOS) with { DoNotUseProfileFromBackup = true, ReturnToService = true });
        Assert.True(vision.GetProperty("do_not_use_profile_from_backup").GetBoolean());
        Assert.True(vision.GetProperty("is_return_to_service").GetBoolean());
        Assert.False(vision.TryGetProperty("language", out _));
    }

    [Fact]
    public void ASupportEmail_LongerThanApplesLimit_IsRefused_BeforeAnythingReachesApple()
    {
        static string Address(int length) => new string('a', 64) + "@" + new string('b', 63) + "." + new string('c', 63) + "." + new string('d', length - 64 - 1 - 63 - 1 - 63 - 1 - 4) + ".com";
        Assert.Equal(250, Address(250).Length);
        ProfileRules.Validate(ProfileRules.Normalise(For(DevicePlatform.macOS) with { SupportEmail = Address(250) }));
        var error = Assert.Throws<AdeException>(() => ProfileRules.Validate(ProfileRules.Normalise(For(DevicePlatform.macOS) with { SupportEmail = Address(251) })));
        Assert.Equal(nameof(ErrorCatalog.ProfileSettingInvalid), error.ErrorId);
        Assert.Contains("at most 250 characters", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("SupportEmail", "not an address")]
    [InlineData("SupportEmail", "Help <help@contoso.com>")]
    [InlineData("Language", "english")]
    [InlineData("Region", "USA")]
    [InlineData("AnchorCertificate", "bm90IGEgY2VydA==")]
    [InlineData("AdditionalSkipKey", "Bad Key!")]
    public void ApplesNewerKeys_AreValidatedBeforeAnythingReachesApple(string setting, string value)
    {
        var s = For(DevicePlatform.macOS);
        s = setting switch
        {
            "SupportEmail" => s with { SupportEmail = value },
            "Language" => s with { Language = value },
            "Region" => s with { Region = value },
            "AnchorCertificate" => s with { AnchorCertificates = [value] },
            _ => s with { AdditionalSkipKeys = [value] },
        };

        var error = Assert.Throws<AdeException>(() => ProfileRules.Validate(ProfileRules.Normalise(s)));

        Assert.Equal(nameof(ErrorCatalog.ProfileSettingInvalid), error.ErrorId);
        Assert.StartsWith($"-{setting} ", error.Message);
    }

    [Fact]
    public void AdditionalSkipKeys_PassThrough_WithAWarningWhenUnknown_AndKnownKeysOfOtherPlatformsAreRefused()
    {
        var warnings = ProfileRules.Validate(ProfileRules.Normalise(For(DevicePlatform.iOS) with { AdditionalSkipKeys = ["FutureKey2027"], HiddenScreens = [SetupScreen.Siri] }));
        Assert.Contains(warnings, w => w.Contains("'FutureKey2027' is not a skip key this module knows for iOS"));
        Assert.Equal(["Siri", "FutureKey2027"], AppleRoot(For(DevicePlatform.iOS) with { AdditionalSkipKeys = ["FutureKey2027"], HiddenScreens = [SetupScreen.Siri] })
            .GetProperty("skip_setup_items").EnumerateArray().Select(e => e.GetString()!).ToArray());

        var error = Assert.Throws<AdeException>(() => ProfileRules.Validate(ProfileRules.Normalise(For(DevicePlatform.tvOS) with { AdditionalSkipKeys = ["FileVault"] })));
        Assert.Contains("does not exist on tvOS", error.Message);
    }

    [Fact]
    public void AKnownSkipKey_InAnotherCase_TakesApplesSpelling_AndIsSentOnce_AnUnknownOneAsTyped()
    {
        // Apple compares skip keys exactly: 'filevault' would hide nothing; 'newpane2027' may be a key of its own
        var mac = ProfileRules.Normalise(For(DevicePlatform.macOS) with { AdditionalSkipKeys = ["siri", "filevault", "NewPane2027", "newpane2027", "Siri"] });
        Assert.Equal(["Siri", "FileVault", "NewPane2027", "newpane2027"], mac.AdditionalSkipKeys);
        var warnings = ProfileRules.Validate(mac);
        Assert.Contains(warnings, w => w.Contains("AdditionalSkipKey FileVault is the FileVault pane", StringComparison.Ordinal));
        Assert.DoesNotContain(warnings, w => w.Contains("'filevault'", StringComparison.Ordinal));
        Assert.Equal(["Siri", "FileVault", "NewPane2027", "newpane2027"], AppleRoot(mac).GetProperty("skip_setup_items").EnumerateArray().Select(e => e.GetString()!).ToArray());
    }

    [Fact]
    public void ThePlatform_IsFixedAfterCreation()
    {
        using var f = new EngineSimFixture();
        f.Engine.Profiles.New("iPads", "Macs", For(DevicePlatform.macOS));

        var error = Assert.Throws<AdeException>(() => f.Engine.ProfileChanges.Set("Macs", "iPads", null, new ProfileSettings { Platform = DevicePlatform.iOS }));

        Assert.Equal(nameof(ErrorCatalog.ProfileSettingInvalid), error.ErrorId);
        Assert.Equal(DevicePlatform.macOS, f.Engine.Profiles.Resolve("Macs").Platform);
    }

    [Theory]
    [InlineData(DevicePlatform.iOS)]
    [InlineData(DevicePlatform.macOS)]
    [InlineData(DevicePlatform.tvOS)]
    [InlineData(DevicePlatform.visionOS)]
    public void ExportImport_RoundTripsAProfileOfEachPlatform(DevicePlatform platform)
    {
        using var f = new EngineSimFixture();
        var settings = For(platform) with
        {
            AwaitFinalConfiguration = false,
            SupportEmail = "help@contoso.com",
            Department = "IT",
            HiddenScreens = [SetupScreens.On(platform).First().Screen],
            AdditionalSkipKeys = ["FutureKey"],
            Language = platform is DevicePlatform.macOS or DevicePlatform.tvOS ? "de" : null,
            Region = platform is DevicePlatform.macOS or DevicePlatform.tvOS ? "DE" : null,
            AutoAdvanceSetup = platform is DevicePlatform.macOS or DevicePlatform.tvOS ? true : null,
            ReturnToService = platform is DevicePlatform.iOS or DevicePlatform.visionOS ? true : null,
            DoNotUseProfileFromBackup = platform is DevicePlatform.iOS or DevicePlatform.visionOS ? true : null,
        };
        var original = f.Engine.Profiles.New("iPads", "Original", settings)!;
        var path = f.Temp.File("profile.json");
        f.Engine.Profiles.Export("Original", "iPads", path);

        var imported = f.Engine.Profiles.Import("iPads", path, "Copy")!;

        Assert.Equal(platform, imported.Platform);
        Assert.Equal(original.Settings, imported.Settings);
        Assert.False(imported.AwaitFinalConfiguration);
        Assert.Contains("\"Platform\": \"" + platform + "\"", File.ReadAllText(path));
    }

    [Fact]
    public void Import_OfAVersion1File_GivesAnIosProfileThatAwaitsFinalConfiguration()
    {
        using var f = new EngineSimFixture();
        var path = f.Temp.File("v1.json");
        File.WriteAllText(path, """
            { "$type": "AdeEnrollment.Profile", "SchemaVersion": 1, "Name": "Old", "Settings": { "UserAffinity": "WithUserAffinity", "HiddenScreens": [ "Siri" ] } }
            """);

        var imported = f.Engine.Profiles.Import("iPads", path, null)!;

        Assert.Equal((DevicePlatform.iOS, true), (imported.Platform, imported.AwaitFinalConfiguration));
        Assert.Equal([SetupScreen.Siri], imported.HiddenScreens);
    }
}

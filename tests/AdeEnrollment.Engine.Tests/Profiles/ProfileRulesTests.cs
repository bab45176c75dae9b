using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Tests.Profiles;

/// <summary>Every profile rule and warning as <see cref="ProfileRules"/> enforces it, with the boundary values.</summary>
public class ProfileRulesTests
{
    private static readonly ProfileSettings User = new() { UserAffinity = UserAffinity.WithUserAffinity };
    private static readonly ProfileSettings Kiosk = new() { UserAffinity = UserAffinity.WithoutUserAffinity };
    private static readonly ProfileSettings Shared = Kiosk with { SharedIPad = true };

    private static IReadOnlyList<string> Check(ProfileSettings s) => ProfileRules.Validate(ProfileRules.Normalise(s));

    /// <summary>Asserts the settings are refused with ProfileSettingInvalid naming the setting, the value and the rule.</summary>
    private static AdeException Refused(ProfileSettings s, string setting, string value, string rule)
    {
        var ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => Check(s));
        Assert.Equal(AdeErrorCategory.InvalidArgument, ex.Category);
        Assert.Equal(setting, ex.Target);
        Assert.Contains($"-{setting} '{value}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains(rule, ex.Message, StringComparison.Ordinal);
        return ex;
    }

    private static void NoWarningAbout(IReadOnlyList<string> warnings, string fragment)
        => Assert.DoesNotContain(warnings, w => w.Contains(fragment, StringComparison.OrdinalIgnoreCase));

    private static string WarningAbout(IReadOnlyList<string> warnings, string fragment)
        => Assert.Single(warnings, w => w.Contains(fragment, StringComparison.OrdinalIgnoreCase));

    internal static string Certificate()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=Apple Configurator test", key, HashAlgorithmName.SHA256);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        return Convert.ToBase64String(certificate.Export(X509ContentType.Cert));
    }

    // ---- free text -------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("Department", "IT\u001b[31m")]
    [InlineData("DepartmentPhone", "\u001b[5m555")]
    [InlineData("CompanyPortalVppToken", "\u001b]0;x\u0007")]
    [InlineData("DeviceNameTemplate", "{{SERIAL}}\u202e")]
    [InlineData("Description", "Kiosk\r\u001b[2J")]
    [InlineData("Department", "IT\nOps")]
    public void Free_text_with_control_or_invisible_formatting_characters_is_refused_and_never_shown_raw(string setting, string value)
    {
        var s = setting switch
        {
            "Department" => User with { Department = value },
            "DepartmentPhone" => User with { DepartmentPhone = value },
            "CompanyPortalVppToken" => User with { CompanyPortalVppToken = value },
            "DeviceNameTemplate" => User with { DeviceNameTemplate = value },
            _ => User with { Description = value },
        };
        var ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => Check(s));
        Assert.Equal((AdeErrorCategory.InvalidArgument, setting), (ex.Category, ex.Target));
        Assert.Contains("control or invisible formatting characters", ex.Message, StringComparison.Ordinal);
        Assert.False(TextRules.HasUnsafe(ex.Message));
    }

    [Fact]
    public void A_pasted_VPP_token_file_or_an_endless_list_of_skip_keys_is_refused_and_the_message_stays_short()
    {
        var vpp = AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => Check(User with { CompanyPortalVppToken = new string('A', 100_000) }));
        Assert.Contains("at most 256 characters", vpp.Message, StringComparison.Ordinal);
        Assert.True(vpp.Message.Length < 1_000);
        Check(User with { CompanyPortalVppToken = new string('A', 256) }); // a long name is still a name

        var keys = Enumerable.Range(0, 101).Select(i => $"Pane{i}").ToList();
        var many = AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => Check(User with { AdditionalSkipKeys = keys }));
        Assert.Contains("-AdditionalSkipKey '101 keys' is not valid: give at most 100 keys", many.Message, StringComparison.Ordinal);
        Check(User with { AdditionalSkipKeys = keys.Take(100).ToList() });
    }

    [Fact]
    public void A_description_keeps_its_line_breaks_windows_ones_too_and_tabs()
    {
        var s = ProfileRules.Normalise(Kiosk with { Description = "Kiosk iPads\r\n\tfront desk\nsecond floor" });
        ProfileRules.Validate(s); // not refused
        Assert.Equal("Kiosk iPads\r\n\tfront desk\nsecond floor", s.Description);
    }

    [Fact]
    public void Free_text_an_earlier_version_stored_is_not_checked_again_when_other_settings_change()
    {
        var stored = ProfileRules.Normalise(User with { Department = "IT\nOps" }); // as an earlier version let it be stored
        ProfileRules.Validate(stored with { DepartmentPhone = "555 0100" }, stored); // a change of another setting: not refused
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => ProfileRules.Validate(stored with { Department = "IT\nSales" }, stored));
    }

    [Fact]
    public void A_change_warns_only_about_what_it_makes_not_again_about_what_the_profile_had()
    {
        var stored = ProfileRules.Normalise(User with { Supervised = false, Department = "IT" });
        Assert.NotEmpty(ProfileRules.Validate(stored)); // the stored profile warns when it is made
        var renamedOnly = stored with { Department = "Ops" };
        Assert.Empty(ProfileRules.Validate(renamedOnly, stored));
        var newWarning = stored with { CompanyPortalVppToken = "Contoso VPP" };
        Assert.Equal([Assert.Single(ProfileRules.Validate(newWarning), w => w.Contains("VPP token 'Contoso VPP'", StringComparison.Ordinal))],
            ProfileRules.Validate(newWarning, stored));
    }

    // ---- defaults ----------------------------------------------------------------------------------------------

    [Fact]
    public void Normalise_WithUserAffinity_DefaultsToSupervisedModernAuthCompanyPortalAndSyncWithAll()
    {
        var n = ProfileRules.Normalise(User);
        Assert.Equal(AuthenticationMethod.SetupAssistantModern, n.AuthenticationMethod);
        Assert.True(n.InstallCompanyPortal);
        Assert.True(n.Supervised);
        Assert.False(n.LockedEnrollment);
        Assert.False(n.SharedIPad);
        Assert.False(n.RunCompanyPortalInSingleAppMode);
        Assert.Null(n.RequireTemporarySession);
        Assert.Equal(SyncWithComputers.AllowAll, n.SyncWithComputers);
        Assert.Null(n.HiddenScreens);
        Assert.Null(n.ConfiguratorCertificates);
        Assert.Empty(ProfileRules.Validate(n));
    }

    [Fact]
    public void Normalise_WithoutUserAffinity_HasNoAuthenticationAndNoCompanyPortal()
    {
        var n = ProfileRules.Normalise(Kiosk);
        Assert.Null(n.AuthenticationMethod);
        Assert.False(n.InstallCompanyPortal);
        Assert.True(n.Supervised);
        Assert.Null(n.RequireTemporarySession);
        Assert.Empty(ProfileRules.Validate(n));
    }

    [Fact]
    public void Normalise_SharedIPad_DefaultsRequireTemporarySessionToOff()
    {
        var n = ProfileRules.Normalise(Shared);
        Assert.False(n.RequireTemporarySession);
        Assert.True(n.Supervised);
    }

    [Fact]
    public void Normalise_KeepsGivenValues_TurnsEmptyIntoNotSet_AndSortsAndDeDuplicatesPanes()
    {
        var n = ProfileRules.Normalise(User with
        {
            AuthenticationMethod = AuthenticationMethod.CompanyPortal,
            InstallCompanyPortal = false,
            Supervised = false,
            Description = "",
            DeviceNameTemplate = "",
            CellularDataPlanUrl = "",
            Department = "",
            DepartmentPhone = "",
            CompanyPortalVppToken = "",
            ConfiguratorCertificates = [],
            HiddenScreens = [SetupScreen.Siri, SetupScreen.Passcode, SetupScreen.Siri],
        });
        Assert.Equal(AuthenticationMethod.CompanyPortal, n.AuthenticationMethod);
        Assert.False(n.InstallCompanyPortal);
        Assert.False(n.Supervised);
        Assert.Null(n.Description);
        Assert.Null(n.DeviceNameTemplate);
        Assert.Null(n.CellularDataPlanUrl);
        Assert.Null(n.Department);
        Assert.Null(n.DepartmentPhone);
        Assert.Null(n.CompanyPortalVppToken);
        Assert.Null(n.ConfiguratorCertificates);
        Assert.Equal([SetupScreen.Passcode, SetupScreen.Siri], n.HiddenScreens);
        Assert.Null(ProfileRules.Normalise(User with { HiddenScreens = [] }).HiddenScreens);
    }

    [Fact]
    public void Normalise_IsIdempotent()
    {
        var once = ProfileRules.Normalise(Shared with { MaximumCachedUsers = 5, HiddenScreens = [SetupScreen.Zoom, SetupScreen.AppleId] });
        Assert.Equal(once, ProfileRules.Normalise(once));
    }

    // ---- name and description -----------------------------------------------------------------------------------

    [Fact]
    public void Name_125CharactersIsAccepted_126IsRefused()
    {
        ProfileRules.ValidateName(new string('n', 125));
        var name = new string('n', 126);
        var ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => ProfileRules.ValidateName(name));
        Assert.Equal("Name", ex.Target);
        Assert.Contains($"-Name '{name}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("1 to 125 characters", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData(" Staff")]
    [InlineData("Staff ")]
    public void Name_EmptyOrWithOuterSpaces_IsRefused(string? name)
    {
        var ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => ProfileRules.ValidateName(name));
        Assert.Equal("Name", ex.Target);
        Assert.Contains($"-Name '{name}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Description_Over1000Characters_IsRefused()
    {
        Assert.Empty(Check(User with { Description = new string('d', 1000) }));
        Refused(User with { Description = new string('d', 1001) }, "Description", new string('d', 40) + "…", "at most 1000 characters");
    }

    // ---- user affinity and authentication -----------------------------------------------------------------------

    [Fact]
    public void UserAffinity_IsRequired_AndTheMessageSaysSoRatherThanShowingAnEmptyValue()
    {
        var ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => Check(new ProfileSettings()));
        Assert.Equal(("UserAffinity", AdeErrorCategory.InvalidArgument), (ex.Target, ex.Category));
        Assert.StartsWith("-UserAffinity is required: choose WithUserAffinity or WithoutUserAffinity", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(AuthenticationMethod.CompanyPortal)]
    [InlineData(AuthenticationMethod.SetupAssistantLegacy)]
    [InlineData(AuthenticationMethod.SetupAssistantModern)]
    public void AuthenticationMethod_IsAllowedWithUserAffinity_AndRefusedWithout(AuthenticationMethod method)
    {
        Check(User with { AuthenticationMethod = method });
        Refused(Kiosk with { AuthenticationMethod = method }, "AuthenticationMethod", method.ToString(), "only to profiles WithUserAffinity");
    }

    [Fact]
    public void InstallCompanyPortal_WithoutUserAffinity_IsRefused()
    {
        Check(Kiosk with { InstallCompanyPortal = false });
        Refused(Kiosk with { InstallCompanyPortal = true }, "InstallCompanyPortal", "True", "WithUserAffinity");
    }

    [Fact]
    public void LegacyAuthentication_WithoutCompanyPortal_Warns()
    {
        var legacy = User with { AuthenticationMethod = AuthenticationMethod.SetupAssistantLegacy };
        var w = WarningAbout(Check(legacy with { InstallCompanyPortal = false }), "Company Portal");
        Assert.Contains("conditional access", w, StringComparison.Ordinal);
        Assert.Empty(Check(legacy with { InstallCompanyPortal = true }));
        Assert.Empty(Check(User with { AuthenticationMethod = AuthenticationMethod.SetupAssistantModern, InstallCompanyPortal = false }));
    }

    // ---- Company Portal ------------------------------------------------------------------------------------------

    [Fact]
    public void CompanyPortalVppToken_NeedsInstallCompanyPortal_AndWarnsAboutLicencesAndExpiry()
    {
        Refused(User with { InstallCompanyPortal = false, CompanyPortalVppToken = "Contoso VPP" }, "CompanyPortalVppToken", "Contoso VPP", "InstallCompanyPortal");
        var w = WarningAbout(Check(User with { CompanyPortalVppToken = "Contoso VPP" }), "VPP token");
        Assert.Contains("Contoso VPP", w, StringComparison.Ordinal);
        Assert.Contains("licences", w, StringComparison.Ordinal);
        Assert.Contains("expire", w, StringComparison.Ordinal);
    }

    [Fact]
    public void SingleAppMode_NeedsAVppToken_AndWarnsAboutIos1131AndMfa()
    {
        Refused(User with { RunCompanyPortalInSingleAppMode = true }, "RunCompanyPortalInSingleAppMode", "True", "CompanyPortalVppToken");
        var w = WarningAbout(Check(User with { CompanyPortalVppToken = "VPP", RunCompanyPortalInSingleAppMode = true }), "single app mode");
        Assert.Contains("11.3.1", w, StringComparison.Ordinal);
        Assert.Contains("multi-factor", w, StringComparison.Ordinal);
        NoWarningAbout(Check(User with { CompanyPortalVppToken = "VPP", RunCompanyPortalInSingleAppMode = false }), "single app mode");
    }

    // ---- supervision and locked enrollment ------------------------------------------------------------------------

    [Fact]
    public void SupervisedOff_WarnsThatIos13DevicesAreSupervisedRegardless()
    {
        var w = WarningAbout(Check(User with { Supervised = false }), "Supervised is off");
        Assert.Contains("13", w, StringComparison.Ordinal);
        Assert.Contains("regardless", w, StringComparison.Ordinal);
        Assert.Contains("ignore AwaitFinalConfiguration", w, StringComparison.Ordinal); // Apple ignores it on unsupervised devices
        Assert.DoesNotContain("AwaitFinalConfiguration", WarningAbout(Check(User with { Supervised = false, AwaitFinalConfiguration = false }), "Supervised is off"), StringComparison.Ordinal);
        NoWarningAbout(Check(User with { Supervised = true }), "Supervised");
    }

    [Fact]
    public void LockedEnrollment_RequiresSupervised()
    {
        Assert.Empty(Check(User with { LockedEnrollment = true }));
        Assert.Empty(Check(User with { LockedEnrollment = true, Supervised = true }));
        Refused(User with { LockedEnrollment = true, Supervised = false }, "LockedEnrollment", "True", "requires Supervised");
    }

    // ---- Shared iPad ----------------------------------------------------------------------------------------------

    [Fact]
    public void SharedIPad_RequiresWithoutUserAffinity()
        => Refused(User with { SharedIPad = true }, "SharedIPad", "True", "requires WithoutUserAffinity");

    [Fact]
    public void SharedIPad_RequiresSupervised()
        => Refused(Shared with { Supervised = false }, "SharedIPad", "True", "requires Supervised");

    [Fact]
    public void SharedIPad_WarnsThatItNeedsIPadOs134()
    {
        var w = WarningAbout(Check(Shared), "Shared iPad");
        Assert.Contains("iPadOS 13.4", w, StringComparison.Ordinal);
        Assert.Contains("iPads", w, StringComparison.Ordinal);
        NoWarningAbout(Check(Kiosk), "Shared iPad");
    }

    public static TheoryData<string, ProfileSettings> SharedOnlySettings() => new()
    {
        { "MaximumCachedUsers", Kiosk with { MaximumCachedUsers = 5 } },
        { "PasscodeLockGracePeriodSeconds", Kiosk with { PasscodeLockGracePeriodSeconds = 60 } },
        { "UserSessionTimeoutSeconds", Kiosk with { UserSessionTimeoutSeconds = 300 } },
        { "RequireTemporarySession", Kiosk with { RequireTemporarySession = true } },
        { "MaximumCachedUsers", User with { MaximumCachedUsers = 5 } },
    };

    [Theory]
    [MemberData(nameof(SharedOnlySettings))]
    public void SharedIPadSettings_WithoutSharedIPad_AreRefused(string setting, ProfileSettings s)
    {
        var ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => Check(s));
        Assert.Equal(setting, ex.Target);
        Assert.Contains($"-{setting} '", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Shared iPad", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0, false)]
    [InlineData(1, true)]
    [InlineData(24, true)]
    [InlineData(25, false)]
    [InlineData(-1, false)]
    public void MaximumCachedUsers_Is1To24(int users, bool valid)
    {
        var s = Shared with { MaximumCachedUsers = users };
        if (valid)
        {
            Check(s);
        }
        else
        {
            Refused(s, "MaximumCachedUsers", users.ToString(), "from 1 to 24 users");
        }
    }

    [Theory]
    [InlineData(-1, false)]
    [InlineData(0, true)]
    [InlineData(14400, true)]
    [InlineData(14401, false)]
    public void PasscodeLockGracePeriodSeconds_Is0To14400(int seconds, bool valid)
    {
        var s = Shared with { PasscodeLockGracePeriodSeconds = seconds };
        if (valid)
        {
            Check(s);
        }
        else
        {
            Refused(s, "PasscodeLockGracePeriodSeconds", seconds.ToString(), "from 0 to 14400 seconds");
        }
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(1, false)]
    [InlineData(29, false)]
    [InlineData(30, true)]
    [InlineData(86400, true)]
    [InlineData(-1, false)]
    public void UserSessionTimeoutSeconds_IsZeroOrAtLeast30(int seconds, bool valid)
    {
        var s = Shared with { UserSessionTimeoutSeconds = seconds };
        if (valid)
        {
            Check(s);
        }
        else
        {
            Refused(s, "UserSessionTimeoutSeconds", seconds.ToString(), "0 (never) or at least 30 seconds");
        }
    }

    [Theory]
    [InlineData(0, true)]
    [InlineData(29, false)]
    [InlineData(30, true)]
    [InlineData(-5, false)]
    public void TemporarySessionTimeoutSeconds_IsZeroOrAtLeast30(int seconds, bool valid)
    {
        var s = Shared with { RequireTemporarySession = true, TemporarySessionTimeoutSeconds = seconds };
        if (valid)
        {
            Check(s);
        }
        else
        {
            Refused(s, "TemporarySessionTimeoutSeconds", seconds.ToString(), "0 (never) or at least 30 seconds");
        }
    }

    [Fact]
    public void TemporarySessionTimeoutSeconds_NeedsRequireTemporarySession()
    {
        Refused(Shared with { TemporarySessionTimeoutSeconds = 60 }, "TemporarySessionTimeoutSeconds", "60", "needs RequireTemporarySession");
        Refused(Shared with { RequireTemporarySession = false, TemporarySessionTimeoutSeconds = 60 }, "TemporarySessionTimeoutSeconds", "60", "needs RequireTemporarySession");
    }

    [Fact]
    public void RequireTemporarySession_Alone_DoesNotWarnAboutCancelledSettings()
        => NoWarningAbout(Check(Shared with { RequireTemporarySession = true, TemporarySessionTimeoutSeconds = 600 }), "cancels");

    public static TheoryData<string, ProfileSettings> CancelledBy() => new()
    {
        { "MaximumCachedUsers", Shared with { RequireTemporarySession = true, MaximumCachedUsers = 3 } },
        { "PasscodeLockGracePeriodSeconds", Shared with { RequireTemporarySession = true, PasscodeLockGracePeriodSeconds = 0 } },
        { "UserSessionTimeoutSeconds", Shared with { RequireTemporarySession = true, UserSessionTimeoutSeconds = 0 } },
    };

    [Theory]
    [MemberData(nameof(CancelledBy))]
    public void RequireTemporarySession_WithACancelledSetting_WarnsNamingTheThreeSettings(string given, ProfileSettings s)
    {
        var w = WarningAbout(Check(s), "cancels");
        Assert.Contains(given, w, StringComparison.Ordinal);
        foreach (var setting in new[] { "MaximumCachedUsers", "PasscodeLockGracePeriodSeconds", "UserSessionTimeoutSeconds" })
        {
            Assert.Contains(setting, w, StringComparison.Ordinal);
        }

        // The same setting without temporary sessions is just a setting.
        NoWarningAbout(Check(s with { RequireTemporarySession = false }), "cancels");
    }

    // ---- sync with computers --------------------------------------------------------------------------------------

    [Fact]
    public void AllowByCertificate_RequiresAtLeastOneConfiguratorCertificate()
    {
        Refused(User with { SyncWithComputers = SyncWithComputers.AllowByCertificate }, "SyncWithComputers", "AllowByCertificate", "at least one Apple Configurator certificate");
        Refused(User with { SyncWithComputers = SyncWithComputers.AllowByCertificate, ConfiguratorCertificates = [] }, "SyncWithComputers", "AllowByCertificate", "at least one");
        Assert.Empty(Check(User with { SyncWithComputers = SyncWithComputers.AllowByCertificate, ConfiguratorCertificates = [Certificate()] }));
    }

    [Theory]
    [InlineData(SyncWithComputers.AllowAll)]
    [InlineData(SyncWithComputers.DenyAll)]
    public void ConfiguratorCertificates_WithoutAllowByCertificate_AreRefused(SyncWithComputers sync)
    {
        Assert.Empty(Check(User with { SyncWithComputers = sync }));
        Refused(User with { SyncWithComputers = sync, ConfiguratorCertificates = [Certificate()] }, "ConfiguratorCertificate", "1 certificate(s)", "AllowByCertificate");
    }

    [Theory]
    [InlineData("bm90IGEgY2VydGlmaWNhdGU=")]
    [InlineData("not base64 at all!")]
    public void ConfiguratorCertificate_ThatIsNotAnX509Certificate_IsRefused(string certificate)
        => Refused(User with { SyncWithComputers = SyncWithComputers.AllowByCertificate, ConfiguratorCertificates = [Certificate(), certificate] },
            "ConfiguratorCertificate", certificate, "not an X.509 certificate");

    // ---- device name ----------------------------------------------------------------------------------------------

    [Fact]
    public void DeviceNameTemplate_63CharactersIsAccepted_64IsRefused()
    {
        var prefix = "Contoso-{{DEVICETYPE}}-{{SERIAL}}-"; // variables count as written
        var ok = prefix + new string('x', 63 - prefix.Length);
        Assert.Equal(63, ok.Length);
        Assert.Empty(Check(User with { DeviceNameTemplate = ok }));
        Refused(User with { DeviceNameTemplate = ok + "x" }, "DeviceNameTemplate", ok + "x", "at most 63 characters");
    }

    [Theory]
    [InlineData("{{SERIAL}}")]
    [InlineData("iPad {{DEVICETYPE}} {{SERIAL}}")]
    [InlineData("Kiosk-01")]
    [InlineData("{single} braces")]
    public void DeviceNameTemplate_WithKnownVariablesOrNone_IsAccepted(string template)
        => Assert.Empty(Check(User with { DeviceNameTemplate = template }));

    [Theory]
    [InlineData("{{IMEI}}", "{{IMEI}}")]
    [InlineData("iPad-{{serial}}", "{{serial}}")]
    [InlineData("{{SERIAL}}-{{USERNAME}}", "{{USERNAME}}")]
    [InlineData("{{ SERIAL }}", "{{ SERIAL }}")]
    [InlineData("{{}}", "{{}}")]
    public void DeviceNameTemplate_WithAnUnknownVariable_IsRefusedNamingIt(string template, string variable)
        => Refused(User with { DeviceNameTemplate = template }, "DeviceNameTemplate", template, $"'{variable}' is not a known variable");

    [Theory]
    [InlineData("iPad-{{SERIAL")]
    [InlineData("iPad-SERIAL}}")]
    [InlineData("{{SERIAL}}-{{DEVICETYPE")]
    public void DeviceNameTemplate_WithUnclosedBraces_IsRefused(string template)
        => Refused(User with { DeviceNameTemplate = template }, "DeviceNameTemplate", template, "not closed");

    // ---- cellular data plan, department ---------------------------------------------------------------------------

    [Fact]
    public void CellularDataPlanUrl_MustBeHttps()
    {
        Assert.Empty(Check(User with { CellularDataPlanUrl = "https://carrier.example/activate" }));
        Refused(User with { CellularDataPlanUrl = "http://carrier.example/activate" }, "CellularDataPlanUrl", "http://carrier.example/activate", "https://");
        Refused(User with { CellularDataPlanUrl = "carrier.example/activate" }, "CellularDataPlanUrl", "carrier.example/activate", "https://");
        Refused(User with { CellularDataPlanUrl = "ftp://carrier.example" }, "CellularDataPlanUrl", "ftp://carrier.example", "https://");
    }

    [Fact]
    public void Department_125CharactersIsAccepted_126IsRefused()
    {
        Assert.Empty(Check(User with { Department = new string('D', 125) }));
        Refused(User with { Department = new string('D', 126) }, "Department", new string('D', 40) + "…", "at most 125 characters");
    }

    [Fact]
    public void DepartmentPhone_50CharactersIsAccepted_51IsRefused()
    {
        Assert.Empty(Check(User with { DepartmentPhone = new string('5', 50) }));
        Refused(User with { DepartmentPhone = new string('5', 51) }, "DepartmentPhone", new string('5', 51), "at most 50 characters");
    }

    // ---- hidden screens -------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(SetupScreen.Passcode)]
    [InlineData(SetupScreen.TouchIdFaceId)]
    public void HidingPasscodeOrTouchIdFaceId_WarnsThatItDoesNotWorkOn145(SetupScreen screen)
    {
        var w = WarningAbout(Check(User with { HiddenScreens = [SetupScreen.Siri, screen] }), "14.5");
        Assert.Contains("Passcode", w, StringComparison.Ordinal);
        Assert.Contains("Touch ID/Face ID", w, StringComparison.Ordinal);
    }

    [Fact]
    public void HidingOtherPanes_DoesNotWarn()
    {
        // Every other current iOS pane (deprecated ones warn that they no longer have an effect).
        var others = SetupScreens.On(DevicePlatform.iOS).Where(r => r.On(DevicePlatform.iOS)!.Deprecated is null)
            .Select(r => r.Screen).Where(s => s is not (SetupScreen.Passcode or SetupScreen.TouchIdFaceId)).ToList();
        Assert.Equal(33, others.Count);
        Assert.Empty(Check(User with { HiddenScreens = others }));
    }

    // ---- values outside the enumerations (an engine host other than PowerShell) ------------------------------------

    public static TheoryData<string, ProfileSettings> UndefinedEnumValues() => new()
    {
        { "UserAffinity", new ProfileSettings { UserAffinity = (UserAffinity)7 } },
        { "AuthenticationMethod", User with { AuthenticationMethod = (AuthenticationMethod)9 } },
        { "SyncWithComputers", User with { SyncWithComputers = (SyncWithComputers)5 } },
        { "HiddenScreen", User with { HiddenScreens = [SetupScreen.Siri, (SetupScreen)99] } },
    };

    [Theory]
    [MemberData(nameof(UndefinedEnumValues))]
    public void AValueOutsideAnEnumeration_IsRefused(string setting, ProfileSettings s)
    {
        var ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => Check(s));
        Assert.Equal(setting, ex.Target);
        Assert.Contains("use one of", ex.Message, StringComparison.Ordinal);
    }

    // ---- a full profile ---------------------------------------------------------------------------------------------

    [Fact]
    public void AProfileUsingEverySettingConsistently_IsValid()
    {
        var warnings = Check(User with
        {
            Description = "Staff iPhones",
            AuthenticationMethod = AuthenticationMethod.SetupAssistantModern,
            InstallCompanyPortal = true,
            LockedEnrollment = true,
            SyncWithComputers = SyncWithComputers.DenyAll,
            DeviceNameTemplate = "Staff-{{SERIAL}}",
            CellularDataPlanUrl = "https://carrier.example/activate",
            Department = "IT",
            DepartmentPhone = "+31 20 555 0100",
            HiddenScreens = [SetupScreen.Siri, SetupScreen.ApplePay],
        });
        Assert.Empty(warnings);
    }

    private static readonly ProfileSettings Mac = Kiosk with { Platform = DevicePlatform.macOS };

    [Theory]
    [InlineData("en", "en")]
    [InlineData("DE", "de")] // case is normalised
    [InlineData("deu", "deu")] // ISO 639-2, terminology
    [InlineData("ger", "ger")] // ISO 639-2, bibliographic
    [InlineData(" fr ", "fr")]
    public void A_language_is_an_ISO_639_code(string given, string stored)
    {
        var s = ProfileRules.Normalise(Mac with { Language = given });
        ProfileRules.Validate(s);
        Assert.Equal(stored, s.Language);
    }

    [Theory]
    [InlineData("xx", "xx", "Tab after -Language lists them")]
    [InlineData("qqq", "qqq", "Tab after -Language lists them")]
    [InlineData("English", "english", "perhaps 'en' (English)")]
    [InlineData("en-US", "en-us", "perhaps 'en' (English): give the language alone; the region is a setting of its own (-Region)")]
    [InlineData("de_CH", "de_ch", "perhaps 'de' (German)")]
    public void A_language_that_is_no_ISO_639_code_is_refused_with_the_code_probably_meant(string given, string shown, string hint)
        => Refused(Mac with { Language = given }, "Language", shown, hint);

    [Theory]
    [InlineData("us", "US")]
    [InlineData("GB", "GB")]
    [InlineData("CH", "CH")]
    public void A_region_is_an_ISO_3166_alpha_2_code(string given, string stored)
    {
        var s = ProfileRules.Normalise(Mac with { Region = given });
        ProfileRules.Validate(s);
        Assert.Equal(stored, s.Region);
    }

    [Theory]
    [InlineData("UK", "UK", "perhaps 'GB' (United Kingdom)")] // the United Kingdom's ISO code is GB
    [InlineData("DEU", "DEU", "perhaps 'DE' (Germany)")] // alpha-3
    [InlineData("Switzerland", "SWITZERLAND", "perhaps 'CH' (Switzerland)")]
    [InlineData("XX", "XX", "Tab after -Region lists them")]
    [InlineData("EU", "EU", "Tab after -Region lists them")]
    public void A_region_that_is_no_ISO_3166_code_is_refused_with_the_code_probably_meant(string given, string shown, string hint)
        => Refused(Mac with { Region = given }, "Region", shown, hint);

    [Fact]
    public void A_code_stored_before_the_lists_were_checked_does_not_block_a_change_of_other_settings_but_a_new_one_is_checked()
    {
        var stored = ProfileRules.Normalise(Mac with { Language = "xx", Region = "UK" }); // an earlier version checked only the shape
        var changed = ProfileRules.Normalise(stored with { Department = "IT" });
        ProfileRules.Validate(changed, stored);

        AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => ProfileRules.Validate(ProfileRules.Normalise(stored with { Region = "XK2" }), stored));
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => ProfileRules.Validate(ProfileRules.Normalise(stored with { Language = "yy" }), stored));
    }

    [Fact]
    public void The_code_lists_hold_the_ISO_639_languages_and_ISO_3166_1_regions_a_device_can_be_set_to()
    {
        Assert.Equal(183, IsoCodes.Languages.Count(l => l.Code.Length == 2)); // ISO 639-1 without bh, a group of languages
        Assert.Equal(250, IsoCodes.Regions.Count()); // ISO 3166-1 and Kosovo (XK), which Apple's region list has
        Assert.Equal("Kosovo", IsoCodes.RegionName("XK"));
        Assert.All(new[] { "mul", "und", "zxx", "mis", "afa", "bh" }, code => Assert.Null(IsoCodes.LanguageName(code))); // not one language
        Assert.All(IsoCodes.Regions, r => Assert.Matches("^[A-Z]{2}$", r.Code));
        Assert.All(IsoCodes.Languages, l => Assert.Matches("^[a-z]{2,3}$", l.Code));
        Assert.Equal("German", IsoCodes.LanguageName("de"));
        Assert.Equal("Switzerland", IsoCodes.RegionName("CH"));
    }
}

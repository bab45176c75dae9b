using System.Text.Json;
using System.Text.Json.Nodes;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Tests.Profiles;

/// <summary>New/Get/Set/Remove-AdeProfile, Set-AdeDefaultProfile and Export/Import-AdeProfile through the engine.</summary>
public sealed class ProfileServiceTests : IDisposable
{
    private static readonly ProfileSettings User = new() { UserAffinity = UserAffinity.WithUserAffinity };
    private static readonly ProfileSettings Kiosk = new() { UserAffinity = UserAffinity.WithoutUserAffinity };
    private static readonly TimeSpan Quarter = TimeSpan.FromMinutes(15);

    private readonly TestStore store = new();

    public void Dispose() => store.Dispose();

    private ProfileService Profiles => store.Engine.Profiles;

    private ProfileChangeService Changes => store.Engine.ProfileChanges;

    /// <summary>A user-affinity profile with every setting that goes with user affinity.</summary>
    private static ProfileSettings EveryUserSetting() => User with
    {
        Description = "Staff iPhones — profiles as code",
        AuthenticationMethod = AuthenticationMethod.SetupAssistantLegacy,
        InstallCompanyPortal = true,
        CompanyPortalVppToken = "Contoso VPP",
        RunCompanyPortalInSingleAppMode = true,
        Supervised = true,
        LockedEnrollment = true,
        SyncWithComputers = SyncWithComputers.AllowByCertificate,
        ConfiguratorCertificates = [ProfileRulesTests.Certificate(), ProfileRulesTests.Certificate()],
        DeviceNameTemplate = "Staff-{{DEVICETYPE}}-{{SERIAL}}",
        CellularDataPlanUrl = "https://carrier.example/activate?plan=ade",
        Department = "IT Services",
        DepartmentPhone = "+31 20 555 0100",
        HiddenScreens = [SetupScreen.TermsOfAddress, SetupScreen.Passcode, SetupScreen.GetStarted, SetupScreen.iMessageAndFaceTime],
    };

    /// <summary>A Shared iPad profile with every Shared iPad setting.</summary>
    private static ProfileSettings EverySharedSetting() => Kiosk with
    {
        Description = "Classroom",
        InstallCompanyPortal = false,
        Supervised = true,
        LockedEnrollment = false,
        SharedIPad = true,
        MaximumCachedUsers = 24,
        PasscodeLockGracePeriodSeconds = 14_400,
        UserSessionTimeoutSeconds = 30,
        RequireTemporarySession = true,
        TemporarySessionTimeoutSeconds = 0,
        SyncWithComputers = SyncWithComputers.DenyAll,
        DeviceNameTemplate = "{{SERIAL}}",
        Department = "Classrooms",
        DepartmentPhone = "0",
        HiddenScreens = [SetupScreen.Siri],
    };

    // ---- New / Get -----------------------------------------------------------------------------------------------

    [Fact]
    public void New_StoresTheNormalisedSettings_WithTheTokensScopeTags_AndGetFindsIt()
    {
        var token = store.AddToken("Contoso").Token;
        store.Tokens.SetToken(new SetTokenArgs("Contoso", ScopeTags: ["Paris", "Lyon"]));

        var p = Profiles.New("Contoso", "Staff", User with { Description = "for staff" })!;

        Assert.Equal("Staff", p.Name);
        Assert.Equal(("Contoso", token.Id), (p.Token, p.TokenId));
        Assert.Equal(ProfileRules.Normalise(User with { Description = "for staff" }), p.Settings);
        Assert.Equal("for staff", p.Description);
        Assert.Equal(UserAffinity.WithUserAffinity, p.UserAffinity);
        Assert.Equal(AuthenticationMethod.SetupAssistantModern, p.AuthenticationMethod);
        Assert.True(p.Supervised);
        Assert.False(p.LockedEnrollment);
        Assert.False(p.SharedIPad);
        Assert.Equal(SyncWithComputers.AllowAll, p.SyncWithComputers);
        Assert.Empty(p.HiddenScreens);
        Assert.Equal(["Lyon", "Paris"], p.ScopeTags.Order());
        Assert.False(p.IsDefault);
        Assert.Equal(0, p.DeviceCount);
        Assert.Null(p.AppleProfileUuid); // defined at Apple only when first assigned
        Assert.Equal(store.Now, p.CreatedAt);
        Assert.Equal(store.Now, p.ModifiedAt);
        Assert.Contains(store.Host.ShouldProcessCalls, c => c.Target.Contains("Staff") && c.Target.Contains("Contoso") && c.Action == "Create enrollment profile");

        Assert.Equal(p.Id, Profiles.Get(tokenId: token.Id).Single().Id);
        Assert.Equal(p.Id, Profiles.Get(name: "st*").Single().Id);
        Assert.Empty(Profiles.Get(name: "Kiosk*"));
        Assert.Equal(p.Id, Profiles.Get(id: p.Id).Single().Id);
        Assert.Equal(p.Id, Profiles.Resolve(p.Id.ToString()).Id);
        Assert.Equal(p.Id, Profiles.Resolve("Staff", "Contoso").Id);
        Assert.Equal(1, store.Tokens.GetTokens("Contoso").Single().ProfileCount);
    }

    [Fact]
    public void New_WritesTheRulesWarningsToTheHost()
    {
        store.AddToken("Contoso");
        Profiles.New("Contoso", "Unsupervised", User with { Supervised = false, HiddenScreens = [SetupScreen.Passcode] });
        Assert.Contains(store.Host.Warnings, w => w.Contains("Supervised is off"));
        Assert.Contains(store.Host.Warnings, w => w.Contains("14.5"));
    }

    [Fact]
    public void New_WithWhatIf_StoresNothing()
    {
        store.AddToken("Contoso");
        store.Host.ShouldProcessAnswer = false;
        Assert.Null(Profiles.New("Contoso", "Staff", User));
        Assert.Equal(0, store.Count("profile"));
    }

    [Fact]
    public void New_WithAnInvalidSettingOrName_IsProfileSettingInvalid_AndChangesNothing()
    {
        store.AddToken("Contoso");
        var before = store.Snapshot();
        var ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => Profiles.New("Contoso", "Shared", Kiosk with { SharedIPad = true, MaximumCachedUsers = 25 }));
        Assert.Contains("-MaximumCachedUsers '25'", ex.Message, StringComparison.Ordinal);
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => Profiles.New("Contoso", new string('x', 126), User));
        Assert.Equal(before, store.Snapshot());
        Assert.DoesNotContain(store.Host.ShouldProcessCalls, c => c.Action == "Create enrollment profile");
    }

    [Fact]
    public void New_OnAnUnknownToken_IsTokenNotFound()
        => AdeAssert.Throws(nameof(ErrorCatalog.TokenNotFound), () => Profiles.New("Nope", "Staff", User));

    [Fact]
    public void Names_AreUniquePerTokenIgnoringCase_NotPerStore()
    {
        store.AddToken("Contoso");
        store.AddToken("Fabrikam");
        Profiles.New("Contoso", "Staff", User);
        var ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileNameConflict), () => Profiles.New("Contoso", "STAFF", Kiosk));
        Assert.Contains("'STAFF'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("'Contoso'", ex.Message, StringComparison.Ordinal);

        Assert.NotNull(Profiles.New("Fabrikam", "Staff", User));
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileAmbiguous), () => Profiles.Resolve("Staff"));
        Assert.Equal("Fabrikam", Profiles.Resolve("Staff", "Fabrikam").Token);
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileNotFound), () => Profiles.Resolve("Kiosk"));
    }

    [Fact]
    public void The1001stProfileOfAToken_IsProfileLimitReached_AndOtherTokensAreNotAffected()
    {
        var token = store.AddToken("Contoso").Token;
        store.AddToken("Fabrikam");
        store.Execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 999)
            INSERT INTO profile (id, token_id, name, settings, created_at, modified_at)
            SELECT printf('00000000-0000-0000-0000-%012d', i), $t, 'Bulk ' || i, '{"UserAffinity":"WithUserAffinity"}', 0, 0 FROM n
            """, ("$t", token.Id.ToString()));

        Assert.NotNull(Profiles.New("Contoso", "Profile 1000", User));
        Assert.Equal(1000, store.Tokens.GetTokens("Contoso").Single().ProfileCount);

        var ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileLimitReached), () => Profiles.New("Contoso", "Profile 1001", User));
        Assert.Equal(AdeErrorCategory.LimitsExceeded, ex.Category);
        Assert.Contains("1000", ex.Message, StringComparison.Ordinal);
        Assert.Equal(1000, store.Scalar<long>("SELECT count(*) FROM profile WHERE token_id = $t", ("$t", token.Id.ToString())));

        Assert.NotNull(Profiles.New("Fabrikam", "Profile 1001", User));
    }

    // ---- Set -----------------------------------------------------------------------------------------------------

    [Fact]
    public void Set_MergesTheGivenSettings_KeepsTheOthers_AndCanRename()
    {
        store.AddToken("Contoso");
        var p = Profiles.New("Contoso", "Staff", User with { Department = "IT", HiddenScreens = [SetupScreen.Siri] })!;
        store.Time.Advance(TimeSpan.FromMinutes(5));

        var changed = Changes.Set("Staff", "Contoso", "Staff iPhones", new ProfileSettings { LockedEnrollment = true, DepartmentPhone = "555" })!;

        Assert.Equal(p.Id, changed.Id);
        Assert.Equal("Staff iPhones", changed.Name);
        Assert.True(changed.LockedEnrollment);
        Assert.Equal("555", changed.Settings.DepartmentPhone);
        Assert.Equal("IT", changed.Settings.Department);
        Assert.Equal([SetupScreen.Siri], changed.HiddenScreens);
        Assert.Equal(p.CreatedAt, changed.CreatedAt);
        Assert.Equal(store.Now, changed.ModifiedAt);
        Assert.Contains(store.Host.ShouldProcessCalls, c => c.Action == "Change enrollment profile" && c.Target.Contains("Staff"));

        // Empty values clear a setting.
        var cleared = Changes.Set(p.Id.ToString(), null, null, new ProfileSettings { Department = "", HiddenScreens = [] })!;
        Assert.Null(cleared.Settings.Department);
        Assert.Empty(cleared.HiddenScreens);
    }

    [Fact]
    public void Set_ToWithoutUserAffinity_DropsTheAuthenticationMethodAndCompanyPortal()
    {
        store.AddToken("Contoso");
        Profiles.New("Contoso", "Staff", User with { AuthenticationMethod = AuthenticationMethod.CompanyPortal });
        var kiosk = Changes.Set("Staff", null, null, new ProfileSettings { UserAffinity = UserAffinity.WithoutUserAffinity })!;
        Assert.Equal(UserAffinity.WithoutUserAffinity, kiosk.UserAffinity);
        Assert.Null(kiosk.AuthenticationMethod);
        Assert.False(kiosk.Settings.InstallCompanyPortal);
    }

    [Fact]
    public void Set_TurningSharedIPadOff_DropsTheSharedIPadOnlySettings()
    {
        // The cmdlets cannot "clear" a number (a parameter not given is null), so leaving Shared iPad must drop them.
        store.AddToken("Contoso");
        Profiles.New("Contoso", "Class", EverySharedSetting());
        var single = Changes.Set("Class", null, null, new ProfileSettings { SharedIPad = false })!;
        Assert.False(single.SharedIPad);
        Assert.Null(single.Settings.MaximumCachedUsers);
        Assert.Null(single.Settings.PasscodeLockGracePeriodSeconds);
        Assert.Null(single.Settings.UserSessionTimeoutSeconds);
        Assert.NotEqual(true, single.Settings.RequireTemporarySession);
        Assert.Null(single.Settings.TemporarySessionTimeoutSeconds);
        Assert.Equal("Classrooms", single.Settings.Department); // other settings stay

        // ...and then on to user affinity.
        Assert.Equal(UserAffinity.WithUserAffinity, Changes.Set("Class", null, null, User)!.UserAffinity);
    }

    [Fact]
    public void Set_TurningTemporarySessionsOff_DropsTheirTimeout_AndKeepsTheOtherSharedIPadSettings()
    {
        store.AddToken("Contoso");
        Profiles.New("Contoso", "Class", EverySharedSetting());
        var p = Changes.Set("Class", null, null, new ProfileSettings { RequireTemporarySession = false })!;
        Assert.False(p.Settings.RequireTemporarySession);
        Assert.Null(p.Settings.TemporarySessionTimeoutSeconds);
        Assert.Equal(24, p.Settings.MaximumCachedUsers);
        Assert.True(p.SharedIPad);
    }

    [Fact]
    public void Set_LeavingAllowByCertificate_DropsTheConfiguratorCertificates()
    {
        store.AddToken("Contoso");
        Profiles.New("Contoso", "Staff", EveryUserSetting());
        var p = Changes.Set("Staff", null, null, new ProfileSettings { SyncWithComputers = SyncWithComputers.DenyAll })!;
        Assert.Equal(SyncWithComputers.DenyAll, p.SyncWithComputers);
        Assert.Null(p.Settings.ConfiguratorCertificates);
    }

    [Fact]
    public void Set_WithAnInvalidResultOrAConflictingName_ChangesNothing()
    {
        store.AddToken("Contoso");
        Profiles.New("Contoso", "Staff", User);
        Profiles.New("Contoso", "Kiosk", Kiosk);
        var before = store.Snapshot();

        AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => Changes.Set("Staff", null, null, new ProfileSettings { SharedIPad = true }));
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => Changes.Set("Kiosk", null, null, new ProfileSettings { LockedEnrollment = true, Supervised = false }));
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileNameConflict), () => Changes.Set("Staff", null, "kiosk", new ProfileSettings()));
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => Changes.Set("Staff", null, " Staff", new ProfileSettings()));
        Assert.Equal(before, store.Snapshot());
    }

    [Fact]
    public void Set_WithNothingChanged_AsksNothingAndWarnsNothing()
    {
        store.AddToken("Contoso");
        var p = Profiles.New("Contoso", "Staff", User with { Department = "IT" })!;
        store.Host.ShouldProcessCalls.Clear();
        store.Host.Warnings.Clear();
        var same = Changes.Set("Staff", null, "Staff", new ProfileSettings { Department = "IT", UserAffinity = UserAffinity.WithUserAffinity })!;
        Assert.Equal(p.ModifiedAt, same.ModifiedAt);
        Assert.Empty(store.Host.ShouldProcessCalls);
        Assert.Empty(store.Host.Warnings);
    }

    [Fact]
    public void Set_WithWhatIf_ChangesNothing()
    {
        store.AddToken("Contoso");
        Profiles.New("Contoso", "Staff", User);
        var before = store.Snapshot();
        store.Host.ShouldProcessAnswer = false;
        Assert.Null(Changes.Set("Staff", null, null, new ProfileSettings { LockedEnrollment = true }));
        Assert.Equal(before, store.Snapshot());
    }

    [Fact]
    public void Set_WhenNoDeviceReceivedTheProfile_DoesNotWarn()
    {
        store.AddToken("Contoso");
        Profiles.New("Contoso", "Staff", User);
        Changes.Set("Staff", null, null, new ProfileSettings { LockedEnrollment = true });
        Assert.Empty(store.Host.Warnings);
    }

    [Fact]
    public void Set_WarnsWithTheNumberOfDevicesThatReceivedTheProfile_ExceptWhenOnlyTheDeviceNameTemplateChanged()
    {
        using var f = new EngineSimFixture(devices: 5);
        f.Engine.Sync.Sync("iPads");
        f.Engine.Profiles.New("iPads", "Staff", User);
        var serials = f.AppleSerials().ToList();
        Assert.All(f.Engine.Assignments.Assign("Staff", null, serials.Take(4)).ToList(), r => Assert.Equal(AdeAssignmentStatus.Success, r.Status));
        f.Simulator.ActivateDevice(EngineSimFixture.Server, serials[0]);
        f.Simulator.ActivateDevice(EngineSimFixture.Server, serials[1]);
        f.Simulator.ActivateDevice(EngineSimFixture.Server, serials[2]);
        f.Advance(Quarter);
        f.Engine.Sync.Sync("iPads");
        var devices = f.Engine.Devices.Get(new DeviceQuery(f.Token.Id)).ToList();
        Assert.Equal(3, devices.Count(d => d.ProfileStatus == AdeProfileStatus.Pushed && d.EnrollmentProfileName == "Staff"));
        Assert.Equal(1, devices.Count(d => d.ProfileStatus == AdeProfileStatus.Assigned));

        f.Host.Warnings.Clear();
        f.Engine.ProfileChanges.Set("Staff", null, null, new ProfileSettings { DeviceNameTemplate = "Staff-{{SERIAL}}" });
        f.Engine.ProfileChanges.Set("Staff", null, null, new ProfileSettings { Description = "only for admins" });
        Assert.Empty(f.Host.Warnings);

        f.Engine.ProfileChanges.Set("Staff", null, null, new ProfileSettings { Department = "IT", DeviceNameTemplate = "{{SERIAL}}" });
        var w = Assert.Single(f.Host.Warnings);
        Assert.Contains("3 devices already received profile 'Staff'", w, StringComparison.Ordinal);
        Assert.Contains("factory reset", w, StringComparison.Ordinal);
        Assert.Contains("device name template", w, StringComparison.Ordinal);
    }

    // ---- Remove --------------------------------------------------------------------------------------------------

    [Fact]
    public void Remove_DeletesAnUnusedProfile()
    {
        store.AddToken("Contoso");
        Profiles.New("Contoso", "Staff", User);
        store.Host.ShouldProcessAnswer = false;
        Assert.False(Profiles.Remove("Staff", null));
        Assert.Single(Profiles.Get());
        store.Host.ShouldProcessAnswer = true;
        Assert.True(Profiles.Remove("Staff", "Contoso"));
        Assert.Empty(Profiles.Get());
        Assert.Contains(store.Host.ShouldProcessCalls, c => c.Action == "Remove enrollment profile");
    }

    [Fact]
    public void Remove_WhileTheDefaultOrAssignedToDevices_IsProfileInUseNamingEachUse()
    {
        var token = store.AddToken("Contoso").Token;
        store.Tokens.SetToken(new SetTokenArgs("Contoso", EnrollmentUrl: "https://mdm.contoso.com/enroll"));
        var p = Profiles.New("Contoso", "Staff", User)!;
        Profiles.SetDefault("Contoso", "Staff");
        store.AddDevice(token.Id, "C02AAA000001", p.Id.ToString());
        store.AddDevice(token.Id, "C02AAA000002", p.Id.ToString());
        store.Host.ShouldProcessCalls.Clear();

        var ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileInUse), () => Profiles.Remove("Staff", null));
        Assert.Contains("the default iOS profile of token 'Contoso'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("assigned to 2 devices", ex.Message, StringComparison.Ordinal);
        // the remedy clears only this profile's platform default, not every platform's
        Assert.Contains("Set-AdeDefaultProfile -Token 'Contoso' -Clear -Platform iOS,", ex.Message, StringComparison.Ordinal);
        Assert.Empty(store.Host.ShouldProcessCalls);

        Profiles.SetDefault("Contoso", null);
        ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileInUse), () => Profiles.Remove("Staff", null));
        Assert.DoesNotContain("the default iOS profile of token", ex.Message, StringComparison.Ordinal);
        Assert.Contains("assigned to 2 devices", ex.Message, StringComparison.Ordinal);

        store.Execute("UPDATE device SET profile_id = NULL");
        Profiles.SetDefault("Contoso", "Staff");
        ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileInUse), () => Profiles.Remove("Staff", null));
        Assert.DoesNotContain("assigned to", ex.Message, StringComparison.Ordinal);

        Profiles.SetDefault("Contoso", null);
        Assert.True(Profiles.Remove("Staff", null));
    }

    // ---- default profile -----------------------------------------------------------------------------------------

    [Fact]
    public void SetDefault_WithoutAnEnrollmentUrl_IsEnrollmentUrlMissing()
    {
        store.AddToken("Contoso");
        Profiles.New("Contoso", "Staff", User);
        AdeAssert.Throws(nameof(ErrorCatalog.EnrollmentUrlMissing), () => Profiles.SetDefault("Contoso", "Staff"));
        Assert.Null(store.Tokens.ResolveToken("Contoso").DefaultProfile);
    }

    [Fact]
    public void SetDefault_MakesTheProfileTheTokensDefault_AndClearRemovesIt()
    {
        store.AddToken("Contoso");
        store.Tokens.SetToken(new SetTokenArgs("Contoso", EnrollmentUrl: "https://mdm.contoso.com/enroll"));
        Profiles.New("Contoso", "Staff", User);
        var kiosk = Profiles.New("Contoso", "Kiosk", Kiosk)!;

        var token = Profiles.SetDefault("Contoso", "Staff")!;
        Assert.Equal("Staff", token.DefaultProfile);
        Assert.Equal("Staff", Profiles.Get(defaultOnly: true).Single().Name);
        Assert.True(Profiles.Resolve("Staff").IsDefault);
        Assert.False(Profiles.Resolve("Kiosk").IsDefault);

        Assert.Equal("Kiosk", Profiles.SetDefault("Contoso", kiosk.Id.ToString())!.DefaultProfile);
        Assert.Equal("Kiosk", Profiles.Get(defaultOnly: true).Single().Name);

        store.Host.ShouldProcessAnswer = false;
        Assert.Null(Profiles.SetDefault("Contoso", null));
        Assert.Equal("Kiosk", store.Tokens.GetTokens("Contoso").Single().DefaultProfile);

        store.Host.ShouldProcessAnswer = true;
        Assert.Null(Profiles.SetDefault("Contoso", null)!.DefaultProfile);
        Assert.Empty(Profiles.Get(defaultOnly: true));
        Assert.Contains(store.Host.ShouldProcessCalls, c => c.Target == "Contoso" && c.Action == "Clear every default profile");
    }

    [Fact]
    public void SetDefault_WithAProfileOfAnotherToken_IsProfileNotFound()
    {
        store.AddToken("Contoso");
        store.AddToken("Fabrikam");
        var other = Profiles.New("Fabrikam", "Staff", User)!;
        var byName = Assert.Throws<AdeException>(() => Profiles.SetDefault("Contoso", "Staff"));
        Assert.Equal(nameof(ErrorCatalog.ProfileNotFound), byName.ErrorId);
        Assert.Contains("Token 'Contoso' has no enrollment profile 'Staff'.", byName.Message, StringComparison.Ordinal);
        // by Id (a piped profile): the message names the profile and the token it belongs to, not its Id
        var byId = Assert.Throws<AdeException>(() => Profiles.SetDefault("Contoso", other.Id.ToString()));
        Assert.Equal(nameof(ErrorCatalog.ProfileNotFound), byId.ErrorId);
        Assert.Contains("Enrollment profile 'Staff' belongs to token 'Fabrikam', not to token 'Contoso'.", byId.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(other.Id.ToString(), byId.Message, StringComparison.Ordinal);
        Assert.Equal("Fabrikam", Assert.Throws<AdeException>(() => Profiles.Resolve(other.Id.ToString(), "Contoso")).Message.Split('\'')[3]);
        Assert.Equal(other.Id, Profiles.Resolve(other.Id.ToString(), "Fabrikam").Id);
        Assert.Null(store.Tokens.GetTokens("Contoso").Single().DefaultProfile);
    }

    // ---- Export / Import -----------------------------------------------------------------------------------------

    public static TheoryData<string> FullProfiles() => new() { "user", "shared" };

    [Theory]
    [MemberData(nameof(FullProfiles))]
    public void ExportThenImport_IsLosslessForEverySetting_AndCopiesBetweenTokens(string kind)
    {
        store.AddToken("Contoso");
        store.AddToken("Fabrikam");
        var settings = kind == "user" ? EveryUserSetting() : EverySharedSetting();
        var original = Profiles.New("Contoso", "Full", settings)!;
        var path = store.Temp.File("full.json");

        var json = Profiles.Export("Full", "Contoso", path);
        Assert.Equal(json + Environment.NewLine, File.ReadAllText(path));
        var doc = JsonNode.Parse(json)!.AsObject();
        Assert.Equal(ProfileService.ExportSchemaVersion, (int)doc["SchemaVersion"]!);
        Assert.Equal("AdeEnrollment.Profile", (string)doc["$type"]!);
        Assert.Equal("Full", (string)doc["Name"]!);
        Assert.DoesNotContain(original.Id.ToString(), json, StringComparison.OrdinalIgnoreCase);

        // Every property of ProfileSettings that the profile sets is in the file.
        foreach (var property in typeof(ProfileSettings).GetProperties())
        {
            if (property.GetValue(original.Settings) is not null)
            {
                Assert.True(doc["Settings"]!.AsObject().ContainsKey(property.Name), $"the export lacks {property.Name}");
            }
        }

        var copy = Profiles.Import("Fabrikam", path, null)!;
        var renamed = Profiles.Import("Contoso", path, "Full (copy)")!;

        foreach (var imported in new[] { copy, renamed })
        {
            Assert.Equal(original.Settings, imported.Settings);
            Assert.Equal(JsonSerializer.Serialize(original.Settings, ProfileService.Json), JsonSerializer.Serialize(imported.Settings, ProfileService.Json));
        }

        Assert.Equal(("Full", "Fabrikam"), (copy.Name, copy.Token));
        Assert.Equal(("Full (copy)", "Contoso"), (renamed.Name, renamed.Token));
        // Exporting the copy gives the same document.
        Assert.Equal(json, Profiles.Export("Full", "Fabrikam", null));
    }

    [Fact]
    public void Export_ToAFile_AsksFirst_AndUnderWhatIfWritesNothing()
    {
        store.AddToken("Contoso");
        Profiles.New("Contoso", "Staff", User);
        var path = store.Temp.File("whatif.json");
        store.Host.ShouldProcessAnswer = false;
        var json = Profiles.Export("Staff", null, path);
        store.Host.ShouldProcessAnswer = true;

        Assert.False(File.Exists(path));
        Assert.Contains("\"Staff\"", json, StringComparison.Ordinal);
        Assert.Contains(store.Host.ShouldProcessCalls, c => c.Target == path && c.Action == "Write profile 'Staff' to a new file");
        Profiles.Export("Staff", null, path);
        Profiles.Export("Staff", null, path);
        Assert.Contains(store.Host.ShouldProcessCalls, c => c.Target == path && c.Action == "Replace the file with profile 'Staff'");
        Assert.True(File.Exists(path));
    }

    [Fact]
    public void Import_UnderANameThatExists_IsProfileNameConflict()
    {
        store.AddToken("Contoso");
        Profiles.New("Contoso", "Staff", User);
        var path = store.Temp.File("staff.json");
        Profiles.Export("Staff", null, path);
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileNameConflict), () => Profiles.Import("Contoso", path, null));
    }

    private const string ValidDocument =
        """
        { "SchemaVersion": 1, "Name": "Imported", "Settings": { "UserAffinity": "WithUserAffinity" }, "$type": "AdeEnrollment.Profile" }
        """;

    [Fact]
    public void Import_OfAHandWrittenDocument_ValidatesAndNormalisesLikeNew()
    {
        store.AddToken("Contoso");
        var p = Profiles.Import("Contoso", store.WriteFile("p.json", ValidDocument), null)!;
        Assert.Equal("Imported", p.Name);
        Assert.Equal(ProfileRules.Normalise(User), p.Settings);

        var lower = ValidDocument.Replace("\"Name\": \"Imported\"", "\"name\": \"Lower case\"").Replace("\"Settings\"", "\"settings\"").Replace("\"UserAffinity\"", "\"userAffinity\"");
        Assert.Equal("Lower case", Profiles.Import("Contoso", store.WriteFile("lower.json", lower), null)!.Name);
    }

    public static TheoryData<string, string, string> BadFiles() => new()
    {
        { "not JSON", "this is not JSON", "" },
        { "an array", "[1, 2]", "it is not a profile export (a JSON object with $type" },
        { "truncated", ValidDocument[..40], "it is not valid JSON (line " },
        { "an unknown property", ValidDocument.Replace("\"Name\"", "\"Colour\": \"red\", \"Name\""), "it has a member 'Colour' that a profile export does not have (line " },
        { "an unknown setting", ValidDocument.Replace("\"UserAffinity\"", "\"Wallpaper\": \"x\", \"UserAffinity\""), "it has a member 'Settings.Wallpaper'" },
        { "an unknown pane", ValidDocument.Replace("\"UserAffinity\"", "\"HiddenScreens\": [\"Siri\", \"Dashboard\"], \"UserAffinity\""), "Dashboard" },
        { "a pane as a number", ValidDocument.Replace("\"UserAffinity\"", "\"HiddenScreens\": [3], \"UserAffinity\""), "Settings.HiddenScreens" },
        { "an unknown affinity", ValidDocument.Replace("\"WithUserAffinity\"", "\"Sometimes\""), "the value of 'Settings.UserAffinity' is not one this module reads (line " },
        { "an affinity as a number", ValidDocument.Replace("\"WithUserAffinity\"", "1"), "the value of 'Settings.UserAffinity' is not one this module reads (line " },
        { "an out-of-range number", ValidDocument.Replace("\"UserAffinity\"", "\"SyncWithComputers\": 9, \"UserAffinity\""), "the value of 'Settings.SyncWithComputers' is not one this module reads (line " },
        { "a list of platforms", ValidDocument.Replace("\"UserAffinity\"", "\"Platform\": \"macOS, tvOS\", \"UserAffinity\""), "the value of 'Settings.Platform' is not one this module reads (line " },
        { "a platform as a number", ValidDocument.Replace("\"UserAffinity\"", "\"Platform\": 1, \"UserAffinity\""), "the value of 'Settings.Platform' is not one this module reads (line " },
        { "a number as text", ValidDocument.Replace("\"UserAffinity\"", "\"MaximumCachedUsers\": \"ten\", \"UserAffinity\""), "the value of 'Settings.MaximumCachedUsers'" },
        { "a setting beside Settings", ValidDocument.Replace("\"Name\"", "\"UserAffinity\": \"WithUserAffinity\", \"Name\""), "'UserAffinity' is a setting, and settings go inside \"Settings\"" },
        { "another $type", ValidDocument.Replace("AdeEnrollment.Profile", "AdeEnrollment.Token"), "$type" },
        { "no settings", """{ "SchemaVersion": 1, "Name": "X", "$type": "AdeEnrollment.Profile" }""", "Settings" },
        { "no name", """{ "SchemaVersion": 1, "Settings": {}, "$type": "AdeEnrollment.Profile" }""", "Name" },
        { "schema version 3", ValidDocument.Replace("\"SchemaVersion\": 1", "\"SchemaVersion\": 3"), "schema version 3" },
        { "schema version 0", ValidDocument.Replace("\"SchemaVersion\": 1", "\"SchemaVersion\": 0"), "schema version 0" },
        { "no schema version", ValidDocument.Replace("\"SchemaVersion\": 1,", ""), "schema version" },
        { "no $type", ValidDocument.Replace(", \"$type\": \"AdeEnrollment.Profile\"", ""), "$type" },
        { "a member twice", ValidDocument.Replace("\"Name\"", "\"Name\": \"A\", \"Name\""), "is given twice (line " },
        { "a setting twice", ValidDocument.Replace("\"UserAffinity\"", "\"UserAffinity\": \"WithoutUserAffinity\", \"UserAffinity\""), "is given twice" },
        { "a platform in version 1", ValidDocument.Replace("\"UserAffinity\"", "\"Platform\": \"macOS\", \"UserAffinity\""), "a version 1 export has no Platform" },
        { "an Apple key twice", ValidDocument.Replace("\"UserAffinity\"", "\"HiddenScreens\": [\"TOS\"], \"hiddenScreens\": [\"TOS\"], \"UserAffinity\""), "is given twice" },
        { "two panes in one item", ValidDocument.Replace("\"UserAffinity\"", "\"HiddenScreens\": [\"Passcode,LocationServices\"], \"UserAffinity\""), "several panes in one text" },
        { "a pane by number", ValidDocument.Replace("\"UserAffinity\"", "\"HiddenScreens\": [\"+5\"], \"UserAffinity\""), "is not a Setup Assistant pane" },
    };

    [Fact]
    public void Import_TakesApplesSkipKeysForPanes_AsHiddenScreenDoes()
    {
        store.AddToken("Contoso");
        var document = ValidDocument.Replace("\"UserAffinity\"", "\"HiddenScreens\": [\"TOS\", \"biometric\", \"Siri\"], \"UserAffinity\"");
        var p = Profiles.Import("Contoso", store.WriteFile("apple-keys.json", document), null)!;
        Assert.Equal([SetupScreen.TermsAndConditions, SetupScreen.TouchIdFaceId, SetupScreen.Siri], p.HiddenScreens.Order());

        // a later error in a file with Apple's keys names the file's own line, as it does without them
        string Problem(string pane) => AdeAssert.Throws(nameof(ErrorCatalog.ProfileFileInvalid), () => Profiles.Import("Contoso",
            store.WriteFile($"bad-{pane}.json", ValidDocument.Replace("\"UserAffinity\"", $"\"HiddenScreens\": [\"{pane}\"],\n\"Wallpaper\": 1, \"UserAffinity\"")), null)).Message;
        var withKey = Problem("TOS");
        Assert.Contains("(line ", withKey, StringComparison.Ordinal);
        Assert.Equal(Problem("TermsAndConditions")[Problem("TermsAndConditions").IndexOf("(line ", StringComparison.Ordinal)..].Split(',')[0],
            withKey[withKey.IndexOf("(line ", StringComparison.Ordinal)..].Split(',')[0]);
    }

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void Import_OfABadFile_IsProfileFileInvalid_AndChangesNothing(string what, string content, string named)
    {
        store.AddToken("Contoso");
        var path = store.WriteFile("bad.json", content);
        var before = store.Snapshot();
        var ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileFileInvalid), () => Profiles.Import("Contoso", path, null));
        Assert.Contains(path, ex.Message, StringComparison.Ordinal);
        Assert.Contains(named, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("AdeEnrollment.Engine", ex.Message, StringComparison.Ordinal); // the file's terms, not .NET's types
        Assert.Equal(AdeErrorCategory.InvalidData, ex.Category);
        Assert.Equal(before, store.Snapshot());
        Assert.False(string.IsNullOrEmpty(what));
    }

    [Fact]
    public void Import_OfAMissingFile_IsProfileFileNotFound_AndOfAnOversizedOne_ProfileFileInvalid()
    {
        store.AddToken("Contoso");
        var missing = AdeAssert.Throws(nameof(ErrorCatalog.ProfileFileNotFound), () => Profiles.Import("Contoso", store.Temp.File("none.json"), null));
        Assert.Contains("does not exist", missing.Message, StringComparison.Ordinal);
        var big = ValidDocument.Replace("\"Imported\"", "\"Imported\"" + new string(' ', 1024 * 1024));
        var oversized = AdeAssert.Throws(nameof(ErrorCatalog.ProfileFileInvalid), () => Profiles.Import("Contoso", store.WriteFile("big.json", big), null));
        Assert.Contains("1 MiB", oversized.Message, StringComparison.Ordinal);
        Assert.Equal(0, store.Count("profile"));
    }

    public static TheoryData<string, string> InvalidSettings() => new()
    {
        { "\"UserAffinity\": \"WithUserAffinity\", \"SharedIPad\": true", "SharedIPad" },
        { "\"UserAffinity\": \"WithoutUserAffinity\", \"SharedIPad\": true, \"MaximumCachedUsers\": 30", "MaximumCachedUsers" },
        { "\"UserAffinity\": \"WithUserAffinity\", \"DeviceNameTemplate\": \"{{IMEI}}\"", "DeviceNameTemplate" },
        { "\"UserAffinity\": \"WithUserAffinity\", \"CellularDataPlanUrl\": \"http://carrier.example\"", "CellularDataPlanUrl" },
        { "\"UserAffinity\": \"WithUserAffinity\", \"LockedEnrollment\": true, \"Supervised\": false", "LockedEnrollment" },
        { "\"Supervised\": true", "UserAffinity" },
    };

    [Theory]
    [MemberData(nameof(InvalidSettings))]
    public void Import_WithSettingsNewWouldRefuse_IsProfileSettingInvalid(string settings, string setting)
    {
        store.AddToken("Contoso");
        var path = store.WriteFile("invalid.json", $$"""{ "SchemaVersion": 1, "Name": "Bad", "Settings": { {{settings}} }, "$type": "AdeEnrollment.Profile" }""");
        var ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => Profiles.Import("Contoso", path, null));
        Assert.Equal(setting, ex.Target);
        Assert.Equal(0, store.Count("profile"));
    }

    [Fact]
    public void Import_WithANameTooLong_IsProfileSettingInvalid()
    {
        store.AddToken("Contoso");
        var path = store.WriteFile("long.json", ValidDocument.Replace("Imported", new string('n', 126)));
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileSettingInvalid), () => Profiles.Import("Contoso", path, null));
        Assert.NotNull(Profiles.Import("Contoso", path, "Short"));
    }

    // ---- token removal with real dependents ------------------------------------------------------------------------

    [Fact]
    public void RemoveToken_WithProfilesADefaultAndSyncedDevices_IsTokenHasDependents_UntilEachIsGone()
    {
        using var f = new EngineSimFixture(devices: 6);
        var e = f.Engine;
        e.Profiles.New("iPads", "Staff", User);
        e.Profiles.New("iPads", "Kiosk", Kiosk);
        e.Profiles.SetDefault("iPads", "Staff");
        var synced = e.Sync.Sync("iPads")!;
        Assert.Equal(6, synced.DefaultProfileAssigned);

        var ex = AdeAssert.Throws(nameof(ErrorCatalog.TokenHasDependents), () => e.Tokens.RemoveToken("iPads"));
        Assert.Contains("while it has 6 devices, the default profile 'Staff' and 2 profiles.", ex.Message, StringComparison.Ordinal);
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileInUse), () => e.Profiles.Remove("Staff", null));

        e.Profiles.SetDefault("iPads", null);
        ex = AdeAssert.Throws(nameof(ErrorCatalog.TokenHasDependents), () => e.Tokens.RemoveToken("iPads"));
        Assert.Contains("while it has 6 devices and 2 profiles.", ex.Message, StringComparison.Ordinal);
        var inUse = AdeAssert.Throws(nameof(ErrorCatalog.ProfileInUse), () => e.Profiles.Remove("Staff", null));
        Assert.Contains("assigned to 6 devices still in Apple Business Manager", inUse.Message, StringComparison.Ordinal);

        Assert.Equal(6, e.Devices.Remove(e.Devices.Get(new DeviceQuery(TokenId: f.Token.Id)).Select(d => new DeviceTarget(d.SerialNumber, d.TokenId)), ex => throw ex).Removed);
        Assert.True(e.Profiles.Remove("Staff", null));
        ex = AdeAssert.Throws(nameof(ErrorCatalog.TokenHasDependents), () => e.Tokens.RemoveToken("iPads"));
        Assert.Contains("while it has 1 profile.", ex.Message, StringComparison.Ordinal);

        Assert.True(e.Profiles.Remove("Kiosk", null));
        Assert.True(e.Tokens.RemoveToken("iPads"));
        Assert.Empty(e.Tokens.GetTokens());
    }
}

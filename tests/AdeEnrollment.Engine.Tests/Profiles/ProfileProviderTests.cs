using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Tests.Profiles;

/// <summary>
/// A profile's life through the engine services (create, change, default, held by devices, remove) on each store
/// provider: the same facts run on SQLite and on PostgreSQL. Devices are seeded with the provider's SQL and given the
/// profile through the device table's assignment record, as a successful Set-AdeDeviceProfile records it.
/// </summary>
public abstract class ProfileProviderTests : IDisposable
{
    private static readonly ProfileSettings User = new() { UserAffinity = UserAffinity.WithUserAffinity };
    private static readonly ProfileSettings Kiosk = new() { UserAffinity = UserAffinity.WithoutUserAffinity };
    private static readonly ProfileSettings Mac = new() { UserAffinity = UserAffinity.WithoutUserAffinity, Platform = DevicePlatform.macOS };
    private TestStore? store;

    protected abstract TestStore CreateStore();

    /// <summary>A device of the token as a sync stores it (no profile).</summary>
    protected abstract void AddDevice(Guid tokenId, string serial);

    /// <summary>Marks the device removed from ABM.</summary>
    protected abstract void MarkRemoved(Guid tokenId, string serial);

    /// <summary>A fresh PostgreSQL schema for a simulator fixture's store; null: a SQLite file.</summary>
    protected abstract TestPostgresSchema? NewSchema();

    protected TestStore Store => store ??= CreateStore();

    private ProfileService Profiles => Store.Engine.Profiles;

    public void Dispose()
    {
        store?.Dispose();
        GC.SuppressFinalize(this);
    }

    private void RecordAssigned(AdeProfile profile, params string[] serials)
        => Store.Store.Write(s =>
        {
            s.Devices.RecordAssignments(new AssignmentRecord(profile.TokenId, profile.Id, profile.Name, "UUID-" + profile.Name, Store.Now,
                [new AssignmentOutcome("SUCCESS", AssignmentEffect.Assigned, serials)]));
            return 0;
        });

    [Fact]
    public void Names_that_differ_only_by_case_outside_A_to_Z_are_one_name_for_tokens_and_profiles()
    {
        // SQLite's NOCASE folds A-Z only and PostgreSQL's lower() follows the database's collation: the rule is the engine's.
        var arzte = Store.AddToken("Ärzte Zürich").Token;
        AdeAssert.Throws(nameof(ErrorCatalog.TokenNameConflict), () => Store.AddToken("ärzte ZÜRICH"));
        Assert.Equal("ÄRZTE ZÜRICH (2)", Store.AddToken(name: null, fileName: "ÄRZTE ZÜRICH_Token_2025-03-01T12-00-00Z_smime.p7m").Token.Name);
        Store.AddToken("Ørsted");
        AdeAssert.Throws(nameof(ErrorCatalog.TokenNameConflict), () => Store.Tokens.SetToken(new SetTokenArgs("Ørsted", Name: "ärzte zürich")));
        Assert.Equal("ørsted", Store.Tokens.SetToken(new SetTokenArgs("Ørsted", Name: "ørsted"))!.Name); // its own name in another case
        Assert.Equal(arzte.Id, Store.Tokens.ResolveToken("ÄRZTE zürich").Id); // one token, not an ambiguous two
        // letters with one lower case but no common upper case: one name too (PostgreSQL's lower() folds them)
        Store.AddToken("Straße");
        AdeAssert.Throws(nameof(ErrorCatalog.TokenNameConflict), () => Store.AddToken("STRAẞE"));
        Store.AddToken("\u212Aelvin"); // the Kelvin sign
        AdeAssert.Throws(nameof(ErrorCatalog.TokenNameConflict), () => Store.AddToken("kelvin"));

        var eleves = Profiles.New("Ärzte Zürich", "Élèves", Kiosk)!;
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileNameConflict), () => Profiles.New("Ärzte Zürich", "ÉLÈVES", Kiosk));
        Profiles.New("Ärzte Zürich", "Lehrer", Kiosk);
        AdeAssert.Throws(nameof(ErrorCatalog.ProfileNameConflict), () => Store.Engine.ProfileChanges.Set("Lehrer", "Ärzte Zürich", "élèves", new ProfileSettings()));
        Assert.Equal(eleves.Id, Profiles.Resolve("élèves", "Ärzte Zürich").Id);
        Assert.Equal(new[] { "Lehrer", "Élèves" }, Profiles.Get(arzte.Id).Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.Equal(new[] { "Straße", "ÄRZTE ZÜRICH (2)", "Ärzte Zürich", "ørsted", "\u212Aelvin" }, Store.Tokens.GetTokens().Select(t => t.Name).Order(StringComparer.Ordinal)); // nothing refused was stored
    }

    [Fact]
    public void New_Get_Set_KeepTheSettings_AndNamesAreUniquePerTokenIgnoringCase()
    {
        Store.AddToken("Contoso");
        Store.AddToken("Fabrikam");
        Store.Tokens.SetToken(new SetTokenArgs("Contoso", ScopeTags: ["7"]));
        var created = Profiles.New("Contoso", "Staff", User with { Department = "IT \"HQ\" Zürich +41", HiddenScreens = [SetupScreen.Passcode, SetupScreen.Siri] })!;

        var got = Profiles.Resolve("staff", "Contoso");
        Assert.Equal((created.Id, "Staff", "Contoso", "IT \"HQ\" Zürich +41", DevicePlatform.iOS), (got.Id, got.Name, got.Token, got.Department, got.Platform));
        Assert.Equal(new[] { SetupScreen.Passcode, SetupScreen.Siri }, got.HiddenScreens);
        Assert.Equal(new[] { "7" }, got.ScopeTags);
        Assert.Equal((Store.Now, Store.Now), (got.CreatedAt, got.ModifiedAt));

        AdeAssert.Throws(nameof(ErrorCatalog.ProfileNameConflict), () => Profiles.New("Contoso", "STAFF", Kiosk));
        Assert.NotNull(Profiles.New("Fabrikam", "staff", Kiosk)); // another token may use the name
        Profiles.New("Contoso", "kiosk", Kiosk);

        Store.Time.Advance(TimeSpan.FromMinutes(3));
        var changed = Store.Engine.ProfileChanges.Set("Staff", "Contoso", "Staff iPads", new ProfileSettings { Department = "Sales" })!;
        Assert.Equal(("Staff iPads", "Sales", UserAffinity.WithUserAffinity, Store.Now), (changed.Name, changed.Department, changed.UserAffinity, changed.ModifiedAt));
        var taken = Assert.Throws<AdeException>(() => Store.Engine.ProfileChanges.Set("Staff iPads", "Contoso", "KIOSK", new ProfileSettings()));
        Assert.Equal(nameof(ErrorCatalog.ProfileNameConflict), taken.ErrorId);
        Assert.Contains("choose another -NewName", taken.Message, StringComparison.Ordinal); // a rename's parameter, not -Name

        // Listed by token, then by name whatever the case.
        Assert.Equal(new[] { "Contoso/kiosk", "Contoso/Staff iPads", "Fabrikam/staff" }, Profiles.Get().Select(p => $"{p.Token}/{p.Name}"));
    }

    /// <summary>Token Contoso (with an enrollment URL) and its profiles Staff and Kiosk (iOS) and Macs (macOS).</summary>
    private void ContosoWithStaffKioskAndMacs()
    {
        Store.AddToken("Contoso");
        Store.Tokens.SetToken(new SetTokenArgs("Contoso", EnrollmentUrl: "https://mdm.contoso.com/enroll"));
        Profiles.New("Contoso", "Staff", User);
        Profiles.New("Contoso", "Kiosk", Kiosk);
        Profiles.New("Contoso", "Macs", Mac);
    }

    [Fact]
    public void SetDefault_IsOnePerPlatform_ReplacedByTheNext_AndClearedPerPlatform()
    {
        ContosoWithStaffKioskAndMacs();

        Profiles.SetDefault("Contoso", "Staff");
        Profiles.SetDefault("Contoso", "Macs");
        var token = Profiles.SetDefault("Contoso", "Kiosk")!; // replaces Staff as the iOS default

        Assert.Equal(new[] { "Kiosk", "Macs" }, Profiles.Get(defaultOnly: true).Select(p => p.Name));
        Assert.Equal(("Kiosk", "Macs", (string?)null), (token.DefaultProfile, token.DefaultMacOSProfile, token.DefaultTvOSProfile));

        Profiles.SetDefault("Contoso", null, DevicePlatform.iOS);
        Assert.Equal(new[] { "Macs" }, Profiles.Get(defaultOnly: true).Select(p => p.Name));
        Profiles.SetDefault("Contoso", null);
        Assert.Empty(Profiles.Get(defaultOnly: true));
    }

    [Fact]
    public void ClearDefaultOf_EndsOnlyThatProfilesDefaultRole_AndLeavesOtherPlatformsAndNonDefaultsAlone()
    {
        ContosoWithStaffKioskAndMacs();
        Profiles.SetDefault("Contoso", "Staff");
        Profiles.SetDefault("Contoso", "Macs");

        // Kiosk is an iOS profile but not the iOS default: nothing changes
        Assert.Equal("Staff", Profiles.ClearDefaultOf("Kiosk", "Contoso")!.DefaultProfile);
        Assert.Equal(new[] { "Macs", "Staff" }, Profiles.Get(defaultOnly: true).Select(p => p.Name).Order());

        var token = Profiles.ClearDefaultOf("Macs", "Contoso")!;
        Assert.Equal(("Staff", (string?)null), (token.DefaultProfile, token.DefaultMacOSProfile));
        Assert.Equal(new[] { "Staff" }, Profiles.Get(defaultOnly: true).Select(p => p.Name));
    }

    [Fact]
    public void AProfileHeldByDevicesOrDefault_IsInUse_AndRemovedOnceFree_ReleasingRemovedDevices()
    {
        var token = Store.AddToken("Contoso").Token;
        Store.Tokens.SetToken(new SetTokenArgs("Contoso", EnrollmentUrl: "https://mdm.contoso.com/enroll"));
        var staff = Profiles.New("Contoso", "Staff", User)!;
        foreach (var serial in new[] { "C1", "C2", "GONE" })
        {
            AddDevice(token.Id, serial);
        }

        RecordAssigned(staff, "C1", "C2", "GONE", "UNKNOWN");
        Profiles.SetDefault("Contoso", "Staff");
        Assert.Equal(3, Profiles.Resolve("Staff").DeviceCount);

        var ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileInUse), () => Profiles.Remove("Staff", null));
        Assert.Contains("the default iOS profile of token 'Contoso'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("assigned to 3 devices", ex.Message, StringComparison.Ordinal);

        Profiles.SetDefault("Contoso", null);
        MarkRemoved(token.Id, "C1");
        MarkRemoved(token.Id, "C2");
        ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileInUse), () => Profiles.Remove("Staff", null));
        Assert.Contains("assigned to 1 device", ex.Message, StringComparison.Ordinal);

        MarkRemoved(token.Id, "GONE");
        Assert.True(Profiles.Remove("Staff", null));
        Assert.Empty(Profiles.Get());
        Assert.Contains(Store.Host.Verbose, v => v.Contains("3 devices released from ABM", StringComparison.Ordinal));
    }

    [Fact]
    public void AssigningThroughTheEngine_GivesEveryDeviceTheProfile_JournalsEachOnce_AndKeepsTheProfileInUse()
    {
        using var schema = NewSchema();
        using var f = new EngineSimFixture(devices: 1200, postgres: schema);
        f.Engine.Sync.Sync("iPads");
        f.Engine.Profiles.New("iPads", "Staff", User);
        var serials = f.AppleSerials().ToList();

        var results = f.Engine.Assignments.Assign("Staff", null, serials).ToList(); // two requests: 1000 + 200

        Assert.Equal(1200, results.Count(r => r.Status == AdeAssignmentStatus.Success));
        Assert.Equal(1200, f.Engine.Profiles.Resolve("Staff").DeviceCount);
        var journal = f.Engine.Devices.GetEvents(new DeviceEventQuery(f.Token.Id, Kinds: [AdeDeviceEventKind.ProfileAssigned])).ToList();
        Assert.Equal(serials, journal.Select(e => e.SerialNumber).Order(StringComparer.Ordinal));
        Assert.All(journal, e => Assert.Equal("Staff: SUCCESS", e.Detail));
        var ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileInUse), () => f.Engine.Profiles.Remove("Staff", null));
        Assert.Contains("assigned to 1,200 devices", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The1001stProfileOfAToken_IsProfileLimitReached()
    {
        var token = Store.AddToken("Contoso").Token;
        Store.Store.Write(s =>
        {
            for (var i = 1; i < ProfileRules.MaxProfilesPerToken; i++)
            {
                s.Profiles.Insert(new ProfileRow(Guid.NewGuid(), token.Id, $"Bulk {i}", """{"UserAffinity":"WithUserAffinity"}""", null, null, Store.Now, Store.Now));
            }

            return 0;
        });

        Assert.NotNull(Profiles.New("Contoso", "Profile 1000", User));
        var ex = AdeAssert.Throws(nameof(ErrorCatalog.ProfileLimitReached), () => Profiles.New("Contoso", "Profile 1001", User));
        Assert.Equal(AdeErrorCategory.LimitsExceeded, ex.Category);
        Assert.Equal(1000, Store.Tokens.GetTokens("Contoso").Single().ProfileCount);
    }
}

public sealed class SqliteProfileProviderTests : ProfileProviderTests
{
    protected override TestStore CreateStore() => new();

    protected override TestPostgresSchema? NewSchema() => null;

    protected override void AddDevice(Guid tokenId, string serial)
        => Store.Execute("INSERT INTO device (token_id, serial_number, device_family, os, updated_at) VALUES ($t, $s, 'iPad', 'iOS', 0)",
            ("$t", tokenId.ToString()), ("$s", serial));

    protected override void MarkRemoved(Guid tokenId, string serial)
        => Store.Execute("UPDATE device SET removed_at = 1 WHERE token_id = $t AND serial_number = $s", ("$t", tokenId.ToString()), ("$s", serial));
}

public sealed class PostgresProfileProviderTests : ProfileProviderTests
{
    private TestPostgresSchema? schema;

    protected override TestStore CreateStore() => PostgresTestStores.Create(out schema);

    protected override TestPostgresSchema? NewSchema() => new();

    private TestPostgresSchema Schema
    {
        get
        {
            _ = Store;
            return schema!;
        }
    }

    protected override void AddDevice(Guid tokenId, string serial)
        => Schema.Execute("INSERT INTO device (token_id, serial_number, device_family, os, updated_at) VALUES (@t, @s, 'iPad', 'iOS', 0)",
            ("t", tokenId.ToString()), ("s", serial));

    protected override void MarkRemoved(Guid tokenId, string serial)
        => Schema.Execute("UPDATE device SET removed_at = 1 WHERE token_id = @t AND serial_number = @s", ("t", tokenId.ToString()), ("s", serial));
}

/// <summary>
/// Writers of several processes on one PostgreSQL store: the provider serialises write transactions with an advisory
/// lock, so a rule a service checks inside its write (here: at most 1000 profiles per token) holds under concurrency.
/// </summary>
public sealed class PostgresProfileConcurrencyTests
{
    [Fact]
    public void WritersOfSeveralStoresRacingForThe1000thProfile_ExactlyOneWins_TheOthersGetProfileLimitReached()
    {
        const int writers = 6;
        using var first = PostgresTestStores.Create(out var schema);
        var token = first.AddToken("Contoso").Token;
        schema.Execute(
            """
            INSERT INTO profile (id, token_id, name, settings, created_at, modified_at)
            SELECT gen_random_uuid()::text, @t, 'Bulk ' || i, '{"UserAffinity":"WithUserAffinity"}', 0, 0 FROM generate_series(1, 999) AS i
            """, ("t", token.Id.ToString()));

        // One store instance (its own connections, engine and host) per writer, as separate processes would have.
        var stores = Enumerable.Range(0, writers).Select(_ => new TestStore(_ => schema.Open())).ToList();
        try
        {
            using var start = new Barrier(writers);
            var outcomes = new string[writers];
            var threads = Enumerable.Range(0, writers).Select(i => new Thread(() =>
            {
                start.SignalAndWait();
                try
                {
                    stores[i].Engine.Profiles.New("Contoso", $"Racer {i}", new ProfileSettings { UserAffinity = UserAffinity.WithUserAffinity });
                    outcomes[i] = "created";
                }
                catch (AdeException ex)
                {
                    outcomes[i] = ex.ErrorId;
                }
            })).ToList();
            threads.ForEach(t => t.Start());
            threads.ForEach(t => t.Join());

            Assert.Equal(1, outcomes.Count(o => o == "created"));
            Assert.Equal(writers - 1, outcomes.Count(o => o == nameof(ErrorCatalog.ProfileLimitReached)));
            Assert.Equal(1000, schema.Scalar<long>("SELECT count(*) FROM profile WHERE token_id = @t", ("t", token.Id.ToString())));
            Assert.Single(first.Engine.Profiles.Get(), p => p.Name.StartsWith("Racer ", StringComparison.Ordinal));
        }
        finally
        {
            foreach (var s in stores)
            {
                s.Store.Release();
                s.Dispose();
            }
        }
    }
}

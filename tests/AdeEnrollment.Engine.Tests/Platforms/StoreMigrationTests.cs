using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Tests.TestSupport;
using Microsoft.Extensions.Time.Testing;
using Microsoft.Data.Sqlite;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Tests.Platforms;

/// <summary>
/// The store migration that gave profiles a platform, on a store the module wrote before it (tests/fixtures/store-v2,
/// made with tests/fixtures/New-StoreV2Fixture.ps1: token 'Fixture', profiles 'Corporate' (the default) and 'Kiosk',
/// six devices, two of them holding 'Kiosk').
/// </summary>
public class StoreMigrationTests
{
    private static string FixtureFolder()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "fixtures", "store-v2");
            if (Directory.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new DirectoryNotFoundException("tests/fixtures/store-v2 not found above " + AppContext.BaseDirectory);
    }

    private static long Scalar(string path, string sql)
    {
        using var c = new SqliteConnection($"Data Source={path};Pooling=False");
        c.Open();
        using var command = c.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar());
    }

    [Fact]
    public void APreviousVersionStore_KeepsProfilesDefaultsAndDevices_AsIosProfiles_ThatStillAwaitFinalConfiguration()
    {
        using var temp = new TempDirectory();
        var path = temp.File("store.db");
        File.Copy(Path.Combine(FixtureFolder(), "store.db"), path);
        File.Copy(Path.Combine(FixtureFolder(), "store.db.key"), path + ".key");
        Assert.Equal(2, Scalar(path, "PRAGMA user_version"));
        var hashesBefore = Scalar(path, "SELECT count(*) FROM profile WHERE apple_defined_hash IS NOT NULL");

        var store = AdeStore.Open(path);
        var engine = new AdeEngine(store, new RecordingHost(), new FakeTimeProvider(DateTimeOffset.UtcNow));

        Assert.Equal(Schema.LatestVersion, Scalar(path, "PRAGMA user_version"));
        var token = engine.Tokens.GetTokens().Single();
        Assert.Equal(("Fixture", "Corporate", null), (token.Name, token.DefaultProfile, token.DefaultMacOSProfile));
        var profiles = engine.Profiles.Get().ToDictionary(p => p.Name);
        Assert.Equal(["Corporate", "Kiosk"], profiles.Keys.Order().ToArray());
        Assert.All(profiles.Values, p => Assert.Equal((DevicePlatform.iOS, true), (p.Platform, p.AwaitFinalConfiguration)));
        Assert.True(profiles["Corporate"].IsDefault);
        Assert.False(profiles["Kiosk"].IsDefault);
        Assert.Equal([SetupScreen.AppleId, SetupScreen.Siri, SetupScreen.TermsOfAddress], profiles["Corporate"].HiddenScreens);
        Assert.Equal(("IT", "+1 555 0100"), (profiles["Corporate"].Department, profiles["Corporate"].DepartmentPhone));
        Assert.True(profiles["Kiosk"].LockedEnrollment);
        Assert.Equal(SyncWithComputers.DenyAll, profiles["Kiosk"].SyncWithComputers);

        var devices = engine.Devices.Get(new DeviceQuery(token.Id)).ToList();
        Assert.Equal(6, devices.Count);
        Assert.Equal(2, devices.Count(d => d.EnrollmentProfileName == "Kiosk"));
        Assert.Equal(4, devices.Count(d => d.EnrollmentProfileName == "Corporate"));
        Assert.All(devices, d => Assert.Equal(DevicePlatform.iOS, d.Platform));

        // What the migrated profiles send to Apple is what they sent before: the stored definition hashes still match,
        // so nothing is defined again (await_device_configured stays true).
        Assert.Equal(2, hashesBefore);
        foreach (var p in profiles.Values)
        {
            var stored = Scalar(path, $"SELECT count(*) FROM profile WHERE id = '{p.Id}' AND apple_defined_hash = '{AppleProfileBuilder.Hash(AppleProfileBuilder.Build(p.Name, p.Settings, token.EnrollmentUrl!))}'");
            Assert.Equal(1, stored);
        }
    }
}

using System.Text;
using System.Text.Json.Nodes;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Tests.Fuzz;

/// <summary>
/// Mutation fuzzing of profile exports through Import-AdeProfile's engine path (<see cref="ProfileService.Import"/>).
/// Valid documents are made by Export-AdeProfile's engine path; each case damages one (bytes: flips, truncation,
/// insertion, splices; JSON: a value of another type, a huge or negative number, deep nesting, a removed or doubled
/// property, odd strings). Outcomes: a new profile, or a catalogued error with the store unchanged.
/// </summary>
public sealed class ProfileImportFuzzTests : IDisposable
{
    private const int Seed = 20261131;
    private readonly TestStore store = new();
    private readonly Xunit.Abstractions.ITestOutputHelper output;

    public ProfileImportFuzzTests(Xunit.Abstractions.ITestOutputHelper output) => this.output = output;

    public void Dispose() => store.Dispose();

    private static readonly string[] Catalogued =
        ["ProfileFileInvalid", "ProfileSettingInvalid", "ProfileNameConflict", "ProfileLimitReached", "ArgumentInvalid", "NameInvalid"];

    private List<byte[]> ValidExports()
    {
        var profiles = store.Engine.Profiles;
        profiles.New("Contoso", "Staff", new ProfileSettings
        {
            UserAffinity = UserAffinity.WithUserAffinity, Description = "Staff iPhones", AuthenticationMethod = AuthenticationMethod.SetupAssistantLegacy,
            InstallCompanyPortal = true, CompanyPortalVppToken = "Contoso VPP", DeviceNameTemplate = "Staff-{{SERIAL}}", Department = "IT",
            DepartmentPhone = "+31 20 555 0100", HiddenScreens = [SetupScreen.Siri, SetupScreen.Passcode], CellularDataPlanUrl = "https://carrier.example/a",
        });
        profiles.New("Contoso", "Class", new ProfileSettings
        {
            UserAffinity = UserAffinity.WithoutUserAffinity, SharedIPad = true, Supervised = true, MaximumCachedUsers = 8,
            PasscodeLockGracePeriodSeconds = 60, UserSessionTimeoutSeconds = 300, SyncWithComputers = SyncWithComputers.DenyAll,
        });
        return [.. new[] { "Staff", "Class" }.Select(n => Encoding.UTF8.GetBytes(profiles.Export(n, "Contoso", null)))];
    }

    private static readonly Func<Random, JsonNode?>[] OddValues =
    [
        _ => null,
        r => JsonValue.Create(r.Next(int.MinValue, int.MaxValue)),
        _ => JsonNode.Parse("1e400"),
        _ => JsonNode.Parse("-0.5"),
        _ => JsonNode.Parse("99999999999999999999999999"),
        r => JsonValue.Create(new string('x', r.Next(0, 5000))),
        _ => JsonValue.Create("\u0000\ud800"),
        _ => JsonValue.Create("{{SERIAL}}{{NOPE}}"),
        _ => JsonValue.Create(true),
        _ => new JsonArray(JsonValue.Create("Siri"), null, JsonValue.Create(5)),
        _ => new JsonObject { ["a"] = 1 },
        _ => JsonValue.Create("NotAnEnumValue"),
        _ => JsonValue.Create("2147483648"),
        _ => JsonNode.Parse(new string('[', 60) + new string(']', 60)),
    ];

    private static byte[] Mutate(Random r, byte[] valid)
    {
        switch (r.Next(7))
        {
            case 0: return Mutator.FlipBits(r, valid);
            case 1: return Mutator.Truncate(r, valid);
            case 2: return Mutator.Insert(r, valid);
            case 3: return Mutator.Splice(r, valid);
        }

        var doc = JsonNode.Parse(valid)!.AsObject();
        var settings = doc["Settings"]!.AsObject();
        var target = r.Next(4) == 0 ? doc : settings;
        var keys = target.Select(p => p.Key).ToList();
        var key = keys.Count == 0 ? "Name" : keys[r.Next(keys.Count)];
        switch (r.Next(5))
        {
            case 0:
                target.Remove(key);
                break;
            case 1:
                target[key] = OddValues[r.Next(OddValues.Length)](r);
                break;
            case 2:
                settings[new[] { "SharedIPad", "MaximumCachedUsers", "HiddenScreens", "ConfiguratorCertificates", "SyncWithComputers", "UserAffinity" }[r.Next(6)]]
                    = OddValues[r.Next(OddValues.Length)](r);
                break;
            case 3:
                var text = doc.ToJsonString();
                var at = text.IndexOf('{', 1);
                return Encoding.UTF8.GetBytes(at < 0 ? text : text.Insert(at + 1, $"\"{key}\": 1, ")); // a doubled property
            default:
                return Encoding.UTF8.GetBytes(new string('[', r.Next(10, 3000)) + doc.ToJsonString());
        }

        return Encoding.UTF8.GetBytes(doc.ToJsonString());
    }

    [Fact]
    public void MutatedProfileExports_AreANewProfileOrACataloguedError_AndAFailureNeverChangesTheStore()
    {
        var cases = Math.Max(20, Mutator.Cases(2000) / 4); // a quarter of the store/file fuzz budget
        store.AddToken("Contoso");
        var valid = ValidExports();
        var path = store.Temp.File("fuzz.json");
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var snapshot = store.Snapshot();
        for (var i = 0; i < cases; i++)
        {
            var r = new Random(HashCode.Combine(Seed, i));
            File.WriteAllBytes(path, Mutate(r, valid[r.Next(valid.Count)]));
            var name = r.Next(3) == 0 ? $"Fuzz {i}" : null; // a fresh name lets a still-valid document really be imported
            var outcome = TokenFileFuzzTests.Run(() => store.Engine.Profiles.Import("Contoso", path, name), $"seed {Seed}, case {i}");
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            Assert.True(outcome == "success" || Catalogued.Contains(outcome), $"case {i}: unexpected catalogued error {outcome}");
            var after = store.Snapshot();
            if (outcome != "success")
            {
                Assert.True(snapshot == after, $"case {i}: {outcome} changed the store");
            }

            snapshot = after;
        }

        output.WriteLine($"{cases} cases: " + string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}")));
        Assert.Contains("ProfileFileInvalid", outcomes.Keys);
        Assert.True(outcomes.Count >= 3, "the mutations reached several outcomes: " + string.Join(", ", outcomes));
    }
}

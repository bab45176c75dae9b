using System.Text.Json;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Profiles;

/// <summary>One key whose value at Apple differs from what the store defined.</summary>
public sealed record AdeProfileDifference(string Key, string? Expected, string? AtApple)
{
    public override string ToString() => $"{Key}: expected {Expected ?? "(none)"}, Apple has {AtApple ?? "(none)"}";
}

/// <summary>The result of Test-AdeProfile for one profile.</summary>
public sealed class AdeProfileDrift
{
    internal AdeProfileDrift() { }

    public string Profile { get; internal init; } = "";

    public string Token { get; internal init; } = "";

    public string? AppleProfileUuid { get; internal init; }

    /// <summary>InSync, Drifted, NotDefined (never defined at Apple) or MissingAtApple (Apple does not know the UUID).</summary>
    public string State { get; internal init; } = "";

    public IReadOnlyList<AdeProfileDifference> Differences { get; internal init; } = ValueList<AdeProfileDifference>.Empty;

    /// <summary>-Repair: the profile was defined again at Apple and its devices re-assigned.</summary>
    public bool Repaired { get; internal init; }

    public override string ToString() => $"{Profile} {State}";
}

/// <summary>
/// Test-AdeProfile: reads a profile back from Apple (GET /profile) and compares every key with the definition the store
/// would send now; -Repair defines it again and re-assigns the devices that hold it.
/// </summary>
public sealed class ProfileDriftService
{
    private readonly AdeStore store;
    private readonly IAdeHost host;
    private readonly TokenService tokens;
    private readonly ProfileService profiles;
    private readonly AssignmentService assignments;
    private readonly AppleClientFactory apple;

    internal ProfileDriftService(AdeStore store, IAdeHost host, TokenService tokens, ProfileService profiles, AssignmentService assignments, AppleClientFactory apple)
    {
        this.store = store;
        this.host = host;
        this.tokens = tokens;
        this.profiles = profiles;
        this.assignments = assignments;
        this.apple = apple;
    }

    public AdeProfileDrift Test(AdeProfile profile, bool repair)
    {
        var token = tokens.GetTokens(id: profile.TokenId).Single();
        if (token.EnrollmentUrl is null)
        {
            throw ErrorCatalog.EnrollmentUrlMissing(token.Name);
        }

        var uuid = profile.AppleProfileUuid;
        if (uuid is null)
        {
            return new AdeProfileDrift { Profile = profile.Name, Token = token.Name, State = "NotDefined" };
        }

        var client = apple.ForToken(tokens.Credentials(token));
        var expected = AppleProfileBuilder.Build(profile.Name, profile.Settings, token.EnrollmentUrl);
        List<AdeProfileDifference> differences;
        string state;
        try
        {
            var atApple = tokens.Guard(token, () => client.GetProfileAsync(uuid, host.Cancellation).GetAwaiter().GetResult());
            differences = Compare(expected, atApple);
            state = differences.Count == 0 ? "InSync" : "Drifted";
        }
        catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.AppleProfileNotFound))
        {
            differences = [];
            state = "MissingAtApple";
        }

        var repaired = false;
        if (repair && state is "Drifted" or "MissingAtApple"
            && host.ShouldProcess($"{profile.Name} (token '{token.Name}')", $"Define the enrollment profile at Apple again and re-assign it to the {Counted.Of(profile.DeviceCount, "device")} that hold it"))
        {
            // Forget the hash of what was defined, so that the profile is defined again even though its settings did not change.
            store.Write(s =>
            {
                var stored = s.Profiles.Get(profile.Id) ?? throw ErrorCatalog.ProfileNotFound(profile.Id.ToString());
                s.Profiles.SetAppleDefinition(profile.Id, stored.AppleProfileUuid, null);
                return 0;
            });
            assignments.Redefine(profile.Id);
            repaired = true;
        }

        return new AdeProfileDrift
        {
            Profile = profile.Name,
            Token = token.Name,
            AppleProfileUuid = repaired ? profiles.Get(id: profile.Id).Single().AppleProfileUuid : uuid,
            State = state,
            Differences = ValueList.Of(differences),
            Repaired = repaired,
        };
    }

    /// <summary>
    /// Every top-level key of either side, except the UUID and the device list, compared as JSON. A key on one side
    /// only is a difference unless its value is Apple's default for it: Apple's copy may carry every flag and an empty
    /// list for keys the definition left out (allow_pairing true, is_multi_user false …), which is the same profile.
    /// </summary>
    internal static List<AdeProfileDifference> Compare(AppleProfile expected, AppleProfile atApple)
    {
        static Dictionary<string, JsonElement> Keys(AppleProfile p)
        {
            var copy = JsonSerializer.SerializeToElement(p, AppleJsonContext.Default.AppleProfile);
            return copy.EnumerateObject().Where(k => k.Name is not ("profile_uuid" or "devices")).ToDictionary(k => k.Name, k => k.Value.Clone());
        }

        var want = Keys(expected);
        var have = Keys(atApple);
        var list = new List<AdeProfileDifference>();
        foreach (var key in want.Keys.Union(have.Keys).Order(StringComparer.Ordinal))
        {
            var w = want.TryGetValue(key, out var a) ? Normal(a) : null;
            var h = have.TryGetValue(key, out var b) ? Normal(b) : null;
            if (w != h && !(w is null && IsAppleDefault(key, h)) && !(h is null && IsAppleDefault(key, w)))
            {
                list.Add(new AdeProfileDifference(key, w is null ? null : Shown(a), h is null ? null : Shown(b)));
            }
        }

        return list;
    }

    /// <summary>The flags whose default at Apple is true; every other flag defaults to false, text to empty, a list to none.</summary>
    private static readonly HashSet<string> TrueByDefault = ["allow_pairing", "is_mdm_removable"];

    private static bool IsAppleDefault(string key, string? value)
        => value is null or "\"\"" or "[]" || value == (TrueByDefault.Contains(key) ? "true" : "false");

    /// <summary>
    /// A value as an administrator reads it: text as itself (no quotes, no JSON escapes such as \u002B for '+'), a list
    /// of text as its items in order, separated by ", "; flags and numbers as JSON writes them (true, 8).
    /// </summary>
    private static string Shown(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.String => e.GetString()!,
        JsonValueKind.Array when e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String)
            => string.Join(", ", e.EnumerateArray().Select(x => x.GetString()).Order(StringComparer.Ordinal)),
        _ => e.GetRawText(),
    };

    /// <summary>Lists of strings compare as sets (Apple may reorder skip keys).</summary>
    private static string Normal(JsonElement e) => e.ValueKind == JsonValueKind.Array && e.EnumerateArray().All(x => x.ValueKind == JsonValueKind.String)
        ? JsonSerializer.Serialize(e.EnumerateArray().Select(x => x.GetString()).Order(StringComparer.Ordinal).ToArray())
        : e.GetRawText();
}

using AdeEnrollment.Engine.Tokens;
using AdeEnrollment.Simulator.Abm;

namespace AdeEnrollment.Engine.Tests.Tokens;

public sealed class RemoveTokenTests : IDisposable
{
    private readonly TestStore store = new();

    public void Dispose() => store.Dispose();

    [Fact]
    public void Remove_DeletesTheTokenAndItsRequest_AndTheServerCanBeAddedAgain()
    {
        var removed = store.AddToken("Contoso");
        var kept = store.AddToken("Fabrikam");

        Assert.True(store.Tokens.RemoveToken("Contoso"));

        Assert.Equal("Fabrikam", Assert.Single(store.Tokens.GetTokens()).Name);
        Assert.Empty(store.Tokens.GetRequests(removed.Request.Id));
        Assert.Single(store.Tokens.GetRequests(kept.Request.Id));
        Assert.Equal(1, store.Count("token_request"));
        Assert.Contains(store.Host.Verbose, v => v.Contains("Removed token 'Contoso'", StringComparison.Ordinal));
        Assert.Equal(kept.Credentials.AccessSecret, store.Tokens.GetCredentials(kept.Token.Id).AccessSecret);

        // Nothing of the removed token is left behind: the same MDM server can be added again.
        var request = store.SeedRequest();
        var again = ServerTokenCredentials.CreateRandom(store.Now.AddDays(300)) with { ConsumerKey = removed.Credentials.ConsumerKey };
        Assert.NotNull(store.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), store.AbmTokenFile(request, again), "admin@contoso.com", "Contoso")));
    }

    public static TheoryData<int, int, bool, string[]> Blockers() => new()
    {
        { 1, 0, false, ["1 device"] },
        { 2, 0, false, ["2 devices"] },
        { 0, 1, false, ["1 profile"] },
        { 0, 3, false, ["3 profiles"] },
        { 0, 1, true, ["the default profile 'Profile 1'", "1 profile"] },
        { 2, 3, true, ["2 devices", "the default profile 'Profile 1'", "3 profiles"] },
    };

    [Theory]
    [MemberData(nameof(Blockers))]
    public void Remove_WithDependents_IsTokenHasDependentsNamingEachBlockerWithItsCount(int devices, int profiles, bool defaultProfile, string[] blockers)
    {
        var token = store.AddToken("Contoso").Token;
        var profileIds = Enumerable.Range(1, profiles).Select(i => store.AddProfile(token.Id, $"Profile {i}")).ToList();
        for (var i = 0; i < devices; i++)
        {
            store.AddDevice(token.Id, $"C02XYZ{i:D6}");
        }

        if (defaultProfile)
        {
            store.SetDefaultProfile(token.Id, profileIds[0]);
        }

        var before = store.Snapshot();

        var ex = AdeAssert.Throws("TokenHasDependents", () => store.Tokens.RemoveToken("Contoso"));

        Assert.Contains("'Contoso'", ex.Message, StringComparison.Ordinal);
        var list = blockers.Length == 1 ? blockers[0] : string.Join(", ", blockers[..^1]) + " and " + blockers[^1];
        Assert.Contains("while it has " + list + ".", ex.Message, StringComparison.Ordinal);
        // Advice only for what blocks: no "clear the default profile" when there is none.
        Assert.Equal(defaultProfile, ex.Message.Contains("Set-AdeDefaultProfile -Token 'Contoso' -Clear", StringComparison.Ordinal));
        Assert.Equal(devices > 0, ex.Message.Contains("Remove-AdeDevice", StringComparison.Ordinal));
        Assert.Equal(profiles > 0, ex.Message.Contains("Remove-AdeProfile", StringComparison.Ordinal));
        Assert.DoesNotContain("(1)", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("1 devices", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, store.Snapshot());
        Assert.DoesNotContain(store.Host.ShouldProcessCalls, c => c.Action.StartsWith("Remove", StringComparison.Ordinal));
    }

    [Fact]
    public void Remove_DependentsOfAnotherToken_DoNotBlock()
    {
        store.AddToken("Contoso");
        var other = store.AddToken("Fabrikam").Token;
        store.AddDevice(other.Id, "C02FAB000001");
        store.AddProfile(other.Id, "Staff");

        Assert.True(store.Tokens.RemoveToken("Contoso"));
    }

    [Fact]
    public void Remove_ShouldProcessDeclined_RemovesNothing()
    {
        var token = store.AddToken("Contoso").Token;
        var before = store.Snapshot();
        store.Host.ShouldProcessAnswer = false;

        Assert.False(store.Tokens.RemoveToken(token.Id.ToString()));

        Assert.Equal(before, store.Snapshot());
        var call = store.Host.ShouldProcessCalls[^1];
        Assert.Equal("Contoso", call.Target);
    }

    [Fact]
    public void Remove_UnknownToken_IsTokenNotFound()
    {
        store.AddToken("Contoso");
        var before = store.Snapshot();

        AdeAssert.Throws("TokenNotFound", () => store.Tokens.RemoveToken("Fabrikam"));

        Assert.Equal(before, store.Snapshot());
    }
}

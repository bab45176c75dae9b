using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Tests.Tokens;

public sealed class GetTokenTests : IDisposable
{
    private readonly TestStore store = new();

    public void Dispose() => store.Dispose();

    private AdeToken Get(Guid id) => store.Tokens.GetTokens(id: id).Single();

    [Fact]
    public void ResolveTokens_GivesAnIdOrExactNameAlone_EveryWildcardMatch_AndRefusesOnlyAPlainNameThatMatchesNone()
    {
        var eu = store.AddToken("Contoso [EU]").Token;
        var e = store.AddToken("Contoso E").Token;
        var u = store.AddToken("Contoso U").Token;

        Assert.Equal([eu.Id], store.Tokens.ResolveTokens("Contoso [EU]").Select(t => t.Id)); // the exact name wins
        Assert.Equal(new[] { e.Id, u.Id }.Order(), store.Tokens.ResolveTokens("contoso ?").Select(t => t.Id).Order());
        Assert.Equal([u.Id], store.Tokens.ResolveTokens(u.Id.ToString()).Select(t => t.Id));
        Assert.Empty(store.Tokens.ResolveTokens("Fabrikam*"));
        AdeAssert.Throws("TokenNotFound", () => store.Tokens.ResolveTokens("Fabrikam"));
        AdeAssert.Throws("TokenNotFound", () => store.Tokens.ResolveTokens("Contoso [")); // not a pattern PowerShell takes: a name
        AdeAssert.Throws("TokenNotFound", () => store.Tokens.ResolveTokens("Contoso [U-E]"));
        AdeAssert.Throws("TokenNotFound", () => store.Tokens.ResolveTokens(Guid.NewGuid().ToString()));
        AdeAssert.Throws("TokenAmbiguous", () => store.Tokens.ResolveToken("contoso ?")); // one-token commands still refuse it
    }

    [Fact]
    public void Status_AndDaysUntilExpiry_FollowTheClock()
    {
        var id = store.AddToken("Contoso", validForDays: 60).Token.Id;

        Assert.Equal((AdeTokenStatus.Active, 60), (Get(id).Status, Get(id).DaysUntilExpiry));

        store.Time.Advance(TimeSpan.FromDays(30) - TimeSpan.FromSeconds(1)); // 30 days and 1 second left
        Assert.Equal((AdeTokenStatus.Active, 30), (Get(id).Status, Get(id).DaysUntilExpiry));

        store.Time.Advance(TimeSpan.FromSeconds(1)); // exactly 30 days left
        Assert.Equal((AdeTokenStatus.ExpiringSoon, 30), (Get(id).Status, Get(id).DaysUntilExpiry));

        store.Time.Advance(TimeSpan.FromDays(30) - TimeSpan.FromSeconds(1)); // 1 second left
        Assert.Equal((AdeTokenStatus.ExpiringSoon, 0), (Get(id).Status, Get(id).DaysUntilExpiry));

        store.Time.Advance(TimeSpan.FromSeconds(1)); // the expiry instant
        Assert.Equal((AdeTokenStatus.Expired, 0), (Get(id).Status, Get(id).DaysUntilExpiry));

        store.Time.Advance(TimeSpan.FromDays(1));
        Assert.Equal((AdeTokenStatus.Expired, -1), (Get(id).Status, Get(id).DaysUntilExpiry));
        Assert.Equal(TestStore.Start.AddDays(60), Get(id).ExpiresAt);
    }

    [Fact]
    public void NewToken_ExpiringWithin30Days_IsExpiringSoonWithAWarning()
    {
        var token = store.AddToken("Contoso", validForDays: 30).Token;

        Assert.Equal(AdeTokenStatus.ExpiringSoon, token.Status);
        var warning = Assert.Single(store.Host.Warnings);
        Assert.Contains("'Contoso'", warning, StringComparison.Ordinal);
        Assert.Contains("30 days", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void NewToken_ExpiringIn31Days_IsActiveWithoutWarning()
    {
        var token = store.AddToken("Contoso", validForDays: 31).Token;

        Assert.Equal(AdeTokenStatus.Active, token.Status);
        Assert.Empty(store.Host.Warnings);
    }

    [Fact]
    public void Status_TokenRejectedByApple_IsInvalidWithItsReason()
    {
        var id = store.AddToken("Contoso").Token.Id;
        store.Execute("UPDATE token SET invalid_reason = 'T_C_NOT_SIGNED' WHERE id = $id", ("$id", id.ToString()));

        var token = Get(id);

        Assert.Equal(AdeTokenStatus.Invalid, token.Status);
        Assert.Equal("T_C_NOT_SIGNED", token.InvalidReason);
    }

    [Fact]
    public void Status_AnExpiredTokenAppleRefused_StaysExpired_NotInvalid()
    {
        var id = store.AddToken("Contoso").Token.Id;
        store.Execute("UPDATE token SET invalid_reason = 'TOKEN_EXPIRED', expires_at = 1000 WHERE id = $id", ("$id", id.ToString()));

        var token = Get(id);

        Assert.Equal(AdeTokenStatus.Expired, token.Status); // scripts branch on Expired to download a new token
        Assert.Equal("TOKEN_EXPIRED", token.InvalidReason);
    }

    [Theory]
    [InlineData(null, new[] { "Contoso EU", "Contoso US", "Fabrikam" })]
    [InlineData("*", new[] { "Contoso EU", "Contoso US", "Fabrikam" })]
    [InlineData("contoso*", new[] { "Contoso EU", "Contoso US" })]
    [InlineData("*US", new[] { "Contoso US" })]
    [InlineData("Contoso [E]U", new[] { "Contoso EU" })]
    [InlineData("Contoso [EU][SU]", new[] { "Contoso EU", "Contoso US" })]
    [InlineData("F?brikam", new[] { "Fabrikam" })]
    [InlineData("FABRIKAM", new[] { "Fabrikam" })]
    [InlineData("Contoso", new string[0])]
    [InlineData("Northwind*", new string[0])]
    public void GetTokens_ByName_MatchesWildcardsCaseInsensitively(string? pattern, string[] expected)
    {
        store.AddToken("Fabrikam");
        store.AddToken("Contoso US");
        store.AddToken("Contoso EU");

        Assert.Equal(expected, store.Tokens.GetTokens(name: pattern).Select(t => t.Name).ToArray());
    }

    [Fact]
    public void GetTokens_ById_ReturnsThatToken()
    {
        store.AddToken("A");
        var b = store.AddToken("B").Token;

        Assert.Equal("B", Assert.Single(store.Tokens.GetTokens(id: b.Id)).Name);
        Assert.Empty(store.Tokens.GetTokens(id: Guid.NewGuid()));
    }

    [Fact]
    public void DefaultName_IsTheServerNameFromTheAbmFileName_WithASuffixOnClash()
    {
        var first = store.AddToken(name: null, fileName: "Contoso MDM_Token_2025-03-01T12-00-00Z_smime.p7m").Token;
        var second = store.AddToken(name: null, fileName: "Contoso MDM_Token_2025-03-02T08-30-00Z_smime.p7m").Token;
        var third = store.AddToken(name: null, fileName: "contoso mdm_Token_2025-03-03T08-30-00Z_smime.p7m").Token;
        var plain = store.AddToken(name: null, fileName: "servertoken.p7m").Token;

        Assert.Equal("Contoso MDM", first.Name);
        Assert.Equal("Contoso MDM (2)", second.Name);
        Assert.Equal("contoso mdm (3)", third.Name);
        Assert.Equal("servertoken", plain.Name);
    }

    [Theory]
    [InlineData("/x/Contoso MDM_Token_2025-03-01T12-00-00Z_smime.p7m", "Contoso MDM")]
    [InlineData("/x/Contoso_EU_Token_2025-03-01T12-00-00Z_smime.p7m", "Contoso_EU")]
    [InlineData("/x/servertoken.p7m", "servertoken")]
    [InlineData("/x/_Token_2025_smime.p7m", "_Token_2025_smime")]
    [InlineData("/x/ .p7m", "ADE token")]
    public void NameFromFile(string path, string expected)
    {
        Assert.Equal(expected, TokenService.NameFromFile(path));
    }

    [Fact]
    public void DefaultName_OnClashAtTheMaximumLength_StaysAValidName()
    {
        var server = new string('S', TokenService.MaxNameLength + 10);
        var first = store.AddToken(name: null, fileName: server + "_Token_2025-03-01T12-00-00Z_smime.p7m").Token;
        var second = store.AddToken(name: null, fileName: server + "_Token_2025-03-02T12-00-00Z_smime.p7m").Token;

        Assert.Equal(TokenService.MaxNameLength, first.Name.Length);
        Assert.NotEqual(first.Name, second.Name);
        Assert.True(second.Name.Length <= TokenService.MaxNameLength, $"'{second.Name}' is {second.Name.Length} characters, more than a token name may have");
        Assert.EndsWith(" (2)", second.Name, StringComparison.Ordinal);
    }

    [Fact]
    public void Counts_AndDefaultProfile_ComeFromTheStoreTables()
    {
        var token = store.AddToken("Contoso").Token;
        var other = store.AddToken("Other").Token;
        var kiosk = store.AddProfile(token.Id, "Kiosk");
        store.AddProfile(token.Id, "Staff");
        store.AddDevice(token.Id, "C02AAA000001", kiosk);
        store.AddDevice(token.Id, "C02AAA000002");
        store.AddDevice(token.Id, "C02AAA000003");
        store.AddDevice(other.Id, "C02BBB000001");
        store.SetDefaultProfile(token.Id, kiosk);

        var read = Get(token.Id);

        Assert.Equal(2, read.ProfileCount);
        Assert.Equal(3, read.DeviceCount);
        Assert.Equal("Kiosk", read.DefaultProfile);
        Assert.Equal((0, 1, (string?)null), (Get(other.Id).ProfileCount, Get(other.Id).DeviceCount, Get(other.Id).DefaultProfile));
    }
}

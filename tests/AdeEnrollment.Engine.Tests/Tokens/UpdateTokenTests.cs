using AdeEnrollment.Engine.Model;
using AdeEnrollment.Simulator.Abm;

namespace AdeEnrollment.Engine.Tests.Tokens;

public sealed class UpdateTokenTests : IDisposable
{
    private readonly TestStore store = new();

    public void Dispose() => store.Dispose();

    private void FailsUnchanged(string errorId, Action action)
    {
        var before = store.Snapshot();
        AdeAssert.Throws(errorId, action);
        Assert.Equal(before, store.Snapshot());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Renew_WithANewFileForTheSameKey_ReplacesCredentialsAndExpiry(bool sameConsumerKey)
    {
        var added = store.AddToken("Contoso", validForDays: 20);
        Assert.Equal(AdeTokenStatus.ExpiringSoon, added.Token.Status);
        store.Time.Advance(TimeSpan.FromDays(5));
        var renewed = ServerTokenCredentials.CreateRandom(store.Now.AddDays(365));
        if (sameConsumerKey)
        {
            renewed = renewed with { ConsumerKey = added.Credentials.ConsumerKey };
        }

        var path = store.AbmTokenFile(added.Request, renewed);
        store.Host.Warnings.Clear();

        var token = store.Tokens.UpdateToken("Contoso", path, appleId: null)!;

        Assert.Equal(added.Token.Id, token.Id);
        Assert.Equal(renewed.AccessTokenExpiry, token.ExpiresAt);
        Assert.Equal(AdeTokenStatus.Active, token.Status);
        Assert.Equal(365, token.DaysUntilExpiry);
        Assert.Equal("admin@contoso.com", token.AppleId);
        Assert.Equal(store.Now, token.ModifiedAt);
        Assert.Equal(added.Token.CreatedAt, token.CreatedAt);
        var stored = store.Tokens.GetCredentials(token.Id);
        Assert.Equal((renewed.ConsumerKey, renewed.ConsumerSecret, renewed.AccessToken, renewed.AccessSecret),
            (stored.ConsumerKey, stored.ConsumerSecret, stored.AccessToken, stored.AccessSecret));
        Assert.Equal(1, store.Count("token"));
        Assert.Equal(1, store.Count("token_request"));
        Assert.Empty(store.Host.Warnings);
        Assert.Equal(token, Assert.Single(store.Tokens.GetTokens()), new TokenIdComparer());
    }

    [Fact]
    public void Renew_WithAFileForAnotherKey_IsTokenDecryptionFailedAndNothingChanges()
    {
        var added = store.AddToken("Contoso");
        var other = store.SeedRequest();
        Assert.NotEqual(added.Request.PublicKeyPem, other.PublicKeyPem);
        var path = store.AbmTokenFile(other, store.Credentials(365));

        FailsUnchanged("TokenDecryptionFailed", () => store.Tokens.UpdateToken("Contoso", path, null));

        Assert.Equal(added.Credentials.AccessSecret, store.Tokens.GetCredentials(added.Token.Id).AccessSecret);
    }

    [Fact]
    public void Renew_WithTheConsumerKeyOfAnotherToken_IsTokenAlreadyExistsAndNothingChanges()
    {
        var contoso = store.AddToken("Contoso");
        var fabrikam = store.AddToken("Fabrikam");
        var path = store.AbmTokenFile(contoso.Request, ServerTokenCredentials.CreateRandom(store.Now.AddDays(300)) with { ConsumerKey = fabrikam.Credentials.ConsumerKey });

        FailsUnchanged("TokenAlreadyExists", () => store.Tokens.UpdateToken("Contoso", path, null));
    }

    [Fact]
    public void Renew_WithAnExpiredFile_IsTokenExpiredAndNothingChanges()
    {
        var added = store.AddToken("Contoso");
        var path = store.AbmTokenFile(added.Request, store.Credentials(TimeSpan.FromDays(-1)));

        FailsUnchanged("TokenExpired", () => store.Tokens.UpdateToken("Contoso", path, null));
    }

    [Fact]
    public void Renew_WithBadContent_IsTokenContentInvalidAndNothingChanges()
    {
        var added = store.AddToken("Contoso");
        var fields = TokenFiles.Fields(store.Credentials());
        fields.Remove("access_secret");
        var path = store.WriteFile("bad.p7m", TokenFiles.ToSmime(TokenFiles.EnvelopedWithBouncyCastle(added.Request.PublicKeyPem,
            System.Text.Encoding.UTF8.GetBytes(TokenFiles.InnerText(TokenFiles.Json(fields))), Org.BouncyCastle.Asn1.Nist.NistObjectIdentifiers.IdAes256Cbc, KeyTransport.RsaPkcs1)));

        FailsUnchanged("TokenContentInvalid", () => store.Tokens.UpdateToken("Contoso", path, null));
    }

    [Fact]
    public void Renew_WithAChangedAppleId_WarnsThatEnrolledDevicesAreUnaffected()
    {
        var added = store.AddToken("Contoso", appleId: "old.admin@contoso.com");
        var path = store.AbmTokenFile(added.Request, store.Credentials(365));

        var token = store.Tokens.UpdateToken("Contoso", path, "new.admin@contoso.com")!;

        Assert.Equal("new.admin@contoso.com", token.AppleId);
        var warning = Assert.Single(store.Host.Warnings);
        Assert.Contains("old.admin@contoso.com", warning, StringComparison.Ordinal);
        Assert.Contains("new.admin@contoso.com", warning, StringComparison.Ordinal);
        Assert.Contains("enrolled", warning, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("not affected", warning, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void Renew_WithABadAppleId_IsArgumentInvalidAndNothingChanges()
    {
        var added = store.AddToken("Contoso");
        var path = store.AbmTokenFile(added.Request, store.Credentials(365));

        FailsUnchanged("ArgumentInvalid", () => store.Tokens.UpdateToken("Contoso", path, "not an apple id"));
    }

    [Fact]
    public void Renew_ShouldProcessDeclined_ChangesNothing()
    {
        var added = store.AddToken("Contoso");
        var path = store.AbmTokenFile(added.Request, store.Credentials(365));
        var before = store.Snapshot();
        store.Host.ShouldProcessAnswer = false;

        var token = store.Tokens.UpdateToken(added.Token.Id.ToString(), path, "new.admin@contoso.com");

        Assert.Null(token); // -WhatIf writes nothing
        Assert.Equal(before, store.Snapshot());
        Assert.Empty(store.Host.Warnings);
    }

    [Fact]
    public void Renew_UnknownOrAmbiguousToken_IsRefused()
    {
        store.AddToken("Contoso EU");
        store.AddToken("Contoso US");
        var path = store.WriteFile("x.p7m", "x");

        AdeAssert.Throws("TokenNotFound", () => store.Tokens.UpdateToken("Fabrikam", path, null));
        AdeAssert.Throws("TokenNotFound", () => store.Tokens.UpdateToken(Guid.NewGuid().ToString(), path, null));
        var ex = AdeAssert.Throws("TokenAmbiguous", () => store.Tokens.UpdateToken("Contoso*", path, null));
        Assert.Contains("2 tokens", ex.Message, StringComparison.Ordinal);
    }

    private sealed class TokenIdComparer : IEqualityComparer<AdeToken>
    {
        public bool Equals(AdeToken? x, AdeToken? y) => x?.Id == y?.Id && x?.ExpiresAt == y?.ExpiresAt;

        public int GetHashCode(AdeToken obj) => obj.Id.GetHashCode();
    }
}

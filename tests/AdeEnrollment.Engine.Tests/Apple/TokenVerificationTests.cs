using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Tokens;
using Xunit;

namespace AdeEnrollment.Engine.Tests.Apple;

/// <summary>New-AdeToken asks Apple (GET /account) before it stores a token, and records the server and organisation.</summary>
public sealed class TokenVerificationTests : IDisposable
{
    private readonly SimulatorFixture f = new(server: "Unused");
    private readonly string folder = Directory.CreateTempSubdirectory("ade-verify-").FullName;
    private readonly AdeStore store;
    private readonly AdeEngine engine;

    public TokenVerificationTests()
    {
        store = AdeStore.Open(Path.Combine(folder, "ade.db"));
        engine = new AdeEngine(store, f.Host, f.Time, new AppleClientFactory(f.Time, f.Host, null, f.Options()));
    }

    public void Dispose()
    {
        store.Release();
        f.Dispose();
        Directory.Delete(folder, recursive: true);
    }

    private (string RequestId, string TokenFile) Server(string name)
    {
        var request = engine.Tokens.NewRequest(true, null)!;
        f.Simulator.NewServer(name, request.PublicKeyPem, out var p7m, "Fabrikam Schools", "mdm.admin@fabrikam.example");
        var file = Path.Combine(folder, $"{name}_Token_2026-03-02T09-00-00Z_smime.p7m");
        File.WriteAllText(file, p7m);
        return (request.Id.ToString(), file);
    }

    [Fact]
    public async Task TheTokenIsVerifiedAndDescribed()
    {
        var (request, file) = Server("Fabrikam iPads");
        var token = engine.Tokens.NewToken(new NewTokenArgs(request, file, "admin@fabrikam.example", ServiceUri: f.Simulator.Uri))!;
        Assert.Equal("Fabrikam iPads", token.Name);
        Assert.Equal("Fabrikam iPads", token.ServerName);
        Assert.Equal(f.Simulator.GetServer("Fabrikam iPads").Uuid, token.ServerUuid);
        Assert.Equal("Fabrikam Schools", token.OrgName);
        Assert.Equal("org", token.OrgType);
        Assert.Equal("mdm.admin@fabrikam.example", token.AdminId);
        Assert.Equal(f.Simulator.Uri, token.ServiceUri);
        Assert.Equal(["/session", "/account"], f.Simulator.GetRequests().Select(r => r.Path));

        // the client for a stored token gets its credentials from the store
        var account = await engine.Apple.ForToken(engine.Tokens.Credentials(token)).GetAccountAsync();
        Assert.Equal(token.ServerUuid, account.ServerUuid);
    }

    [Fact]
    public void ARejectedTokenIsNotSaved()
    {
        var (request, file) = Server("Fabrikam iPads");
        f.Simulator.ExportServerToken("Fabrikam iPads", out _); // the downloaded file is no longer the current token
        var e = Assert.Throws<AdeException>(() => engine.Tokens.NewToken(new NewTokenArgs(request, file, "admin@fabrikam.example", Name: "iPads", ServiceUri: f.Simulator.Uri)));
        Assert.Equal("AppleTokenRejected", e.ErrorId);
        Assert.Contains(file, e.Message, StringComparison.Ordinal);
        // nothing was stored, so there is nothing to renew: the advice is to import the newest download
        Assert.DoesNotContain("Update-AdeToken", e.Message, StringComparison.Ordinal);
        Assert.Contains("run New-AdeToken again", e.Message, StringComparison.Ordinal);
        Assert.Empty(engine.Tokens.GetTokens());
        Assert.Equal(AdeEnrollment.Engine.Model.AdeTokenRequestStatus.Pending, engine.Tokens.GetRequests().Single().Status);
    }

    [Fact]
    public void TermsNotSignedStopsTheImport()
    {
        var (request, file) = Server("Fabrikam iPads");
        f.Simulator.AddFault("/account", 403, "T_C_NOT_SIGNED");
        Assert.Equal("AppleTermsNotSigned", Assert.Throws<AdeException>(() => engine.Tokens.NewToken(new NewTokenArgs(request, file, "admin@fabrikam.example", ServiceUri: f.Simulator.Uri))).ErrorId);
        Assert.Empty(engine.Tokens.GetTokens());
    }

    [Fact]
    public void WhatIfDoesNotCallApple()
    {
        var (request, file) = Server("Fabrikam iPads");
        f.Host.ShouldProcessAnswer = false;
        Assert.Null(engine.Tokens.NewToken(new NewTokenArgs(request, file, "admin@fabrikam.example", ServiceUri: f.Simulator.Uri)));
        Assert.Empty(f.Simulator.GetRequests());
    }

    [Fact]
    public void AnExplicitNameWins()
    {
        var (request, file) = Server("Fabrikam iPads");
        var token = engine.Tokens.NewToken(new NewTokenArgs(request, file, "admin@fabrikam.example", Name: "Students", ServiceUri: f.Simulator.Uri))!;
        Assert.Equal("Students", token.Name);
        Assert.Equal("Fabrikam iPads", token.ServerName);
    }

    // ---- Update-AdeToken: the same verification as New-AdeToken, before anything is stored ---------------------

    private (AdeEnrollment.Engine.Model.AdeToken Token, string RequestPem) StoredToken(string server)
    {
        var request = engine.Tokens.NewRequest(true, null)!;
        f.Simulator.NewServer(server, request.PublicKeyPem, out var p7m, "Fabrikam Schools", "mdm.admin@fabrikam.example");
        var file = Path.Combine(folder, "first.p7m");
        File.WriteAllText(file, p7m);
        return (engine.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), file, "admin@fabrikam.example", ServiceUri: f.Simulator.Uri))!, request.PublicKeyPem);
    }

    private string Write(string name, string text)
    {
        var file = Path.Combine(folder, name);
        File.WriteAllText(file, text);
        return file;
    }

    private List<string> Snapshot() => engine.Tokens.GetTokens().Select(t => $"{t.Id} {t.ExpiresAt:O} {t.Status} {t.ServerUuid} {t.ModifiedAt:O}")
        .Concat(engine.Tokens.GetTokens().Select(t => string.Join("|", engine.Tokens.GetCredentials(t.Id).ConsumerKey, engine.Tokens.GetCredentials(t.Id).AccessToken))).ToList();

    [Fact]
    public void Renewal_WithASupersededFile_IsRefusedByAppleAndChangesNothing()
    {
        var (token, _) = StoredToken("Fabrikam iPads");
        f.Time.Advance(TimeSpan.FromDays(300));
        f.Simulator.ExportServerToken("Fabrikam iPads", out var older, expiresAt: f.Time.GetUtcNow().AddDays(365));
        var olderFile = Write("older.p7m", older);
        f.Simulator.ExportServerToken("Fabrikam iPads", out _, expiresAt: f.Time.GetUtcNow().AddDays(365)); // supersedes 'older'
        var before = Snapshot();
        f.Simulator.ClearRequests();

        var e = Assert.Throws<AdeException>(() => engine.Tokens.UpdateToken(token.Name, olderFile, null));

        Assert.Equal("AppleTokenRejected", e.ErrorId);
        Assert.Equal(before, Snapshot());
        Assert.Contains("/session", f.Simulator.GetRequests().Select(r => r.Path));
    }

    [Fact]
    public void Renewal_WithTheCurrentFile_IsVerifiedAndStored()
    {
        var (token, _) = StoredToken("Fabrikam iPads");
        f.Time.Advance(TimeSpan.FromDays(300));
        f.Simulator.ExportServerToken("Fabrikam iPads", out var current, expiresAt: f.Time.GetUtcNow().AddDays(365));
        f.Simulator.ClearRequests();

        var renewed = engine.Tokens.UpdateToken(token.Name, Write("current.p7m", current), null)!;

        Assert.Equal(["/session", "/account"], f.Simulator.GetRequests().Select(r => r.Path));
        Assert.Equal(AdeEnrollment.Engine.Model.AdeTokenStatus.Active, renewed.Status);
        Assert.Equal(token.ServerUuid, renewed.ServerUuid);
        Assert.Equal(365, renewed.DaysUntilExpiry);
    }

    [Fact]
    public void Renewal_WithATokenOfAnotherMdmServer_IsTokenServerMismatchAndChangesNothing()
    {
        var (token, pem) = StoredToken("Fabrikam iPads");
        // The same public key uploaded to a second MDM server in ABM: its file decrypts with this token's key.
        f.Simulator.NewServer("Fabrikam Macs", pem, out var other, "Fabrikam Schools", "mdm.admin@fabrikam.example");
        var before = Snapshot();

        var e = Assert.Throws<AdeException>(() => engine.Tokens.UpdateToken(token.Name, Write("macs.p7m", other), null));

        Assert.Equal("TokenServerMismatch", e.ErrorId);
        Assert.Equal(AdeErrorCategory.InvalidData, e.Category);
        Assert.Contains("'Fabrikam iPads'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'Fabrikam Macs'", e.Message, StringComparison.Ordinal);
        Assert.Contains(f.Simulator.GetServer("Fabrikam Macs").Uuid, e.Message, StringComparison.Ordinal);
        Assert.Contains(token.ServerUuid!, e.Message, StringComparison.Ordinal);
        Assert.Contains("New-AdeToken", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Snapshot());
    }
}

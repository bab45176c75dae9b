using System.Text.RegularExpressions;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Tests.Support;
using Xunit;

namespace AdeEnrollment.Engine.Tests.Apple;

/// <summary>Sessions, re-authentication (once, never a loop) and the classification of Apple's auth errors.</summary>
public sealed class AuthenticationTests : IDisposable
{
    private readonly SimulatorFixture f = new();

    public void Dispose() => f.Dispose();

    private int Count(string path) => f.Simulator.GetRequests(path).Count;

    [Fact]
    public async Task AnExpiredSessionIsRenewedOnceAndTheCallReplayed()
    {
        var client = f.Client();
        await client.GetAccountAsync();
        f.Time.Advance(f.Simulator.SessionLifetime + TimeSpan.FromSeconds(1));
        await client.GetAccountAsync();
        Assert.Equal(["/session", "/account", "/account", "/session", "/account"], f.Simulator.GetRequests().Select(r => r.Path));
        Assert.Equal([200, 200, 401, 200, 200], f.Simulator.GetRequests().Select(r => r.StatusCode));
    }

    [Fact]
    public async Task SessionsAreSharedBetweenClientsOfOneToken()
    {
        var options = f.Options();
        await f.Client(options).GetAccountAsync();
        await f.Client(options).GetAccountAsync();
        Assert.Equal(1, Count("/session"));
    }

    [Fact]
    public async Task Forbidden403ReauthenticatesOnce()
    {
        var client = f.Client();
        await client.GetAccountAsync();
        f.Simulator.AddFault("/account", 403, "FORBIDDEN", count: 1);
        await client.GetAccountAsync();
        Assert.Equal(2, Count("/session"));
        Assert.Equal(3, Count("/account"));
    }

    [Theory]
    [InlineData(401, "UNAUTHORIZED")]
    [InlineData(403, "FORBIDDEN")]
    public async Task APersistentAuthFailureReauthenticatesOnceThenFails(int status, string body)
    {
        var client = f.Client();
        await client.GetAccountAsync();
        f.Simulator.AddFault("/account", status, body);
        var e = await Assert.ThrowsAsync<AdeException>(() => client.GetAccountAsync());
        Assert.Equal(status == 401 ? "AppleTokenRejected" : "AppleAccessDenied", e.ErrorId);
        Assert.Equal(2, Count("/session"));
        Assert.Equal(3, Count("/account")); // first call, the failing one, its single replay
    }

    [Fact]
    public async Task AFreshSessionThatIsRejected_IsRenewedOnce_ThenTheTokenIsRejected()
    {
        // a scheduled run's first call has a session it just opened: one refusal of it is renewed as any other's
        f.Simulator.AddFault("/account", 401, "UNAUTHORIZED", count: 1);
        await f.Client().GetAccountAsync();
        Assert.Equal((2, 2), (Count("/session"), Count("/account")));

        f.Simulator.ClearRequests();
        f.Simulator.AddFault("/account", 401, "UNAUTHORIZED");
        var e = await Assert.ThrowsAsync<AdeException>(() => f.Client().GetAccountAsync());
        Assert.Equal("AppleTokenRejected", e.ErrorId);
        Assert.Equal((2, 2), (Count("/session"), Count("/account"))); // renewed once, not again
    }

    [Fact]
    public async Task ARotatedSessionIsAdopted()
    {
        f.Simulator.RotateSessionEvery = 1; // every answer carries a new session; the old one stops working
        var client = f.Client();
        for (var i = 0; i < 5; i++)
        {
            await client.GetAccountAsync();
        }

        Assert.Equal(1, Count("/session"));
        Assert.All(f.Simulator.GetRequests("/account"), r => Assert.Equal(200, r.StatusCode));
        Assert.Contains(f.Host.Debug, d => d.Contains("rotated", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ATokenReplacedInAbmIsRejected()
    {
        var client = f.Client();
        await client.GetAccountAsync();
        f.Simulator.ExportServerToken(f.ServerName, out _);
        var e = await Assert.ThrowsAsync<AdeException>(() => client.GetAccountAsync());
        Assert.Equal("AppleTokenRejected", e.ErrorId);
        Assert.Equal(AdeErrorCategory.AuthenticationError, e.Category);
        Assert.Contains("Update-AdeToken -Token 'Contoso iPhones'", e.Message, StringComparison.Ordinal);
        Assert.Contains("TOKEN_REJECTED", e.Message, StringComparison.Ordinal);
        Assert.Equal([200, 200, 401, 401], f.Simulator.GetRequests().Select(r => r.StatusCode));

        await f.Client().GetAccountAsync(); // the new token works
    }

    [Fact]
    public async Task AnExpiredTokenIsRejected()
    {
        f.Simulator.ExportServerToken(f.ServerName, out _, expiresAt: f.Time.GetUtcNow().AddDays(1));
        var client = f.Client();
        await client.GetAccountAsync();
        f.Time.Advance(TimeSpan.FromDays(2));
        var e = await Assert.ThrowsAsync<AdeException>(() => client.GetAccountAsync());
        Assert.Equal("AppleTokenRejected", e.ErrorId);
        Assert.Contains("TOKEN_EXPIRED", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("/session", "T_C_NOT_SIGNED")]
    [InlineData("/account", "T_C_NOT_SIGNED")]
    [InlineData("/account", "\"T_C_NOT_SIGNED\"")]
    [InlineData("/account", "{\"code\":\"T_C_NOT_SIGNED\"}")]
    [InlineData("/account", "t_c_not_signed")]
    public async Task TermsNotSignedTellsTheAdminToAcceptThem(string endpoint, string body)
    {
        f.Simulator.AddFault(endpoint, 403, body);
        var e = await Assert.ThrowsAsync<AdeException>(() => f.Client().GetAccountAsync());
        Assert.Equal("AppleTermsNotSigned", e.ErrorId);
        Assert.Contains("accept the new terms", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, Count(endpoint)); // no re-authentication, no retry
    }

    [Theory]
    [InlineData(403, "T_C_NOT_SIGNED", "AppleTermsNotSigned")]
    [InlineData(401, "UNAUTHORIZED", "AppleTokenRejected")]
    public async Task ARefusedSessionNamesSessionAsTheAddressContacted(int status, string body, string errorId)
    {
        f.Simulator.AddFault("/session", status, body);
        var e = await Assert.ThrowsAsync<AdeException>(() => f.Client().GetAccountAsync());
        Assert.Equal(errorId, e.ErrorId);
        Assert.EndsWith("/session.", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("/account", e.Message, StringComparison.Ordinal); // the call the session was for
    }

    [Fact]
    public async Task ASessionThatKeepsFailingOrDropsTheConnectionNamesSession()
    {
        var session = new Uri(f.Simulator.Uri, "session").ToString();
        f.Simulator.AddFault("/session", 503, "SERVICE_UNAVAILABLE");
        var busy = await Assert.ThrowsAsync<AdeException>(() => f.Client(f.Options(retries: 1)).GetAccountAsync());
        Assert.Equal("AppleServiceUnavailable", busy.ErrorId);
        Assert.Contains("GET /session", busy.Message, StringComparison.Ordinal);
        Assert.Contains(session, busy.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("/account", busy.Message, StringComparison.Ordinal);

        f.Simulator.ClearFaults();
        f.Simulator.AddFault("/session", null, dropConnection: true);
        var dropped = await Assert.ThrowsAsync<AdeException>(() => f.Client(f.Options(retries: 1)).GetAccountAsync());
        Assert.Contains(session, dropped.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("/account", dropped.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task AnUnreadableSessionAnswerNamesSession_AndKeepsNoneOfItsText()
    {
        f.Simulator.AddFault("/session", 200, "{\"auth_session_token\": nSESSIONSECRETYY}");
        var e = await Assert.ThrowsAsync<AdeException>(() => f.Client().GetAccountAsync());
        Assert.Equal("AppleResponseInvalid", e.ErrorId);
        Assert.EndsWith("/session.", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 1, byte", e.Message, StringComparison.Ordinal); // where it failed
        for (Exception? x = e; x is not null; x = x.InnerException)
        {
            Assert.DoesNotContain("SESSIONSECRET", x.Message, StringComparison.Ordinal); // the parser quotes what it could not read
        }
    }

    [Theory]
    [InlineData("/session", "ACCESS_DENIED")]
    [InlineData("/account", "ACCESS_DENIED")]
    [InlineData("/account", "\"ACCESS_DENIED\"")]
    public async Task AccessDenied(string endpoint, string body)
    {
        f.Simulator.AddFault(endpoint, 403, body);
        var e = await Assert.ThrowsAsync<AdeException>(() => f.Client().GetAccountAsync());
        Assert.Equal("AppleAccessDenied", e.ErrorId);
        Assert.Contains("ACCESS_DENIED", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, Count(endpoint));
    }

    [Fact]
    public async Task TokenRejected403IsNotRetried()
    {
        f.Simulator.AddFault("/account", 403, "token_rejected");
        Assert.Equal("AppleTokenRejected", (await Assert.ThrowsAsync<AdeException>(() => f.Client().GetAccountAsync())).ErrorId);
        Assert.Equal(1, Count("/account"));
    }

    [Fact]
    public async Task SessionErrorsAreClassified()
    {
        f.Simulator.AddFault("/session", 400, "BAD_REQUEST", count: 1);
        Assert.Equal("AppleRequestInvalid", (await Assert.ThrowsAsync<AdeException>(() => f.Client().GetAccountAsync())).ErrorId);
        f.Simulator.AddFault("/session", 401, "UNAUTHORIZED", count: 1);
        Assert.Equal("AppleTokenRejected", (await Assert.ThrowsAsync<AdeException>(() => f.Client().GetAccountAsync())).ErrorId);
        var wrong = f.Credentials() with { ConsumerSecret = "CS_wrong" };
        var e = await Assert.ThrowsAsync<AdeException>(() => f.Client(credentials: wrong).GetAccountAsync());
        Assert.Equal("AppleTokenRejected", e.ErrorId);
        Assert.Contains("SIGNATURE_INVALID", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task NoSecretIsEverWrittenOrThrown()
    {
        var credentials = f.Credentials();
        var client = f.Client();
        await client.GetAccountAsync();
        f.Time.Advance(TimeSpan.FromMinutes(10));
        await client.GetAccountAsync();
        f.Simulator.AddFault("/account", 503, "SERVICE_UNAVAILABLE", retryAfterSeconds: 1);
        var messages = new List<string>();
        messages.Add((await Assert.ThrowsAsync<AdeException>(() => f.Client(f.Options(retries: 1)).GetAccountAsync())).ToString());
        f.Simulator.ClearFaults();
        f.Simulator.ExportServerToken(f.ServerName, out _);
        messages.Add((await Assert.ThrowsAsync<AdeException>(() => client.GetAccountAsync())).ToString());
        var text = string.Join("\n", f.Host.AllText) + string.Join("\n", messages);
        foreach (var secret in new[] { credentials.ConsumerSecret, credentials.AccessSecret, credentials.AccessToken })
        {
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        }

        Assert.DoesNotMatch(new Regex("O1O[0-9A-F]{16}"), text); // the simulator's session tokens
    }
}

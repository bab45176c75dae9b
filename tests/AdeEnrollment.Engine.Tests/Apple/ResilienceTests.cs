using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Tests.Support;
using Xunit;

namespace AdeEnrollment.Engine.Tests.Apple;

/// <summary>Every fault the simulator injects: retried when a retry is due (honouring Retry-After), never otherwise.</summary>
public sealed class ResilienceTests : IDisposable
{
    private readonly SimulatorFixture f = new();

    public void Dispose() => f.Dispose();

    private int Count(string path) => f.Simulator.GetRequests(path).Count;

    [Theory]
    [InlineData(503)]
    [InlineData(429)]
    public async Task RetryAfterSecondsIsHonoured(int status)
    {
        f.Simulator.AddFault("/account", status, null, count: 1, retryAfterSeconds: 7);
        var account = await f.Client().GetAccountAsync();
        Assert.Equal("Contoso iPhones", account.ServerName);
        Assert.Equal([TimeSpan.FromSeconds(7)], f.Delays.Delays);
        Assert.Equal(2, Count("/account"));
        Assert.Contains(f.Host.Verbose, v => v.Contains($"answered {status}", StringComparison.Ordinal) && v.Contains("retry 1 of 4 in 7 s", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RetryAfterAsAnHttpDateIsHonoured()
    {
        f.Simulator.AddFault("/server/devices", 429, "TOO_MANY_REQUESTS", count: 1, retryAfterSeconds: 30, retryAfterAsDate: true);
        await f.Client().FetchDevicesAsync(null);
        Assert.Equal([TimeSpan.FromSeconds(30)], f.Delays.Delays);
    }

    [Fact]
    public async Task ThrottlingOnSessionIsRetried()
    {
        f.Simulator.AddFault("/session", 429, "TOO_MANY_REQUESTS", count: 1, retryAfterSeconds: 2);
        await f.Client().GetAccountAsync();
        Assert.Equal(2, Count("/session"));
        Assert.Equal([TimeSpan.FromSeconds(2)], f.Delays.Delays);
    }

    [Theory]
    [InlineData(500)]
    [InlineData(502)]
    [InlineData(503)]
    [InlineData(504)]
    public async Task ServerErrorsBackOffExponentiallyWithJitter(int status)
    {
        f.Simulator.AddFault("/account", status, null, count: 3);
        await f.Client().GetAccountAsync();
        Assert.Equal(4, Count("/account"));
        Assert.Equal(3, f.Delays.Delays.Count);
        Assert.All(f.Delays.Delays, d => Assert.InRange(d, TimeSpan.FromMilliseconds(1), TimeSpan.FromSeconds(60)));
        Assert.True(f.Delays.Delays.Distinct().Count() > 1, "the waits are jittered");
    }

    [Fact]
    public async Task ADroppedConnectionIsRetried()
    {
        f.Simulator.AddFault("/server/devices", null, count: 1, dropConnection: true);
        f.Simulator.AddDevices(f.ServerName, 3);
        var page = await f.Client().FetchDevicesAsync(null);
        Assert.Equal(3, page.Devices.Count);
        Assert.Equal([0, 200], f.Simulator.GetRequests("/server/devices").Select(r => r.StatusCode));
        Assert.Single(f.Delays.Delays);
    }

    [Fact]
    public async Task AnAnswerSlowerThanTheAttemptTimeoutIsRetried()
    {
        f.Simulator.AddFault("/account", null, count: 1, latency: TimeSpan.FromSeconds(3));
        var options = new AppleClientOptions { DelayTimeProvider = f.Delays, Sessions = new AppleSessionCache(), AttemptTimeout = TimeSpan.FromMilliseconds(500) };
        await f.Client(options).GetAccountAsync();
        Assert.Contains(f.Host.Verbose, v => v.Contains("timed out", StringComparison.Ordinal));
        Assert.Single(f.Delays.Delays);
    }

    [Fact]
    public async Task ASessionThatTimesOutNamesSessionNotTheCallItWasOpenedFor()
    {
        f.Simulator.AddFault("/session", null, latency: TimeSpan.FromSeconds(3));
        var options = new AppleClientOptions { DelayTimeProvider = f.Delays, Sessions = new AppleSessionCache(), AttemptTimeout = TimeSpan.FromMilliseconds(300), MaxRetryAttempts = 1 };
        var e = await Assert.ThrowsAsync<AdeException>(() => f.Client(options).GetAccountAsync());
        Assert.Equal("AppleTimeout", e.ErrorId);
        Assert.Contains(new Uri(f.Simulator.Uri, "session").ToString(), e.Message, StringComparison.Ordinal);
        Assert.Contains("GET /session", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("/account", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LatencyAloneIsJustWaitedFor()
    {
        f.Simulator.AddFault("/account", null, count: 1, latency: TimeSpan.FromMilliseconds(200));
        await f.Client().GetAccountAsync();
        Assert.Empty(f.Delays.Delays);
        var request = f.Simulator.GetRequests("/account").Single();
        Assert.True(request.Fault);
        Assert.True(request.Duration >= TimeSpan.FromMilliseconds(150));
    }

    [Fact]
    public async Task RetriesAreBounded()
    {
        f.Simulator.AddFault("/account", 503, "SERVICE_UNAVAILABLE");
        var e = await Assert.ThrowsAsync<AdeException>(() => f.Client(f.Options(retries: 3)).GetAccountAsync());
        Assert.Equal("AppleServiceUnavailable", e.ErrorId);
        Assert.Equal(AdeErrorCategory.ResourceUnavailable, e.Category);
        Assert.Contains("GET /account answered 503 SERVICE_UNAVAILABLE", e.Message, StringComparison.Ordinal);
        Assert.Equal(4, Count("/account"));
    }

    [Fact]
    public async Task ARetryAfterLongerThanTheLongestWaitIsNotWaitedFor()
    {
        f.Simulator.AddFault("/account", 503, null, retryAfterSeconds: 3600);
        var e = await Assert.ThrowsAsync<AdeException>(() => f.Client().GetAccountAsync());
        Assert.Equal("AppleServiceUnavailable", e.ErrorId);
        Assert.Contains("wait 3,600 seconds", e.Message, StringComparison.Ordinal);
        Assert.Equal(1, Count("/account"));
        Assert.Empty(f.Delays.Delays);
    }

    [Fact]
    public async Task TheTotalTimeIsBounded()
    {
        f.Simulator.AddFault("/account", 429, null, retryAfterSeconds: 6);
        var options = new AppleClientOptions { DelayTimeProvider = f.Delays, Sessions = new AppleSessionCache(), MaxTotalTime = TimeSpan.FromSeconds(10) };
        await Assert.ThrowsAsync<AdeException>(() => f.Client(options).GetAccountAsync());
        Assert.Equal(2, Count("/account")); // 6 s fit in 10 s, another 6 s would not
    }

    [Theory]
    [InlineData(400, "BAD_REQUEST", "AppleRequestInvalid")]
    [InlineData(404, "NOT_FOUND", "AppleRequestInvalid")]
    [InlineData(405, "METHOD_NOT_ALLOWED", "AppleRequestInvalid")]
    [InlineData(409, "CONFLICT", "AppleRequestInvalid")]
    [InlineData(400, "EXPIRED_CURSOR", "AppleCursorExpired")]
    [InlineData(400, "\"INVALID_CURSOR\"", "AppleCursorInvalid")]
    [InlineData(400, "EXHAUSTED_CURSOR", "AppleCursorExhausted")]
    public async Task OtherClientErrorsAreNeverRetried(int status, string body, string errorId)
    {
        f.Simulator.AddFault("/server/devices", status, body);
        var e = await Assert.ThrowsAsync<AdeException>(() => f.Client().FetchDevicesAsync(null));
        Assert.Equal(errorId, e.ErrorId);
        Assert.Equal(1, Count("/server/devices"));
        Assert.Empty(f.Delays.Delays);
    }

    [Fact]
    public async Task AnIntermittentFaultOnAShareOfRequestsIsAbsorbed()
    {
        f.Simulator.AddFault("/account", 500, null, share: 0.3);
        var client = f.Client(f.Options(retries: 8));
        for (var i = 0; i < 20; i++)
        {
            await client.GetAccountAsync();
        }

        var log = f.Simulator.GetRequests("/account");
        Assert.Equal(20, log.Count(r => r.StatusCode == 200));
        Assert.InRange(log.Count(r => r.StatusCode == 500), 1, 40);
    }

    [Fact]
    public async Task CtrlCCancelsAWait()
    {
        f.Simulator.AddFault("/account", null, latency: TimeSpan.FromSeconds(30));
        var call = f.Client().GetAccountAsync();
        await Task.Delay(200);
        f.Host.Stop.Cancel();
        var watch = System.Diagnostics.Stopwatch.StartNew();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5));
    }

    [Fact]
    public async Task AStoppedServiceIsARefusedConnectionNamingItsAddressAfterRetries()
    {
        var uri = f.Simulator.Uri;
        f.Simulator.Stop();
        var client = new AppleClient(uri, f.Credentials(), "Contoso iPhones", f.Time, f.Host, null, f.Options(retries: 2));
        var e = await Assert.ThrowsAsync<AdeException>(() => client.GetAccountAsync());
        Assert.Equal("AppleConnectionRefused", e.ErrorId);
        Assert.Contains(new Uri(uri, "session").ToString(), e.Message, StringComparison.Ordinal); // the first exchange of a call opens its session
        Assert.Equal(2, f.Delays.Delays.Count);
        Assert.Equal(2, f.Host.Verbose.Count(v => v.Contains("connection refused", StringComparison.Ordinal)));
    }
}

/// <summary>The retry pipeline is shared by every client of one options instance: each call's retries stay its own.</summary>
public sealed class SharedRetryPipelineTests : IDisposable
{
    private readonly SimulatorFixture f = new();

    public void Dispose() => f.Dispose();

    [Fact]
    public async Task ClientsSharingOptionsReportTheirOwnRetriesToTheirOwnHost()
    {
        var options = f.Options();
        var otherHost = new RecordingHost();
        var first = f.Client(options);
        var second = new AppleClient(f.Simulator.Uri, f.Credentials(), f.ServerName, f.Time, otherHost, null, options);
        f.Simulator.AddFault("/account", 503, null, count: 1, retryAfterSeconds: 3);
        f.Simulator.AddFault("/server/devices", 503, null, count: 1, retryAfterSeconds: 5);

        await first.GetAccountAsync();
        await second.FetchDevicesAsync(null);

        Assert.Contains(f.Host.Verbose, v => v.Contains("GET /account answered 503", StringComparison.Ordinal) && v.Contains("retry 1 of 4 in 3 s", StringComparison.Ordinal));
        Assert.DoesNotContain(f.Host.Verbose, v => v.Contains("/server/devices", StringComparison.Ordinal) && v.Contains("retry", StringComparison.Ordinal));
        Assert.Contains(otherHost.Verbose, v => v.Contains("POST /server/devices answered 503", StringComparison.Ordinal) && v.Contains("retry 1 of 4 in 5 s", StringComparison.Ordinal));
        Assert.DoesNotContain(otherHost.Verbose, v => v.Contains("/account", StringComparison.Ordinal) && v.Contains("retry", StringComparison.Ordinal));
        Assert.Equal([TimeSpan.FromSeconds(3), TimeSpan.FromSeconds(5)], f.Delays.Delays);
    }
}

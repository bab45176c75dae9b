using System.Globalization;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Tests.TestSupport;

namespace AdeEnrollment.Engine.Tests.Business;

/// <summary>
/// Apple's request budgets of a Business API account as two processes or hosts sharing one store meet them, on each
/// store provider: a request is counted in the store before it is sent, so two senders cannot both take the last one.
/// </summary>
public sealed class BusinessBudgetProviderTests
{
    public static TheoryData<string> Providers => ["SQLite", "PostgreSQL"];

    /// <summary>Passes requests to the simulator; holds the next device activity POST at "Apple's door" until released.</summary>
    private sealed class Gate : DelegatingHandler
    {
        private int holdNext;

        public Gate() : base(new SocketsHttpHandler { AllowAutoRedirect = false })
        {
        }

        /// <summary>Completes when the held POST has reached the handler (it was counted and is being sent).</summary>
        public TaskCompletionSource Arrived { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Open { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void HoldNextPost() => Volatile.Write(ref holdNext, 1);

        /// <summary>Answers (or fails) a request itself instead of passing it on, when it returns an answer.</summary>
        public Func<HttpRequestMessage, HttpResponseMessage?>? Answer { get; set; }

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            if (Answer?.Invoke(request) is { } answer)
            {
                return answer;
            }

            if (request.Method == HttpMethod.Post && request.RequestUri!.AbsolutePath == "/v1/orgDeviceActivities" && Interlocked.Exchange(ref holdNext, 0) == 1)
            {
                Arrived.SetResult();
                await Open.Task.ConfigureAwait(false);
            }

            return await base.SendAsync(request, cancellationToken).ConfigureAwait(false);
        }
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void The_activity_size_Apple_took_after_a_refusal_is_the_accounts_for_every_host_of_the_store(string provider)
    {
        using var schema = provider == "PostgreSQL" ? new TestPostgresSchema() : null;
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PostsPerHour = 100, MaxDevicesPerActivity = 4 }, postgres: schema);
        fx.Simulator.MaxDevicesPerActivity = 2;
        var serials = fx.Simulator.AddOrgDevices(6).Select(d => d.SerialNumber).ToList();
        Assert.Equal([2, 2], fx.Engine.Business.Send(OrgDeviceAction.Assign, serials[..4], null, server: "Contoso iPads").Select(a => a.DeviceCount));

        // another host of the store starts at 2: no POST spent on the refusal again
        var other = fx.SecondEngine(new RecordingHost());
        Assert.Equal(2, Assert.Single(other.Business.Accounts.Get()).DevicesPerActivity);
        var posts = fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count(r => r.Method == "POST");
        Assert.Equal([2], other.Business.Send(OrgDeviceAction.Assign, serials[4..], null, server: "Contoso iPads").Select(a => a.DeviceCount));
        Assert.Equal(posts + 1, fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count(r => r.Method == "POST"));

        // what Tab completion reads: the newest activities without their devices, and the servers they went to
        var all = fx.Engine.Business.GetActivities();
        var recent = fx.Engine.Business.GetRecentActivities(2);
        Assert.Equal(all.Take(2).Select(a => (a.Id, a.Action, a.MdmServer, a.DeviceCount, a.Status, a.CreatedAt)),
            recent.Select(a => (a.Id, a.Action, a.MdmServer, a.DeviceCount, a.Status, a.CreatedAt)));
        Assert.All(recent, a => Assert.Empty(a.Devices));
        Assert.Equal(["Contoso iPads"], fx.Engine.Business.GetActivityServerNames());

        // set by hand: back to the default
        Assert.Null(other.Business.Accounts.SetLimits(fx.Stored, new BusinessAccountLimits(DevicesPerActivity: 0))!.DevicesPerActivity);
        Assert.Null(Assert.Single(fx.Engine.Business.Accounts.Get()).DevicesPerActivity);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public async Task Two_hosts_cannot_both_take_the_last_post_of_the_hour_while_one_is_in_flight(string provider)
    {
        using var schema = provider == "PostgreSQL" ? new TestPostgresSchema() : null;
        using var gate = new Gate();
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PostsPerHour = 2, Handler = gate }, postgres: schema);
        var serials = fx.Simulator.AddOrgDevices(3).Select(d => d.SerialNumber).ToList();
        fx.Engine.Business.Send(OrgDeviceAction.Assign, [serials[0]], null, server: "Contoso iPads"); // one of the two left

        // host A sends the last POST of the hour; Apple has not answered it yet
        gate.HoldNextPost();
        var first = Task.Run(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, [serials[1]], null, server: "Contoso iPads"));
        await Task.WhenAny(first, gate.Arrived.Task);
        Assert.True(gate.Arrived.Task.IsCompleted, first.Exception?.ToString());

        // host B, on its own instance of the store, finds the budget used up and sends nothing
        var other = fx.SecondEngine(new RecordingHost());
        var e = Assert.Throws<AdeException>(() => other.Business.Send(OrgDeviceAction.Assign, [serials[2]], null, server: "Contoso iPads"));
        Assert.Equal("BusinessThrottled", e.ErrorId);
        Assert.Equal(AdeErrorCategory.LimitsExceeded, e.Category);
        Assert.Contains("(POST)", e.Message, StringComparison.Ordinal);
        Assert.Contains((fx.Sim.Time.GetUtcNow() + TimeSpan.FromHours(1)).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);

        gate.Open.SetResult();
        Assert.Single(await first);
        Assert.Equal(2, fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count(r => r.Method == "POST"));
        Assert.Equal(2, fx.Sim.Store.Read(s => s.Business.Requests(fx.Stored.Id, "POST", fx.Sim.Time.GetUtcNow() - TimeSpan.FromHours(1))).Count);
    }

    /// <summary>
    /// A POST is counted before it is sent and taken back only when it provably never reached Apple (no access token,
    /// no connection); once Apple may have seen it (any answer, a connection that broke after it was made) it stays.
    /// </summary>
    [Fact]
    public void A_post_is_taken_back_only_when_it_never_reached_Apple()
    {
        using var gate = new Gate();
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PostsPerHour = 10, Handler = gate });
        var serial = fx.Simulator.AddOrgDevices(1)[0].SerialNumber;
        int Counted() => fx.Sim.Store.Read(s => s.Business.Requests(fx.Stored.Id, "POST", fx.Sim.Time.GetUtcNow() - TimeSpan.FromHours(1))).Count;
        AdeException Assign(params string[] serials) => Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: "Contoso iPads"));
        fx.Engine.Business.GetMdmServers(); // the access token of the account, so the failures below are the POST's own

        BusinessClient.ResetProcessState();
        gate.Answer = r => r.RequestUri == fx.Account.TokenUri ? new HttpResponseMessage(System.Net.HttpStatusCode.ServiceUnavailable) : null;
        Assert.Equal("BusinessRequestFailed", Assign(serial).ErrorId); // no token: the POST never left
        Assert.Equal(0, Counted());

        gate.Answer = r => r.Method == HttpMethod.Post && r.RequestUri!.AbsolutePath == "/v1/orgDeviceActivities"
            ? throw new HttpRequestException(HttpRequestError.ConnectionError, "Connection refused") : null;
        Assert.Equal("BusinessNetworkError", Assign(serial).ErrorId); // no connection: the POST never left
        Assert.Equal(0, Counted());

        gate.Answer = r => r.Method == HttpMethod.Post && r.RequestUri!.AbsolutePath == "/v1/orgDeviceActivities"
            ? throw new HttpRequestException(HttpRequestError.ResponseEnded, "The response ended prematurely") : null;
        Assert.Equal("BusinessNetworkError", Assign(serial).ErrorId); // sent, no answer: Apple may have counted it
        Assert.Equal(1, Counted());

        gate.Answer = null;
        Assert.Equal("BusinessRequestFailed", Assign(serial, "C02ZZZZZZZZZ").ErrorId); // Apple answered 409
        Assert.Equal(2, Counted());
        Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial], null, server: "Contoso iPads"));
        Assert.Equal(3, Counted());
    }
}

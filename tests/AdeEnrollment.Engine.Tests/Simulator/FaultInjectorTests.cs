using AdeEnrollment.Simulator;
using AdeEnrollment.Simulator.Service.Faults;
using Xunit;

namespace AdeEnrollment.Engine.Tests.Simulator;

/// <summary>The fault injector on its own: which request a fault answers, how often, and what the answer says.</summary>
public sealed class FaultInjectorTests
{
    private static FaultInjector Injector(params double[] randoms)
    {
        var queue = new Queue<double>(randoms);
        return new FaultInjector(() => queue.Dequeue());
    }

    [Fact]
    public void A_counted_fault_answers_that_many_matching_requests_then_is_dropped()
    {
        var faults = Injector();
        var fault = faults.Add("/account", 503, count: 2);

        Assert.Same(fault, faults.Pick("GET", "/account"));
        Assert.Same(fault, faults.Pick("GET", "/account"));
        Assert.Equal(2, fault.Hits);
        Assert.Equal(0, fault.Remaining);
        Assert.Null(faults.Pick("GET", "/account"));
        Assert.Empty(faults.List()); // spent faults go once a request finds none
    }

    [Fact]
    public void An_id_segment_answers_any_one_segment_as_the_endpoint_templates_write_it()
    {
        // Set-AdeSimFault accepted '/v1/orgDevices/{id}/appleCareCoverage' (the endpoint's template) but no request
        // ever matched it, so a failure test written that way passed on the success path
        var faults = Injector();
        var fault = faults.Add("/v1/orgDevices/{id}/appleCareCoverage", 404);

        Assert.Same(fault, faults.Pick("GET", "/v1/orgDevices/C02XK1JQJG5H/appleCareCoverage"));
        Assert.Null(faults.Pick("GET", "/v1/orgDevices/C02XK1JQJG5H"));
        Assert.Null(faults.Pick("GET", "/v1/orgDevices/a/b/appleCareCoverage")); // one segment, not several
        Assert.Null(faults.Pick("GET", "/v1/orgDevices//appleCareCoverage"));
        Assert.Equal(1, fault.Hits);
    }

    [Fact]
    public void The_first_matching_fault_in_the_order_added_answers()
    {
        var faults = Injector();
        var first = faults.Add("/profile*", 500, count: 1);
        var second = faults.Add("*", 429);

        Assert.Same(first, faults.Pick("POST", "/profile/devices"));
        Assert.Same(second, faults.Pick("POST", "/profile/devices"));
        Assert.Same(second, faults.Pick("GET", "/session"));
    }

    [Fact]
    public void A_fault_matches_its_path_pattern_and_method_only()
    {
        var faults = Injector();
        var fault = faults.Add("server/devices", 503, method: "post"); // leading slash optional, method case-insensitive

        Assert.Equal("/server/devices", fault.Endpoint);
        Assert.Null(faults.Pick("GET", "/server/devices"));
        Assert.Null(faults.Pick("POST", "/devices/sync"));
        Assert.Same(fault, faults.Pick("POST", "/SERVER/devices"));
    }

    [Fact]
    public void A_shared_fault_hits_when_the_random_value_is_below_its_share_and_only_then_counts()
    {
        var faults = Injector(0.1, 0.7, 0.49, 0.5);
        var fault = faults.Add("/account", 500, share: 0.5, count: 5);

        Assert.Same(fault, faults.Pick("GET", "/account"));
        Assert.Null(faults.Pick("GET", "/account"));
        Assert.Same(fault, faults.Pick("GET", "/account"));
        Assert.Null(faults.Pick("GET", "/account"));
        Assert.Equal(2, fault.Hits);
        Assert.Equal(3, fault.Remaining);
    }

    [Fact]
    public void A_fault_for_every_request_draws_no_random_value()
    {
        var faults = Injector(); // an empty queue throws if the injector asks for a value
        var fault = faults.Add("*", 503);

        for (var i = 0; i < 3; i++)
        {
            Assert.Same(fault, faults.Pick("GET", "/account"));
        }

        Assert.Null(fault.Remaining);
    }

    [Fact]
    public void Clear_removes_every_fault_and_says_how_many()
    {
        var faults = Injector();
        faults.Add("/a", 500);
        faults.Add("/b", null, latency: TimeSpan.FromSeconds(1));

        Assert.Equal(2, faults.Clear());
        Assert.Empty(faults.List());
        Assert.Null(faults.Pick("GET", "/a"));
    }

    [Fact]
    public void The_answer_carries_the_status_a_fitting_code_and_retry_after_in_seconds_or_as_a_date()
    {
        var now = new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero);
        var faults = Injector();

        var throttled = FaultInjector.AnswerFor(faults.Add("*", 429, retryAfterSeconds: 30), now)!;
        Assert.Equal(429, throttled.Status);
        Assert.Equal("TOO_MANY_REQUESTS", throttled.ErrorCode);
        Assert.Equal("TOO_MANY_REQUESTS"u8.ToArray(), throttled.Body);
        Assert.Equal(new KeyValuePair<string, string>("Retry-After", "30"), Assert.Single(throttled.Headers));

        var dated = FaultInjector.AnswerFor(faults.Add("*", 503, body: "T_C_NOT_SIGNED", retryAfterSeconds: 60, retryAfterAsDate: true), now)!;
        Assert.Equal("T_C_NOT_SIGNED", dated.ErrorCode);
        Assert.Equal("Mon, 02 Mar 2026 09:01:00 GMT", Assert.Single(dated.Headers).Value);

        Assert.Empty(FaultInjector.AnswerFor(faults.Add("*", 500), now)!.Headers);
        Assert.Null(FaultInjector.AnswerFor(faults.Add("*", null, latency: TimeSpan.FromSeconds(2)), now)); // delay only: the request goes on
    }

    [Theory]
    [InlineData(99, 1, 1.0)]
    [InlineData(600, 1, 1.0)]
    [InlineData(503, 0, 1.0)]
    [InlineData(503, 1, 0.0)]
    [InlineData(503, 1, 1.5)]
    public void Bad_faults_are_refused_and_nothing_is_added(int status, int count, double share)
    {
        var faults = Injector();
        Assert.Throws<AdeSimException>(() => faults.Add("*", status, count: count, share: share));
        Assert.Throws<AdeSimException>(() => faults.Add("*", null)); // neither status, latency nor drop
        Assert.Empty(faults.List());
    }
}

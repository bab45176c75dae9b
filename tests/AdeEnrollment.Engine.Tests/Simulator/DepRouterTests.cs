using System.Globalization;
using System.Text;
using System.Text.Json;
using AdeEnrollment.Simulator;
using AdeEnrollment.Simulator.Abm;
using AdeEnrollment.Simulator.Service;
using AdeEnrollment.Simulator.Service.Http;
using Microsoft.Extensions.Time.Testing;
using Xunit;

namespace AdeEnrollment.Engine.Tests.Simulator;

/// <summary>The simulator's router on its own (no listener): the order of its checks and the answers it gives itself.</summary>
public sealed class DepRouterTests
{
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
    private readonly SimSettings settings = new();
    private readonly OrgState state;
    private readonly ServerState server;
    private readonly List<string> called = [];

    public DepRouterTests()
    {
        state = new OrgState(42, time, settings);
        server = new ServerState
        {
            Name = "Contoso",
            Uuid = "5A1B2C3D-0000-4000-8000-000000000001",
            OrgName = "Contoso Ltd",
            AdminId = "admin@contoso.example",
            CertificatePem = "",
            Credentials = ServerTokenCredentials.CreateRandom(time.GetUtcNow().AddDays(365)),
        };
        state.AddServer(server);
    }

    private DepRouter Router() => new DepRouter(state)
        .Map("GET", "/open", Handler("open"), anonymous: true)
        .Map("GET", "/thing", Handler("get thing"))
        .Map("POST", "/thing", Handler("post thing"));

    private DepHandler Handler(string name) => r =>
    {
        called.Add(name);
        Assert.True(Monitor.IsEntered(state.Gate)); // handlers run under the org lock
        return r.Json(w => w.WriteString("server", r.X.Path == "/open" ? "" : r.Server.Name));
    };

    private static Exchange Request(string method, string path, string? session = null, string? userAgent = "RouterTests/1.0", int version = 10)
    {
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase) { ["X-Server-Protocol-Version"] = version.ToString(CultureInfo.InvariantCulture) };
        if (userAgent is not null) headers["User-Agent"] = userAgent;
        if (session is not null) headers["X-ADM-Auth-Session"] = session;
        return new Exchange
        {
            Method = method,
            Path = path,
            Url = new Uri("http://127.0.0.1:1" + path),
            Header = name => headers.GetValueOrDefault(name),
            Body = [],
        };
    }

    private static (int Status, string Body) Of(Answer a) => (a.Status, Encoding.UTF8.GetString(a.Body));

    private string Session() => state.OpenSession(server, server.Credentials.AccessToken);

    [Fact]
    public void An_unknown_path_is_404_even_with_a_session()
    {
        Assert.Equal((404, "NOT_FOUND"), Of(Router().Route(Request("GET", "/nothing", Session()))));
        Assert.Equal((404, "NOT_FOUND"), Of(Router().Route(Request("GET", "/THING", Session())))); // paths are case-sensitive
        Assert.Empty(called);
    }

    [Fact]
    public void A_known_path_with_another_method_is_405_after_the_session_check()
    {
        var router = Router();
        Assert.Equal((405, "METHOD_NOT_ALLOWED"), Of(router.Route(Request("DELETE", "/thing", Session()))));
        Assert.Equal((401, "UNAUTHORIZED"), Of(router.Route(Request("DELETE", "/thing"))));
        Assert.Equal((405, "METHOD_NOT_ALLOWED"), Of(router.Route(Request("POST", "/open")))); // no session needed to learn that
        Assert.Empty(called);
    }

    [Fact]
    public void Each_method_reaches_its_own_handler_with_the_sessions_server()
    {
        var router = Router();
        var session = Session();
        var answer = router.Route(Request("POST", "/thing", session));
        Assert.Equal((200, "{\"server\":\"Contoso\"}"), Of(answer));
        Assert.Equal("Contoso", answer.Server);
        router.Route(Request("GET", "/thing", session));
        router.Route(Request("GET", "/open"));
        Assert.Equal(["post thing", "get thing", "open"], called);
    }

    [Fact]
    public void An_unknown_expired_or_replaced_session_is_401()
    {
        var router = Router();
        Assert.Equal((401, "UNAUTHORIZED"), Of(router.Route(Request("GET", "/thing", "made-up"))));

        var expiring = Session();
        time.Advance(settings.SessionLifetime);
        Assert.Equal((401, "UNAUTHORIZED"), Of(router.Route(Request("GET", "/thing", expiring))));
        Assert.False(state.Sessions.ContainsKey(expiring)); // forgotten

        var replaced = Session();
        server.Credentials = ServerTokenCredentials.CreateRandom(time.GetUtcNow().AddDays(365)); // a new token download
        Assert.Equal((401, "UNAUTHORIZED"), Of(router.Route(Request("GET", "/thing", replaced))));
        Assert.Empty(called);
    }

    [Theory]
    [InlineData(null, "USER_AGENT_MISSING")]
    [InlineData(" ", "USER_AGENT_INVALID")]
    [InlineData("Go-http-client/1.1", "USER_AGENT_INVALID")]
    public void Apples_user_agent_rule_comes_before_the_route_table(string? userAgent, string code)
    {
        var router = Router();
        Assert.Equal((400, code), Of(router.Route(Request("GET", "/open", userAgent: userAgent))));
        Assert.Equal((400, code), Of(router.Route(Request("GET", "/nothing", userAgent: userAgent))));
        Assert.Empty(called);
    }

    [Fact]
    public void A_mounted_api_gets_its_paths_first_without_the_ade_checks_and_every_request_runs_before_each()
    {
        var before = 0;
        var router = Router().Mount(p => p.StartsWith("/v1/", StringComparison.Ordinal), x => new Answer { Status = 204, ErrorCode = x.Path });
        router.BeforeEach = () => before++;

        Assert.Equal("/v1/orgDevices", router.Route(Request("GET", "/v1/orgDevices", userAgent: null)).ErrorCode);
        Assert.Equal(404, router.Route(Request("GET", "/v2/orgDevices")).Status);
        Assert.Equal(2, before);
    }

    [Fact]
    public void Error_bodies_are_quoted_when_the_simulator_is_told_to()
    {
        settings.QuoteErrorBodies = true;
        Assert.Equal((404, "\"NOT_FOUND\""), Of(Router().Route(Request("GET", "/nothing"))));
    }

    [Fact]
    public void A_rotated_session_token_replaces_the_old_one_every_nth_request()
    {
        settings.RotateSessionEvery = 2;
        var router = Router();
        var session = Session();
        Assert.Empty(router.Route(Request("GET", "/thing", session)).Headers);
        var rotated = Assert.Single(router.Route(Request("GET", "/thing", session)).Headers);
        Assert.Equal("X-ADM-Auth-Session", rotated.Key);
        Assert.NotEqual(session, rotated.Value);
        Assert.Equal(401, router.Route(Request("GET", "/thing", session)).Status);
        Assert.Equal(200, router.Route(Request("GET", "/thing", rotated.Value)).Status);
    }

    [Fact]
    public void A_path_is_either_open_or_behind_a_session()
        => Assert.Throws<InvalidOperationException>(() => Router().Map("PUT", "/open", Handler("put open")));

    [Fact]
    public void Every_endpoint_that_account_advertises_is_routed_and_nothing_else()
    {
        // /account (protocol 3+) lists Apple's endpoints and methods; the route table must serve exactly those.
        var router = DepRouter.ForAde(state);
        var session = Session();
        using var account = JsonDocument.Parse(router.Route(Request("GET", "/account", session, version: 3)).Body);
        var advertised = account.RootElement.GetProperty("urls").EnumerateArray()
            .Select(u => (Path: u.GetProperty("uri").GetString()!, Methods: u.GetProperty("http_method").EnumerateArray().Select(m => m.GetString()!).ToArray()))
            .ToList();
        Assert.Equal(8, advertised.Count);
        foreach (var (path, methods) in advertised)
        {
            foreach (var method in new[] { "GET", "POST", "PUT", "DELETE", "PATCH" })
            {
                var status = router.Route(Request(method, path, session)).Status;
                Assert.True(methods.Contains(method) ? status is not (404 or 405) : status == 405, $"{method} {path} answered {status}");
            }
        }

        Assert.Equal(404, router.Route(Request("GET", "/devices/other", session)).Status);
    }
}

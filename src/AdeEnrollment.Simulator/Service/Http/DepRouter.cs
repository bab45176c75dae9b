using AdeEnrollment.Simulator.Service.Handlers;

namespace AdeEnrollment.Simulator.Service.Http;

/// <summary>
/// Routes a request to its handler: other API families mounted by path prefix first (the Apple Business API), then
/// Apple's User-Agent rule, the route table (unknown path 404, known path with another method 405), and the
/// X-ADM-Auth-Session check (401) for every endpoint but /session. Runs the handler under the org lock.
/// </summary>
internal sealed class DepRouter
{
    private static readonly HashSet<string> BlockedUserAgents = new(StringComparer.OrdinalIgnoreCase) { "nanodep-godep/0", "Go-http-client/1.1", "Go-http-client/2.0" };

    private readonly OrgState state;
    private readonly Dictionary<string, Endpoint> endpoints = new(StringComparer.Ordinal);
    private readonly List<(Func<string, bool> Matches, Func<Exchange, Answer> Route)> mounts = [];

    public DepRouter(OrgState state) => this.state = state;

    /// <summary>Runs under the org lock before every request is routed (the Business API completes due activities).</summary>
    public Action? BeforeEach { get; set; }

    /// <summary>Apple's ADE web service: every endpoint and its handler.</summary>
    public static DepRouter ForAde(OrgState state) => new DepRouter(state)
        .Map("GET", "/session", SessionHandler.Open, anonymous: true)
        .Map("GET", "/account", AccountHandler.Get)
        .Map("POST", "/server/devices", FetchDevicesHandler.Fetch)
        .Map("POST", "/devices/sync", SyncDevicesHandler.Sync)
        .Map("POST", "/devices", DeviceDetailsHandler.Details)
        .Map("POST", "/devices/disown", DisownDevicesHandler.Disown)
        .Map("POST", "/profile", DefineProfileHandler.Define)
        .Map("GET", "/profile", GetProfileHandler.Get)
        .Map("POST", "/profile/devices", AssignProfileHandler.Assign)
        .Map("PUT", "/profile/devices", AssignProfileHandler.Assign)
        .Map("DELETE", "/profile/devices", RemoveProfileHandler.Remove);

    /// <summary>Adds an endpoint; <paramref name="anonymous"/> endpoints are called without a session.</summary>
    public DepRouter Map(string method, string path, DepHandler handler, bool anonymous = false)
    {
        if (!endpoints.TryGetValue(path, out var endpoint))
        {
            endpoints[path] = endpoint = new Endpoint(anonymous);
        }
        else if (endpoint.Anonymous != anonymous)
        {
            throw new InvalidOperationException($"{path} is mapped both with and without a session.");
        }

        endpoint.Methods.Add(method, handler);
        return this;
    }

    /// <summary>The paths of the ADE endpoints (for Set-AdeSimFault's check of -Endpoint).</summary>
    public IEnumerable<string> Paths => endpoints.Keys;

    /// <summary>Hands every path <paramref name="matches"/> accepts to <paramref name="route"/> (under the org lock, without the ADE checks).</summary>

    public DepRouter Mount(Func<string, bool> matches, Func<Exchange, Answer> route)
    {
        mounts.Add((matches, route));
        return this;
    }

    public Answer Route(Exchange x)
    {
        lock (state.Gate)
        {
            return RouteLocked(x);
        }
    }

    private Answer RouteLocked(Exchange x)
    {
        BeforeEach?.Invoke();
        foreach (var (matches, route) in mounts)
        {
            if (matches(x.Path))
            {
                return route(x);
            }
        }

        var userAgent = x.Header("User-Agent");
        if (userAgent is null)
        {
            return Error(400, "USER_AGENT_MISSING");
        }

        if (string.IsNullOrWhiteSpace(userAgent) || BlockedUserAgents.Contains(userAgent.Trim()))
        {
            return Error(400, "USER_AGENT_INVALID");
        }

        if (!endpoints.TryGetValue(x.Path, out var endpoint))
        {
            return Error(404, "NOT_FOUND");
        }

        if (endpoint.Anonymous)
        {
            return endpoint.Methods.TryGetValue(x.Method, out var open) ? open(new DepRequest(x, state, null)) : Error(405, "METHOD_NOT_ALLOWED");
        }

        var sessionToken = x.Header("X-ADM-Auth-Session");
        var session = Authenticate(sessionToken);
        if (session is null)
        {
            return Error(401, "UNAUTHORIZED");
        }

        var server = session.Server;
        var answer = endpoint.Methods.TryGetValue(x.Method, out var handler) ? handler(new DepRequest(x, state, server)) : Error(405, "METHOD_NOT_ALLOWED");
        answer.Server = server.Name;
        if (state.Settings.RotateSessionEvery is { } every && every > 0 && ++session.Requests % every == 0)
        {
            state.Sessions.Remove(sessionToken!);
            answer.Headers.Add(new("X-ADM-Auth-Session", state.OpenSession(server, session.AccessToken)));
        }

        return answer;
    }

    /// <summary>The live session of the token; an expired one, or one of a replaced server token, is forgotten.</summary>
    private SessionState? Authenticate(string? token)
    {
        if (string.IsNullOrEmpty(token) || !state.Sessions.TryGetValue(token, out var session))
        {
            return null;
        }

        if (session.ExpiresAt <= state.Time.GetUtcNow() || session.AccessToken != session.Server.Credentials.AccessToken)
        {
            state.Sessions.Remove(token);
            return null;
        }

        return session;
    }

    private Answer Error(int status, string code) => Answers.Error(status, code, state.Settings.QuoteErrorBodies);

    private sealed class Endpoint(bool anonymous)
    {
        public bool Anonymous { get; } = anonymous;

        public Dictionary<string, DepHandler> Methods { get; } = new(StringComparer.Ordinal);
    }
}

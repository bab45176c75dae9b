using AdeEnrollment.Simulator.Business.Handlers;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Business;

/// <summary>
/// Routes the Apple Business API: mounted on the <see cref="DepRouter"/> for the paths <see cref="Handles"/> accepts,
/// so it runs under the org lock. Anonymous endpoints (token, activity log download) first; every /v1 path then needs a
/// live bearer token (401) and fits in the account's request budget (429) before the route table is consulted
/// (unknown path 404, known path with another method 405). One handler per endpoint in Business/Handlers.
/// </summary>
internal sealed class BusinessRouter
{
    private readonly BusinessState state;
    private readonly List<Endpoint> routes = [];

    public BusinessRouter(BusinessState state) => this.state = state;

    /// <summary>Apple Business API: every endpoint the simulator knows and its handler.</summary>
    public static BusinessRouter ForBusiness(BusinessState state) => new BusinessRouter(state)
        .Map("POST", "/auth/oauth2/token", TokenHandler.Issue, anonymous: true)
        .Map("POST", "/auth/oauth2/v2/token", TokenHandler.Issue, anonymous: true)
        .Map("GET", "/abm-logs/{id}", ActivityLogHandler.Download, anonymous: true)
        .Map("GET", "/v1/orgDevices", OrgDevicesHandler.List)
        .Map("GET", "/v1/orgDevices/{id}", OrgDevicesHandler.Get)
        .Map("GET", "/v1/orgDevices/{id}/relationships/assignedServer", AssignedServerHandler.Linkage)
        .Map("GET", "/v1/orgDevices/{id}/assignedServer", AssignedServerHandler.Related)
        .Map("GET", "/v1/orgDevices/{id}/appleCareCoverage", AppleCareHandler.Get)
        .Map("GET", "/v1/mdmServers", MdmServersHandler.List)
        .Map("GET", "/v1/mdmServers/{id}", MdmServersHandler.Get)
        .Map("POST", "/v1/mdmServers", MdmServerWriteHandler.Create)
        .Map("PATCH", "/v1/mdmServers/{id}", MdmServerWriteHandler.Update)
        .Map("DELETE", "/v1/mdmServers/{id}", MdmServerWriteHandler.Delete)
        .Map("GET", "/v1/mdmServers/{id}/relationships/devices", ServerDevicesHandler.Linkage)
        .Map("GET", "/v1/mdmServers/{id}/devices", ServerDevicesHandler.Related)
        .Map("POST", "/v1/orgDeviceActivities", CreateActivityHandler.Create)
        .Map("GET", "/v1/orgDeviceActivities/{id}", GetActivityHandler.Get);

    /// <summary>
    /// The School API host: the simulator has one listener, so the path prefix <c>/school</c> stands for
    /// api-school.apple.com and the bare <c>/v1/</c> for api-business.apple.com.
    /// </summary>
    public const string SchoolPrefix = "/school";

    /// <summary>The paths of the Business API (the DEP router hands them over).</summary>
    public static bool Handles(string path)
        => path.StartsWith("/v1/", StringComparison.Ordinal) || path.StartsWith(SchoolPrefix + "/v1/", StringComparison.Ordinal) || path.StartsWith("/auth/oauth2/", StringComparison.Ordinal) || path.StartsWith("/abm-logs/", StringComparison.Ordinal);

    /// <summary>The path templates of the Business API endpoints, <c>{id}</c> for a segment, on both hosts (the School one under its prefix).</summary>
    public IEnumerable<string> Templates => routes.Select(r => "/" + string.Join('/', r.Segments)).Distinct()
        .SelectMany(t => t.StartsWith("/v1/", StringComparison.Ordinal) ? [t, SchoolPrefix + t] : new[] { t });

    /// <summary>Adds an endpoint; a <c>{id}</c> segment matches any one segment and reaches the handler as <see cref="BusinessRequest.Id"/>.</summary>
    public BusinessRouter Map(string method, string pattern, BusinessHandler handler, bool anonymous = false)
    {
        routes.Add(new Endpoint(method, pattern.Split('/', StringSplitOptions.RemoveEmptyEntries), handler, anonymous));
        return this;
    }

    /// <summary>Answers one request; called under the org lock.</summary>
    public Answer Route(Exchange x)
    {
        var school = x.Path.StartsWith(SchoolPrefix + "/v1/", StringComparison.Ordinal);
        var path = school ? x.Path[SchoolPrefix.Length..] : x.Path;
        var segments = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        var matching = routes.Select(r => (Route: r, Id: r.Match(segments))).Where(m => m.Id is not null).ToList();
        var anonymous = matching.FirstOrDefault(m => m.Route.Anonymous);
        if (anonymous.Route is not null)
        {
            var open = matching.FirstOrDefault(m => m.Route.Anonymous && m.Route.Method == x.Method);
            return open.Route is null ? BusinessJson.Error(405, "METHOD_NOT_ALLOWED", "Use " + anonymous.Route.Method + ".")
                : open.Route.Handler(new BusinessRequest(x, state, null, open.Id == "" ? null : open.Id));
        }

        if (!path.StartsWith("/v1/", StringComparison.Ordinal))
        {
            return BusinessJson.Error(404, "NOT_FOUND", "The requested resource does not exist.");
        }

        var bearer = x.Header("Authorization");
        if (bearer is null || !bearer.StartsWith("Bearer ", StringComparison.Ordinal)
            || !state.AccessTokens.TryGetValue(bearer[7..].Trim(), out var token) || token.ExpiresAt <= state.Time.GetUtcNow()
            || !state.Accounts.TryGetValue(token.ClientId, out var account) || account.Revoked)
        {
            return BusinessJson.Error(401, "NOT_AUTHORIZED", "The access token is missing, unknown or expired.");
        }

        // strict hosts: a token of the School API is refused on the Business host and the other way round
        if (state.Settings.StrictApiHosts && token.Scope != (school ? "school.api" : "business.api"))
        {
            return BusinessJson.Error(401, "NOT_AUTHORIZED", "The access token is not valid for this host.");
        }

        if (RequestBudget.Spend(state, account, x.Method) is { } throttled)
        {
            return throttled;
        }

        if (matching.Count == 0)
        {
            return BusinessJson.Error(404, "NOT_FOUND", "The requested resource does not exist.");
        }

        if (state.Settings.RejectUnknownFields && BusinessJson.UnknownField(x) is { } refused)
        {
            return refused;
        }

        if (state.Settings.UnknownQueryParameters == "Reject" && BusinessJson.UnknownParameter(x) is { } unknown)
        {
            return unknown;
        }

        var route = matching.FirstOrDefault(m => m.Route.Method == x.Method);
        return route.Route is null
            ? BusinessJson.Error(405, "METHOD_NOT_ALLOWED", "The resource does not allow " + x.Method + ".")
            : route.Route.Handler(new BusinessRequest(x, state, account, route.Id == "" ? null : route.Id));
    }

    private sealed record Endpoint(string Method, string[] Segments, BusinessHandler Handler, bool Anonymous)
    {
        /// <summary>The {id} value ("" when the pattern has none) or null when the path does not match.</summary>
        public string? Match(string[] path)
        {
            if (path.Length != Segments.Length)
            {
                return null;
            }

            var id = "";
            for (var i = 0; i < path.Length; i++)
            {
                if (Segments[i] == "{id}")
                {
                    id = Uri.UnescapeDataString(path[i]);
                }
                else if (!string.Equals(Segments[i], path[i], StringComparison.Ordinal))
                {
                    return null;
                }
            }

            return id;
        }
    }
}

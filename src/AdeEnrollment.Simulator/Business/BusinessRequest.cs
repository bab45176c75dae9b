using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Business;

/// <summary>A Business API handler: called by <see cref="BusinessRouter"/> under the org lock.</summary>
internal delegate Answer BusinessHandler(BusinessRequest request);

/// <summary>
/// What a Business handler gets: the exchange, the Business state, the calling account (null on the anonymous
/// endpoints: token, activity log download) and the path's one variable segment (a serial or an id).
/// </summary>
internal sealed class BusinessRequest(Exchange exchange, BusinessState state, SimApiAccount? account, string? id)
{
    public Exchange X { get; } = exchange;

    public BusinessState B { get; } = state;

    /// <summary>The account of the bearer token (never null on an authenticated endpoint).</summary>
    public SimApiAccount Account => account ?? throw new InvalidOperationException("anonymous endpoint");

    /// <summary>The organisation of the calling account.</summary>
    public string OrgName => B.Resolve(Account.OrgKey);

    /// <summary>The request came to the School API host (the <c>/school</c> path prefix).</summary>
    public bool School => X.Path.StartsWith(BusinessRouter.SchoolPrefix + "/v1/", StringComparison.Ordinal);

    /// <summary>The {id} segment of the route.</summary>
    public string Id => id ?? "";
}

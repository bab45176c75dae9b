using System.Globalization;

namespace AdeEnrollment.Simulator.Service.Http;

/// <summary>An HTTP request as the router and the handlers see it (no listener types: tests build one directly).</summary>
internal sealed class Exchange
{
    public required string Method { get; init; }

    public required string Path { get; init; }

    public required Uri Url { get; init; }

    public required Func<string, string?> Header { get; init; }

    public required byte[] Body { get; init; }

    public string? Query(string name)
        => System.Web.HttpUtility.ParseQueryString(Url.Query).Get(name);

    /// <summary>X-Server-Protocol-Version, 1 when absent or not a number.</summary>
    public int ProtocolVersion => int.TryParse(Header("X-Server-Protocol-Version"), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 1;
}

namespace AdeEnrollment.Engine.Apple;

/// <summary>
/// How the Apple client talks to the service: protocol version, retries and time limits. The defaults are the
/// production values; tests shorten the waits through <see cref="DelayTimeProvider"/>.
/// </summary>
public sealed class AppleClientOptions
{
    /// <summary>
    /// <c>X-Server-Protocol-Version</c> sent on every request. Version 10 is the newest documented one: iPads report
    /// <c>os = iPadOS</c> (7), devices carry <c>mdm_migration_deadline</c> (8), assignment may answer per-device
    /// <c>THROTTLED</c> (9) with <c>retry_after_seconds</c> (10). The client surfaces both to the caller, which retries
    /// those serials after the given time; it never retries them itself.
    /// </summary>
    public const int ProtocolVersion = 10;

    /// <summary>At most this many serial numbers go into one device request (Apple: "at most 1000").</summary>
    public const int MaxDevicesPerRequest = 1000;

    public static AppleClientOptions Default { get; } = new();

    /// <summary>Retries after the first attempt, for 429/503 (after Retry-After), other 5xx and network errors.</summary>
    public int MaxRetryAttempts { get; init; } = 4;

    /// <summary>First back-off step of the exponential, jittered back-off.</summary>
    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>The longest single wait; a Retry-After longer than this is not waited for (the error says when to retry).</summary>
    public TimeSpan MaxDelay { get; init; } = TimeSpan.FromSeconds(60);

    /// <summary>Bound on one logical request, all attempts and waits included.</summary>
    public TimeSpan MaxTotalTime { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Bound on a single HTTP exchange (headers and body).</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(100);

    /// <summary>
    /// Most bytes an answer may have on the wire (compressed or not). A usual page of 1000 devices is under 1 MiB,
    /// one with every text field at its limit about 7.5 MiB; Apple/README.md "Limits on what Apple sends" explains it.
    /// </summary>
    public long MaxResponseBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>Most bytes an answer may have after decompression (what the JSON reader sees).</summary>
    public long MaxDecodedBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>The clock that retry waits run on: by default <see cref="EngineClock.Waits"/> (real time in production).</summary>
    public TimeProvider DelayTimeProvider { get; init; } = EngineClock.WaitsNow.Instance;

    /// <summary>Where session tokens are kept between commands of this process.</summary>
    internal AppleSessionCache Sessions { get; init; } = AppleSessionCache.Shared;
}

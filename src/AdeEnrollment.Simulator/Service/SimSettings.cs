namespace AdeEnrollment.Simulator.Service;

/// <summary>
/// The switches a test sets on a running simulator (the public <see cref="AdeSimulator"/> properties forward here).
/// Plain values read without the org lock: a change applies from the next request on.
/// </summary>
internal sealed class SimSettings
{
    /// <summary>How long a session from /session is valid.</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>The largest accepted difference between oauth_timestamp and the simulator's clock.</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Every Nth request of a session gets a new session token (null: never).</summary>
    public int? RotateSessionEvery { get; set; }

    /// <summary>Error bodies JSON-quoted ("INVALID_CURSOR") instead of Apple's plain text.</summary>
    public bool QuoteErrorBodies { get; set; }

    /// <summary>At most this many devices per page whatever the client asks (validated by the facade).</summary>
    public int? PageSizeCap { get; set; }
}

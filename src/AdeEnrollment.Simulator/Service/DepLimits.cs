namespace AdeEnrollment.Simulator.Service;

/// <summary>Apple's limits on the ADE endpoints (the facade publishes them as <see cref="AdeSimulator"/> constants).</summary>
internal static class DepLimits
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;
    public const int MaxDevicesPerRequest = 1000;
    public static readonly TimeSpan CursorLifetime = TimeSpan.FromDays(7);
}

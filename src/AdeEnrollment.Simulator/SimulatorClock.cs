namespace AdeEnrollment.Simulator;

/// <summary>
/// The simulator's clock: the system clock plus an offset that tests move (Set-AdeSimClock). Timers run in real time.
/// One instance per process is shared by the simulators started from PowerShell and, once the clock is moved, by the
/// AdeEnrollment engine (EngineClock), so "15 minutes later" holds on both sides.
/// </summary>
public sealed class SimulatorClock : TimeProvider
{
    private long offsetTicks;

    public static SimulatorClock Instance { get; } = new();

    public TimeSpan Offset => TimeSpan.FromTicks(Interlocked.Read(ref offsetTicks));

    public override DateTimeOffset GetUtcNow() => System.GetUtcNow() + Offset;

    public override TimeZoneInfo LocalTimeZone => System.LocalTimeZone;

    /// <summary>Moves the clock forward (or back, with a negative span).</summary>
    public DateTimeOffset Advance(TimeSpan by)
    {
        Interlocked.Add(ref offsetTicks, by.Ticks);
        return GetUtcNow();
    }

    /// <summary>Sets the clock to <paramref name="now"/>; it keeps running from there.</summary>
    public DateTimeOffset SetNow(DateTimeOffset now)
    {
        Interlocked.Exchange(ref offsetTicks, (now - System.GetUtcNow()).Ticks);
        return GetUtcNow();
    }

    /// <summary>Back to the system time.</summary>
    public void Reset() => Interlocked.Exchange(ref offsetTicks, 0);
}

namespace AdeEnrollment.Engine;

/// <summary>
/// The clocks the engine uses in this process, and the engine's one public seam for test tooling: production code
/// only reads them; the simulator module's <c>Set-AdeSimClock</c> (and tests) replace them so that Pester suites can
/// test "15 minutes later" and faults that Apple asks to wait out. No production cmdlet has a parameter that moves time.
/// </summary>
public static class EngineClock
{
    private static TimeProvider current = TimeProvider.System;
    private static TimeProvider waits = TimeProvider.System;

    /// <summary>The time the engine reads (sync rules, leases, budgets, what the store records).</summary>
    public static TimeProvider Current
    {
        get => Volatile.Read(ref current);
        set => Volatile.Write(ref current, value ?? TimeProvider.System);
    }

    /// <summary>
    /// The clock the engine's waits run on: retry back-off and Retry-After (Apple's DEP service and Business API),
    /// per-device THROTTLED retries, Business budget waits and activity polling. Production: the system clock. A
    /// simulation may set one whose timers fire at once after moving <see cref="Current"/> forward by their length,
    /// so a suite that injects faults does not sleep through real back-off. Time-outs never run on it.
    /// </summary>
    public static TimeProvider Waits
    {
        get => Volatile.Read(ref waits);
        set => Volatile.Write(ref waits, value ?? TimeProvider.System);
    }

    /// <summary>Waits <paramref name="delay"/> on <see cref="Waits"/>.</summary>
    internal static Task Wait(TimeSpan delay, CancellationToken cancellationToken) => Task.Delay(delay, WaitsNow.Instance, cancellationToken);

    /// <summary>
    /// <see cref="Waits"/> as it is at each call: a retry pipeline built once per process keeps this instance and still
    /// follows a simulation that sets its clock later.
    /// </summary>
    internal sealed class WaitsNow : TimeProvider
    {
        public static WaitsNow Instance { get; } = new();

        public override DateTimeOffset GetUtcNow() => Waits.GetUtcNow();

        public override long GetTimestamp() => Waits.GetTimestamp();

        public override long TimestampFrequency => Waits.TimestampFrequency;

        public override TimeZoneInfo LocalTimeZone => Waits.LocalTimeZone;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
            => Waits.CreateTimer(callback, state, dueTime, period);
    }
}

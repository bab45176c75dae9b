namespace AdeEnrollment.Engine;

/// <summary>
/// The clock the engine uses in this process, and the engine's one public seam for test tooling: production code
/// only reads it; the simulator module's <c>Set-AdeSimClock</c> (and tests) replace it so that Pester suites can test
/// "15 minutes later". No production cmdlet has a parameter that moves time.
/// </summary>
public static class EngineClock
{
    private static TimeProvider current = TimeProvider.System;

    public static TimeProvider Current
    {
        get => Volatile.Read(ref current);
        set => Volatile.Write(ref current, value ?? TimeProvider.System);
    }
}

namespace AdeEnrollment.Engine;

/// <summary>
/// The clock the engine uses in this process. Production code only reads it. The simulator module (and tests)
/// may replace it through the internal setter so that Pester suites can test "15 minutes later"; no production
/// cmdlet has a parameter that moves time.
/// </summary>
public static class EngineClock
{
    private static TimeProvider current = TimeProvider.System;

    public static TimeProvider Current
    {
        get => Volatile.Read(ref current);
        internal set => Volatile.Write(ref current, value ?? TimeProvider.System);
    }
}

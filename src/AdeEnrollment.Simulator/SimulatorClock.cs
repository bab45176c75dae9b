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

    /// <summary>
    /// A clock for waits that pass at once: each one-shot timer moves this clock forward by its due time, then fires
    /// (on the thread pool, never inside the call that set it). Its timestamps follow this clock, so "how long have I
    /// waited" counts the simulated waits. A periodic timer runs in real time (firing at once would never end).
    /// </summary>
    public TimeProvider InstantWaits => instantWaits ??= new InstantWaitClock(this);

    private TimeProvider? instantWaits;

    private sealed class InstantWaitClock(SimulatorClock clock) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => clock.GetUtcNow();

        public override long GetTimestamp() => clock.GetUtcNow().UtcTicks;

        public override long TimestampFrequency => TimeSpan.TicksPerSecond;

        public override TimeZoneInfo LocalTimeZone => System.LocalTimeZone;

        public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
        {
            if (period != Timeout.InfiniteTimeSpan && period != TimeSpan.Zero)
            {
                return System.CreateTimer(callback, state, dueTime, period);
            }

            var timer = new InstantTimer(clock, callback, state);
            timer.Change(dueTime, period);
            return timer;
        }
    }

    /// <summary>A one-shot timer that moves the clock by its due time and fires; a later Change or Dispose cancels it.</summary>
    private sealed class InstantTimer(SimulatorClock clock, TimerCallback callback, object? state) : ITimer
    {
        private int version;
        private int disposed;

        public bool Change(TimeSpan dueTime, TimeSpan period)
        {
            if (Volatile.Read(ref disposed) == 1)
            {
                return false;
            }

            var mine = Interlocked.Increment(ref version);
            if (dueTime == Timeout.InfiniteTimeSpan)
            {
                return true;
            }

            ThreadPool.UnsafeQueueUserWorkItem(_ =>
            {
                if (Volatile.Read(ref version) == mine && Volatile.Read(ref disposed) == 0)
                {
                    clock.Advance(dueTime > TimeSpan.Zero ? dueTime : TimeSpan.Zero);
                    callback(state);
                }
            }, null);
            return true;
        }

        public void Dispose() => Volatile.Write(ref disposed, 1);

        public ValueTask DisposeAsync()
        {
            Dispose();
            return ValueTask.CompletedTask;
        }
    }
}

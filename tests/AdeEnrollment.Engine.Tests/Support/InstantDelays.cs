namespace AdeEnrollment.Engine.Tests.Support;

/// <summary>
/// A clock for retry waits that does not wait: every timer fires at once, the requested delays are recorded, and the
/// elapsed time it reports grows by them (so the client's total-time budget behaves as in real time).
/// </summary>
internal sealed class InstantDelays : TimeProvider
{
    private long waitedTicks;

    public List<TimeSpan> Delays { get; } = [];

    public override long GetTimestamp() => base.GetTimestamp() + (long)(Interlocked.Read(ref waitedTicks) * (TimestampFrequency / (double)TimeSpan.TicksPerSecond));

    public override ITimer CreateTimer(TimerCallback callback, object? state, TimeSpan dueTime, TimeSpan period)
    {
        if (dueTime > TimeSpan.Zero && dueTime != Timeout.InfiniteTimeSpan)
        {
            lock (Delays) Delays.Add(dueTime);
            Interlocked.Add(ref waitedTicks, dueTime.Ticks);
            dueTime = TimeSpan.Zero;
        }

        return base.CreateTimer(callback, state, dueTime, period);
    }
}

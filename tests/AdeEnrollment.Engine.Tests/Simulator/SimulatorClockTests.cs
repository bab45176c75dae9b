using AdeEnrollment.Simulator;

namespace AdeEnrollment.Engine.Tests.Simulator;

/// <summary>The simulator's clock whose waits pass at once (Set-AdeSimClock -Waits Instant), on a clock of the test's own.</summary>
public sealed class SimulatorClockTests
{
    /// <summary>Far longer than any of these waits takes: a wait that ran in real time would lose against it.</summary>
    private static readonly TimeSpan RealTimeGuard = TimeSpan.FromSeconds(20);

    [Fact]
    public async Task An_instant_wait_of_an_hour_returns_at_once_and_moves_the_simulated_time_by_an_hour()
    {
        var clock = new SimulatorClock();
        var started = clock.InstantWaits.GetTimestamp();
        var wait = Task.Delay(TimeSpan.FromHours(1), clock.InstantWaits);
        Assert.Same(wait, await Task.WhenAny(wait, Task.Delay(RealTimeGuard)));
        Assert.InRange(clock.Offset, TimeSpan.FromHours(1), TimeSpan.FromHours(1) + RealTimeGuard);
        Assert.InRange(clock.InstantWaits.GetElapsedTime(started), TimeSpan.FromHours(1), TimeSpan.FromHours(1) + RealTimeGuard);
    }

    [Fact]
    public async Task A_timer_fires_only_once_it_is_given_a_due_time_and_a_disposed_one_never()
    {
        var clock = new SimulatorClock();
        var fired = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var idle = clock.InstantWaits.CreateTimer(_ => fired.TrySetResult(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        var disposed = clock.InstantWaits.CreateTimer(_ => throw new InvalidOperationException("a disposed timer fired"), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        disposed.Dispose();
        Assert.False(disposed.Change(TimeSpan.FromMinutes(1), Timeout.InfiniteTimeSpan));
        Assert.Equal(TimeSpan.Zero, clock.Offset);

        Assert.True(idle.Change(TimeSpan.FromMinutes(5), Timeout.InfiniteTimeSpan));
        Assert.Same(fired.Task, await Task.WhenAny(fired.Task, Task.Delay(RealTimeGuard)));
        Assert.InRange(clock.Offset, TimeSpan.FromMinutes(5), TimeSpan.FromMinutes(5) + RealTimeGuard);
    }
}

/// <summary>The engine's waits follow <see cref="EngineClock.Waits"/> as it is at each wait (process-wide: not run beside other tests).</summary>
[Collection(nameof(EngineWaitsClock))]
public sealed class EngineWaitsClock
{
    [Fact]
    public async Task The_engines_waits_run_on_the_clock_set_for_them_even_after_the_default_options_were_built()
    {
        var clock = new SimulatorClock();
        var defaults = AdeEnrollment.Engine.Apple.AppleClientOptions.Default.DelayTimeProvider; // built before the clock is set
        try
        {
            EngineClock.Waits = clock.InstantWaits;
            var wait = EngineClock.Wait(TimeSpan.FromHours(2), CancellationToken.None);
            Assert.Same(wait, await Task.WhenAny(wait, Task.Delay(TimeSpan.FromSeconds(20))));
            var retry = Task.Delay(TimeSpan.FromMinutes(30), defaults);
            Assert.Same(retry, await Task.WhenAny(retry, Task.Delay(TimeSpan.FromSeconds(20))));
            Assert.InRange(clock.Offset, TimeSpan.FromMinutes(150), TimeSpan.FromMinutes(151));
        }
        finally
        {
            EngineClock.Waits = TimeProvider.System;
        }

        Assert.Same(TimeProvider.System, EngineClock.Waits);
    }
}

[CollectionDefinition(nameof(EngineWaitsClock), DisableParallelization = true)]
public sealed class EngineWaitsClockCollection;

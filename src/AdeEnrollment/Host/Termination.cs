using System.Runtime.InteropServices;

namespace AdeEnrollment.Host;

/// <summary>
/// SIGTERM (systemd stopping a timer's service, timeout(1), docker stop, a Kubernetes job's deadline) stops the work the
/// module's cmdlets run, as Ctrl+C does — a sync is recorded Stopped and its lease released — and lets the process end
/// once that is recorded (at most <see cref="Grace"/>); without it the process ended at once and a token stayed locked
/// for its 15-minute lease. One registration for the process: every running work is cancelled first, then all are
/// waited for together (the runtime calls signal handlers one after another). Where the platform cannot register the
/// signal, nothing changes.
/// </summary>
internal static class Termination
{
    /// <summary>How long the process waits for the stopped work to record that it stopped (docker stop allows 10 s).</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(8);

    private static readonly object Gate = new();
    private static readonly HashSet<Running> Works = [];
    private static PosixSignalRegistration? registration;
    private static bool unavailable;

    /// <summary>One work in progress: what stops it, and when it ended.</summary>
    internal sealed class Running(CancellationTokenSource stop)
    {
        public CancellationTokenSource Stop { get; } = stop;

        public TaskCompletionSource Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    /// <summary>Records a work that starts; <see cref="Leave"/> it when it ends.</summary>
    public static Running Enter(CancellationTokenSource stop)
    {
        var running = new Running(stop);
        lock (Gate)
        {
            Works.Add(running);
            if (registration is null && !unavailable)
            {
                try
                {
                    registration = PosixSignalRegistration.Create(PosixSignal.SIGTERM, _ => StopAll());
                }
                catch (Exception ex) when (ex is PlatformNotSupportedException or IOException or System.ComponentModel.Win32Exception)
                {
                    unavailable = true;
                }
            }
        }

        return running;
    }

    public static void Leave(Running running)
    {
        lock (Gate)
        {
            Works.Remove(running);
        }

        running.Ended.TrySetResult();
    }

    /// <summary>The handler: cancels every running work, then waits for them together; the runtime then ends the process.</summary>
    private static void StopAll()
    {
        Running[] works;
        lock (Gate)
        {
            works = [.. Works];
        }

        foreach (var work in works)
        {
            try
            {
                work.Stop.Cancel();
            }
            catch (Exception ex) when (ex is ObjectDisposedException or AggregateException)
            {
                // the work ended meanwhile, or a callback of its cancellation failed: the others are still stopped
            }
        }

        Task.WaitAll([.. works.Select(w => w.Ended.Task)], Grace);
    }
}

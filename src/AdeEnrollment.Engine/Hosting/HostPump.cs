using System.Collections.Concurrent;

namespace AdeEnrollment.Engine.Hosting;

/// <summary>
/// Runs asynchronous engine work (the Apple client) for a synchronous caller whose host may only be used from the
/// calling thread (a PowerShell cmdlet): the work gets a relay host that queues verbose, debug, warning and progress
/// reports, and the calling thread writes them out while it waits.
/// </summary>
internal static class HostPump
{
    public static T Run<T>(IAdeHost host, Func<IAdeHost, CancellationToken, Task<T>> work)
    {
        using var queue = new BlockingCollection<Action>();
        var relay = new RelayHost(host, queue);
        var task = Task.Run(() => work(relay, host.Cancellation));
        _ = task.ContinueWith(_ => queue.CompleteAdding(), CancellationToken.None, TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        foreach (var report in queue.GetConsumingEnumerable())
        {
            report();
        }

        return task.GetAwaiter().GetResult();
    }

    private sealed class RelayHost(IAdeHost inner, BlockingCollection<Action> queue) : IAdeHost
    {
        public CancellationToken Cancellation => inner.Cancellation;

        public bool ShouldProcess(string target, string action)
            => throw new InvalidOperationException("Asynchronous engine work cannot ask for confirmation; ask before starting it.");

        public void WriteDebug(string message) => Post(() => inner.WriteDebug(message));

        public void WriteProgress(AdeProgress progress) => Post(() => inner.WriteProgress(progress));

        public void WriteVerbose(string message) => Post(() => inner.WriteVerbose(message));

        public void WriteWarning(string message) => Post(() => inner.WriteWarning(message));

        private void Post(Action report)
        {
            try
            {
                queue.Add(report);
            }
            catch (InvalidOperationException)
            {
                // the work has finished; a late report is dropped
            }
        }
    }
}

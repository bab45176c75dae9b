using System.Runtime.ExceptionServices;
using AdeEnrollment.Engine.Hosting;

namespace AdeEnrollment.Host;

/// <summary>
/// The async cmdlet pattern (docs/architecture.md, "Live output"): the cmdlet's work runs on a worker thread while the
/// pipeline thread waits here, running — as they arrive — the host actions the work posts: WriteObject, WriteVerbose,
/// WriteWarning, WriteProgress, WriteError, ShouldProcess and path resolution, which PowerShell accepts only on the
/// pipeline thread. So a verbose line written during a retry wait or between pages appears at once, not when the
/// work ends. Ctrl+C cancels the work's token; an exception raised by a host action on the pipeline thread (a
/// stopped pipeline, <c>Select-Object -First</c>) stops the work and is rethrown on the pipeline thread.
/// </summary>
internal sealed class PipelinePump
{
    /// <summary>Bounded: a worker that produces output faster than the pipeline takes it waits (memory stays flat).</summary>
    internal const int Capacity = 512;

    private readonly HandOff queue = new(Capacity);
    private readonly int pipelineThread = Environment.CurrentManagedThreadId;
    private volatile ExceptionDispatchInfo? fault;

    /// <summary>A pump that is not running: every action runs at once on the caller's (pipeline) thread.</summary>
    public static PipelinePump Idle { get; } = new(idle: true);

    private readonly bool idle;

    private PipelinePump(bool idle) => this.idle = idle;

    public PipelinePump()
    {
    }

    private bool RunsInline => idle || Environment.CurrentManagedThreadId == pipelineThread;

    /// <summary>
    /// Runs <paramref name="work"/> on a worker thread and pumps its host actions on this (the pipeline) thread until
    /// it ends; then rethrows what the work or a host action threw. <paramref name="stop"/> is cancelled when a host
    /// action fails, so that the work ends promptly.
    /// </summary>
    public void Run(Action work, CancellationTokenSource stop)
    {
        Exception? workError = null;
        var worker = Task.Run(() =>
        {
            try
            {
                work();
            }
            catch (Exception ex)
            {
                workError = ex;
            }
            finally
            {
                queue.CompleteAdding();
            }
        });

        while (queue.Take() is { } item)
        {
            if (fault is not null)
            {
                item.Abandon();
                continue;
            }

            try
            {
                item.Run();
            }
            catch (Exception ex)
            {
                // What PowerShell threw at a host action (-ErrorAction/-WarningAction Stop, a prompt a non-interactive
                // session cannot show) is PowerShell's own: carried as HostStoppedException so that AdeCmdlet gives it
                // back as it was instead of cataloguing it. Anything else (a catalogued refusal, a stop, a bug in a host
                // action) stays what it is.
                fault = ExceptionDispatchInfo.Capture(ex is System.Management.Automation.RuntimeException or System.Management.Automation.IContainsErrorRecord ? new HostStoppedException(ex) : ex);
                item.Abandon();
                try
                {
                    stop.Cancel();
                }
                catch (ObjectDisposedException)
                {
                }
            }
        }

        worker.GetAwaiter().GetResult();
        fault?.Throw();
        if (workError is not null)
        {
            ExceptionDispatchInfo.Throw(workError);
        }
    }

    /// <summary>Writes something on the pipeline thread: at once when called there, else queued for the pump.</summary>
    public void Post(Action action)
    {
        if (RunsInline)
        {
            action();
            return;
        }

        Enqueue(new Item(action, null));
    }

    /// <summary>
    /// As <see cref="Post"/>, and returns a task that completes when the action has run on the pipeline thread; it is
    /// cancelled when the pipeline stops before or while running it.
    /// </summary>
    public Task PostTracked(Action action)
    {
        if (RunsInline)
        {
            action();
            return Task.CompletedTask;
        }

        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new Item(() =>
        {
            action();
            done.SetResult();
        }, _ => done.TrySetCanceled()));
        return done.Task;
    }

    /// <summary>Asks something of the pipeline thread (ShouldProcess, path resolution) and waits for the answer.</summary>
    public T Invoke<T>(Func<T> func)
    {
        if (RunsInline)
        {
            return func();
        }

        var answer = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(new Item(() => answer.SetResult(func()), ex => answer.TrySetException(ex)));
        return answer.Task.GetAwaiter().GetResult();
    }

    private void Enqueue(Item item)
    {
        if (fault is not null)
        {
            // The pipeline is stopping: end the work instead of writing to it.
            throw new OperationCanceledException("The pipeline was stopped.");
        }

        if (!queue.Add(item))
        {
            throw new OperationCanceledException("The pipeline was stopped.");
        }
    }

    /// <summary>
    /// The queue between the worker and the pipeline thread. Both sides block on the queue's monitor without spinning
    /// first (a <c>BlockingCollection</c> spins on every take and add that has to wait): a sync of a small token posts a
    /// handful of host actions, each waking the other thread, and on a loaded machine with few cores the spinning of
    /// the waiting side took CPU from the side it waited for (docs/architecture.md, "Live output").
    /// </summary>
    internal sealed class HandOff(int capacity)
    {
        private readonly Queue<Item> items = new();
        private bool completed;

        /// <summary>Queues <paramref name="item"/>, waiting while the queue is full; false once adding is complete.</summary>
        public bool Add(Item item)
        {
            lock (items)
            {
                while (!completed && items.Count >= capacity)
                {
                    Monitor.Wait(items);
                }

                if (completed)
                {
                    return false;
                }

                items.Enqueue(item);
                Monitor.PulseAll(items);
                return true;
            }
        }

        /// <summary>The next item, waiting for one; null when adding is complete and every item was taken.</summary>
        public Item? Take()
        {
            lock (items)
            {
                while (items.Count == 0 && !completed)
                {
                    Monitor.Wait(items);
                }

                if (items.Count == 0)
                {
                    return null;
                }

                var item = items.Dequeue();
                Monitor.PulseAll(items);
                return item;
            }
        }

        /// <summary>No more items: a waiting taker sees the end once the queue is empty, a waiting adder gives up.</summary>
        public void CompleteAdding()
        {
            lock (items)
            {
                completed = true;
                Monitor.PulseAll(items);
            }
        }
    }

    internal sealed class Item(Action run, Action<Exception>? failed)
    {
        public void Run()
        {
            try
            {
                run();
            }
            catch (Exception ex)
            {
                failed?.Invoke(ex);
                throw;
            }
        }

        public void Abandon() => failed?.Invoke(new OperationCanceledException("The pipeline was stopped."));
    }
}

using System.Collections.Concurrent;
using System.Management.Automation;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;

namespace AdeEnrollment.Host;

/// <summary>
/// Adapts a running cmdlet to the engine's <see cref="IAdeHost"/>. PowerShell accepts Write* calls only on the
/// pipeline thread, while the engine's HTTP continuations may report from pool threads: those reports are queued
/// and written by the pipeline thread at its next report or when the engine call returns (<see cref="Flush"/>).
/// </summary>
internal sealed class PSCmdletHost : IAdeHost
{
    private readonly PSCmdlet cmdlet;
    private readonly CancellationTokenSource stop;
    private readonly int pipelineThread = Environment.CurrentManagedThreadId;
    private readonly ConcurrentQueue<Action> queued = new();

    public PSCmdletHost(PSCmdlet cmdlet, CancellationTokenSource stop)
    {
        this.cmdlet = cmdlet;
        this.stop = stop;
    }

    public CancellationToken Cancellation => stop.Token;

    private bool OnPipelineThread => Environment.CurrentManagedThreadId == pipelineThread;

    public bool ShouldProcess(string target, string action)
    {
        Flush();
        return cmdlet.ShouldProcess(target, action);
    }

    public bool ShouldContinue(string query, string caption)
    {
        Flush();
        var bound = cmdlet.MyInvocation.BoundParameters;
        if ((bound.TryGetValue("Force", out var force) && force is SwitchParameter { IsPresent: true })
            || (bound.TryGetValue("Confirm", out var confirm) && confirm is SwitchParameter { IsPresent: false }))
        {
            return true;
        }

        try
        {
            return cmdlet.ShouldContinue(query, caption);
        }
        catch (Exception ex) when (ex is PSInvalidOperationException or System.Management.Automation.Host.HostException or NotImplementedException)
        {
            // A non-interactive session (scheduled script, -NonInteractive, a runspace without a host) cannot ask.
            throw ErrorCatalog.ConfirmationRequired(query);
        }
    }

    public void WriteDebug(string message) => Post(() => cmdlet.WriteDebug(message));

    public void WriteProgress(AdeProgress progress)
    {
        var record = new ProgressRecord(progress.ActivityId, progress.Activity, progress.Status)
        {
            PercentComplete = progress.PercentComplete,
            RecordType = progress.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        };
        Post(() => cmdlet.WriteProgress(record));
    }

    public void WriteVerbose(string message) => Post(() => cmdlet.WriteVerbose(message));

    public void WriteWarning(string message) => Post(() => cmdlet.WriteWarning(message));

    /// <summary>Writes the reports other threads queued. Call on the pipeline thread only.</summary>
    public void Flush()
    {
        if (!OnPipelineThread)
        {
            return;
        }

        while (queued.TryDequeue(out var write))
        {
            write();
        }
    }

    private void Post(Action write)
    {
        if (OnPipelineThread)
        {
            Flush();
            write();
        }
        else
        {
            queued.Enqueue(write);
        }
    }
}

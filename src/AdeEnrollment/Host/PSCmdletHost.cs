using System.Management.Automation;
using AdeEnrollment.Engine.Hosting;

namespace AdeEnrollment.Host;

/// <summary>Adapts a running cmdlet to the engine's <see cref="IAdeHost"/>.</summary>
internal sealed class PSCmdletHost : IAdeHost
{
    private readonly PSCmdlet cmdlet;
    private readonly CancellationTokenSource stop;

    public PSCmdletHost(PSCmdlet cmdlet, CancellationTokenSource stop)
    {
        this.cmdlet = cmdlet;
        this.stop = stop;
    }

    public CancellationToken Cancellation => stop.Token;

    public bool ShouldProcess(string target, string action) => cmdlet.ShouldProcess(target, action);

    public void WriteDebug(string message) => cmdlet.WriteDebug(message);

    public void WriteProgress(AdeProgress progress)
    {
        var record = new ProgressRecord(progress.ActivityId, progress.Activity, progress.Status)
        {
            PercentComplete = progress.PercentComplete,
            RecordType = progress.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        };
        cmdlet.WriteProgress(record);
    }

    public void WriteVerbose(string message) => cmdlet.WriteVerbose(message);

    public void WriteWarning(string message) => cmdlet.WriteWarning(message);
}

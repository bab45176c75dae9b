using System.Management.Automation;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;

namespace AdeEnrollment.Host;

/// <summary>
/// Adapts a running cmdlet to the engine's <see cref="IAdeHost"/>. The engine runs on a worker thread
/// (<see cref="AdeCmdlet"/>); every report and question goes through the cmdlet's <see cref="PipelinePump"/>, which
/// carries it to the pipeline thread while the engine waits, so it is written as it happens.
/// </summary>
internal sealed class PSCmdletHost : IAdeHost
{
    private readonly AdeCmdlet cmdlet;
    private readonly CancellationTokenSource stop;

    public PSCmdletHost(AdeCmdlet cmdlet, CancellationTokenSource stop)
    {
        this.cmdlet = cmdlet;
        this.stop = stop;
    }

    public CancellationToken Cancellation => stop.Token;

    public bool ShouldProcess(string target, string action)
        => cmdlet.ShouldProcessIsSilentYes
           || Ask(() => cmdlet.BaseShouldProcess(target, action), () => ErrorCatalog.ConfirmationRequired($"{action} on '{target}'.", GoAhead, target));

    public bool ShouldProcessMayAsk => !cmdlet.ShouldProcessIsSilentYes;

    public bool ShouldContinue(string query, string caption)
    {
        var bound = cmdlet.MyInvocation.BoundParameters;
        if ((bound.TryGetValue("Force", out var force) && force is SwitchParameter { IsPresent: true })
            || (bound.TryGetValue("Confirm", out var confirm) && confirm is SwitchParameter { IsPresent: false }))
        {
            return true;
        }

        return Ask(() => cmdlet.ShouldContinue(query, caption), () => ErrorCatalog.ConfirmationRequired(query, GoAhead));
    }

    /// <summary>
    /// Asks on the pipeline thread. A session where nobody can answer — -NonInteractive, a runspace without a host, or a
    /// console whose input is redirected and at its end (a scheduled `pwsh -File x.ps1 &lt; /dev/null`, where the prompt
    /// fails with whatever the host throws) — gets <paramref name="refusal"/>, the catalogued ConfirmationRequired, and
    /// nothing is changed. A stopped pipeline stays a stop.
    /// </summary>
    private bool Ask(Func<bool> question, Func<Exception> refusal) => cmdlet.Pump.Invoke(() =>
    {
        try
        {
            return question();
        }
        catch (Exception ex) when (ex is not (PipelineStoppedException or OperationCanceledException or AdeException))
        {
            throw refusal();
        }
    });

    /// <summary>How this command is told beforehand to go ahead: only a command that has -Force is told to use it.</summary>
    private string GoAhead => cmdlet.MyInvocation.MyCommand.Parameters.ContainsKey("Force") ? "-Force (or -Confirm:$false)" : "-Confirm:$false";

    public void WriteDebug(string message) => cmdlet.Pump.Post(() => cmdlet.BaseWriteDebug(message));

    public void WriteProgress(AdeProgress progress)
    {
        if (cmdlet.ProgressIsDropped)
        {
            return;
        }

        var record = new ProgressRecord(progress.ActivityId, progress.Activity, progress.Status)
        {
            PercentComplete = progress.PercentComplete,
            RecordType = progress.Completed ? ProgressRecordType.Completed : ProgressRecordType.Processing,
        };
        cmdlet.Pump.Post(() => cmdlet.BaseWriteProgress(record));
    }

    public void WriteVerbose(string message)
    {
        // a line PowerShell would drop is not carried to the pipeline thread (AdeCmdlet.VerboseIsDropped)
        if (!cmdlet.VerboseIsDropped)
        {
            cmdlet.Pump.Post(() => cmdlet.BaseWriteVerbose(message));
        }
    }

    /// <summary>
    /// Written before the work goes on (not queued as verbose lines are): a warning the caller turned into a stop
    /// (-WarningAction Stop, a Halt at an Inquire prompt, -Debug where nobody can answer) stops the command at the
    /// warning, before what follows it is done.
    /// </summary>
    public void WriteWarning(string message) => cmdlet.Pump.Invoke(() =>
    {
        try
        {
            cmdlet.BaseWriteWarning(message);
        }
        catch (Exception ex) when (ex is RuntimeException or IContainsErrorRecord)
        {
            // -WarningAction Stop (PowerShell stops the pipeline: PipelineStoppedException here, ActionPreferenceStop
            // to the caller), a Halt at an Inquire prompt, or a prompt a non-interactive session cannot show: the engine
            // ends its work as stopped, then AdeCmdlet gives PowerShell its own exception back.
            throw new HostStoppedException(ex);
        }

        return true;
    });
}

using System.Management.Automation;
using AdeEnrollment.Engine;
using AdeEnrollment.Engine.Errors;

namespace AdeEnrollment.Host;

/// <summary>
/// Base of every AdeEnrollment cmdlet: gives the engine over the session's store, adapts the host, turns
/// catalogued engine errors into ErrorRecords and cancels engine work on Ctrl+C.
/// </summary>
public abstract class AdeCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource stop = new();
    private AdeEngine? engine;
    private PSCmdletHost? host;

    /// <summary>The engine over the current store, created on first use.</summary>
    internal AdeEngine Engine => engine ??= new AdeEngine(AdeSession.Current, host ??= new PSCmdletHost(this, stop), EngineClock.Current);

    /// <summary>
    /// True when each pipeline item is independent (Get/Set/Remove on piped objects): a catalogued failure of one
    /// item is written as a non-terminating error and the pipeline goes on. Otherwise the failure terminates.
    /// </summary>
    protected virtual bool ErrorsArePerItem => false;

    protected sealed override void ProcessRecord() => Run(ProcessItem);

    protected sealed override void EndProcessing() => Run(EndItems);

    protected abstract void ProcessItem();

    protected virtual void EndItems() { }

    protected override void StopProcessing() => stop.Cancel();

    private void Run(Action action)
    {
        try
        {
            action();
        }
        catch (AdeException ex) when (ErrorsArePerItem)
        {
            host?.Flush();
            WriteError(ToErrorRecord(ex));
        }
        catch (AdeException ex)
        {
            host?.Flush();
            ThrowTerminatingError(ToErrorRecord(ex));
        }
        finally
        {
            host?.Flush();
        }
    }

    /// <summary>Runs one item of a multi-item parameter: a catalogued failure becomes a non-terminating error.</summary>
    protected void RunItem(Action action)
    {
        try
        {
            action();
        }
        catch (AdeException ex)
        {
            WriteError(ToErrorRecord(ex));
        }
    }

    internal static ErrorRecord ToErrorRecord(AdeException ex)
    {
        var category = Enum.TryParse<ErrorCategory>(ex.Category.ToString(), out var c) ? c : ErrorCategory.NotSpecified;
        return new ErrorRecord(ex, ex.ErrorId, category, ex.Target);
    }

    /// <summary>True under -WhatIf (given, or through $WhatIfPreference): the cmdlet may then print a "What if:" summary line.</summary>
    protected bool WhatIfRequested => MyInvocation.BoundParameters.TryGetValue("WhatIf", out var given)
        ? given is SwitchParameter { IsPresent: true } or true
        : LanguagePrimitives.IsTrue(SessionState.PSVariable.GetValue("WhatIfPreference"));

    /// <summary>
    /// Writes the "What if:" summary line after per-item -WhatIf lines, the way Write-Host does (shown on the host,
    /// and capturable as information record 6>&amp;1), so it does not mix with the cmdlet's output objects.
    /// </summary>
    protected void WriteWhatIfSummary(string summary)
        => WriteInformation(new HostInformationMessage { Message = "What if: " + summary }, ["PSHOST"]);

    /// <summary>Resolves a path the way PowerShell users expect (relative to the current location, ~ expanded).</summary>
    protected string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    public void Dispose()
    {
        stop.Dispose();
        GC.SuppressFinalize(this);
    }
}

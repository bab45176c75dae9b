using System.Management.Automation;
using System.Reflection;
using AdeEnrollment.Engine;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;

namespace AdeEnrollment.Host;

/// <summary>
/// Base of every AdeEnrollment cmdlet: gives the engine over the session's store, runs the cmdlet's work on a worker
/// thread while the pipeline thread writes what the work reports as it happens (<see cref="PipelinePump"/>), turns
/// every failure into a catalogued error record, and cancels the work on Ctrl+C.
/// </summary>
public abstract class AdeCmdlet : PSCmdlet, IDisposable
{
    private readonly CancellationTokenSource stop = new();
    private AdeEngine? engine;
    private PSCmdletHost? host;

    /// <summary>The engine over the current store, created on first use.</summary>
    internal AdeEngine Engine => engine ??= new AdeEngine(AdeSession.Current, host ??= new PSCmdletHost(this, stop), EngineClock.Current);

    /// <summary>Carries host actions from the worker to the pipeline thread; idle (inline) outside <see cref="Run"/>.</summary>
    internal PipelinePump Pump { get; private set; } = PipelinePump.Idle;

    /// <summary>
    /// True when each pipeline item is independent (Get/Set/Remove on piped objects): a catalogued failure of one
    /// item is written as a non-terminating error and the pipeline goes on. Otherwise the failure terminates.
    /// </summary>
    protected virtual bool ErrorsArePerItem => false;

    /// <summary>
    /// True for a cmdlet whose <see cref="ProcessItem"/> may wait for Apple (retries, Retry-After, paging): it runs on a
    /// worker thread while the pipeline thread writes its reports as they happen. Work that never waits runs inline,
    /// so that streaming or collecting 200,000 piped objects costs no thread switch per object.
    /// </summary>
    protected virtual bool ProcessItemWaitsForApple => false;

    /// <summary>As <see cref="ProcessItemWaitsForApple"/>, for <see cref="EndItems"/>.</summary>
    protected virtual bool EndItemsWaitForApple => false;

    protected sealed override void BeginProcessing() => Run(BeginItems, onWorker: false, perItem: false);

    protected sealed override void ProcessRecord() => Run(ProcessItem, ProcessItemWaitsForApple, ErrorsArePerItem);

    protected sealed override void EndProcessing() => Run(EndItems, EndItemsWaitForApple, ErrorsArePerItem);

    /// <summary>
    /// Runs before the first pipeline item, with the parameters given on the command line: resolves what the whole
    /// command needs (a -Token that applies to every piped item). Its failure is the command's, not an item's: one
    /// terminating error, even when <see cref="ErrorsArePerItem"/>, instead of the same error for every piped item.
    /// </summary>
    protected virtual void BeginItems() { }

    protected abstract void ProcessItem();

    protected virtual void EndItems() { }

    protected override void StopProcessing() => stop.Cancel();

    private void Run(Action action, bool onWorker, bool perItem)
    {
        try
        {
            if (!onWorker)
            {
                action();
                return;
            }

            var pump = new PipelinePump();
            ShouldProcessIsSilentYes = ComputeShouldProcessIsSilentYes();
            VerboseIsDropped = !VerboseAsDebug && StreamIsDropped("Verbose", "VerbosePreference");
            ProgressIsDropped = StreamIsDropped("ProgressAction", "ProgressPreference");
            Pump = pump;
            var running = Termination.Enter(stop);
            try
            {
                pump.Run(action, stop);
            }
            finally
            {
                Termination.Leave(running);
                Pump = PipelinePump.Idle;
                ShouldProcessIsSilentYes = false;
                VerboseIsDropped = false;
                ProgressIsDropped = false;
            }
        }
        catch (Exception ex) when (ex is not RuntimeException)
        {
            // PowerShell's own exceptions (a stopped pipeline, -ErrorAction Stop) pass through, also one a warning raised
            // in the engine's work (-WarningAction Stop), which the engine carried as HostStoppedException; everything
            // else is catalogued here, in one place: an AdeException as it is, Ctrl+C as OperationStopped, the rest as
            // UnexpectedError naming the command.
            RethrowHostError(ex);
            var error = ErrorCatalog.FromException(ex, MyInvocation.MyCommand?.Name ?? GetType().Name);
            // what the command finished before it failed (activities Apple accepted) goes out first, as it would have
            foreach (var done in error.Completed)
            {
                base.WriteObject(done);
            }

            if (perItem && error.ErrorId != nameof(ErrorCatalog.OperationStopped))
            {
                base.WriteError(ToErrorRecord(error));
            }
            else
            {
                ThrowTerminatingError(ToErrorRecord(error));
            }
        }
    }

    /// <summary>
    /// One pipeline item's failure, for a cmdlet that handles several items in one call (a batch): written as the
    /// per-item failure of <see cref="ErrorsArePerItem"/> would be, with the same catalogue mapping.
    /// </summary>
    protected void WriteItemFailure(Exception ex) => WriteError(FailureRecord(ex));

    /// <summary>
    /// As <see cref="WriteItemFailure"/>, and returns only once the pipeline thread has written the error: work that must
    /// not start its next step after an error stopped the pipeline (<c>-ErrorAction Stop</c>) ends here instead.
    /// </summary>
    protected void WriteItemFailureAndWait(Exception ex)
    {
        var record = FailureRecord(ex);
        Pump.PostTracked(() => base.WriteError(record)).GetAwaiter().GetResult();
    }

    /// <summary>The host's own exception when <paramref name="ex"/> is (or wraps) the engine's <see cref="HostStoppedException"/>.</summary>
    private static Exception? HostError(Exception? ex)
    {
        for (var depth = 0; ex is not null && depth < 8; ex = ex.InnerException, depth++)
        {
            if (ex is HostStoppedException stopped)
            {
                return stopped.InnerException;
            }
        }

        return null;
    }

    private ErrorRecord FailureRecord(Exception ex)
    {
        RethrowHostError(ex);
        return ToErrorRecord(ErrorCatalog.FromException(ex, MyInvocation.MyCommand?.Name ?? GetType().Name));
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
            RethrowHostError(ex);
            WriteError(ToErrorRecord(ex));
        }
    }

    /// <summary>A warning the caller turned into a stop ends the command with PowerShell's own error, not a catalogued one.</summary>
    private static void RethrowHostError(Exception ex)
    {
        if (HostError(ex) is { } hostError)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(hostError).Throw();
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
        : Pump.Invoke(() => LanguagePrimitives.IsTrue(SessionState.PSVariable.GetValue("WhatIfPreference")));

    /// <summary>
    /// Writes the "What if:" summary line after per-item -WhatIf lines, the way Write-Host does (shown on the host,
    /// and capturable as information record 6>&amp;1), so it does not mix with the cmdlet's output objects.
    /// </summary>
    protected void WriteWhatIfSummary(string summary)
        => Pump.Post(() => WriteInformation(new HostInformationMessage { Message = "What if: " + summary }, ["PSHOST"]));

    /// <summary>Resolves a path the way PowerShell users expect (relative to the current location, ~ expanded).</summary>
    protected string ResolvePath(string path) => Pump.Invoke(() => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path));

    // The cmdlets' own writes go through the pump too: they may be called from the worker thread.
    protected new void WriteObject(object? sendToPipeline) => Pump.Post(() => base.WriteObject(sendToPipeline));

    protected new void WriteObject(object? sendToPipeline, bool enumerateCollection) => Pump.Post(() => base.WriteObject(sendToPipeline, enumerateCollection));

    /// <summary>
    /// Writes a group of objects (a batch of results) with one hand-over to the pipeline thread instead of one per
    /// object. Waits until the group before it has been written, so that at most one group waits in the queue and
    /// memory stays bounded when the pipeline takes objects slowly.
    /// </summary>
    protected void WriteObjects<T>(IReadOnlyList<T> group)
    {
        pendingGroup.GetAwaiter().GetResult();
        pendingGroup = Pump.PostTracked(() =>
        {
            foreach (var item in group)
            {
                base.WriteObject(item);
            }
        });
    }

    private Task pendingGroup = Task.CompletedTask;

    protected new void WriteError(ErrorRecord errorRecord) => Pump.Post(() => base.WriteError(errorRecord));

    protected new void WriteVerbose(string text) => Pump.Post(() => BaseWriteVerbose(text));

    protected new void WriteWarning(string text) => Pump.Post(() => base.WriteWarning(text));

    internal bool BaseShouldProcess(string target, string action) => base.ShouldProcess(target, action);

    /// <summary>
    /// True when ShouldProcess can only answer yes without writing anything (no -WhatIf, no confirmation prompt, no
    /// verbose "Performing the operation" line): then the engine's per-device questions need not cross to the
    /// pipeline thread, which keeps an assignment of 200,000 devices as fast as before. Computed on the pipeline thread.
    /// </summary>
    internal bool ShouldProcessIsSilentYes { get; private set; }

    /// <summary>
    /// True while the work runs on the worker and PowerShell would drop its verbose lines (no -Verbose, and
    /// $VerbosePreference SilentlyContinue or Ignore): the engine's verbose reports are then not handed to the pipeline
    /// thread at all. A scheduler's pass over thousands of tokens reports a few lines per token; each hand-over wakes
    /// both threads (docs/architecture.md, "Live output").
    /// </summary>
    internal bool VerboseIsDropped { get; private set; }

    /// <summary>As <see cref="VerboseIsDropped"/>, for progress records (-ProgressAction, $ProgressPreference).</summary>
    internal bool ProgressIsDropped { get; private set; }

    /// <summary>
    /// Whether PowerShell drops a stream's records for this command, decided as PowerShell decides it once per command:
    /// the common parameter when given, else the preference variable seen from the caller's scope. Anything not surely
    /// SilentlyContinue or Ignore counts as written.
    /// </summary>
    private bool StreamIsDropped(string parameter, string variable)
    {
        var bound = MyInvocation.BoundParameters;
        if (bound.TryGetValue(parameter, out var given))
        {
            return given switch
            {
                SwitchParameter s => !s.IsPresent,
                bool b => !b,
                _ => IsDroppingPreference(given),
            };
        }

        return IsDroppingPreference(GetVariableValue(variable));
    }

    private static bool IsDroppingPreference(object? value)
        => value is not null && LanguagePrimitives.TryConvertTo<ActionPreference>(value, out var preference)
            && preference is ActionPreference.SilentlyContinue or ActionPreference.Ignore;

    private bool ComputeShouldProcessIsSilentYes()
    {
        var bound = MyInvocation.BoundParameters;
        if (bound.ContainsKey("WhatIf") || bound.ContainsKey("Confirm") || bound.ContainsKey("Verbose"))
        {
            return false;
        }

        if (LanguagePrimitives.IsTrue(GetVariableValue("WhatIfPreference")))
        {
            return false;
        }

        if (GetVariableValue("VerbosePreference") is not ActionPreference.SilentlyContinue and not ActionPreference.Ignore)
        {
            return false;
        }

        var impact = GetType().GetCustomAttribute<CmdletAttribute>()?.ConfirmImpact ?? ConfirmImpact.Medium;
        return GetVariableValue("ConfirmPreference") is ConfirmImpact preference && (preference == ConfirmImpact.None || impact < preference);
    }

    /// <summary>
    /// Writes a verbose line. Under -Debug without -Verbose, PowerShell gives a compiled cmdlet's verbose stream the
    /// Inquire preference: every line would ask "Continue with this operation?", and in a non-interactive scheduled
    /// run fail the command. The line is written to the debug stream then, which -Debug shows without asking.
    /// </summary>
    internal void BaseWriteVerbose(string text)
    {
        if (VerboseAsDebug)
        {
            base.WriteDebug(text);
        }
        else
        {
            base.WriteVerbose(text);
        }
    }

    private bool? verboseAsDebug;

    /// <summary>-Debug given and -Verbose not: the one reading of that rule (verbose lines are then written, as debug lines).</summary>
    private bool VerboseAsDebug => verboseAsDebug ??= MyInvocation.BoundParameters.TryGetValue("Debug", out var debug)
        && debug is SwitchParameter { IsPresent: true } or true
        && !MyInvocation.BoundParameters.ContainsKey("Verbose");

    internal void BaseWriteWarning(string text) => base.WriteWarning(text);

    internal void BaseWriteDebug(string text) => base.WriteDebug(text);

    internal void BaseWriteProgress(ProgressRecord record) => base.WriteProgress(record);

    public void Dispose()
    {
        stop.Dispose();
        GC.SuppressFinalize(this);
    }
}

namespace AdeEnrollment.Engine.Hosting;

/// <summary>
/// What the engine may ask of whoever hosts it. The PowerShell module adapts a PSCmdlet to this interface; tests
/// use a recording double. Reports (verbose, debug, warning, progress) may come from any thread: the Apple client
/// reports from HTTP continuations while the caller waits. ShouldProcess is asked on the calling thread only.
/// The engine never sees PowerShell types.
/// </summary>
public interface IAdeHost
{
    void WriteVerbose(string message);

    void WriteDebug(string message);

    /// <summary>
    /// Writes a warning before the work goes on. A host whose caller turned warnings into a stop (PowerShell's
    /// -WarningAction Stop) throws <see cref="HostStoppedException"/>: the engine ends the work as stopped.
    /// </summary>
    void WriteWarning(string message);

    void WriteProgress(AdeProgress progress);

    /// <summary>Asks whether to go ahead with <paramref name="action"/> on <paramref name="target"/> (-WhatIf/-Confirm).</summary>
    bool ShouldProcess(string target, string action);

    /// <summary>
    /// False when <see cref="ShouldProcess"/> is sure to answer yes at once (no -WhatIf, no -Confirm, nothing to show):
    /// the engine may then ask it where waiting for an answer would hold something others wait for (a write lock).
    /// </summary>
    bool ShouldProcessMayAsk => true;

    /// <summary>
    /// Asks a yes/no question about a change with consequences beyond its target (devices re-sent a profile, settings
    /// cleared), whatever the confirm preference; a host may answer yes for -Force or -Confirm:$false, and must refuse
    /// with a catalogued error when it cannot ask. Hosts that never ask (tests, services) go ahead.
    /// </summary>
    bool ShouldContinue(string query, string caption) => true;

    /// <summary>Signalled when the user presses Ctrl+C.</summary>
    CancellationToken Cancellation { get; }
}

/// <summary>
/// The host stopped the work at a message it was given (a warning its caller turned into a stop, or a prompt it could
/// not show). A cancellation, so the engine ends the work as it ends it for Ctrl+C (a sync run is recorded Stopped and
/// its lease released); the host's own exception is <see cref="Exception.InnerException"/>, for the host to report.
/// </summary>
public sealed class HostStoppedException(Exception hostError) : OperationCanceledException(hostError.Message, hostError);

/// <summary>A progress report; <see cref="PercentComplete"/> is -1 when unknown; <see cref="Completed"/> closes the bar.</summary>
public sealed record AdeProgress(int ActivityId, string Activity, string Status, int PercentComplete = -1, bool Completed = false);

/// <summary>A host that says yes to everything and records nothing (for non-interactive engine use).</summary>
public sealed class NullHost : IAdeHost
{
    public static readonly NullHost Instance = new();

    public CancellationToken Cancellation => CancellationToken.None;

    public bool ShouldProcess(string target, string action) => true;

    public bool ShouldProcessMayAsk => false;

    public void WriteDebug(string message) { }

    public void WriteProgress(AdeProgress progress) { }

    public void WriteVerbose(string message) { }

    public void WriteWarning(string message) { }
}

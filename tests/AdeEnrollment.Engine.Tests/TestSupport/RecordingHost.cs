using AdeEnrollment.Engine.Hosting;

namespace AdeEnrollment.Engine.Tests.TestSupport;

/// <summary>An <see cref="IAdeHost"/> that records everything the engine tells its host and answers ShouldProcess as told.</summary>
public sealed class RecordingHost : IAdeHost
{
    private readonly object gate = new();

    public List<string> Verbose { get; } = [];

    public List<string> Debug { get; } = [];

    public List<string> Warnings { get; } = [];

    public List<AdeProgress> Progress { get; } = [];

    public List<(string Target, string Action)> ShouldProcessCalls { get; } = [];

    /// <summary>What ShouldProcess answers (as -WhatIf, or "No" at a -Confirm prompt, would).</summary>
    public bool ShouldProcessAnswer { get; set; } = true;

    /// <summary>Ctrl+C: cancel it to stop the engine's work.</summary>
    public CancellationTokenSource Stop { get; } = new();

    public CancellationToken Cancellation => Stop.Token;

    /// <summary>Every piece of text the engine handed to the host.</summary>
    public IReadOnlyList<string> AllText
    {
        get
        {
            lock (gate)
            {
                return Verbose.Concat(Debug).Concat(Warnings)
                    .Concat(Progress.Select(p => p.Activity + " " + p.Status))
                    .Concat(ShouldProcessCalls.Select(c => c.Target + " " + c.Action))
                    .ToList();
            }
        }
    }

    /// <summary>
    /// As a -Confirm session (true) or one that answers at once (false, the default: the engine then asks where it
    /// decides, inside its write).
    /// </summary>
    public bool ShouldProcessMayAsk { get; set; }

    /// <summary>Runs first in every ShouldProcess call with its target: a test throws from it to stop the engine there.</summary>
    public Action<string>? OnShouldProcess { get; set; }

    public bool ShouldProcess(string target, string action)
    {
        OnShouldProcess?.Invoke(target);
        lock (gate)
        {
            ShouldProcessCalls.Add((target, action));
            return ShouldProcessAnswer;
        }
    }

    public List<(string Query, string Caption)> ShouldContinueCalls { get; } = [];

    /// <summary>What ShouldContinue answers ("No" at the prompt, or a session that cannot ask, is false).</summary>
    public bool ShouldContinueAnswer { get; set; } = true;

    public bool ShouldContinue(string query, string caption)
    {
        lock (gate)
        {
            ShouldContinueCalls.Add((query, caption));
            return ShouldContinueAnswer;
        }
    }

    public void WriteDebug(string message)
    {
        lock (gate) Debug.Add(message);
    }

    /// <summary>Runs (outside the host's lock) after every progress record: a test waits in it to catch runs at once.</summary>
    public Action<AdeProgress>? OnProgress { get; set; }

    public void WriteProgress(AdeProgress progress)
    {
        lock (gate) Progress.Add(progress);
        OnProgress?.Invoke(progress);
    }

    public void WriteVerbose(string message)
    {
        lock (gate) Verbose.Add(message);
    }

    /// <summary>Called with each warning after it is recorded: a test may throw from it, as a host whose caller stops at warnings does.</summary>
    public Action<string>? OnWarning { get; set; }

    public void WriteWarning(string message)
    {
        lock (gate) Warnings.Add(message);
        OnWarning?.Invoke(message);
    }
}

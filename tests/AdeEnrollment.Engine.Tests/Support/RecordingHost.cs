using AdeEnrollment.Engine.Hosting;

namespace AdeEnrollment.Engine.Tests.Support;

/// <summary>An engine host that records what the engine reports.</summary>
internal sealed class RecordingHost : IAdeHost
{
    private readonly object gate = new();

    public List<string> Verbose { get; } = [];

    public List<string> Debug { get; } = [];

    public List<string> Warnings { get; } = [];

    public CancellationTokenSource Stop { get; } = new();

    public CancellationToken Cancellation => Stop.Token;

    public bool Answer { get; set; } = true;

    public bool ShouldProcess(string target, string action) => Answer;

    public void WriteDebug(string message) { lock (gate) Debug.Add(message); }

    public void WriteProgress(AdeProgress progress) { }

    public void WriteVerbose(string message) { lock (gate) Verbose.Add(message); }

    public void WriteWarning(string message) { lock (gate) Warnings.Add(message); }

    public string AllText()
    {
        lock (gate) return string.Join("\n", Verbose.Concat(Debug).Concat(Warnings));
    }
}

using System.Management.Automation;

namespace AdeEnrollment.Simulator.Host;

/// <summary>
/// Base of the simulator cmdlets: the running simulator of this session, and catalogued simulator errors turned into
/// ErrorRecords (FullyQualifiedErrorId '&lt;Id&gt;,AdeEnrollment.Simulator.Commands.&lt;Class&gt;').
/// </summary>
public abstract class AdeSimCmdlet : PSCmdlet
{
    /// <summary>True when each pipeline item is independent: a failure is written and the pipeline goes on.</summary>
    protected virtual bool ErrorsArePerItem => false;

    /// <summary>The simulator that the session's last Start-AdeSimulator started (and that is still running).</summary>
    internal static AdeSimulator Current => SimulatorSession.Current ?? throw SimErrors.NotRunning();

    protected sealed override void ProcessRecord()
    {
        try
        {
            ProcessItem();
        }
        catch (AdeSimException ex) when (ErrorsArePerItem)
        {
            WriteError(ToErrorRecord(ex));
        }
        catch (AdeSimException ex)
        {
            ThrowTerminatingError(ToErrorRecord(ex));
        }
    }

    protected abstract void ProcessItem();

    /// <summary>
    /// A verbose line; under -Debug without -Verbose it goes to the debug stream (PowerShell would otherwise ask for
    /// every verbose line of a compiled cmdlet, and fail the command in a non-interactive session).
    /// </summary>
    protected new void WriteVerbose(string text)
    {
        var bound = MyInvocation.BoundParameters;
        if (bound.TryGetValue("Debug", out var debug) && debug is SwitchParameter { IsPresent: true } or true && !bound.ContainsKey("Verbose"))
        {
            WriteDebug(text);
        }
        else
        {
            base.WriteVerbose(text);
        }
    }

    /// <summary>
    /// The running simulator when the user agrees to <paramref name="action"/> on it (-WhatIf, -Confirm); null when none
    /// runs (nothing to do, and not an error) or the answer is no.
    /// </summary>
    protected AdeSimulator? RunningIfConfirmed(string action)
        => SimulatorSession.Current is { } simulator && ShouldProcess(simulator.Uri.ToString(), action) ? simulator : null;

    internal static ErrorRecord ToErrorRecord(AdeSimException ex)
    {
        var category = Enum.TryParse<ErrorCategory>(ex.Category, out var c) ? c : ErrorCategory.NotSpecified;
        return new ErrorRecord(ex, ex.ErrorId, category, ex.Target);
    }

    protected string ResolvePath(string path) => SessionState.Path.GetUnresolvedProviderPathFromPSPath(path);

    /// <summary>Reads the PEM certificate an administrator would upload to Apple Business Manager.</summary>
    protected string ReadCertificate(string path)
    {
        var full = ResolvePath(path);
        if (!File.Exists(full))
        {
            throw SimErrors.CertificateInvalid(full, "the file does not exist.");
        }

        if (new FileInfo(full).Length > 64 * 1024)
        {
            throw SimErrors.CertificateInvalid(full, "the file is too large for a certificate.");
        }

        var text = File.ReadAllText(full);
        if (!text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
        {
            throw SimErrors.CertificateInvalid(full, "it holds no -----BEGIN CERTIFICATE----- block.");
        }

        return text;
    }

    /// <summary>
    /// Writes text that holds secrets (-PlainTextOutFile): created 0600 on Unix, and an existing file is replaced only
    /// after its permissions are made private too, so the credentials are never readable by other local users.
    /// </summary>
    protected void WriteSecretFile(string outFile, string text)
    {
        var full = ResolvePath(outFile);
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            if (File.Exists(full))
            {
                File.SetUnixFileMode(full, UnixFileMode.UserRead | UnixFileMode.UserWrite); // before the secret is in it
            }
        }

        using var stream = new FileStream(full, options);
        stream.Write(System.Text.Encoding.UTF8.GetBytes(text));
    }

    /// <summary>Writes a token; a directory gets ABM's file name "&lt;server&gt;_Token_&lt;timestamp&gt;_smime.p7m".</summary>
    protected string WriteToken(string outFile, string serverName, string text, DateTimeOffset now)
    {
        var full = ResolvePath(outFile);
        if (Directory.Exists(full))
        {
            var safe = string.Concat(serverName.Select(ch => Path.GetInvalidFileNameChars().Contains(ch) || ch == ' ' ? '_' : ch));
            full = Path.Combine(full, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{safe}_Token_{now.UtcDateTime:yyyy-MM-ddTHH-mm-ssZ}_smime.p7m"));
        }

        File.WriteAllText(full, text);
        return full;
    }
}

/// <summary>The simulators started in this PowerShell process.</summary>
internal static class SimulatorSession
{
    private static readonly List<AdeSimulator> Running = [];

    public static AdeSimulator? Current
    {
        get
        {
            lock (Running)
            {
                Running.RemoveAll(s => !s.IsRunning);
                return Running.Count == 0 ? null : Running[^1];
            }
        }
    }

    public static void Add(AdeSimulator simulator)
    {
        lock (Running) Running.Add(simulator);
    }

    public static void Remove(AdeSimulator simulator)
    {
        lock (Running) Running.Remove(simulator);
    }

    /// <summary>
    /// The module is removed (Remove-Module AdeEnrollment.Simulator, or Import-Module -Force): every simulator of the
    /// process stops (the runspaces of a process share the simulators' list and the one simulated clock) and
    /// time is real again, as after the last Stop-AdeSimulator. Otherwise the session's AdeEnrollment cmdlets would go
    /// on reading a moved clock, and its listeners keep their ports, with no cmdlet left to stop them.
    /// </summary>
    internal static int StopAll()
    {
        List<AdeSimulator> running;
        lock (Running)
        {
            running = [.. Running];
            Running.Clear();
        }

        foreach (var simulator in running)
        {
            simulator.Stop();
        }

        EndSimulatedTime();
        return running.Count;
    }

    /// <summary>The simulation is over: the simulated clock and the module's waits are real again.</summary>
    internal static void EndSimulatedTime()
    {
        SimulatorClock.Instance.Reset();
        AdeEnrollment.Engine.EngineClock.Waits = TimeProvider.System;
    }

    /// <summary>Makes a running simulator of this session the current one; false when it is not one of them.</summary>
    public static bool Use(AdeSimulator simulator)
    {
        lock (Running)
        {
            if (!Running.Remove(simulator))
            {
                return false;
            }

            Running.Add(simulator);
            return true;
        }
    }
}

/// <summary>Lets -Server take a server object or a name.</summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class SimServerTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        return value is AdeSimServer server ? server.Name : inputData;
    }
}

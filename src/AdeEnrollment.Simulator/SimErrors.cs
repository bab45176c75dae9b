using System.Globalization;

namespace AdeEnrollment.Simulator;

/// <summary>A failure of a simulator command, with a stable <see cref="ErrorId"/> (pinned in tests) and a PowerShell ErrorCategory name.</summary>
public sealed class AdeSimException : Exception
{
    /// <remarks>The message and a text target are shown safely (the engine's <see cref="Engine.SafeText"/>): they may repeat what a test passed in.</remarks>
    internal AdeSimException(string errorId, string category, string message, object? target = null, Exception? inner = null)
        : base(Engine.SafeText.Neutralise(message), inner)
    {
        ErrorId = errorId;
        Category = category;
        Target = target is string text ? Engine.SafeText.Neutralise(text) : target;
    }

    public string ErrorId { get; }

    /// <summary>The name of a System.Management.Automation.ErrorCategory value.</summary>
    public string Category { get; }

    public object? Target { get; }
}

/// <summary>The one place that defines the simulator's own errors (the AdeEnrollment engine has its catalogue; this is the simulator's).</summary>
public static class SimErrors
{
    private static string F(string format, params object?[] args) => string.Format(CultureInfo.InvariantCulture, format, args);

    public static AdeSimException NotRunning() => new(nameof(NotRunning), "ResourceUnavailable",
        "No ADE simulator is running in this session. Start one with Start-AdeSimulator.");

    public static AdeSimException SimulatorStopped(string uri) => new(nameof(SimulatorStopped), "ResourceUnavailable",
        F("The ADE simulator on {0} is not one that Start-AdeSimulator started in this session and that still runs. Use a simulator Start-AdeSimulator returned, before Stop-AdeSimulator.", uri), uri);

    public static AdeSimException StartFailed(int port, Exception inner) => new(nameof(StartFailed), "ResourceUnavailable",
        F("The ADE simulator could not listen on 127.0.0.1:{0}: {1} Choose another -Port, or omit it to use a free port.", port, inner.Message), port, inner);

    public static AdeSimException ServerNotFound(string server) => new(nameof(ServerNotFound), "ObjectNotFound",
        F("The simulator has no MDM server '{0}'. Create it with New-AdeSimServer.", server), server);

    public static AdeSimException ServerExists(string name) => new(nameof(ServerExists), "ResourceExists",
        F("The simulator already has an MDM server named '{0}'. Choose another -Name, or download a new token for it with Export-AdeSimServerToken.", name), name);

    public static AdeSimException CertificateInvalid(string path, string reason, Exception? inner = null) => new(nameof(CertificateInvalid), "InvalidData",
        F("'{0}' is not the public key certificate Apple Business Manager accepts: {1} Upload the PEM that New-AdeTokenRequest -OutFile wrote.", path, reason), path, inner);

    public static AdeSimException CertificateMissing(string server) => new(nameof(CertificateMissing), "InvalidArgument",
        F("MDM server '{0}' has no public key yet; give -PublicKeyPath.", server), server);

    public static AdeSimException DeviceNotFound(string server, string serial) => new(nameof(DeviceNotFound), "ObjectNotFound",
        F("Serial number '{0}' is not assigned to MDM server '{1}' in the simulator.", serial, server), serial);

    public static AdeSimException ProfileNotFound(string server, string uuid) => new(nameof(ProfileNotFound), "ObjectNotFound",
        F("No profile with UUID '{0}' is defined on MDM server '{1}' in the simulator.", uuid, server), uuid);

    public static AdeSimException DeviceHasNoProfile(string serial, string server, string status) => new(nameof(DeviceHasNoProfile), "InvalidOperation",
        F("Device '{0}' on MDM server '{1}' has no profile assigned at Apple (its profile status is '{2}'), so it has none to fetch: assign it one first (Set-AdeDeviceProfile, or a default profile in a sync).", serial, server, status), serial);

    public static AdeSimException ProfileNameNotFound(string server, string name) => new(nameof(ProfileNotFound), "ObjectNotFound",
        F("No profile named '{0}' is defined on MDM server '{1}' in the simulator: a profile reaches Apple when it is first assigned (Set-AdeDeviceProfile, a default profile in a sync).", name, server), name);

    public static AdeSimException DeviceExists(string serial, string server) => new(nameof(DeviceExists), "ResourceExists",
        F("Serial number '{0}' is already assigned to MDM server '{1}'. Remove it there first (Remove-AdeSimDevice), as in Apple Business Manager.", serial, server), serial);

    public static AdeSimException ArgumentInvalid(string parameter, string value, string rule) => new(nameof(ArgumentInvalid), "InvalidArgument",
        F("-{0} '{1}' is not valid: {2}", parameter, value, rule), value);
}

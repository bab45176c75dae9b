using AdeEnrollment.Simulator.Abm;

namespace AdeEnrollment.Simulator.Service;

/// <summary>One MDM server's state at "Apple": its token, devices, change log, profiles and fetch snapshots.</summary>
internal sealed class ServerState
{
    public const int MaxSnapshots = 4;

    /// <summary>The DEP server_name; settable because the Business API can rename a service (see BusinessState.Rename).</summary>
    public required string Name { get; set; }

    public required string Uuid { get; init; }

    public required string OrgName { get; init; }

    public required string AdminId { get; init; }

    public required string CertificatePem { get; set; }

    public required ServerTokenCredentials Credentials { get; set; }

    public int TokenVersion { get; set; } = 1;

    /// <summary>Devices by serial number.</summary>
    public Dictionary<string, AdeSimDevice> Devices { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The change log that sync cursors read, in sequence order.</summary>
    public List<SimEvent> Events { get; } = [];

    public long LastSequence { get; set; }

    public Dictionary<string, SimProfile> Profiles { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Device sets frozen by a fetch without cursor; its cursors page through them.</summary>
    public Dictionary<long, AdeSimDevice[]> Snapshots { get; } = [];

    public long LastSnapshot { get; set; }

    /// <summary>Per-serial answers injected for assign/remove (Set-AdeSimFault -SerialNumber).</summary>
    public Dictionary<string, DeviceOutcome> Outcomes { get; } = new(StringComparer.OrdinalIgnoreCase);

    public string? TokenFile { get; set; }

    /// <summary>Whether Apple lets this MDM server release (disown) devices (Set-AdeSimServer -AllowDeviceRelease).</summary>
    public bool AllowDeviceRelease { get; set; } = true;

    /// <summary>
    /// The Business API's serverType: MDM, or one of Apple's own services that the listing shows beside the MDM servers:
    /// APPLE_CONFIGURATOR (the devices added with Apple Configurator) or APPLE_MDM (Apple's built-in management).
    /// </summary>
    public string ServerType { get; set; } = "MDM";

    public SimEvent Record(AdeSimDevice device, string opType, DateTimeOffset at)
    {
        var e = new SimEvent(++LastSequence, device, opType, at);
        Events.Add(e);
        return e;
    }

    /// <summary>Index of the first event after <paramref name="sequence"/>.</summary>
    public int FirstEventAfter(long sequence)
    {
        int lo = 0, hi = Events.Count;
        while (lo < hi)
        {
            var mid = (lo + hi) >>> 1;
            if (Events[mid].Sequence <= sequence) lo = mid + 1; else hi = mid;
        }

        return lo;
    }

    public AdeSimServer ToOutput(Uri service) => new()
    {
        Name = Name,
        Uuid = Uuid,
        OrgName = OrgName,
        AdminId = AdminId,
        ConsumerKey = Credentials.ConsumerKey,
        TokenExpiresAt = Credentials.AccessTokenExpiry,
        TokenVersion = TokenVersion,
        DeviceCount = Devices.Count,
        ProfileCount = Profiles.Count,
        TokenFile = TokenFile,
        ServiceUri = service,
        ServerType = ServerType,
    };
}

/// <summary>A change in a server's device set: what sync returns (op_type, op_date and the device as it then was).</summary>
internal sealed record SimEvent(long Sequence, AdeSimDevice Device, string OpType, DateTimeOffset OpDate);

/// <summary>A profile defined at "Apple": the JSON it was defined with (without devices) and its UUID.</summary>
internal sealed record SimProfile(string Uuid, System.Text.Json.JsonElement Definition, DateTimeOffset DefinedAt);

/// <summary>An injected per-device answer and how many more requests it applies to (null: until cleared).</summary>
internal sealed class DeviceOutcome
{
    public required string Status { get; init; }

    public int? Remaining { get; set; }

    public int? RetryAfterSeconds { get; init; }
}

/// <summary>An authenticated session.</summary>
internal sealed class SessionState
{
    public required ServerState Server { get; init; }

    public required string AccessToken { get; init; }

    public required DateTimeOffset ExpiresAt { get; set; }

    public int Requests { get; set; }
}

namespace AdeEnrollment.Simulator;

/// <summary>An MDM server in the simulated Apple Business Manager (a snapshot; holds no secret).</summary>
public sealed class AdeSimServer
{
    internal AdeSimServer() { }

    public string Name { get; internal init; } = "";

    /// <summary>32 upper-case hex characters, as Apple's server_uuid.</summary>
    public string Uuid { get; internal init; } = "";

    public string OrgName { get; internal init; } = "";

    public string AdminId { get; internal init; } = "";

    /// <summary>The OAuth consumer key of the server's token (an identifier, not a secret).</summary>
    public string ConsumerKey { get; internal init; } = "";

    public DateTimeOffset TokenExpiresAt { get; internal init; }

    /// <summary>How many tokens were downloaded; only the latest works.</summary>
    public int TokenVersion { get; internal init; }

    public int DeviceCount { get; internal init; }

    public int ProfileCount { get; internal init; }

    /// <summary>Where the last token (.p7m) was written, when a command wrote one.</summary>
    public string? TokenFile { get; internal init; }

    public Uri ServiceUri { get; internal init; } = null!;

    /// <summary>What the Business API lists the server as: MDM, APPLE_CONFIGURATOR or APPLE_MDM (Set-AdeSimServer -ServerType).</summary>
    public string ServerType { get; internal init; } = "MDM";

    public override string ToString() => Name;
}

/// <summary>
/// A profile as Apple holds it (Get-AdeSimProfile): what a client defined with POST /profile, as changed by
/// Set-AdeSimProfile since. <see cref="Keys"/> holds Apple's JSON keys (allow_pairing, skip_setup_items …) with
/// PowerShell values: a test asserts on what was really sent, e.g. <c>$p.Keys.allow_pairing | Should -BeFalse</c>.
/// </summary>
public sealed class AdeSimProfile
{
    internal AdeSimProfile() { }

    public string Server { get; internal init; } = "";

    /// <summary>Apple's profile_uuid (32 upper-case hex characters), as the module's AppleProfileUuid.</summary>
    public string ProfileUuid { get; internal init; } = "";

    public string ProfileName { get; internal init; } = "";

    public DateTimeOffset DefinedAt { get; internal init; }

    /// <summary>How many of the server's devices hold the profile now.</summary>
    public int DeviceCount { get; internal init; }

    /// <summary>Apple's keys as received, in their order: strings, booleans, numbers, and string arrays.</summary>
    public System.Collections.Specialized.OrderedDictionary Keys { get; internal init; } = [];

    /// <summary>The definition as Apple's JSON text.</summary>
    public string Json { get; internal init; } = "";

    public override string ToString() => ProfileName;
}

/// <summary>A device as Apple sees it (Get-AdeSimDevice; also the simulator's own device record).</summary>
public sealed record AdeSimDevice
{
    internal AdeSimDevice() { }

    public string Server { get; internal init; } = "";

    public string SerialNumber { get; internal init; } = "";

    public string Model { get; internal init; } = "";

    public string Description { get; internal init; } = "";

    public string Color { get; internal init; } = "";

    public string? AssetTag { get; internal init; }

    /// <summary>iPhone or iPad.</summary>
    public string DeviceFamily { get; internal init; } = "";

    /// <summary>iOS or iPadOS (iPads report iOS to clients of protocol version 6 and older).</summary>
    public string Os { get; internal init; } = "";

    /// <summary>empty, assigned, pushed or removed.</summary>
    public string ProfileStatus { get; internal init; } = "empty";

    public string? ProfileUuid { get; internal init; }

    public DateTimeOffset? ProfileAssignTime { get; internal init; }

    public DateTimeOffset? ProfilePushTime { get; internal init; }

    public DateTimeOffset DeviceAssignedDate { get; internal init; }

    public string DeviceAssignedBy { get; internal init; } = "";

    /// <summary>mdm_migration_deadline (sent to clients of protocol version 8 and later).</summary>
    public DateTimeOffset? MdmMigrationDeadline { get; internal init; }

    /// <summary>is_replacement_device, sent when set.</summary>
    public bool? IsReplacementDevice { get; internal init; }

    public override string ToString() => SerialNumber;
}

/// <summary>One request the simulator answered (Get-AdeSimRequest).</summary>
public sealed class AdeSimRequest
{
    internal AdeSimRequest() { }

    public DateTimeOffset Time { get; internal init; }

    public string Method { get; internal init; } = "";

    public string Path { get; internal init; } = "";

    /// <summary>The HTTP status sent; 0 when the connection was dropped.</summary>
    public int StatusCode { get; internal init; }

    /// <summary>Apple's error code in the body, when the answer was an error.</summary>
    public string? ErrorCode { get; internal init; }

    /// <summary>Serial numbers in the request, or devices in the answered page.</summary>
    public int DeviceCount { get; internal init; }

    /// <summary>
    /// The serial numbers the request carried, in its order: assigning or removing a profile, defining one with devices,
    /// device details, release. Empty for the other requests (a fetch or sync page's devices are in its answer).
    /// </summary>
    public IReadOnlyList<string> SerialNumbers { get; internal init; } = [];

    /// <summary>The profile an assignment named, or the one a definition created.</summary>
    public string? ProfileUuid { get; internal init; }

    public string? Server { get; internal init; }

    public string? UserAgent { get; internal init; }

    public string? ProtocolVersion { get; internal init; }

    /// <summary>True when an injected fault produced (or delayed) the answer.</summary>
    public bool Fault { get; internal init; }

    public TimeSpan Duration { get; internal init; }

    public override string ToString() => $"{Method} {Path} {StatusCode}";
}

/// <summary>A fault injected with Set-AdeSimFault.</summary>
public sealed class AdeSimFault
{
    internal AdeSimFault() { }

    public int Id { get; internal init; }

    /// <summary>Path (wildcards allowed, e.g. "/profile*" or "*") the fault applies to.</summary>
    public string Endpoint { get; internal init; } = "*";

    /// <summary>HTTP method the fault applies to; null for any.</summary>
    public string? Method { get; internal init; }

    /// <summary>The status to answer with; null when the fault only delays or drops.</summary>
    public int? StatusCode { get; internal init; }

    public string? Body { get; internal init; }

    /// <summary>How many more requests the fault hits; null for every request until cleared.</summary>
    public int? Remaining { get; internal set; }

    /// <summary>How many more matching requests pass untouched before the fault starts (Set-AdeSimFault -Skip).</summary>
    public int Skip { get; internal set; }

    /// <summary>The share of matching requests hit (1 = all).</summary>
    public double Share { get; internal init; } = 1;

    public int? RetryAfterSeconds { get; internal init; }

    /// <summary>Send Retry-After as an HTTP date instead of seconds.</summary>
    public bool RetryAfterAsDate { get; internal init; }

    public TimeSpan Latency { get; internal init; }

    public bool DropConnection { get; internal init; }

    /// <summary>
    /// The request is carried out first (the route runs and changes the simulator's state, e.g. an activity is
    /// created) and only its answer is replaced by the fault's status or dropped connection: Apple failing after it
    /// applied the request.
    /// </summary>
    public bool AfterApplying { get; internal init; }

    /// <summary>How many requests the fault has hit so far.</summary>
    public int Hits { get; internal set; }

    public override string ToString() => $"{Method ?? "*"} {Endpoint} → {(AfterApplying ? "applied, then " : "")}{(DropConnection ? "drop" : StatusCode?.ToString() ?? "delay")}";
}

using AdeEnrollment.Engine.Profiles;

namespace AdeEnrollment.Engine.Model;

/// <summary>An enrollment profile of a token (about_AdeEnrollment.md, "Enrollment profiles").</summary>
public sealed class AdeProfile
{
    internal AdeProfile() { }

    public Guid Id { get; internal init; }

    public string Name { get; internal init; } = "";

    public string Token { get; internal init; } = "";

    public Guid TokenId { get; internal init; }

    /// <summary>The platform the profile is for; fixed when the profile is created.</summary>
    public DevicePlatform Platform { get; internal init; }

    // Every setting is a property of its own (Get-AdeProfile | Select-Object Name, Department), in the order of
    // New-AdeProfile's parameters; unset settings are null.
    public string? Description { get; internal init; }

    public UserAffinity UserAffinity { get; internal init; }

    public AuthenticationMethod? AuthenticationMethod { get; internal init; }

    public bool InstallCompanyPortal { get; internal init; }

    public string? CompanyPortalVppToken { get; internal init; }

    public bool RunCompanyPortalInSingleAppMode { get; internal init; }

    public bool Supervised { get; internal init; }

    public bool LockedEnrollment { get; internal init; }

    public bool SharedIPad { get; internal init; }

    public int? MaximumCachedUsers { get; internal init; }

    public int? PasscodeLockGracePeriodSeconds { get; internal init; }

    public int? UserSessionTimeoutSeconds { get; internal init; }

    public bool RequireTemporarySession { get; internal init; }

    public int? TemporarySessionTimeoutSeconds { get; internal init; }

    public SyncWithComputers SyncWithComputers { get; internal init; }

    /// <summary>Apple Configurator certificates (base64 DER) for SyncWithComputers = AllowByCertificate.</summary>
    public IReadOnlyList<string> ConfiguratorCertificates { get; internal init; } = ValueList<string>.Empty;

    public string? DeviceNameTemplate { get; internal init; }

    public string? CellularDataPlanUrl { get; internal init; }

    public string? Department { get; internal init; }

    public string? DepartmentPhone { get; internal init; }

    public IReadOnlyList<SetupScreen> HiddenScreens { get; internal init; } = ValueList<SetupScreen>.Empty;

    /// <summary>Skip keys passed to Apple as given (keys newer than this module's table).</summary>
    public IReadOnlyList<string> AdditionalSkipKeys { get; internal init; } = ValueList<string>.Empty;

    public bool AwaitFinalConfiguration { get; internal init; }

    public string? SupportEmail { get; internal init; }

    /// <summary>Trust anchors for the enrollment URL (base64 DER).</summary>
    public IReadOnlyList<string> AnchorCertificates { get; internal init; } = ValueList<string>.Empty;

    public bool? DoNotUseProfileFromBackup { get; internal init; }

    public bool? ReturnToService { get; internal init; }

    public string? Language { get; internal init; }

    public string? Region { get; internal init; }

    public bool? AutoAdvanceSetup { get; internal init; }

    /// <summary>
    /// Every setting as one value, as New-/Set-AdeProfile take them and Export-AdeProfile writes them. Internal: the
    /// public surface is the properties above, so that Select-Object and Format-List * show settings, not a type name.
    /// </summary>
    internal ProfileSettings Settings { get; init; } = new();

    /// <summary>True when this is its platform's default profile on the token (given to devices of that platform that arrive without one).</summary>
    public bool IsDefault { get; internal init; }

    public int DeviceCount { get; internal init; }

    /// <summary>Apple's profile UUID once the profile was defined at Apple (at its first assignment).</summary>
    public string? AppleProfileUuid { get; internal init; }

    public IReadOnlyList<string> ScopeTags { get; internal init; } = ValueList<string>.Empty;

    public DateTimeOffset CreatedAt { get; internal init; }

    public DateTimeOffset ModifiedAt { get; internal init; }

    public override string ToString() => Name;
}

public enum AdeAssignmentStatus
{
    Success,

    /// <summary>Apple says the serial is not assigned to this token's MDM server.</summary>
    NotAccessible,

    /// <summary>Apple could not assign; not retried for 24 hours (see RetryAfter).</summary>
    Failed,

    /// <summary>Apple throttled the request and the cmdlet's time ran out; retry after RetryAfter.</summary>
    Throttled,

    /// <summary>The engine does not know this serial on the profile's token (sync first).</summary>
    UnknownDevice,

    /// <summary>The device is of another platform than the profile (or of unknown platform, without -Force): nothing was sent.</summary>
    PlatformMismatch,

    /// <summary>The profile is a Shared iPad profile and the device is an iPhone or iPod, not an iPad: nothing was sent.</summary>
    SharedIPadOnly,
}

/// <summary>The outcome of assigning a profile to one device.</summary>
public sealed class AdeAssignmentResult
{
    internal AdeAssignmentResult() { }

    public string SerialNumber { get; internal init; } = "";

    public string Profile { get; internal init; } = "";

    public string? PreviousProfile { get; internal init; }

    public AdeAssignmentStatus Status { get; internal init; }

    public DateTimeOffset? RetryAfter { get; internal init; }

    public string Token { get; internal init; } = "";

    public override string ToString() => $"{SerialNumber} {Status}";
}

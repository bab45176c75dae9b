using AdeEnrollment.Engine.Profiles;

namespace AdeEnrollment.Engine.Model;

public enum AdeTokenRequestStatus
{
    /// <summary>Waiting for Apple's token file.</summary>
    Pending,

    /// <summary>A token was created from this request; it cannot be used again.</summary>
    Used,
}

/// <summary>Step 1 of adding a token: the key pair whose public certificate is uploaded to Apple Business Manager.</summary>
public sealed class AdeTokenRequest
{
    internal AdeTokenRequest(Guid id, DateTimeOffset createdAt, string thumbprint, string publicKeyPem, DateTimeOffset certificateExpiresAt, string? tokenName, string? outFile)
    {
        Id = id;
        CreatedAt = createdAt;
        Thumbprint = thumbprint;
        PublicKeyPem = publicKeyPem;
        CertificateExpiresAt = certificateExpiresAt;
        TokenName = tokenName;
        OutFile = outFile;
    }

    public Guid Id { get; }

    public DateTimeOffset CreatedAt { get; }

    /// <summary>SHA-1 thumbprint of the certificate (upper-case hex), as certificate tools show it.</summary>
    public string Thumbprint { get; }

    /// <summary>The certificate to upload to Apple Business Manager, PEM <c>CERTIFICATE</c>. Public by design.</summary>
    public string PublicKeyPem { get; }

    public DateTimeOffset CertificateExpiresAt { get; }

    public AdeTokenRequestStatus Status => TokenName is null ? AdeTokenRequestStatus.Pending : AdeTokenRequestStatus.Used;

    /// <summary>The token created from this request, if any.</summary>
    public string? TokenName { get; }

    /// <summary>Where New-AdeTokenRequest -OutFile wrote the PEM (null otherwise).</summary>
    public string? OutFile { get; }

    public override string ToString() => Id.ToString();
}

public enum AdeTokenStatus
{
    Active,

    /// <summary>Expires within 30 days: renew it with Update-AdeToken.</summary>
    ExpiringSoon,

    Expired,

    /// <summary>Apple rejected the token (revoked, or replaced by a newer download in ABM).</summary>
    Invalid,
}

/// <summary>An ADE token (an MDM server in Apple Business Manager / Apple School Manager). Holds no secret.</summary>
public sealed class AdeToken
{
    internal AdeToken() { }

    public Guid Id { get; internal init; }

    public string Name { get; internal init; } = "";

    public string AppleId { get; internal init; } = "";

    public string? ServerName { get; internal init; }

    public string? ServerUuid { get; internal init; }

    public string? OrgName { get; internal init; }

    public string? OrgType { get; internal init; }

    public string? AdminId { get; internal init; }

    public DateTimeOffset ExpiresAt { get; internal init; }

    /// <summary>Whole days left until <see cref="ExpiresAt"/>; negative once expired.</summary>
    public int DaysUntilExpiry { get; internal init; }

    public AdeTokenStatus Status { get; internal init; }

    /// <summary>Why Apple rejected the token, when <see cref="Status"/> is Invalid.</summary>
    public string? InvalidReason { get; internal init; }

    public IReadOnlyList<string> ScopeTags { get; internal init; } = ValueList<string>.Empty;

    public string? EnrollmentUrl { get; internal init; }

    public Uri ServiceUri { get; internal init; } = null!;

    public int ProfileCount { get; internal init; }

    public int DeviceCount { get; internal init; }

    /// <summary>Of <see cref="DeviceCount"/>, the devices still assigned in ABM (those Apple delivers in a full sync).</summary>
    internal int DevicesInAbm { get; init; }

    /// <summary>The default profile of iOS/iPadOS devices (the one default before profiles had platforms).</summary>
    public string? DefaultProfile => DefaultProfiles.GetValueOrDefault(DevicePlatform.iOS);

    /// <summary>The default profile of the token's Macs (null: they arrive and stay without a profile).</summary>
    public string? DefaultMacOSProfile => DefaultProfiles.GetValueOrDefault(DevicePlatform.macOS);

    public string? DefaultTvOSProfile => DefaultProfiles.GetValueOrDefault(DevicePlatform.tvOS);

    public string? DefaultVisionOSProfile => DefaultProfiles.GetValueOrDefault(DevicePlatform.visionOS);

    /// <summary>Every platform's default profile (internal: the four properties above are the public surface).</summary>
    internal IReadOnlyDictionary<DevicePlatform, string> DefaultProfiles { get; init; } = new Dictionary<DevicePlatform, string>();

    public DateTimeOffset? LastSync { get; internal init; }

    public DateTimeOffset? LastSuccessfulSync { get; internal init; }

    /// <summary>When a manual delta sync is allowed (at most one per 15 minutes).</summary>
    public DateTimeOffset NextManualSyncAt { get; internal init; }

    /// <summary>When a full sync is allowed (at most one per 7 days, unless the next sync must be full).</summary>
    public DateTimeOffset NextFullSyncAt { get; internal init; }

    public Guid RequestId { get; internal init; }

    public DateTimeOffset CreatedAt { get; internal init; }

    public DateTimeOffset ModifiedAt { get; internal init; }

    public override string ToString() => Name;
}

/// <summary>What Get-AdeStore / Connect-AdeStore -PassThru show about the store in use.</summary>
public sealed class AdeStoreInfo
{
    internal AdeStoreInfo() { }

    /// <summary>The SQLite file, or postgresql://server:port/database for a store on a PostgreSQL server (never a password).</summary>
    public string Path { get; internal init; } = "";

    /// <summary>SQLite (one file, one host) or PostgreSQL (a server database shared by several hosts).</summary>
    public string Provider { get; internal init; } = "SQLite";

    /// <summary>The PostgreSQL server (host:port); empty for SQLite.</summary>
    public string? Server { get; internal init; }

    /// <summary>The PostgreSQL database; empty for SQLite.</summary>
    public string? Database { get; internal init; }

    /// <summary>False when no store exists at Path yet (Get-AdeStore does not create one); the other values are then empty.</summary>
    public bool Exists { get; internal init; }

    public int SchemaVersion { get; internal init; }

    public string KeyProtection { get; internal init; } = "";

    public int TokenCount { get; internal init; }

    public int TokenRequestCount { get; internal init; }

    public int ProfileCount { get; internal init; }

    public long DeviceCount { get; internal init; }

    public long SizeBytes { get; internal init; }

    /// <summary>Days the change journal keeps device events (Set-AdeStore -JournalRetentionDays); sync deletes older ones.</summary>
    public int JournalRetentionDays { get; internal init; }

    public override string ToString() => Path;
}

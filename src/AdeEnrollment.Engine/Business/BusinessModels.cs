using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Business;

/// <summary>An Apple Business (or School) API account in the store. Its private key is never part of this object.</summary>
public sealed class AdeBusinessAccount
{
    public Guid Id { get; internal init; }

    /// <summary>BUSINESSAPI.&lt;uuid&gt; or SCHOOLAPI.&lt;uuid&gt;.</summary>
    public string ClientId { get; internal init; } = "";

    public string KeyId { get; internal init; } = "";

    /// <summary>Business or School (from the client ID prefix).</summary>
    public string Kind { get; internal init; } = "";

    /// <summary>business.api or school.api.</summary>
    public string Scope { get; internal init; } = "";

    public Uri TokenUri { get; internal init; } = null!;

    public Uri ServiceUri { get; internal init; } = null!;

    public DateTimeOffset CreatedAt { get; internal init; }

    /// <summary>GET requests per minute the engine allows itself with this account; null: the default (20).</summary>
    public int? GetsPerMinute { get; internal init; }

    /// <summary>Activities per hour the engine allows itself with this account; null: the default (10).</summary>
    public int? PostsPerHour { get; internal init; }

    /// <summary>
    /// The most devices one activity carries; null: the default (1,000). Set by hand, or lowered by the engine when Apple
    /// refused a larger activity and took a smaller one.
    /// </summary>
    public int? DevicesPerActivity { get; internal init; }

    public override string ToString() => ClientId;
}

/// <summary>A device the organisation owns, as Apple Business reports it.</summary>
public sealed class AdeOrgDevice
{
    public string SerialNumber { get; internal init; } = "";

    public string? DeviceModel { get; internal init; }

    /// <summary>iPhone, iPad, Mac, AppleTV, Watch, Vision (Apple's spelling); iPod and families Apple adds later are kept as sent.</summary>
    public string? ProductFamily { get; internal init; }

    /// <summary>The platform of the product family (iOS for iPhone, iPad and iPod); null (Unknown) for Watch and families the module does not know.</summary>
    public DevicePlatform? Platform => DevicePlatforms.Of(ProductFamily, null);

    public string? ProductType { get; internal init; }

    public string? DeviceCapacity { get; internal init; }

    public string? Color { get; internal init; }

    public string? PartNumber { get; internal init; }

    public string? OrderNumber { get; internal init; }

    public DateTimeOffset? OrderDate { get; internal init; }

    /// <summary>APPLE, RESELLER or MANUALLY_ADDED.</summary>
    public string? PurchaseSourceType { get; internal init; }

    public string? PurchaseSourceId { get; internal init; }

    /// <summary>ASSIGNED or UNASSIGNED (Apple's status), or RELEASED when Apple gives a release date (it may list released devices).</summary>
    public string? Status { get; internal init; }

    /// <summary>When the device was released from the organisation (Apple's releasedFromOrgDateTime; null while owned or when Apple leaves it out).</summary>
    public DateTimeOffset? ReleasedFromOrgDate { get; internal init; }

    /// <summary>Who released it (Apple's releaserId, when sent).</summary>
    public string? ReleaserId { get; internal init; }

    /// <summary>What kind of releaser (Apple's releaserEntityType, kept as sent: Apple documents no values).</summary>
    public string? ReleaserEntityType { get; internal init; }

    /// <summary>The MDM server's id at Apple Business, when assigned.</summary>
    public string? MdmServerId { get; internal init; }

    /// <summary>The MDM server's name, when assigned.</summary>
    public string? MdmServer { get; internal init; }

    public DateTimeOffset? AddedToOrgDate { get; internal init; }

    public DateTimeOffset? UpdatedDate { get; internal init; }

    /// <summary>Wi-Fi MAC address(es) as Apple sent them (Apple sends a string or a list; both are read into this list).</summary>
    public IReadOnlyList<string> WiFiMacAddress { get; internal init; } = ValueList<string>.Empty;

    /// <summary>Bluetooth MAC address(es), a string or a list at Apple.</summary>
    public IReadOnlyList<string> BluetoothMacAddress { get; internal init; } = ValueList<string>.Empty;

    /// <summary>Built-in Ethernet MAC addresses (Apple's ethernetMacAddress, or the key builtInEthernetMacAddress some answers use).</summary>
    public IReadOnlyList<string> EthernetMacAddress { get; internal init; } = ValueList<string>.Empty;

    /// <summary>The IMEI(s) of a cellular device (two on a dual-SIM iPhone); Apple sends a list, older answers a string.</summary>
    public IReadOnlyList<string> Imei { get; internal init; } = ValueList<string>.Empty;

    /// <summary>The MEID(s) of a device with a CDMA radio; a list or a string at Apple.</summary>
    public IReadOnlyList<string> Meid { get; internal init; } = ValueList<string>.Empty;

    /// <summary>The embedded SIM's identifier (EID) of a device with an eSIM.</summary>
    public string? Eid { get; internal init; }

    /// <summary>AppleCare coverage (only with -IncludeAppleCare; empty otherwise).</summary>
    public IReadOnlyList<AdeAppleCareCoverage> AppleCare { get; internal init; } = ValueList<AdeAppleCareCoverage>.Empty;

    /// <summary>The client ID of the API account that read the device.</summary>
    public string Account { get; internal init; } = "";

    public override string ToString() => SerialNumber;
}

/// <summary>One AppleCare coverage record of a device.</summary>
public sealed class AdeAppleCareCoverage
{
    public string? Status { get; internal init; }

    public string? Description { get; internal init; }

    public string? PaymentType { get; internal init; }

    public DateTimeOffset? StartDate { get; internal init; }

    public DateTimeOffset? EndDate { get; internal init; }

    public override string ToString() => $"{Description} ({Status}{(EndDate is { } e ? ", until " + e.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture) : "")})";
}

/// <summary>An MDM server (device management service) of the organisation, linked to the stored token of the same server.</summary>
public sealed class AdeMdmServer
{
    public string Id { get; internal init; } = "";

    public string Name { get; internal init; } = "";

    /// <summary>MDM, APPLE_CONFIGURATOR or APPLE_MDM.</summary>
    public string? ServerType { get; internal init; }

    /// <summary>ACTIVE, INACTIVE or DELETED.</summary>
    public string? Status { get; internal init; }

    public int? DeviceCount { get; internal init; }

    public DateTimeOffset? LastConnected { get; internal init; }

    public IReadOnlyList<string> DefaultProductFamilies { get; internal init; } = ValueList<string>.Empty;

    /// <summary>Whether the server may release devices from the organisation (Apple's enableMdmDisownFlag); null when Apple did not say.</summary>
    public bool? AllowRelease { get; internal init; }

    /// <summary>The stored token of this server (matched by server name), or null (always null for a DELETED server).</summary>
    public string? Token { get; internal init; }

    public Guid? TokenId { get; internal init; }

    /// <summary>True when the token's server UUID equals this id (hyphens and case ignored); false when it differs; null without a token.</summary>
    public bool? IdMatchesToken { get; internal init; }

    public string Account { get; internal init; } = "";

    public override string ToString() => Name;
}

/// <summary>An assign / unassign / release job at Apple Business, as kept in the store.</summary>
public sealed class AdeOrgDeviceActivity
{
    public string Id { get; internal init; } = "";

    /// <summary>Assign, Unassign or Release.</summary>
    public string Action { get; internal init; } = "";

    public string? MdmServer { get; internal init; }

    public string? MdmServerId { get; internal init; }

    public string? Token { get; internal init; }

    public int DeviceCount { get; internal init; }

    /// <summary>IN_PROGRESS, COMPLETED, FAILED or STOPPED.</summary>
    public string Status { get; internal init; } = "";

    public string? SubStatus { get; internal init; }

    /// <summary>Devices Apple's log reports changed.</summary>
    public int Succeeded { get; internal init; }

    /// <summary>Devices Apple's log reports not changed.</summary>
    public int Failed { get; internal init; }

    /// <summary>
    /// Devices of a finished activity whose outcome Apple's log does not give: all of them when Apple finished the
    /// activity without a log (sub-status COMPLETED_POST_PROCESSING_FAILED: no download URL). Each is in
    /// <see cref="Devices"/> with status UNKNOWN; they may or may not have been changed. 0 while in progress.
    /// </summary>
    public int Unknown { get; internal init; }

    public DateTimeOffset CreatedAt { get; internal init; }

    public DateTimeOffset? CompletedAt { get; internal init; }

    /// <summary>The outcome of each device from Apple's activity log (empty until the activity completed); a device the log does not give has status UNKNOWN.</summary>
    public IReadOnlyList<AdeOrgDeviceResult> Devices { get; internal init; } = ValueList<AdeOrgDeviceResult>.Empty;

    public string Account { get; internal init; } = "";

    public bool IsFinished => Status != "IN_PROGRESS";

    public override string ToString() => Id;
}

/// <summary>What an activity did to one device.</summary>
public sealed record AdeOrgDeviceResult(string SerialNumber, string Status, string? Detail)
{
    public override string ToString() => $"{SerialNumber}: {Status}{(Detail is null ? "" : " (" + Detail + ")")}";
}

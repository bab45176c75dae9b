namespace AdeEnrollment.Simulator;

/// <summary>A device of the simulated organisation as Apple Business holds it (inventory, assignment, AppleCare).</summary>
public sealed record AdeSimOrgDevice
{
    public required string SerialNumber { get; init; }

    /// <summary>The organisation that owns the device (one simulator can hold several).</summary>
    public string OrgName { get; init; } = AdeSimulator.DefaultOrgName;

    /// <summary>The organisation as given when the device was added (null: the simulator's primary organisation).</summary>
    internal string? OrgKey { get; init; }

    public required string DeviceModel { get; init; }

    /// <summary>iPhone, iPad, Mac, AppleTV, Watch or Vision (Apple Business' spelling).</summary>
    public required string ProductFamily { get; init; }

    public string? ProductType { get; init; }

    public string? DeviceCapacity { get; init; }

    public string? PartNumber { get; init; }

    public string? OrderNumber { get; init; }

    public DateTimeOffset? OrderDate { get; init; }

    /// <summary>APPLE, RESELLER or MANUALLY_ADDED.</summary>
    public string? PurchaseSourceType { get; init; }

    public string? PurchaseSourceId { get; init; }

    public string? Color { get; init; }

    public DateTimeOffset AddedToOrgDate { get; init; }

    public DateTimeOffset UpdatedDate { get; init; }

    /// <summary>ASSIGNED or UNASSIGNED (filled when the simulator hands the record out).</summary>
    public string Status { get; init; } = "UNASSIGNED";

    /// <summary>The MDM server the device is assigned to (name), or null.</summary>
    public string? AssignedServer { get; init; }

    public string? AppleCareStatus { get; init; }

    public string? AppleCareDescription { get; init; }

    public DateTimeOffset? AppleCareEndDate { get; init; }

    /// <summary>REQUESTED while a no-erase MDM migration is scheduled (an activity with a migration deadline), else null.</summary>
    public string? MdmMigrationStatus { get; init; }

    /// <summary>The deadline of that migration, or null.</summary>
    public DateTimeOffset? MdmMigrationDeadline { get; init; }

    /// <summary>Wi-Fi MAC address (generated from the serial; sent as a string or an array, see Set-AdeSimBusinessApi -MacAddressShape).</summary>
    public string? WiFiMacAddress { get; init; }

    public string? BluetoothMacAddress { get; init; }

    /// <summary>Built-in Ethernet MAC addresses (Macs and Apple TVs only).</summary>
    public IReadOnlyList<string> EthernetMacAddress { get; init; } = [];

    /// <summary>IMEI(s) of a cellular device: two on an iPhone (dual SIM), one on a cellular iPad (every other one); none elsewhere.</summary>
    public IReadOnlyList<string> Imei { get; init; } = [];

    /// <summary>MEID of an iPhone (its first IMEI without the check digit, as Apple's CDMA devices have it).</summary>
    public IReadOnlyList<string> Meid { get; init; } = [];

    /// <summary>The eSIM's EID of an iPhone or cellular iPad.</summary>
    public string? Eid { get; init; }

    /// <summary>When a release activity took the device out of the organisation (null while it is owned).</summary>
    public DateTimeOffset? ReleasedFromOrgDate { get; init; }

    /// <summary>Who released it: the API account's client ID for a release activity.</summary>
    public string? ReleaserId { get; init; }

    /// <summary>What kind of releaser (API for a release activity, or the value Set-AdeSimBusinessApi -ReleaserEntityType gives).</summary>
    public string? ReleaserEntityType { get; init; }
}

/// <summary>An Apple Business (or School) API account made by New-AdeSimBusinessAccount.</summary>
public sealed record AdeSimBusinessAccount
{
    public required string ClientId { get; init; }

    public required string KeyId { get; init; }

    public required string Scope { get; init; }

    /// <summary>The organisation the account belongs to; it sees that organisation's devices and servers only.</summary>
    public string OrgName { get; init; } = AdeSimulator.DefaultOrgName;

    /// <summary>Where the private key PEM was written (null when the caller kept it in memory).</summary>
    public string? KeyPath { get; init; }

    /// <summary>The token endpoint and the API base of the simulator (New-AdeBusinessAccount -TokenUri/-ServiceUri).</summary>
    public required Uri TokenUri { get; init; }

    public required Uri ServiceUri { get; init; }
}

using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>Add-AdeSimOrgDevice: devices bought by the organisation that are on no MDM server yet (Apple Business inventory).</summary>
[Cmdlet(VerbsCommon.Add, "AdeSimOrgDevice", SupportsShouldProcess = true)]
[OutputType(typeof(AdeSimOrgDevice))]
public sealed class AddAdeSimOrgDeviceCommand : AdeSimCmdlet
{
    /// <summary>How many generated devices (default 1 when no -SerialNumber is given).</summary>
    [Parameter(Position = 0)]
    [ValidateRange(0, 1_000_000)]
    public int? Count { get; set; }

    [Parameter(ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[]? SerialNumber { get; set; }

    /// <summary>iPhone, iPad, Mac, AppleTV, Watch or Vision, or a family allowed with Set-AdeSimBusinessApi -ExtraProductFamily.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ProductFamily { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OrderNumber { get; set; }

    [Parameter]
    public DateTimeOffset? OrderDate { get; set; }

    [Parameter]
    [ValidateSet("APPLE", "RESELLER", "MANUALLY_ADDED")]
    public string PurchaseSourceType { get; set; } = "RESELLER";

    /// <summary>AppleCare coverage status of the devices (ACTIVE or INACTIVE), or NONE: no coverage at all (Apple answers an empty list).</summary>
    [Parameter]
    [ValidateSet("ACTIVE", "INACTIVE", "NONE")]
    public string? AppleCareStatus { get; set; }

    /// <summary>The organisation that bought the devices (default: the organisation of the simulator's first server).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OrgName { get; set; }

    /// <summary>The MDM server (DEP server name) the devices are already on, as if an earlier activity had put them there.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? MdmServer { get; set; }

    protected override void ProcessItem()
    {
        var count = Count ?? (SerialNumber is null ? 1 : 0);
        if (!ShouldProcess("organisation", $"Add {count + (SerialNumber?.Length ?? 0)} device(s) to the inventory"))
        {
            return;
        }

        WriteObject(Current.AddOrgDevices(count, SerialNumber, ProductFamily, OrderNumber, OrderDate, PurchaseSourceType.ToUpperInvariant(), AppleCareStatus?.ToUpperInvariant(), OrgName, MdmServer), enumerateCollection: true);
    }
}

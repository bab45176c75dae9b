using System.Management.Automation;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Get-AdeOrgDevice: the organisation's devices from Apple Business, streamed page by page.</summary>
[Cmdlet(VerbsCommon.Get, "AdeOrgDevice")]
[OutputType(typeof(AdeOrgDevice))]
public sealed class GetAdeOrgDeviceCommand : BusinessCmdlet
{
    /// <summary>Talks to Apple: runs on a worker so that retries, waits and pages are reported as they happen.</summary>
    protected override bool ProcessItemWaitsForApple => true;

    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? SerialNumber { get; set; }

    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? OrderNumber { get; set; }

    /// <summary>Apple's product family as sent (iPhone, iPad, Mac, AppleTV, Watch, Vision, iPod or one Apple adds later); case ignored.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? ProductFamily { get; set; }

    [Parameter]
    [ValidateSet("Assigned", "Unassigned", "Released")]
    public string? Status { get; set; }

    /// <summary>Only devices on this MDM server (its name, id, or the name of its stored token).</summary>
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? MdmServer { get; set; }

    /// <summary>Only devices with one of these MAC addresses (Wi-Fi, Bluetooth or Ethernet; ':', '-', '.' and case ignored).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? MacAddress { get; set; }

    /// <summary>Reads each device's AppleCare coverage (one request per device).</summary>
    [Parameter]
    public SwitchParameter IncludeAppleCare { get; set; }

    /// <summary>The API account (client ID); may be omitted when the store holds one.</summary>

    protected override void ProcessItem()
    {
        var query = new OrgDeviceQuery(Account, SerialNumber, OrderNumber, ProductFamily, Status?.ToUpperInvariant(), MdmServer, IncludeAppleCare, MacAddress);
        // A serial Apple does not know is an error of its own (non-terminating): the other serials are still read.
        foreach (var device in Business.GetOrgDevices(query, notFound => WriteError(ToErrorRecord(notFound))))
        {
            WriteObject(device);
        }
    }
}

using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;

namespace AdeEnrollment.Commands;

/// <summary>
/// Get-AdeOrgDevice: the organisation's devices from Apple Business, streamed page by page. Piped devices (serial
/// strings, AdeOrgDevice or AdeDevice objects, CSV rows with a serial number column) are collected and read together
/// at the end, as one -SerialNumber list: the same requests as the array, not a read of the servers per piped item.
/// </summary>
[Cmdlet(VerbsCommon.Get, "AdeOrgDevice", DefaultParameterSetName = BySerial)]
[OutputType(typeof(AdeOrgDevice))]
public sealed class GetAdeOrgDeviceCommand : BusinessCmdlet
{
    private readonly List<string> piped = [];

    /// <summary>Talks to Apple at the end: runs on a worker so that retries, waits and pages are reported as they happen.</summary>
    protected override bool EndItemsWaitForApple => true;

    [Parameter(ParameterSetName = BySerial, Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    [SerialNumbersTransformation]
    public string[]? SerialNumber { get; set; }

    /// <summary>Serial strings, AdeOrgDevice or AdeDevice objects, or rows with a serial number column (Import-Csv).</summary>
    [Parameter(ParameterSetName = ByObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = "Devices, serial numbers or CSV rows with a serial number column.")]
    [SupportsWildcards]
    [ValidateNotNull]
    public PSObject[] InputObject { get; set; } = [];

    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? OrderNumber { get; set; }

    /// <summary>Apple's product family as sent (iPhone, iPad, Mac, AppleTV, Watch, Vision, iPod or one Apple adds later); case ignored.</summary>
    [Parameter]
    [ArgumentCompleter(typeof(ProductFamilyCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? ProductFamily { get; set; }

    [Parameter]
    [ValidateSet("Assigned", "Unassigned", "Released")]
    public string? Status { get; set; }

    /// <summary>Only devices on this MDM server (its name, id, or the name of its stored token).</summary>
    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(MdmServerNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string? MdmServer { get; set; }

    /// <summary>Only devices with one of these MAC addresses (Wi-Fi, Bluetooth or Ethernet; ':', '-', '.' and case ignored).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? MacAddress { get; set; }

    /// <summary>Only devices with one of these IMEIs (15 digits, or 14 without the check digit; spaces and dashes ignored).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? Imei { get; set; }

    /// <summary>Reads each device's AppleCare coverage (one request per device).</summary>
    [Parameter]
    public SwitchParameter IncludeAppleCare { get; set; }

    // MDM servers piped in (Get-AdeMdmServer | Get-AdeOrgDevice): the devices of each, by its id
    private readonly List<string> pipedServers = [];

    protected override void ProcessItem()
    {
        AddPipedSerials(InputObject.Where(item => item.BaseObject is not AdeMdmServer), piped);
        pipedServers.AddRange(InputObject.Select(item => item.BaseObject).OfType<AdeMdmServer>().Select(server => server.Id));
    }

    protected override void EndItems()
    {
        // Piped input names the devices: none piped (an empty pipeline, or only rows without a serial) reads nothing,
        // never the whole inventory.
        IReadOnlyList<string>? serials = ParameterSetName == ByObject || MyInvocation.ExpectingInput ? piped : SerialNumber;
        if (serials is { Count: > 0 } || pipedServers.Count == 0)
        {
            if (serials is { Count: 0 })
            {
                return;
            }

            Write(serials, null);
        }

        if (pipedServers.Count > 0)
        {
            // every piped server in one read (a read per server would page through the whole inventory each time,
            // against Apple's 20 GETs a minute)
            Write(null, pipedServers);
        }
    }

    private void Write(IReadOnlyList<string>? serials, IReadOnlyList<string>? serverIds)
    {
        var query = new OrgDeviceQuery(Account, serials, OrderNumber, ProductFamily, Status?.ToUpperInvariant(), MdmServer, IncludeAppleCare, MacAddress, Imei, serverIds);
        // A serial Apple does not know is an error of its own (non-terminating): the other serials are still read.
        foreach (var device in Business.GetOrgDevices(query, notFound => WriteError(ToErrorRecord(notFound))))
        {
            WriteObject(device);
        }
    }
}

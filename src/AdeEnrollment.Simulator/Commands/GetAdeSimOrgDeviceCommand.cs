using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>Get-AdeSimOrgDevice: every device the simulated organisation owns, with its status and assigned MDM server.</summary>
[Cmdlet(VerbsCommon.Get, "AdeSimOrgDevice")]
[OutputType(typeof(AdeSimOrgDevice))]
public sealed class GetAdeSimOrgDeviceCommand : AdeSimCmdlet
{
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? SerialNumber { get; set; }

    protected override void ProcessItem()
    {
        var devices = Current.GetOrgDevices();
        var patterns = SerialNumber?.Select(s => WildcardPattern.Get(s, WildcardOptions.IgnoreCase)).ToList();
        WriteObject(devices.Where(d => patterns is null || patterns.Any(p => p.IsMatch(d.SerialNumber))), enumerateCollection: true);
    }
}

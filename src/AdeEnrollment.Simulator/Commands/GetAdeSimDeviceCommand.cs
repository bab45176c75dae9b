using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>Get-AdeSimDevice: the server's devices as Apple sees them (profile UUID and status, assigned dates).</summary>
[Cmdlet(VerbsCommon.Get, "AdeSimDevice")]
[OutputType(typeof(AdeSimDevice))]
public sealed class GetAdeSimDeviceCommand : AdeSimCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [SimServerTransformation]
    [ValidateNotNullOrEmpty]
    public string Server { get; set; } = "";

    [Parameter(Position = 1, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? SerialNumber { get; set; }

    protected override void ProcessItem()
    {
        var devices = Current.GetDevices(Server);
        if (SerialNumber is null)
        {
            WriteObject(devices, enumerateCollection: true);
            return;
        }

        foreach (var serial in SerialNumber)
        {
            var pattern = WildcardPattern.Get(serial, WildcardOptions.IgnoreCase);
            var matches = devices.Where(d => pattern.IsMatch(d.SerialNumber)).ToList();
            if (matches.Count == 0 && !WildcardPattern.ContainsWildcardCharacters(serial))
            {
                WriteError(ToErrorRecord(SimErrors.DeviceNotFound(Server, serial)));
                continue;
            }

            WriteObject(matches, enumerateCollection: true);
        }
    }
}

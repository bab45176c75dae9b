using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>Remove-AdeSimDevice: ABM "unassign"/"release"; the device leaves the server with a 'deleted' event.</summary>
[Cmdlet(VerbsCommon.Remove, "AdeSimDevice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(void))]
public sealed class RemoveAdeSimDeviceCommand : AdeSimCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SimServerTransformation]
    [ValidateNotNullOrEmpty]
    public string Server { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] SerialNumber { get; set; } = [];

    protected override void ProcessItem()
    {
        var simulator = Current;
        foreach (var serial in SerialNumber)
        {
            if (!ShouldProcess(serial, $"Unassign from MDM server '{Server}'"))
            {
                continue;
            }

            try
            {
                simulator.RemoveDevice(Server, serial);
            }
            catch (AdeSimException ex) when (ex.ErrorId == nameof(SimErrors.DeviceNotFound))
            {
                WriteError(ToErrorRecord(ex));
            }
        }
    }
}

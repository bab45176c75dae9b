using System.Management.Automation;
using AdeEnrollment.Engine.Devices;

namespace AdeEnrollment.Commands;

/// <summary>Update-AdeDevice: reads Apple's current details of chosen devices between syncs; it does not use the sync allowance.</summary>
[Cmdlet(VerbsData.Update, "AdeDevice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Low, DefaultParameterSetName = BySerial)]
[OutputType(typeof(AdeDeviceActionResult))]
public sealed class UpdateAdeDeviceCommand : DeviceActionCmdlet
{
    private protected override IEnumerable<AdeDeviceActionResult> Act(IReadOnlyList<DeviceTarget> devices, string? token, DeviceActionSummary summary)
        => Engine.DeviceActions.Refresh(devices, token, summary);
}

using System.Management.Automation;
using AdeEnrollment.Engine.Devices;

namespace AdeEnrollment.Commands;

/// <summary>
/// Clear-AdeDeviceProfile: removes the enrollment-profile assignment of devices at Apple (the devices stay in ABM and in the store).
/// </summary>
[Cmdlet(VerbsCommon.Clear, "AdeDeviceProfile", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = BySerial)]
[OutputType(typeof(AdeDeviceActionResult))]
public sealed class ClearAdeDeviceProfileCommand : DeviceActionCmdlet
{
    private protected override IEnumerable<AdeDeviceActionResult> Act(IReadOnlyList<DeviceTarget> devices, string? token, DeviceActionSummary summary)
        => Engine.DeviceActions.ClearProfile(devices, token, summary);
}

using System.Management.Automation;
using AdeEnrollment.Engine.Devices;

namespace AdeEnrollment.Commands;

/// <summary>Unregister-AdeDevice: releases (disowns) devices from the organisation at Apple. Permanent.</summary>
[Cmdlet(VerbsLifecycle.Unregister, "AdeDevice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = BySerial)]
[OutputType(typeof(AdeDeviceActionResult))]
public sealed class UnregisterAdeDeviceCommand : DeviceActionCmdlet
{
    private protected override IEnumerable<AdeDeviceActionResult> Act(IReadOnlyList<DeviceTarget> devices, string? token, DeviceActionSummary summary)
        => Engine.DeviceActions.Release(devices, token, summary);
}

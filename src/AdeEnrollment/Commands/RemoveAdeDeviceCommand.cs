using System.Management.Automation;
using AdeEnrollment.Engine.Devices;

namespace AdeEnrollment.Commands;

/// <summary>
/// Remove-AdeDevice: removes devices from the engine (not from Apple Business Manager). The devices of the whole
/// pipeline are one operation: one warning names the devices that ABM still assigns (they come back at the next full sync).
/// </summary>
[Cmdlet(VerbsCommon.Remove, "AdeDevice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = BySerial)]
[OutputType(typeof(void))]
public sealed class RemoveAdeDeviceCommand : DeviceTargetCmdlet
{
    protected override bool ErrorsArePerItem => true;

    protected override void EndItems()
    {
        var removal = Engine.Devices.Remove(Targets, ex => WriteError(ToErrorRecord(ex)));
        if (removal.Declined > 0 && WhatIfRequested)
        {
            WriteWhatIfSummary(removal.WhatIfSummary);
        }
    }
}

using System.Management.Automation;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Commands;

/// <summary>Clear-AdeOrgDeviceServer: unassigns devices from their MDM server at Apple Business.</summary>
[Cmdlet(VerbsCommon.Clear, "AdeOrgDeviceServer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByToken)]
[OutputType(typeof(AdeOrgDeviceActivity))]
public sealed class ClearAdeOrgDeviceServerCommand : ServerActivityCmdlet
{
    protected override OrgDeviceAction Action => OrgDeviceAction.Unassign;
}

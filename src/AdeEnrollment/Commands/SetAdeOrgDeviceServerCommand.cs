using System.Management.Automation;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Commands;

/// <summary>Set-AdeOrgDeviceServer: assigns devices to an MDM server at Apple Business (a stored token's server, or a server by name).</summary>
[Cmdlet(VerbsCommon.Set, "AdeOrgDeviceServer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByToken)]
[OutputType(typeof(AdeOrgDeviceActivity))]
public sealed class SetAdeOrgDeviceServerCommand : ServerActivityCmdlet
{
    protected override OrgDeviceAction Action => OrgDeviceAction.Assign;
}

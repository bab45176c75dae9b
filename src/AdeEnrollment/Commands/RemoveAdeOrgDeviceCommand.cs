using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;

namespace AdeEnrollment.Commands;

/// <summary>Remove-AdeOrgDevice: releases devices from the organisation at Apple Business (irreversible).</summary>
[Cmdlet(VerbsCommon.Remove, "AdeOrgDevice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(AdeOrgDeviceActivity))]
public sealed class RemoveAdeOrgDeviceCommand : OrgDeviceActivityCmdlet
{
    protected override OrgDeviceAction Action => OrgDeviceAction.Release;
}

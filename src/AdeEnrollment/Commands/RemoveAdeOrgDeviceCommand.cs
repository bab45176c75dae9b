using System.Management.Automation;
using AdeEnrollment.Transforms;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Remove-AdeOrgDevice: releases devices from the organisation at Apple Business (irreversible).</summary>
[Cmdlet(VerbsCommon.Remove, "AdeOrgDevice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = BySerial)]
[OutputType(typeof(AdeOrgDeviceActivity))]
public sealed class RemoveAdeOrgDeviceCommand : OrgDeviceActivityCmdlet
{
    [Parameter(ParameterSetName = BySerial, Mandatory = true, Position = 0, HelpMessage = SerialHelp)]
    [ValidateNotNullOrEmpty]
    [SerialNumbersTransformation]
    public string[] SerialNumber { get; set; } = [];

    /// <summary>Devices (Get-AdeOrgDevice, Get-AdeDevice), serial strings, or rows with a serial number column (Import-Csv).</summary>
    [Parameter(ParameterSetName = ByObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = InputHelp)]
    [ValidateNotNull]
    public PSObject[] InputObject { get; set; } = [];

    private protected override string[] GivenSerials => SerialNumber;

    private protected override PSObject[] GivenInput => InputObject;

    protected override OrgDeviceAction Action => OrgDeviceAction.Release;
}

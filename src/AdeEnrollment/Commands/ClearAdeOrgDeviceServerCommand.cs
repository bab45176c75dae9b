using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Commands.SetAdeOrgDeviceServerCommand;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Clear-AdeOrgDeviceServer: unassigns devices from their MDM server at Apple Business.</summary>
[Cmdlet(VerbsCommon.Clear, "AdeOrgDeviceServer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByToken)]
[OutputType(typeof(AdeOrgDeviceActivity))]
public sealed class ClearAdeOrgDeviceServerCommand : OrgDeviceActivityCmdlet
{
    [Parameter(ParameterSetName = ByToken, Mandatory = true, Position = 0, HelpMessage = SerialHelp)]
    [Parameter(ParameterSetName = ByServer, Mandatory = true, Position = 0, HelpMessage = SerialHelp)]
    [ValidateNotNullOrEmpty]
    public string[] SerialNumber { get; set; } = [];

    /// <summary>Devices (Get-AdeOrgDevice, Get-AdeDevice), serial strings, or rows with a serial number column (Import-Csv).</summary>
    [Parameter(ParameterSetName = ByTokenObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = InputHelp)]
    [Parameter(ParameterSetName = ByServerObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = InputHelp)]
    [ValidateNotNull]
    public PSObject[] InputObject { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = ByToken, HelpMessage = "The stored ADE token whose MDM server the devices are on: a token object, its name or its Id.")]
    [Parameter(Mandatory = true, ParameterSetName = ByTokenObject, HelpMessage = "The stored ADE token whose MDM server the devices are on: a token object, its name or its Id.")]
    [SupportsWildcards]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Token { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ByServer, HelpMessage = "The MDM server at Apple Business by name (or id).")]
    [Parameter(Mandatory = true, ParameterSetName = ByServerObject, HelpMessage = "The MDM server at Apple Business by name (or id).")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string MdmServer { get; set; } = "";

    private protected override string[] GivenSerials => SerialNumber;

    private protected override PSObject[] GivenInput => InputObject;

    protected override OrgDeviceAction Action => OrgDeviceAction.Unassign;

    protected override string? TokenName => ParameterSetName is ByToken or ByTokenObject ? Ref(Token) : null;

    protected override string? ServerName => ParameterSetName is ByServer or ByServerObject ? MdmServer : null;
}

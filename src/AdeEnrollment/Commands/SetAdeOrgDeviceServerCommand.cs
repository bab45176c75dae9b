using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Set-AdeOrgDeviceServer: assigns devices to an MDM server at Apple Business (a stored token's server, or a server by name).</summary>
[Cmdlet(VerbsCommon.Set, "AdeOrgDeviceServer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByToken)]
[OutputType(typeof(AdeOrgDeviceActivity))]
public sealed class SetAdeOrgDeviceServerCommand : OrgDeviceActivityCmdlet
{
    // the server by token or by name, times the devices by -SerialNumber or piped (-InputObject)
    internal const string ByToken = "ByToken";
    internal const string ByServer = "ByServer";
    internal const string ByTokenObject = "ByTokenObject";
    internal const string ByServerObject = "ByServerObject";

    [Parameter(ParameterSetName = ByToken, Mandatory = true, Position = 0, HelpMessage = SerialHelp)]
    [Parameter(ParameterSetName = ByServer, Mandatory = true, Position = 0, HelpMessage = SerialHelp)]
    [ValidateNotNullOrEmpty]
    public string[] SerialNumber { get; set; } = [];

    /// <summary>Devices (Get-AdeOrgDevice, Get-AdeDevice), serial strings, or rows with a serial number column (Import-Csv).</summary>
    [Parameter(ParameterSetName = ByTokenObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = InputHelp)]
    [Parameter(ParameterSetName = ByServerObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = InputHelp)]
    [ValidateNotNull]
    public PSObject[] InputObject { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = ByToken, HelpMessage = "The stored ADE token whose MDM server receives the devices: a token object, its name or its Id.")]
    [Parameter(Mandatory = true, ParameterSetName = ByTokenObject, HelpMessage = "The stored ADE token whose MDM server receives the devices: a token object, its name or its Id.")]
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

    protected override OrgDeviceAction Action => OrgDeviceAction.Assign;

    protected override string? TokenName => ParameterSetName is ByToken or ByTokenObject ? Ref(Token) : null;

    protected override string? ServerName => ParameterSetName is ByServer or ByServerObject ? MdmServer : null;
}

using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>
/// Set-AdeOrgDeviceServer and Clear-AdeOrgDeviceServer: the devices (-SerialNumber, or piped to -InputObject) and their
/// MDM server (a stored token's server, or a server by name), in the four parameter sets those make.
/// </summary>
public abstract class ServerActivityCmdlet : OrgDeviceActivityCmdlet
{
    // the server by token or by name, times the devices by -SerialNumber or piped (-InputObject)
    internal const string ByToken = "ByToken";
    internal const string ByServer = "ByServer";
    internal const string ByTokenObject = "ByTokenObject";
    internal const string ByServerObject = "ByServerObject";
    private const string TokenHelp = "The stored ADE token whose MDM server it is: a token object, its name or its Id.";
    private const string ServerHelp = "The MDM server at Apple Business by name (or id).";

    [Parameter(ParameterSetName = ByToken, Mandatory = true, Position = 0, HelpMessage = SerialHelp)]
    [Parameter(ParameterSetName = ByServer, Mandatory = true, Position = 0, HelpMessage = SerialHelp)]
    [ValidateNotNullOrEmpty]
    [SerialNumbersTransformation]
    public string[] SerialNumber { get; set; } = [];

    /// <summary>Devices (Get-AdeOrgDevice, Get-AdeDevice), serial strings, or rows with a serial number column (Import-Csv).</summary>
    [Parameter(ParameterSetName = ByTokenObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = InputHelp)]
    [Parameter(ParameterSetName = ByServerObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = InputHelp)]
    [ValidateNotNull]
    public PSObject[] InputObject { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = ByToken, HelpMessage = TokenHelp)]
    [Parameter(Mandatory = true, ParameterSetName = ByTokenObject, HelpMessage = TokenHelp)]
    [SupportsWildcards]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Token { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ByServer, HelpMessage = ServerHelp)]
    [Parameter(Mandatory = true, ParameterSetName = ByServerObject, HelpMessage = ServerHelp)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(MdmServerNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string MdmServer { get; set; } = "";

    private protected override string[] GivenSerials => SerialNumber;

    private protected override PSObject[] GivenInput => InputObject;

    protected override string? TokenName => ParameterSetName is ByToken or ByTokenObject ? Ref(Token) : null;

    protected override string? ServerName => ParameterSetName is ByServer or ByServerObject ? MdmServer : null;
}

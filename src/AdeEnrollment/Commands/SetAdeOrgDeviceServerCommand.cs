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
    internal const string ByToken = "ByToken";
    internal const string ByServer = "ByServer";

    [Parameter(Mandatory = true, ParameterSetName = ByToken, HelpMessage = "The stored ADE token whose MDM server receives the devices: a token object, its name or its Id.")]
    [SupportsWildcards]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Token { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ByServer, HelpMessage = "The MDM server at Apple Business by name (or id).")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string MdmServer { get; set; } = "";

    protected override OrgDeviceAction Action => OrgDeviceAction.Assign;

    protected override string? TokenName => ParameterSetName == ByToken ? Ref(Token) : null;

    protected override string? ServerName => ParameterSetName == ByServer ? MdmServer : null;
}

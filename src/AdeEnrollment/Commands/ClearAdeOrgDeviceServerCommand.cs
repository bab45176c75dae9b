using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Clear-AdeOrgDeviceServer: unassigns devices from their MDM server at Apple Business.</summary>
[Cmdlet(VerbsCommon.Clear, "AdeOrgDeviceServer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = SetAdeOrgDeviceServerCommand.ByToken)]
[OutputType(typeof(AdeOrgDeviceActivity))]
public sealed class ClearAdeOrgDeviceServerCommand : OrgDeviceActivityCmdlet
{
    [Parameter(Mandatory = true, ParameterSetName = SetAdeOrgDeviceServerCommand.ByToken, HelpMessage = "The stored ADE token whose MDM server the devices are on: a token object, its name or its Id.")]
    [SupportsWildcards]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Token { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = SetAdeOrgDeviceServerCommand.ByServer, HelpMessage = "The MDM server at Apple Business by name (or id).")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string MdmServer { get; set; } = "";

    protected override OrgDeviceAction Action => OrgDeviceAction.Unassign;

    protected override string? TokenName => ParameterSetName == SetAdeOrgDeviceServerCommand.ByToken ? Ref(Token) : null;

    protected override string? ServerName => ParameterSetName == SetAdeOrgDeviceServerCommand.ByServer ? MdmServer : null;
}

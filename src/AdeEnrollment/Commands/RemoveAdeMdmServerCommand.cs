using AdeEnrollment.Completers;
using System.Management.Automation;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Remove-AdeMdmServer: deletes an MDM server at Apple Business that has no devices and no stored token.</summary>
[Cmdlet(VerbsCommon.Remove, "AdeMdmServer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveAdeMdmServerCommand : BusinessCmdlet
{
    protected override bool ProcessItemWaitsForApple => true;

    protected override bool ErrorsArePerItem => true;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "The MDM server at Apple Business by name (or id), or servers piped from Get-AdeMdmServer.")]
    [Alias("Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(MdmServerNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string MdmServer { get; set; } = "";

    protected override void ProcessItem()
    {
        Business.RemoveMdmServer(MdmServer, Account);
    }
}

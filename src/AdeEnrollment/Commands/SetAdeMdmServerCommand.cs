using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Set-AdeMdmServer: renames an MDM server at Apple Business, makes it the default server of product families, or lets it release devices.</summary>
[Cmdlet(VerbsCommon.Set, "AdeMdmServer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(AdeMdmServer))]
public sealed class SetAdeMdmServerCommand : BusinessCmdlet
{
    protected override bool ProcessItemWaitsForApple => true;

    protected override bool ErrorsArePerItem => true;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, HelpMessage = "The MDM server at Apple Business by name (or id), or servers piped from Get-AdeMdmServer.")]
    [Alias("Name")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(MdmServerNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string MdmServer { get; set; } = "";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NewName { get; set; }

    /// <summary>The product families whose new devices Apple assigns to this server; an empty list clears them.</summary>
    [Parameter]
    [AllowEmptyCollection]
    [ArgumentCompleter(typeof(ProductFamilyCompleter))]
    public string[]? DefaultProductFamily { get; set; }

    [Parameter]
    public bool? AllowRelease { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessItem()
    {
        var server = Business.SetMdmServer(MdmServer, new MdmServerChanges(NewName, DefaultProductFamily, AllowRelease), Account);
        if (server is not null && PassThru)
        {
            WriteObject(server);
        }
    }
}

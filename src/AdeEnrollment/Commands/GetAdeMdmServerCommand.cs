using System.Management.Automation;
using AdeEnrollment.Engine;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Get-AdeMdmServer: the organisation's MDM servers, each linked to the stored token of the same server.</summary>
[Cmdlet(VerbsCommon.Get, "AdeMdmServer")]
[OutputType(typeof(AdeMdmServer))]
public sealed class GetAdeMdmServerCommand : BusinessCmdlet
{
    /// <summary>Talks to Apple: runs on a worker so that retries, waits and pages are reported as they happen.</summary>
    protected override bool ProcessItemWaitsForApple => true;

    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    protected override void ProcessItem()
    {
        var servers = Business.GetMdmServers(Account, Name);
        if (servers.Count == 0 && Name is not null && !Wildcard.IsPattern(Name))
        {
            // not found is not fatal, as with Get-AdeToken and Get-AdeProfile: -ErrorAction decides
            WriteError(ToErrorRecord(AdeEnrollment.Engine.Errors.ErrorCatalog.BusinessServerNotFound(Name)));
            return;
        }

        WriteObject(servers, enumerateCollection: true);
    }
}

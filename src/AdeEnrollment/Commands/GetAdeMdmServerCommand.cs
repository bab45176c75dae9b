using System.Management.Automation;
using AdeEnrollment.Completers;
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

    /// <summary>Names or ids, wildcards allowed; several, or piped, as Get-AdeToken -Name takes them.</summary>
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(MdmServerNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    protected override void ProcessItem()
    {
        // a name that names no server is not fatal, as with Get-AdeToken and Get-AdeProfile: -ErrorAction decides
        var servers = Name is null
            ? Business.GetMdmServers(Account)
            : Business.GetMdmServers(Account, Name, e => WriteError(ToErrorRecord(e)));
        WriteObject(servers, enumerateCollection: true);
    }
}

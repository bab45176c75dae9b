using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>Get-AdeSimRequest: the simulator's request log (method, path, status, device count, time), oldest first.</summary>
[Cmdlet(VerbsCommon.Get, "AdeSimRequest")]
[OutputType(typeof(AdeSimRequest))]
public sealed class GetAdeSimRequestCommand : AdeSimCmdlet
{
    /// <summary>Only requests to this path (wildcards allowed).</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    protected override void ProcessItem() => WriteObject(Current.GetRequests(Path), enumerateCollection: true);
}

using System.Management.Automation;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Get-AdeTokenRequest: the token requests in the store (pending ones wait for Apple's .p7m).</summary>
[Cmdlet(VerbsCommon.Get, "AdeTokenRequest")]
[OutputType(typeof(AdeTokenRequest))]
public sealed class GetAdeTokenRequestCommand : AdeCmdlet
{
    [Parameter(Position = 0)]
    public Guid? Id { get; set; }

    [Parameter]
    public SwitchParameter Pending { get; set; }

    protected override void ProcessItem() => WriteObject(Engine.Tokens.GetRequests(Id, Pending), enumerateCollection: true);
}

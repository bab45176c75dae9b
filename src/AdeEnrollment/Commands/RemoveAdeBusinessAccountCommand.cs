using AdeEnrollment.Completers;
using System.Management.Automation;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Remove-AdeBusinessAccount: deletes an API account, its key and its activity history from the store.</summary>
[Cmdlet(VerbsCommon.Remove, "AdeBusinessAccount", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
public sealed class RemoveAdeBusinessAccountCommand : AdeCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "The client ID of the API account to remove.")]
    [SupportsWildcards]
    [Alias("Account")]
    [ArgumentCompleter(typeof(BusinessAccountCompleter))]
    [ValidateNotNullOrEmpty]
    public string[] ClientId { get; set; } = [];

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        foreach (var id in ClientId)
        {
            RunItem(() =>
            {
                foreach (var match in Engine.Business.Accounts.Match(id))
                {
                    Engine.Business.Accounts.Remove(match);
                }
            });
        }
    }
}

using AdeEnrollment.Engine;
using AdeEnrollment.Completers;
using System.Management.Automation;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Get-AdeBusinessAccount: the API accounts of the store (never their keys).</summary>
[Cmdlet(VerbsCommon.Get, "AdeBusinessAccount")]
[OutputType(typeof(AdeBusinessAccount))]
public sealed class GetAdeBusinessAccountCommand : AdeCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [Alias("Account")]
    [ArgumentCompleter(typeof(BusinessAccountCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? ClientId { get; set; }

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        if (ClientId is null)
        {
            WriteObject(Engine.Business.Accounts.Get(), enumerateCollection: true);
            return;
        }

        foreach (var id in ClientId)
        {
            var found = Engine.Business.Accounts.Get(id);
            if (found.Count == 0 && !Wildcard.IsPattern(id))
            {
                WriteError(ToErrorRecord(ErrorCatalog.BusinessAccountNotFound(id)));
            }

            WriteObject(found, enumerateCollection: true);
        }
    }
}

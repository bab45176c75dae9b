using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Get-AdeToken: lists tokens with their expiry status and counts.</summary>
[Cmdlet(VerbsCommon.Get, "AdeToken", DefaultParameterSetName = ByName)]
[OutputType(typeof(AdeToken))]
public sealed class GetAdeTokenCommand : AdeCmdlet
{
    private const string ByName = "ByName";
    private const string ById = "ById";

    [Parameter(ParameterSetName = ByName, Position = 0, ValueFromPipeline = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = ById, Mandatory = true, ValueFromPipelineByPropertyName = true, HelpMessage = "The Id (a GUID) of the token to get.")]
    [Alias("TokenId")]
    public Guid[] Id { get; set; } = [];

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        if (ParameterSetName == ById)
        {
            foreach (var id in Id)
            {
                var token = Engine.Tokens.GetTokens(id: id).SingleOrDefault();
                if (token is null)
                {
                    WriteError(ToErrorRecord(ErrorCatalog.TokenNotFound(id.ToString())));
                    continue;
                }

                WriteObject(token);
            }

            return;
        }

        if (Name is null)
        {
            WriteObject(Engine.Tokens.GetTokens(), enumerateCollection: true);
            return;
        }

        foreach (var name in Name)
        {
            var tokens = Engine.Tokens.GetTokens(name: name);
            if (tokens.Count == 0 && !Wildcard.HasWildcard(name))
            {
                WriteError(ToErrorRecord(ErrorCatalog.TokenNotFound(name)));
            }

            WriteObject(tokens, enumerateCollection: true);
        }
    }
}

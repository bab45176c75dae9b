using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>
/// Get-AdeToken: lists tokens with their expiry status and counts. A piped object that belongs to a token — a token, a
/// profile, a device, a sync result, a row with a TokenId or Token column — gives that token.
/// </summary>
[Cmdlet(VerbsCommon.Get, "AdeToken", DefaultParameterSetName = ByName)]
[OutputType(typeof(AdeToken))]
public sealed class GetAdeTokenCommand : AdeCmdlet
{
    private const string ByName = "ByName";
    private const string ById = "ById";
    private const string ByInputObject = "ByInputObject";

    [Parameter(ParameterSetName = ByName, Position = 0, ValueFromPipeline = true)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    [Parameter(ParameterSetName = ById, Mandatory = true, HelpMessage = "The Id (a GUID) of the token to get.")]
    [Alias("TokenId")]
    public Guid[] Id { get; set; } = [];

    /// <summary>
    /// A piped object read for the token it names (<see cref="ReferenceTransformationAttribute.Of"/>): a profile's or
    /// device's own Id is never taken for a token's.
    /// </summary>
    [Parameter(ParameterSetName = ByInputObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = "Tokens, or objects with a TokenId or Token property (profiles, devices, sync results, CSV rows), whose token to get.")]
    [ReferenceTransformation(Of = "Token")]
    [ValidateNotNullOrEmpty]
    public object? InputObject { get; set; }

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        if (ParameterSetName == ById)
        {
            foreach (var id in Id)
            {
                WriteById(id);
            }

            return;
        }

        if (ParameterSetName == ByInputObject)
        {
            var reference = Ref(InputObject)!;
            if (Guid.TryParse(reference, out var id))
            {
                WriteById(id);
            }
            else
            {
                WriteByName(reference);
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
            WriteByName(name);
        }
    }

    private void WriteById(Guid id)
    {
        var token = Engine.Tokens.GetTokens(id: id).SingleOrDefault();
        if (token is null)
        {
            WriteError(ToErrorRecord(ErrorCatalog.TokenNotFound(id.ToString())));
            return;
        }

        WriteObject(token);
    }

    private void WriteByName(string name)
    {
        var tokens = Engine.Tokens.GetTokens(name: name);
        if (tokens.Count == 0 && Guid.TryParse(name, out var id))
        {
            WriteById(id); // an Id given by position, as -Token takes it everywhere else
            return;
        }

        if (tokens.Count == 0 && !Wildcard.IsPattern(name))
        {
            WriteError(ToErrorRecord(ErrorCatalog.TokenNotFound(name)));
        }

        WriteObject(tokens, enumerateCollection: true);
    }
}

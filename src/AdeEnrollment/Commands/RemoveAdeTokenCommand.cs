using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Remove-AdeToken: removes a token that has no devices, no default profile and no profiles.</summary>
[Cmdlet(VerbsCommon.Remove, "AdeToken", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveAdeTokenCommand : AdeCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, HelpMessage = "The token to remove: a token object, its name or its Id (a piped profile or device stands for its token).")]
    [SupportsWildcards]
    [ReferenceTransformation(Of = "Token")]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Token { get; set; } = "";

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem() => Engine.Tokens.RemoveToken(Ref(Token));
}

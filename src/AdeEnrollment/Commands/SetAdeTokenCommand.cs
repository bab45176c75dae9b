using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Tokens;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Set-AdeToken: edits a token's name, scope tags and enrollment URL.</summary>
[Cmdlet(VerbsCommon.Set, "AdeToken", SupportsShouldProcess = true)]
[OutputType(typeof(AdeToken))]
public sealed class SetAdeTokenCommand : AdeCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, HelpMessage = "The token to change: a token object, its name or its Id.")]
    [SupportsWildcards]
    [ReferenceTransformation(Of = "Token")]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Token { get; set; } = "";

    /// <summary>The new name (-NewName, as Set-AdeProfile and Set-AdeMdmServer call it, works too).</summary>
    [Parameter]
    [Alias("NewName")]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? ScopeTag { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? EnrollmentUrl { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        var token = Engine.Tokens.SetToken(new SetTokenArgs(Ref(Token), Name, ScopeTag, EnrollmentUrl));
        if (PassThru && token is not null)
        {
            WriteObject(token);
        }
    }
}

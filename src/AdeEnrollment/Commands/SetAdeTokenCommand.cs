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
    /// <remarks>-Name selects the token, as it does for Get-AdeToken and Set-AdeMdmServer: the new name is -NewName.</remarks>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, HelpMessage = "The token to change: a token object, its name or its Id.")]
    [Alias("Name")]
    [SupportsWildcards]
    [ReferenceTransformation(Of = "Token")]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Token { get; set; } = "";

    /// <summary>The new name, as Set-AdeProfile and Set-AdeMdmServer call it.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NewName { get; set; }

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
        var token = Engine.Tokens.SetToken(new SetTokenArgs(Ref(Token), NewName, ScopeTag, EnrollmentUrl));
        if (PassThru && token is not null)
        {
            WriteObject(token);
        }
    }
}

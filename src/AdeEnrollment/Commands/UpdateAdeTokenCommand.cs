using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Update-AdeToken: renews a token with the new .p7m Apple issued for the same key.</summary>
[Cmdlet(VerbsData.Update, "AdeToken", SupportsShouldProcess = true)]
[OutputType(typeof(AdeToken))]
public sealed class UpdateAdeTokenCommand : AdeCmdlet
{
    /// <summary>Talks to Apple (the new file is verified before it is stored): runs on a worker so that retries and waits are reported as they happen.</summary>
    protected override bool ProcessItemWaitsForApple => true;

    [Parameter(Mandatory = true, ValueFromPipeline = true, HelpMessage = "The token to renew: a token object, its name or its Id.")]
    [SupportsWildcards]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Token { get; set; } = "";

    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The new server token file (.p7m) downloaded from Apple Business Manager for this token's MDM server.")]
    [Alias("FilePath")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? AppleId { get; set; }

    protected override void ProcessItem()
    {
        var token = Engine.Tokens.UpdateToken(Ref(Token), ResolvePath(Path), AppleId);
        if (token is not null)
        {
            WriteObject(token);
        }
    }
}

using System.Management.Automation;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Tokens;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>New-AdeToken: steps 3–4, reads Apple's .p7m with the request's key and stores the token.</summary>
[Cmdlet(VerbsCommon.New, "AdeToken", SupportsShouldProcess = true)]
[OutputType(typeof(AdeToken))]
public sealed class NewAdeTokenCommand : AdeCmdlet
{
    /// <summary>Talks to Apple: runs on a worker so that retries and waits are reported as they happen.</summary>
    protected override bool ProcessItemWaitsForApple => true;

    [Parameter(Mandatory = true, ValueFromPipeline = true, HelpMessage = "The token request (from New-AdeTokenRequest) whose certificate was uploaded to Apple Business Manager: the request object or its Id.")]
    [ReferenceTransformation]
    [ValidateNotNullOrEmpty]
    public object Request { get; set; } = "";

    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The server token file (.p7m) downloaded from Apple Business Manager.")]
    [Alias("FilePath")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    [Parameter(Mandatory = true, HelpMessage = "The Apple ID (email address) of the Apple Business Manager account that created the token.")]
    [ValidateNotNullOrEmpty]
    public string AppleId { get; set; } = "";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? EnrollmentUrl { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string[]? ScopeTag { get; set; }

    [Parameter]
    [ValidateNotNull]
    public Uri? ServiceUri { get; set; }

    /// <summary>Lets -ServiceUri name a host that is neither Apple's nor loopback (with a warning).</summary>
    [Parameter]
    public SwitchParameter AllowNonAppleServiceUri { get; set; }

    protected override void ProcessItem()
    {
        var token = Engine.Tokens.NewToken(new NewTokenArgs(Ref(Request), ResolvePath(Path), AppleId, Name, EnrollmentUrl, ScopeTag, ServiceUri, AllowNonAppleServiceUri));
        if (token is not null)
        {
            WriteObject(token);
        }
    }
}

using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;

namespace AdeEnrollment.Commands;

/// <summary>Remove-AdeProfile: removes a profile that is not a default and has no devices.</summary>
[Cmdlet(VerbsCommon.Remove, "AdeProfile", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High)]
[OutputType(typeof(void))]
public sealed class RemoveAdeProfileCommand : AdeCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(ProfileNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Profile { get; set; } = "";

    [Parameter]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Token { get; set; }

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem() => Engine.Profiles.Remove(Profile, Token);
}

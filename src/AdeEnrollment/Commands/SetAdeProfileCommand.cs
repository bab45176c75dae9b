using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Set-AdeProfile: changes settings of a profile; devices that already received it keep the old ones until reset.</summary>
[Cmdlet(VerbsCommon.Set, "AdeProfile", SupportsShouldProcess = true)]
[OutputType(typeof(AdeProfile))]
public sealed class SetAdeProfileCommand : ProfileSettingsCmdlet
{
    /// <summary>Talks to Apple: runs on a worker so that retries and waits are reported as they happen.</summary>
    protected override bool ProcessItemWaitsForApple => true;

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, HelpMessage = "The enrollment profile to change: a profile object, its name or its Id.")]
    [SupportsWildcards]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(ProfileNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Profile { get; set; } = "";

    [Parameter]
    [SupportsWildcards]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Token { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? NewName { get; set; }

    [Parameter]
    public UserAffinity UserAffinity { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    /// <summary>Changes a profile that devices hold without asking, even when they are re-sent it or settings are cleared.</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    protected override UserAffinity? GivenUserAffinity => MyInvocation.BoundParameters.ContainsKey(nameof(UserAffinity)) ? UserAffinity : null;

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        var profile = Engine.ProfileChanges.Set(Ref(Profile), Ref(Token), NewName, GivenSettings());
        if (PassThru && profile is not null)
        {
            WriteObject(profile);
        }
    }
}

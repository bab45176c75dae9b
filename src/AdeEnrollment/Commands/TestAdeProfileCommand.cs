using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;

using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Test-AdeProfile: compares profiles with Apple's copy; -Repair defines a drifted profile again.</summary>
[Cmdlet(VerbsDiagnostic.Test, "AdeProfile", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(AdeProfileDrift))]
public sealed class TestAdeProfileCommand : AdeCmdlet
{
    /// <summary>Profiles: AdeProfile objects, names (wildcards allowed) or Ids.</summary>
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, HelpMessage = "The enrollment profile to compare with Apple's copy: a profile object, its name or its Id.")]
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

    /// <summary>Defines a drifted (or lost) profile at Apple again and re-assigns the devices that hold it.</summary>
    [Parameter]
    public SwitchParameter Repair { get; set; }

    protected override bool ErrorsArePerItem => true;

    protected override bool ProcessItemWaitsForApple => true;

    protected override void ProcessItem()
    {
        var profile = Engine.Profiles.Resolve(Ref(Profile)!, Ref(Token));
        WriteObject(Engine.ProfileDrift.Test(profile, Repair));
    }
}

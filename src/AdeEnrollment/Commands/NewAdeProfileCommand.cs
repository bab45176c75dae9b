using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>New-AdeProfile: creates an enrollment profile under a token, every profile rule checked.</summary>
[Cmdlet(VerbsCommon.New, "AdeProfile", SupportsShouldProcess = true)]
[OutputType(typeof(AdeProfile))]
public sealed class NewAdeProfileCommand : ProfileSettingsCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true, HelpMessage = "The token the profile belongs to: a token object, its name or its Id.")]
    [SupportsWildcards]
    [ReferenceTransformation(Of = "Token")]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Token { get; set; } = "";

    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The profile name (up to 125 characters, unique per token).")]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>Required for iOS profiles; other platforms default to WithoutUserAffinity.</summary>
    [Parameter(HelpMessage = "WithUserAffinity (devices of one user) or WithoutUserAffinity (kiosk, shared devices).")]
    public UserAffinity UserAffinity { get; set; }

    /// <summary>The platform the profile is for (iOS when not given); it cannot change later.</summary>
    [Parameter]
    public DevicePlatform Platform { get; set; } = DevicePlatform.iOS;

    protected override UserAffinity? GivenUserAffinity => MyInvocation.BoundParameters.ContainsKey(nameof(UserAffinity)) ? UserAffinity : null;

    protected override DevicePlatform? GivenPlatform => Platform;

    /// <summary>Each piped token gets its own profile: a name taken or a limit reached on one is that token's error, and the others still get theirs.</summary>
    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        var profile = Engine.Profiles.New(Ref(Token), Name, GivenSettings());
        if (profile is not null)
        {
            WriteObject(profile);
        }
    }
}

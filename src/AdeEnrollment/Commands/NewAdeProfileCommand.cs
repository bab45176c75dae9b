using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Transforms;

namespace AdeEnrollment.Commands;

/// <summary>New-AdeProfile: creates an enrollment profile under a token, every SPEC §4 rule checked.</summary>
[Cmdlet(VerbsCommon.New, "AdeProfile", SupportsShouldProcess = true)]
[OutputType(typeof(AdeProfile))]
public sealed class NewAdeProfileCommand : ProfileSettingsCmdlet
{
    [Parameter(Mandatory = true, ValueFromPipeline = true)]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Token { get; set; } = "";

    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>Required for iOS profiles; other platforms default to WithoutUserAffinity.</summary>
    [Parameter]
    public UserAffinity UserAffinity { get; set; }

    /// <summary>The platform the profile is for (iOS when not given); it cannot change later.</summary>
    [Parameter]
    public DevicePlatform Platform { get; set; } = DevicePlatform.iOS;

    protected override UserAffinity? GivenUserAffinity => MyInvocation.BoundParameters.ContainsKey(nameof(UserAffinity)) ? UserAffinity : null;

    protected override DevicePlatform? GivenPlatform => Platform;

    protected override void ProcessItem()
    {
        var profile = Engine.Profiles.New(Token, Name, GivenSettings());
        if (profile is not null)
        {
            WriteObject(profile);
        }
    }
}

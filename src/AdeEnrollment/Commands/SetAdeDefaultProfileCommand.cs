using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Set-AdeDefaultProfile: the profile every device that arrives on the token without one gets (or -Clear).</summary>
[Cmdlet(VerbsCommon.Set, "AdeDefaultProfile", SupportsShouldProcess = true, DefaultParameterSetName = SetSet)]
[OutputType(typeof(AdeToken))]
public sealed class SetAdeDefaultProfileCommand : AdeCmdlet
{
    private const string SetSet = "Set";
    private const string ClearSet = "Clear";

    /// <summary>
    /// Named when setting (the profile is the positional value, as in Set-AdeDeviceProfile: <c>Get-AdeToken X |
    /// Set-AdeDefaultProfile Kiosk</c>); positional with -Clear, where there is no profile.
    /// </summary>
    [Parameter(ParameterSetName = SetSet, Mandatory = true, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "The token whose default profile to set: a token object, its name or its Id.")]
    [Parameter(ParameterSetName = ClearSet, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "The token whose default profile to clear: a token object, its name or its Id.")]
    [SupportsWildcards]
    [Alias("TokenId")]
    [ReferenceTransformation(Of = "Token", KeepProfile = true)]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Token { get; set; } = "";

    /// <summary>
    /// Not mandatory: a piped profile is the profile made its token's default (<c>Get-AdeProfile Kiosk -Token X |
    /// Set-AdeDefaultProfile</c>); without one, -Profile is required (ProfileRequired).
    /// </summary>
    [Parameter(ParameterSetName = SetSet, Position = 0, HelpMessage = "The profile to make the token's default: a profile object, its name or its Id.")]
    [SupportsWildcards]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(ProfileNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Profile { get; set; }

    [Parameter(ParameterSetName = ClearSet, Mandatory = true, HelpMessage = "Clears the token's default profile.")]
    public SwitchParameter Clear { get; set; }

    /// <summary>With -Clear: the platform whose default is cleared (every platform's when not given).</summary>
    [Parameter(ParameterSetName = ClearSet)]
    public DevicePlatform Platform { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        var platform = MyInvocation.BoundParameters.ContainsKey(nameof(Platform)) ? Platform : (DevicePlatform?)null;
        // a piped profile with -Clear ends that profile's default role only (Get-AdeProfile -Default | … -Clear)
        var token = Token is AdeProfile piped && Clear && platform is null
            ? Engine.Profiles.ClearDefaultOf(piped.Id.ToString())
            : Engine.Profiles.SetDefault(Token is AdeProfile profile ? profile.TokenId.ToString() : Ref(Token), Clear ? null : ProfileToSet(), platform);
        if (PassThru && token is not null)
        {
            WriteObject(token);
        }
    }

    /// <summary>-Profile, else the piped profile itself.</summary>
    private string ProfileToSet() => Profile is not null ? Ref(Profile)
        : Token is AdeProfile piped ? piped.Id.ToString()
        : throw ErrorCatalog.ArgumentInvalid("Profile", null, "give the profile to make the default (-Profile <name>), or pipe the profile: Get-AdeProfile <name> -Token <token> | Set-AdeDefaultProfile.");
}

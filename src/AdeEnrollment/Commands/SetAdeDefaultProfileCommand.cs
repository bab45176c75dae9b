using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;

namespace AdeEnrollment.Commands;

/// <summary>Set-AdeDefaultProfile: the profile every device that arrives on the token without one gets (or -Clear).</summary>
[Cmdlet(VerbsCommon.Set, "AdeDefaultProfile", SupportsShouldProcess = true, DefaultParameterSetName = SetSet)]
[OutputType(typeof(AdeToken))]
public sealed class SetAdeDefaultProfileCommand : AdeCmdlet
{
    private const string SetSet = "Set";
    private const string ClearSet = "Clear";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("TokenId")]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Token { get; set; } = "";

    [Parameter(ParameterSetName = SetSet, Mandatory = true, Position = 1)]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(ProfileNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Profile { get; set; } = "";

    [Parameter(ParameterSetName = ClearSet, Mandatory = true)]
    public SwitchParameter Clear { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        var token = Engine.Profiles.SetDefault(Token, Clear ? null : Profile);
        if (PassThru && token is not null)
        {
            WriteObject(token);
        }
    }
}

using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>
/// Set-AdeDeviceProfile: assigns a profile to devices at Apple. Serials are gathered from the whole pipeline
/// (strings, CSV rows with a SerialNumber column, AdeDevice objects) and sent in requests of at most 1000.
/// </summary>
[Cmdlet(VerbsCommon.Set, "AdeDeviceProfile", SupportsShouldProcess = true, DefaultParameterSetName = BySerial)]
[OutputType(typeof(AdeAssignmentResult))]
public sealed class SetAdeDeviceProfileCommand : AdeCmdlet
{
    private const string BySerial = "BySerial";
    private const string ByObject = "ByObject";
    private readonly List<string> serials = [];

    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The enrollment profile to assign: a profile object, its name or its Id.")]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(ProfileNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Profile { get; set; } = "";

    [Parameter]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Token { get; set; }

    [Parameter(ParameterSetName = BySerial, Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "The serial numbers of the devices to assign the profile to.")]
    [Alias("Serial")]
    [ValidateNotNull]
    [AllowEmptyString]
    public string[] SerialNumber { get; set; } = [];

    [Parameter(ParameterSetName = ByObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = "The devices to assign the profile to (AdeDevice objects from Get-AdeDevice).")]
    [ValidateNotNull]
    public AdeDevice[] InputObject { get; set; } = [];

    protected override void ProcessItem()
    {
        if (ParameterSetName == ByObject)
        {
            serials.AddRange(InputObject.Select(d => d.SerialNumber));
        }
        else
        {
            serials.AddRange(SerialNumber);
        }
    }

    protected override void EndItems()
    {
        foreach (var result in Engine.Assignments.Assign(Ref(Profile), Ref(Token), serials))
        {
            WriteObject(result);
        }
    }
}

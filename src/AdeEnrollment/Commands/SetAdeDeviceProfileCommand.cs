using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;

namespace AdeEnrollment.Commands;

/// <summary>
/// Set-AdeDeviceProfile: assigns a profile to devices at Apple. Serials are gathered from the whole pipeline
/// (strings, CSV rows with a SerialNumber column, AdeDevice objects) and sent in requests of at most 1000.
/// </summary>
[Cmdlet(VerbsCommon.Set, "AdeDeviceProfile", SupportsShouldProcess = true, DefaultParameterSetName = BySerial)]
[OutputType(typeof(AdeAssignmentResult))]
public sealed class SetAdeDeviceProfileCommand : AdeCmdlet
{
    /// <summary>Talks to Apple: runs on a worker so that retries and waits are reported as they happen.</summary>
    protected override bool EndItemsWaitForApple => true;

    private const string BySerial = "BySerial";
    private const string ByObject = "ByObject";
    private readonly List<string> serials = [];

    [Parameter(Mandatory = true, Position = 0)]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(ProfileNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string Profile { get; set; } = "";

    [Parameter]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Token { get; set; }

    [Parameter(ParameterSetName = BySerial, Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Serial")]
    [ValidateNotNull]
    [AllowEmptyString]
    public string[] SerialNumber { get; set; } = [];

    [Parameter(ParameterSetName = ByObject, Mandatory = true, ValueFromPipeline = true)]
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
        foreach (var result in Engine.Assignments.Assign(Profile, Token, serials))
        {
            WriteObject(result);
        }
    }
}

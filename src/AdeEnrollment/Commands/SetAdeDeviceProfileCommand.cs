using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>
/// Set-AdeDeviceProfile: assigns a profile to devices at Apple. Devices are gathered from the whole pipeline
/// (AdeDevice objects, serial strings, CSV rows with a serial number column) and sent in requests of at most 1000.
/// A piped device brings its token, so a profile name is looked up within that token.
/// </summary>
[Cmdlet(VerbsCommon.Set, "AdeDeviceProfile", SupportsShouldProcess = true, DefaultParameterSetName = BySerial)]
[OutputType(typeof(AdeAssignmentResult))]
public sealed class SetAdeDeviceProfileCommand : AdeCmdlet
{
    /// <summary>Talks to Apple: runs on a worker so that retries and waits are reported as they happen.</summary>
    protected override bool EndItemsWaitForApple => true;

    private const string BySerial = "BySerial";
    private const string ByObject = "ByObject";
    private readonly List<DeviceTarget> targets = [];

    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The enrollment profile to assign: a profile object, its name or its Id.")]
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

    [Parameter(ParameterSetName = BySerial, Mandatory = true, Position = 1, HelpMessage = "The serial numbers of the devices to assign the profile to.")]
    [Alias("Serial")]
    [ValidateNotNull]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(SerialNumberCompleter))]
    [SerialNumbersTransformation]
    public string[] SerialNumber { get; set; } = [];

    /// <summary>Devices (Get-AdeDevice), serial strings, or rows with a serial number column (Import-Csv).</summary>
    [Parameter(ParameterSetName = ByObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = "The devices to assign the profile to: AdeDevice objects, serial numbers or rows with a serial number column.")]
    [ValidateNotNull]
    public PSObject[] InputObject { get; set; } = [];

    /// <summary>Also assign to devices whose platform Apple did not report (never to a device of another platform).</summary>
    [Parameter]
    public SwitchParameter Force { get; set; }

    // A row without a serial is an error of its own; the other rows are still assigned.
    protected override void ProcessItem()
    {
        if (ParameterSetName == ByObject)
        {
            foreach (var item in InputObject)
            {
                RunItem(() => targets.Add(PipelineDevice.Read(item, name => Engine.Tokens.ResolveToken(name).Id)));
            }
        }
        else
        {
            targets.AddRange(SerialNumber.Select(serial => new DeviceTarget(serial)));
        }
    }

    protected override void EndItems()
    {
        var summary = new AssignmentService.AssignmentSummary();
        // -WhatIf sends nothing and writes nothing but its What-if lines: the devices it would not send (unknown, of
        // another platform, held back) are counted in its summary line instead of written as results and warnings
        var whatIf = WhatIfRequested;
        // A batch's results cross to the pipeline thread together: one hand-over per batch, not per device.
        foreach (var batch in Engine.Assignments.AssignInBatches(Ref(Profile), Ref(Token), targets, summary, Force.IsPresent, ex => WriteError(ToErrorRecord(ex))))
        {
            if (!whatIf)
            {
                WriteObjects(batch);
            }
        }

        if (whatIf)
        {
            if (summary.Declined > 0 || summary.Unknown > 0 || summary.PlatformMismatch.Count > 0 || summary.HeldBack > 0 || summary.NotIPad > 0)
            {
                WriteWhatIfSummary(summary.WhatIfSummary);
            }

            return;
        }

        if (summary.PlatformMismatchWarning is { } warning)
        {
            WriteWarning(warning);
        }

        if (summary.NotAssignedWarning is { } notAssigned)
        {
            WriteWarning(notAssigned);
        }
    }
}

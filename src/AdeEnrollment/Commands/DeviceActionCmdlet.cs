using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;

using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>
/// The device actions at Apple (Clear-AdeDeviceProfile, Update-AdeDevice, Unregister-AdeDevice): devices are gathered
/// from the whole pipeline (AdeDevice objects, serial strings, CSV rows with a serial number column) and sent at the
/// end in requests of at most 1000; a piped device brings its token.
/// </summary>
public abstract class DeviceActionCmdlet : AdeCmdlet
{
    internal const string BySerial = "BySerial";
    private const string ByObject = "ByObject";
    private readonly List<DeviceTarget> targets = [];

    [Parameter(ParameterSetName = BySerial, Mandatory = true, Position = 0, HelpMessage = "The serial numbers of the devices.")]
    [Alias("Serial")]
    [ValidateNotNull]
    [AllowEmptyString]
    public string[] SerialNumber { get; set; } = [];

    /// <summary>Devices (Get-AdeDevice), serial strings, or rows with a serial number column (Import-Csv).</summary>
    [Parameter(ParameterSetName = ByObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = "Devices, serial numbers or CSV rows with a serial number column.")]
    [ValidateNotNull]
    public PSObject[] InputObject { get; set; } = [];

    [Parameter]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Token { get; set; }

    protected override bool EndItemsWaitForApple => true;

    /// <summary>The engine's action for the gathered devices.</summary>
    private protected abstract IEnumerable<AdeDeviceActionResult> Act(IReadOnlyList<DeviceTarget> devices, string? token, DeviceActionSummary summary);

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
        var summary = new DeviceActionSummary();
        foreach (var result in Act(targets, Ref(Token), summary))
        {
            WriteObject(result);
        }

        if (summary.Declined > 0 && WhatIfRequested)
        {
            WriteWhatIfSummary(summary.WhatIfSummary);
        }
    }
}

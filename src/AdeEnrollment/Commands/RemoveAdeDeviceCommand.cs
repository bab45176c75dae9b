using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>
/// Remove-AdeDevice: removes devices from the engine (not from Apple Business Manager). The devices of the whole
/// pipeline are one operation: one warning names the devices that ABM still assigns (they come back at the next full sync).
/// </summary>
[Cmdlet(VerbsCommon.Remove, "AdeDevice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = BySerial)]
[OutputType(typeof(void))]
public sealed class RemoveAdeDeviceCommand : AdeCmdlet
{
    private const string BySerial = "BySerial";
    private const string ByObject = "ByObject";
    private readonly List<DeviceTarget> targets = [];

    [Parameter(ParameterSetName = BySerial, Mandatory = true, Position = 0, HelpMessage = "The serial numbers of the devices to remove from the store.")]
    [Alias("Serial")]
    [ValidateNotNullOrEmpty]
    public string[] SerialNumber { get; set; } = [];

    /// <summary>Devices (Get-AdeDevice), serial strings, or rows with a serial number column (Import-Csv).</summary>
    [Parameter(ParameterSetName = ByObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = "The devices to remove: AdeDevice objects, serial numbers or rows with a serial number column.")]
    [ValidateNotNull]
    public PSObject[] InputObject { get; set; } = [];

    [Parameter]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Token { get; set; }

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        Guid? tokenId = Token is null ? null : Engine.Tokens.ResolveToken(Ref(Token)).Id;
        if (ParameterSetName == ByObject)
        {
            foreach (var item in InputObject)
            {
                RunItem(() =>
                {
                    var target = PipelineDevice.Read(item, name => Engine.Tokens.ResolveToken(name).Id);
                    targets.Add(target.TokenId is null && tokenId is not null ? target with { TokenId = tokenId } : target);
                });
            }

            return;
        }

        targets.AddRange(SerialNumber.Select(serial => new DeviceTarget(serial, tokenId)));
    }

    protected override void EndItems()
    {
        var removal = Engine.Devices.Remove(targets, ex => WriteError(ToErrorRecord(ex)));
        if (removal.Declined > 0 && WhatIfRequested)
        {
            WriteWhatIfSummary(removal.WhatIfSummary);
        }
    }
}

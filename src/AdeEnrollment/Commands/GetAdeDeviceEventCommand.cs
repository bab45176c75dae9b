using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;

using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Commands;

/// <summary>Get-AdeDeviceEvent: the change journal, oldest first and streamed (docs/Get-AdeDeviceEvent.md).</summary>
[Cmdlet(VerbsCommon.Get, "AdeDeviceEvent", DefaultParameterSetName = BySerial)]
[OutputType(typeof(AdeDeviceEvent))]
public sealed class GetAdeDeviceEventCommand : AdeCmdlet
{
    private const string BySerial = "BySerial";
    private const string ByInputObject = "ByInputObject";

    [Parameter]
    [SupportsWildcards]
    [Alias("TokenId")]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Token { get; set; }

    [Parameter(ParameterSetName = BySerial, Position = 0)]
    [Alias("Serial")]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(SerialNumberCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? SerialNumber { get; set; }

    /// <summary>Piped tokens (their events), devices, serial numbers or rows with a serial number column (those devices' events).</summary>
    [Parameter(ParameterSetName = ByInputObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = "Tokens, devices, serial numbers or rows with a serial number column whose events to list.")]
    [SupportsWildcards]
    [ValidateNotNull]
    public PSObject[]? InputObject { get; set; }

    /// <summary>Events at or after this time.</summary>
    [Parameter]
    public DateTimeOffset? Since { get; set; }

    /// <summary>Events whose Id is greater than this one (the last Id a script processed).</summary>
    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long? AfterId { get; set; }

    [Parameter]
    public AdeDeviceEventKind[]? Kind { get; set; }

    protected override bool ErrorsArePerItem => true;

    private Guid? tokenOfParameter;

    /// <summary>-Token is resolved once, before the first piped item: a bad one is one terminating error.</summary>
    protected override void BeginItems() => tokenOfParameter = Token is null ? null : Engine.Tokens.ResolveToken(Ref(Token)!).Id;

    protected override void ProcessItem()
    {
        if (InputObject is null)
        {
            foreach (var serial in SerialNumber ?? new string?[] { null })
            {
                RunItem(() => Write(tokenOfParameter, serial));
            }

            return;
        }

        foreach (var item in InputObject)
        {
            RunItem(() => WriteFor(item));
        }
    }

    private void WriteFor(PSObject item)
    {
        if (item.BaseObject is AdeToken token)
        {
            Write(token.Id, null);
            return;
        }

        var device = PipelineDevice.Read(item, name => Engine.Tokens.ResolveToken(name).Id);
        if (!string.IsNullOrWhiteSpace(device.SerialNumber))
        {
            Write(tokenOfParameter ?? device.TokenId, device.SerialNumber); // -Token narrows, as in Get-AdeDevice
        }
    }

    private void Write(Guid? tokenId, string? serialNumber)
    {
        foreach (var e in Engine.Devices.GetEvents(new DeviceEventQuery(tokenId, serialNumber, Since, Kind, AfterId)))
        {
            WriteObject(e);
        }
    }
}

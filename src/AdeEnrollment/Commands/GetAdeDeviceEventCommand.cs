using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;

using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Commands;

/// <summary>Get-AdeDeviceEvent: the change journal, oldest first and streamed (docs/Get-AdeDeviceEvent.md).</summary>
[Cmdlet(VerbsCommon.Get, "AdeDeviceEvent")]
[OutputType(typeof(AdeDeviceEvent))]
public sealed class GetAdeDeviceEventCommand : AdeCmdlet
{
    [Parameter]
    [SupportsWildcards]
    [Alias("TokenId")]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Token { get; set; }

    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [Alias("Serial")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? SerialNumber { get; set; }

    /// <summary>Events at or after this time.</summary>
    [Parameter]
    public DateTimeOffset? Since { get; set; }

    /// <summary>Events whose Id is greater than this one (the last Id a script processed).</summary>
    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long? AfterId { get; set; }

    [Parameter]
    public AdeDeviceEventKind[]? Kind { get; set; }

    protected override void ProcessItem()
    {
        Guid? tokenId = Token is null ? null : Engine.Tokens.ResolveToken(Ref(Token)!).Id;
        foreach (var e in Engine.Devices.GetEvents(new DeviceEventQuery(tokenId, SerialNumber, Since, Kind, AfterId)))
        {
            WriteObject(e);
        }
    }
}

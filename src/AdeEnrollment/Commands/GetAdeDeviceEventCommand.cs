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
    [InvariantDate]
    public DateTimeOffset? Since { get; set; }

    /// <summary>Events whose Id is greater than this one (the last Id a script processed).</summary>
    [Parameter]
    [ValidateRange(0, long.MaxValue)]
    public long? AfterId { get; set; }

    [Parameter]
    public AdeDeviceEventKind[]? Kind { get; set; }

    protected override bool ErrorsArePerItem => true;

    private IReadOnlyList<Guid>? tokensOfParameter;

    private readonly HashSet<long> written = [];

    /// <summary>-Token is resolved once, before the first piped item: a bad one is one terminating error.</summary>
    protected override void BeginItems() => tokensOfParameter = Token is null ? null : [.. Engine.Tokens.ResolveTokens(Ref(Token)!).Select(t => t.Id)];

    protected override void ProcessItem()
    {
        if (InputObject is null)
        {
            foreach (var serial in SerialNumber ?? new string?[] { null })
            {
                RunItem(() => Write(null, serial));
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
        if (DeserializedInput.Live(item, Engine) is AdeToken token)
        {
            Write(token.Id, null);
            return;
        }

        var device = PipelineDevice.Read(item, name => Engine.Tokens.ResolveToken(name).Id);
        if (!string.IsNullOrWhiteSpace(device.SerialNumber))
        {
            Write(device.TokenId, device.SerialNumber);
        }
    }

    /// <summary>
    /// The events of <paramref name="serialNumber"/> (all without one) under <paramref name="tokenId"/>, narrowed by
    /// -Token: under each token it names when no token is given, and nothing for a token it does not name.
    /// </summary>
    private void Write(Guid? tokenId, string? serialNumber)
    {
        var scope = tokenId;
        if (tokensOfParameter is not null)
        {
            if (tokensOfParameter.Count == 0 || (tokenId is { } own && !tokensOfParameter.Contains(own)))
            {
                return;
            }

            scope ??= tokensOfParameter is [var only] ? only : null;
        }

        // several tokens: one query over the journal, oldest first as always, keeping their events
        var several = scope is null && tokensOfParameter is { Count: not 1 } ? tokensOfParameter.ToHashSet() : null;
        foreach (var e in Engine.Devices.GetEvents(new DeviceEventQuery(scope, serialNumber, Since, Kind, AfterId)))
        {
            if ((several is null || several.Contains(e.TokenId)) && written.Add(e.Id))
            {
                WriteObject(e); // an event two serial patterns match is written once
            }
        }
    }
}

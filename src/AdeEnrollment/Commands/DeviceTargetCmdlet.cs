using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;

using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>
/// The cmdlets that act on devices named anywhere in the pipeline (Remove-AdeDevice and the device actions at Apple):
/// one parameter block — serial numbers, or piped AdeDevice objects, serial strings and CSV rows with a serial number
/// column — gathered into <see cref="Targets"/> and acted on at the end. A piped device brings its token; -Token, when
/// given, wins: a device of another token is not acted on (it is not among -Token's devices).
/// </summary>
public abstract class DeviceTargetCmdlet : AdeCmdlet
{
    internal const string BySerial = "BySerial";
    internal const string ByObject = "ByObject";
    private readonly List<DeviceTarget> targets = [];
    private Guid? tokenId;

    [Parameter(ParameterSetName = BySerial, Mandatory = true, Position = 0, HelpMessage = "The serial numbers of the devices.")]
    [Alias("Serial")]
    [ValidateNotNull]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(SerialNumberCompleter))]
    [SerialNumbersTransformation]
    public string[] SerialNumber { get; set; } = [];

    /// <summary>Devices (Get-AdeDevice), serial strings, or rows with a serial number column (Import-Csv).</summary>
    [Parameter(ParameterSetName = ByObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = "Devices, serial numbers or CSV rows with a serial number column.")]
    [ValidateNotNull]
    public PSObject[] InputObject { get; set; } = [];

    [Parameter]
    [SupportsWildcards]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Token { get; set; }

    /// <summary>The devices gathered from the whole pipeline, in the order they came.</summary>
    private protected IReadOnlyList<DeviceTarget> Targets => targets;

    /// <summary>-Token is resolved once, before the first piped device: a bad one is one terminating error.</summary>
    protected override void BeginItems() => tokenId = Token is null ? null : Engine.Tokens.ResolveToken(Ref(Token)).Id;

    protected override void ProcessItem()
    {
        if (ParameterSetName == ByObject)
        {
            foreach (var item in InputObject)
            {
                RunItem(() =>
                {
                    var target = PipelineDevice.Read(item, name => tokenId ?? Engine.Tokens.ResolveToken(name).Id);
                    // -Token narrows: a piped device of another token is looked up in -Token's devices (and not found there)
                    targets.Add(tokenId is not null ? target with { TokenId = tokenId } : target);
                });
            }
        }
        else
        {
            targets.AddRange(SerialNumber.Select(serial => new DeviceTarget(serial, tokenId)));
        }
    }
}

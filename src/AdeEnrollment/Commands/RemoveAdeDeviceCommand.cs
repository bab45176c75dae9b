using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Remove-AdeDevice: removes devices from the engine (not from Apple Business Manager).</summary>
[Cmdlet(VerbsCommon.Remove, "AdeDevice", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.High, DefaultParameterSetName = BySerial)]
[OutputType(typeof(void))]
public sealed class RemoveAdeDeviceCommand : AdeCmdlet
{
    private const string BySerial = "BySerial";
    private const string ByObject = "ByObject";

    [Parameter(ParameterSetName = BySerial, Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "The serial numbers of the devices to remove from the store.")]
    [ValidateNotNullOrEmpty]
    public string[] SerialNumber { get; set; } = [];

    [Parameter(ParameterSetName = ByObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = "The devices to remove (AdeDevice objects from Get-AdeDevice).")]
    [ValidateNotNull]
    public AdeDevice[] InputObject { get; set; } = [];

    [Parameter(ParameterSetName = BySerial)]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Token { get; set; }

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        if (ParameterSetName == ByObject)
        {
            foreach (var device in InputObject)
            {
                RunItem(() => Engine.Devices.Remove(device.SerialNumber, device.TokenId));
            }

            return;
        }

        Guid? tokenId = Token is null ? null : Engine.Tokens.ResolveToken(Ref(Token)).Id;
        foreach (var serial in SerialNumber)
        {
            RunItem(() => Engine.Devices.Remove(serial, tokenId));
        }
    }
}

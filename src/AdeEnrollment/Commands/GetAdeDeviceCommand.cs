using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Get-AdeDevice: the devices the engine knows from syncs, streamed.</summary>
[Cmdlet(VerbsCommon.Get, "AdeDevice", DefaultParameterSetName = BySerial)]
[OutputType(typeof(AdeDevice))]
public sealed class GetAdeDeviceCommand : AdeCmdlet
{
    private const string BySerial = "BySerial";
    private const string ByTokenObject = "ByTokenObject";

    /// <summary>Tokens piped in (Get-AdeToken | Get-AdeDevice): their devices.</summary>
    [Parameter(ParameterSetName = ByTokenObject, Mandatory = true, ValueFromPipeline = true, HelpMessage = "The tokens whose devices to list (AdeToken objects from Get-AdeToken).")]
    [ValidateNotNull]
    public AdeToken[] InputObject { get; set; } = [];

    [Parameter(ParameterSetName = BySerial, ValueFromPipelineByPropertyName = true)]
    [Alias("TokenId")]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Token { get; set; }

    [Parameter(ParameterSetName = BySerial, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [Alias("Serial", "SerialNumbers")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[]? SerialNumber { get; set; }

    [Parameter]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(ProfileNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Profile { get; set; }

    [Parameter]
    public SwitchParameter Unassigned { get; set; }

    [Parameter]
    public SwitchParameter RemovedFromAbm { get; set; }

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        if (ParameterSetName == ByTokenObject)
        {
            foreach (var token in InputObject)
            {
                Guid? byToken = Profile is null ? null : Engine.Profiles.Resolve(Ref(Profile), token.Id.ToString()).Id;
                Write(new DeviceQuery(token.Id, null, byToken, Unassigned, RemovedFromAbm));
            }

            return;
        }

        Guid? tokenId = Token is null ? null : Engine.Tokens.ResolveToken(Ref(Token)).Id;
        Guid? profileId = Profile is null ? null : Engine.Profiles.Resolve(Ref(Profile), Ref(Token)).Id;
        if (SerialNumber is null)
        {
            Write(new DeviceQuery(tokenId, null, profileId, Unassigned, RemovedFromAbm));
            return;
        }

        foreach (var serial in SerialNumber)
        {
            var found = Write(new DeviceQuery(tokenId, serial, profileId, Unassigned, RemovedFromAbm));
            if (found == 0 && !Wildcard.HasWildcard(serial))
            {
                WriteError(ToErrorRecord(ErrorCatalog.DeviceNotFound(serial)));
            }
        }
    }

    private int Write(DeviceQuery query)
    {
        var n = 0;
        foreach (var device in Engine.Devices.Get(query))
        {
            WriteObject(device);
            n++;
        }

        return n;
    }
}

using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Sync-AdeDevice: synchronises the devices Apple assigns to a token, under Intune's sync rules.</summary>
[Cmdlet(VerbsData.Sync, "AdeDevice", SupportsShouldProcess = true, DefaultParameterSetName = Manual)]
[OutputType(typeof(AdeSyncResult))]
public sealed class SyncAdeDeviceCommand : AdeCmdlet
{
    /// <summary>Talks to Apple: runs on a worker so that retries and waits are reported as they happen.</summary>
    protected override bool ProcessItemWaitsForApple => true;

    private const string Manual = "Manual";
    private const string Scheduled = "IfDue";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, HelpMessage = "The token whose devices to sync: a token object, its name or its Id.")]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Token { get; set; } = "";

    [Parameter(ParameterSetName = Manual)]
    public SwitchParameter Full { get; set; }

    [Parameter(ParameterSetName = Scheduled, Mandatory = true, HelpMessage = "Syncs only when the automatic sync is due (12 hours after the last successful sync); for schedulers.")]
    public SwitchParameter IfDue { get; set; }

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        var result = Engine.Sync.Sync(Ref(Token), Full, IfDue);
        if (result is not null)
        {
            WriteObject(result);
        }
    }
}

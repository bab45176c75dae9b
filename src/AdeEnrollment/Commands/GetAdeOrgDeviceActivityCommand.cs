using AdeEnrollment.Completers;
using System.Management.Automation;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Get-AdeOrgDeviceActivity: the device activities sent from this store, optionally refreshed from Apple or waited for.</summary>
[Cmdlet(VerbsCommon.Get, "AdeOrgDeviceActivity")]
[OutputType(typeof(AdeOrgDeviceActivity))]
public sealed class GetAdeOrgDeviceActivityCommand : BusinessCmdlet
{
    /// <summary>Talks to Apple: runs on a worker so that retries, waits and pages are reported as they happen.</summary>
    protected override bool ProcessItemWaitsForApple => true;

    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ArgumentCompleter(typeof(ActivityIdCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Id { get; set; }

    /// <summary>Reads the state of unfinished activities from Apple once.</summary>
    [Parameter]
    public SwitchParameter Refresh { get; set; }

    /// <summary>Polls unfinished activities until they end (with progress) and reads each device's outcome.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        if (Id is null)
        {
            WriteObject(Business.GetActivities(null, Account, Refresh, Wait), enumerateCollection: true);
            return;
        }

        foreach (var id in Id)
        {
            RunItem(() => WriteObject(Business.GetActivities(id, Account, Refresh, Wait), enumerateCollection: true));
        }
    }
}

using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;

namespace AdeEnrollment.Commands;

/// <summary>The three Apple Business device activities: serials are collected from the pipeline and sent in batches at the end.</summary>
public abstract class OrgDeviceActivityCmdlet : BusinessCmdlet
{
    /// <summary>The batches go to Apple at the end: that part runs on a worker so that progress and waits are reported as they happen.</summary>
    protected override bool EndItemsWaitForApple => true;

    private readonly List<string> serials = [];

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "Serial numbers of the devices, or devices from Get-AdeOrgDevice.")]
    [ValidateNotNullOrEmpty]
    public string[] SerialNumber { get; set; } = [];

    /// <summary>Polls each activity until it ends (with progress) and returns each device's outcome.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    protected abstract OrgDeviceAction Action { get; }

    protected virtual string? TokenName => null;

    protected virtual string? ServerName => null;

    protected override void ProcessItem() => serials.AddRange(SerialNumber);

    protected override void EndItems()
    {
        AdeToken? token = TokenName is { } t ? Engine.Tokens.ResolveToken(t) : null;
        WriteObject(Business.Send(Action, serials, Account, token, ServerName, Wait), enumerateCollection: true);
    }
}

using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;

namespace AdeEnrollment.Commands;

/// <summary>
/// The three Apple Business device activities: serials (-SerialNumber, or piped serial strings, AdeOrgDevice and
/// AdeDevice objects and CSV rows with a serial number column, read by <see cref="PipelineDevice"/>) are collected from
/// the whole pipeline and sent in batches at the end. Each cmdlet declares -SerialNumber and -InputObject in its own
/// parameter sets (Set and Clear name the server two ways); the reading is here.
/// </summary>
public abstract class OrgDeviceActivityCmdlet : BusinessCmdlet
{
    internal const string SerialHelp = "Serial numbers of the devices.";
    internal const string InputHelp = "Devices (Get-AdeOrgDevice, Get-AdeDevice), serial numbers or CSV rows with a serial number column.";

    /// <summary>The batches go to Apple at the end: that part runs on a worker so that progress and waits are reported as they happen.</summary>
    protected override bool EndItemsWaitForApple => true;

    private readonly List<string> serials = [];

    // the server each piped AdeOrgDevice was on when it was read (null: unassigned), keyed by serial
    private readonly Dictionary<string, string?> asRead = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Polls each activity until it ends (with progress) and returns each device's outcome.</summary>
    [Parameter]
    public SwitchParameter Wait { get; set; }

    /// <summary>The cmdlet's -SerialNumber (empty when the devices are piped).</summary>
    private protected abstract string[] GivenSerials { get; }

    /// <summary>The cmdlet's -InputObject: the current pipeline item (empty when -SerialNumber names the devices).</summary>
    private protected abstract PSObject[] GivenInput { get; }

    protected abstract OrgDeviceAction Action { get; }

    protected virtual string? TokenName => null;

    protected virtual string? ServerName => null;

    protected override void ProcessItem()
    {
        serials.AddRange(GivenSerials);
        AddPipedSerials(GivenInput, serials);
        foreach (var item in GivenInput)
        {
            if (item.BaseObject is AdeOrgDevice device && device.ReleasedFromOrgDate is null)
            {
                asRead[device.SerialNumber.Trim().ToUpperInvariant()] = device.MdmServerId;
            }
        }
    }

    protected override void EndItems()
    {
        AdeToken? token = TokenName is { } t ? Engine.Tokens.ResolveToken(t) : null;
        string? whatIf = null;
        WriteObject(Business.Send(Action, serials, Account, token, ServerName, Wait, asRead, declined: summary => whatIf = summary), enumerateCollection: true);
        if (whatIf is not null && WhatIfRequested)
        {
            WriteWhatIfSummary(whatIf);
        }
    }
}

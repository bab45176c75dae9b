using System.Management.Automation;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Set-AdeStore: settings that belong to the store (shared by every script that uses it).</summary>
[Cmdlet(VerbsCommon.Set, "AdeStore", SupportsShouldProcess = true)]
[OutputType(typeof(AdeStoreInfo))]
public sealed class SetAdeStoreCommand : AdeCmdlet
{
    /// <summary>Days the change journal keeps device events; every sync deletes older ones.</summary>
    [Parameter(Mandatory = true, HelpMessage = "Days the change journal keeps device events (1 to 3650).")]
    public int JournalRetentionDays { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessItem()
    {
        var info = Engine.StoreInfo.GetInfo();
        if (!ShouldProcess(info.Path, $"Keep device events for {JournalRetentionDays} days (now: {info.JournalRetentionDays})"))
        {
            return;
        }

        var after = Engine.StoreInfo.SetJournalRetention(JournalRetentionDays);
        if (PassThru)
        {
            WriteObject(after);
        }
    }
}

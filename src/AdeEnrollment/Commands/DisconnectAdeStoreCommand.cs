using System.Management.Automation;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Disconnect-AdeStore: forgets the store chosen with Connect-AdeStore; the session uses the default store again.</summary>
[Cmdlet(VerbsCommunications.Disconnect, "AdeStore")]
[OutputType(typeof(void))]
public sealed class DisconnectAdeStoreCommand : AdeCmdlet
{
    protected override void ProcessItem()
    {
        var was = AdeSession.Disconnect();
        var next = AdeSession.DefaultLocation();
        WriteVerbose(was is null
            ? $"No store was chosen with Connect-AdeStore; the session uses '{next}'."
            : $"Disconnected from '{was}'. The session uses '{next}' from now on ($env:{StoreLocator.PathVariable}, or the per-user default store).");
    }
}

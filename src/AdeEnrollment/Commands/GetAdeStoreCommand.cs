using System.Management.Automation;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Get-AdeStore: the store in use, its schema version and what it holds. Never creates a store.</summary>
[Cmdlet(VerbsCommon.Get, "AdeStore")]
[OutputType(typeof(AdeStoreInfo))]
public sealed class GetAdeStoreCommand : AdeCmdlet
{
    protected override void ProcessItem()
    {
        var store = AdeSession.CurrentIfExists(out var path, out var deleted);
        if (deleted)
        {
            WriteWarning(ErrorCatalog.StoreDeleted(path).Message);
            WriteObject(StoreService.Missing(path));
            return;
        }

        if (store is null)
        {
            WriteVerbose($"No store exists at '{path}' yet. The first AdeEnrollment cmdlet that works with it creates it; Connect-AdeStore -Path chooses another store.");
            WriteObject(StoreService.Missing(path));
            return;
        }

        WriteObject(new StoreService(store).GetInfo());
    }
}

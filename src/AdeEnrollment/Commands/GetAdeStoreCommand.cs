using System.Management.Automation;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Get-AdeStore: the store in use, its schema version and what it holds.</summary>
[Cmdlet(VerbsCommon.Get, "AdeStore")]
[OutputType(typeof(AdeStoreInfo))]
public sealed class GetAdeStoreCommand : AdeCmdlet
{
    protected override void ProcessItem() => WriteObject(Engine.StoreInfo.GetInfo());
}

using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Get-AdeSyncStatus: per token, the last sync, a running sync's lease, when the next syncs are allowed, history.</summary>
[Cmdlet(VerbsCommon.Get, "AdeSyncStatus")]
[OutputType(typeof(AdeSyncState))]
public sealed class GetAdeSyncStatusCommand : AdeCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [SupportsWildcards]
    [ReferenceTransformation(Of = "Token")]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Token { get; set; }

    protected override bool ErrorsArePerItem => true;

    /// <summary>The tokens shown so far: devices of one token piped in give its status once, as Sync-AdeDevice syncs it once.</summary>
    private readonly HashSet<Guid> shown = [];

    protected override void ProcessItem()
    {
        var list = Token is null ? Engine.Tokens.GetTokens() : Engine.Tokens.ResolveTokens(Ref(Token));
        foreach (var token in list.Where(t => shown.Add(t.Id)))
        {
            WriteObject(Engine.Sync.GetStatus(token));
        }
    }
}

using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Sync;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Sync-AdeDevice: synchronises the devices Apple assigns to a token, under Intune's sync rules.</summary>
[Cmdlet(VerbsData.Sync, "AdeDevice", SupportsShouldProcess = true, DefaultParameterSetName = Manual)]
[OutputType(typeof(AdeSyncResult))]
public sealed class SyncAdeDeviceCommand : AdeCmdlet
{
    /// <summary>
    /// Talks to Apple: runs on a worker so that retries and waits are reported as they happen. Under -IfDue a piped
    /// token is only collected (inline) until a batch is full.
    /// </summary>
    protected override bool ProcessItemWaitsForApple => !IfDue || pending.Count + 1 >= SyncService.IfDueBatchSize;

    protected override bool EndItemsWaitForApple => pending.Count > 0;

    /// <summary>-IfDue: piped tokens not yet decided. A scheduler's pass decides a batch of them with one read of the store.</summary>
    private readonly List<string> pending = [];

    private const string Manual = "Manual";
    private const string Scheduled = "IfDue";

    /// <summary>Mandatory for a manual sync; with -IfDue and no token (given or piped), every token of the store is checked.</summary>
    [Parameter(ParameterSetName = Manual, Mandatory = true, Position = 0, ValueFromPipeline = true, HelpMessage = "The token whose devices to sync: a token object, its name or its Id.")]
    [Parameter(ParameterSetName = Scheduled, Position = 0, ValueFromPipeline = true)]
    [SupportsWildcards]
    [ReferenceTransformation(Of = "Token")]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Token { get; set; } = "";

    [Parameter(ParameterSetName = Manual)]
    public SwitchParameter Full { get; set; }

    [Parameter(ParameterSetName = Scheduled, Mandatory = true, HelpMessage = "Syncs only when the automatic sync is due (12 hours after the last successful sync); for schedulers.")]
    public SwitchParameter IfDue { get; set; }

    [Parameter(ParameterSetName = Scheduled, HelpMessage = "How many due tokens sync at once (1 to 32; default 4). Results are still written in the order the tokens came.")]
    [ValidateRange(1, SyncService.MaxIfDueConcurrency)]
    public int ThrottleLimit { get; set; } = SyncService.DefaultIfDueConcurrency;

    protected override bool ErrorsArePerItem => true;

    // the token references of this pipeline: a token named again ('A', 'A' | Sync-AdeDevice) is synced once (under
    // -IfDue its second turn is decided like any, and is NotDue)
    private readonly HashSet<string> seen = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The token a reference names, by Id (a name and the Id of one token are the same token); the text when it names none.</summary>
    private string SameToken(string reference)
    {
        try
        {
            return Engine.Tokens.SyncTokenId(reference).ToString();
        }
        catch (AdeException)
        {
            return reference; // the sync itself reports it
        }
    }

    protected override void ProcessItem()
    {
        if (!IfDue && MyInvocation.BoundParameters.ContainsKey(nameof(Token)) && !seen.Add(SameToken(Ref(Token)!)))
        {
            WriteVerbose($"Token '{Ref(Token)}' was given again in this pipeline; it is synced once.");
            return;
        }

        if (IfDue)
        {
            if (!MyInvocation.BoundParameters.ContainsKey(nameof(Token)))
            {
                // Sync-AdeDevice -IfDue alone: the scheduler's pass over every token, as Get-AdeToken | Sync-AdeDevice -IfDue
                // (synced by EndItems, on the worker, a batch at a time)
                pending.AddRange(Engine.Tokens.GetTokens().Select(t => t.Id.ToString()));
                return;
            }

            pending.Add(Ref(Token)!);
            if (pending.Count >= SyncService.IfDueBatchSize)
            {
                SyncPending();
            }

            return;
        }

        var result = Engine.Sync.Sync(Ref(Token), Full, IfDue);
        if (result is not null)
        {
            WriteObject(result);
        }
    }

    protected override void EndItems()
    {
        while (pending.Count > 0)
        {
            SyncPending();
        }
    }

    /// <summary>The first batch of pending tokens (at most <see cref="SyncService.IfDueBatchSize"/>: one read of the store decides it).</summary>
    private void SyncPending()
    {
        var batch = pending.Take(SyncService.IfDueBatchSize).ToArray();
        pending.RemoveRange(0, batch.Length);
        // -Confirm and -WhatIf ask and answer one token at a time, in order.
        foreach (var outcome in Engine.Sync.SyncIfDue(batch, ShouldProcessIsSilentYes ? ThrottleLimit : 1))
        {
            if (outcome.Failure is { } failure)
            {
                // written before the next due token starts: under -ErrorAction Stop no sync starts after this one failed
                WriteItemFailureAndWait(failure);
            }
            else if (outcome.Result is { } result)
            {
                WriteObject(result);
            }
        }
    }
}

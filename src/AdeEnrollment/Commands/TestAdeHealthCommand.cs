using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Health;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;

using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Commands;

/// <summary>
/// Test-AdeHealth: one result per check and token (Check, Status, Detail, Remedy), or with -Quiet one boolean:
/// $true when no check fails (warnings do not make it $false).
/// </summary>
[Cmdlet(VerbsDiagnostic.Test, "AdeHealth")]
[OutputType(typeof(AdeHealthResult), typeof(bool))]
public sealed class TestAdeHealthCommand : AdeCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [Alias("TokenId")]
    [ReferenceTransformation(Of = "Token")]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Token { get; set; }

    /// <summary>How long a device assigned in ABM may stay without an enrollment profile before it is reported (default 24 hours).</summary>
    [Parameter]
    public TimeSpan? UnassignedThreshold { get; set; }

    [Parameter]
    public SwitchParameter Quiet { get; set; }

    private bool healthy = true;

    // the store and each token once, however many piped objects name them (Get-AdeDevice | Test-AdeHealth)
    private readonly HealthChecked done = new();

    /// <summary>Each piped token is checked by itself: an unknown one is an error of its own and the others are still checked.</summary>
    protected override bool ErrorsArePerItem => true;

    // a store that cannot be opened is reported once, as the failed Store check, not as an error per piped token
    private bool storeUnusable;

    protected override void ProcessItem()
    {
        if (storeUnusable)
        {
            return;
        }

        try
        {
            if (AdeSession.CurrentIfExists(out var path, out var deleted) is null && !deleted)
            {
                // a check does not create the store it looks for
                storeUnusable = true;
                Report(HealthService.StoreMissing(path));
                return;
            }

            foreach (var result in Engine.Health.Test(Ref(Token), UnassignedThreshold, done))
            {
                Report(result);
            }
        }
        catch (AdeException ex) when (HealthService.IsStoreUnusable(ex))
        {
            storeUnusable = true;
            Report(HealthService.StoreUnusable(ex));
        }
        catch (AdeException) when (Quiet)
        {
            healthy = false; // a token that cannot be checked (TokenNotFound) is no verdict of health: the error is written too
            throw;
        }
    }

    private void Report(AdeHealthResult result)
    {
        if (Quiet)
        {
            healthy &= result.Status != AdeHealthStatus.Fail;
        }
        else
        {
            WriteObject(result);
        }
    }

    protected override void EndItems()
    {
        if (Quiet)
        {
            WriteObject(healthy);
        }
    }
}

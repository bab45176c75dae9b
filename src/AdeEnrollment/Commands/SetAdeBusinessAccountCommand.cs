using AdeEnrollment.Completers;
using System.Management.Automation;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Set-AdeBusinessAccount: changes the request budgets and the activity size the engine keeps with an API account.</summary>
[Cmdlet(VerbsCommon.Set, "AdeBusinessAccount", SupportsShouldProcess = true)]
[OutputType(typeof(AdeBusinessAccount))]
public sealed class SetAdeBusinessAccountCommand : AdeCmdlet
{
    /// <summary>The accounts to change; when omitted, the store's only account (BusinessAccountAmbiguous when it has several).</summary>
    [Parameter(Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [SupportsWildcards]
    [Alias("Account")]
    [ArgumentCompleter(typeof(BusinessAccountCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? ClientId { get; set; }

    /// <summary>GET requests per minute the engine allows itself with the account; 0 returns to the default (20).</summary>
    [Parameter]
    [Alias("GetsPerMinute")]
    public int? GetPerMinute { get; set; }

    /// <summary>Activities (POST requests) per hour the engine allows itself with the account; 0 returns to the default (10).</summary>
    [Parameter]
    [Alias("PostsPerHour")]
    public int? PostPerHour { get; set; }

    /// <summary>The most devices one activity carries; 0 returns to the default (1,000).</summary>
    [Parameter]
    [Alias("DevicesPerActivity")]
    public int? DevicePerActivity { get; set; }

    /// <summary>Writes the changed account.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override bool ErrorsArePerItem => true;

    private BusinessAccountLimits Limits => new(GetPerMinute, PostPerHour, DevicePerActivity);

    /// <summary>The change is checked once, before the piped accounts: a bad one is one terminating error.</summary>
    protected override void BeginItems() => BusinessAccountService.CheckChange(Limits);

    protected override void ProcessItem()
    {
        foreach (var id in ClientId ?? new string?[] { null })
        {
            RunItem(() =>
            {
                foreach (var match in id is null ? [Engine.Business.Accounts.Resolve(null)] : Engine.Business.Accounts.Match(id))
                {
                    var account = Engine.Business.Accounts.SetLimits(match, Limits);
                    if (account is not null && PassThru)
                    {
                        WriteObject(account);
                    }
                }
            });
        }
    }
}

using System.Management.Automation;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Set-AdeBusinessAccount: changes the request budgets and the activity size the engine keeps with an API account.</summary>
[Cmdlet(VerbsCommon.Set, "AdeBusinessAccount", SupportsShouldProcess = true)]
[OutputType(typeof(AdeBusinessAccount))]
public sealed class SetAdeBusinessAccountCommand : AdeCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "The client ID of the API account to change.")]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string[] ClientId { get; set; } = [];

    /// <summary>GET requests per minute the engine allows itself with the account; 0 returns to the default (20).</summary>
    [Parameter]
    public int? GetPerMinute { get; set; }

    /// <summary>Activities (POST requests) per hour the engine allows itself with the account; 0 returns to the default (10).</summary>
    [Parameter]
    public int? PostPerHour { get; set; }

    /// <summary>The most devices one activity carries; 0 returns to the default (1,000).</summary>
    [Parameter]
    public int? DevicePerActivity { get; set; }

    /// <summary>Writes the changed account.</summary>
    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override bool ErrorsArePerItem => true;

    private BusinessAccountLimits Limits => new(GetPerMinute, PostPerHour, DevicePerActivity);

    /// <summary>The change is checked once, before the piped accounts: a bad one is one terminating error.</summary>
    protected override void BeginItems() => BusinessAccountService.CheckChange(Limits, ClientId.Length == 0 ? "(piped)" : string.Join(", ", ClientId));

    protected override void ProcessItem()
    {
        foreach (var id in ClientId)
        {
            RunItem(() =>
            {
                foreach (var match in Engine.Business.Accounts.Match(id))
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

using System.Management.Automation;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>New-AdeBusinessAccount: stores an Apple Business / School API account and its private key (encrypted).</summary>
[Cmdlet(VerbsCommon.New, "AdeBusinessAccount", SupportsShouldProcess = true)]
[OutputType(typeof(AdeBusinessAccount))]
public sealed class NewAdeBusinessAccountCommand : AdeCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true, HelpMessage = "The API account's client ID: BUSINESSAPI.<uuid> or SCHOOLAPI.<uuid> (Preferences > API > Manage).")]
    [ValidateNotNullOrEmpty]
    public string ClientId { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipelineByPropertyName = true, HelpMessage = "The key ID (a UUID) shown next to the client ID.")]
    [ValidateNotNullOrEmpty]
    public string KeyId { get; set; } = "";

    /// <summary>The .pem file the portal downloaded (EC P-256, SEC1 or PKCS#8).</summary>
    [Parameter(Mandatory = true, Position = 2, ValueFromPipelineByPropertyName = true, HelpMessage = "The .pem file with the account's EC P-256 private key, as the portal downloaded it.")]
    [ValidateNotNullOrEmpty]
    public string KeyPath { get; set; } = "";

    /// <summary>The OAuth token endpoint (default Apple's); for the simulator.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public Uri? TokenUri { get; set; }

    /// <summary>The API base URI (default from the client ID: Apple Business or Apple School Manager); for the simulator.</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    public Uri? ServiceUri { get; set; }

    /// <summary>GET requests per minute the engine allows itself with this account (default 20, the figure observed at Apple).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("GetsPerMinute")]
    public int? GetPerMinute { get; set; }

    /// <summary>Activities (POST requests) per hour the engine allows itself with this account (default 10).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("PostsPerHour")]
    public int? PostPerHour { get; set; }

    /// <summary>The most devices one activity carries (default 1,000; lowered by the engine when Apple refuses a larger one).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("DevicesPerActivity")]
    public int? DevicePerActivity { get; set; }

    /// <summary>Each piped account (a CSV row) is stored or refused by itself: one that exists already does not stop the rest.</summary>
    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        var account = Engine.Business.Accounts.New(new NewBusinessAccountArgs(ClientId, KeyId, ResolvePath(KeyPath), TokenUri, ServiceUri, GetPerMinute, PostPerHour, DevicePerActivity));
        if (account is not null)
        {
            WriteObject(account);
        }
    }
}

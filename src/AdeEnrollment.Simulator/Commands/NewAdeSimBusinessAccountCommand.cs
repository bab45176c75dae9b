using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>
/// New-AdeSimBusinessAccount: Apple Business (or School) "create API account" and "generate private key". Writes the
/// EC P-256 private key PEM (SEC1 as Apple's portal does, or PKCS#8) and returns the client ID and key ID.
/// </summary>
[Cmdlet(VerbsCommon.New, "AdeSimBusinessAccount", SupportsShouldProcess = true)]
[OutputType(typeof(AdeSimBusinessAccount))]
public sealed class NewAdeSimBusinessAccountCommand : AdeSimCmdlet
{
    /// <summary>Where the private key PEM is written (a folder gets "&lt;client id&gt;.pem").</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string KeyOutFile { get; set; } = "";

    /// <summary>An Apple School Manager account (SCHOOLAPI. client ID, school.api scope).</summary>
    [Parameter]
    public SwitchParameter School { get; set; }

    /// <summary>Sec1 ("BEGIN EC PRIVATE KEY", as Apple's portal writes it) or Pkcs8 ("BEGIN PRIVATE KEY"); Pkcs8AsSec1 (PKCS#8 content under "EC PRIVATE KEY") and Sec1AsPkcs8 (SEC1 content under "PRIVATE KEY") write a label that does not match the content; Sec1WithParameters writes an "EC PARAMETERS" block before the key, as 'openssl ecparam -genkey' does.</summary>
    [Parameter]
    [ValidateSet("Sec1", "Pkcs8", "Pkcs8AsSec1", "Sec1AsPkcs8", "Sec1WithParameters")]
    public string KeyFormat { get; set; } = "Sec1";

    /// <summary>The organisation the account belongs to (default: the organisation of the simulator's first server).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OrgName { get; set; }

    protected override void ProcessItem()
    {
        var path = ResolvePath(KeyOutFile);
        if (!ShouldProcess(path, "Create an API account and write its private key"))
        {
            return;
        }

        var format = KeyFormat.ToUpperInvariant();
        var account = Current.NewBusinessAccount(out var pem, School, sec1: format is "SEC1" or "SEC1ASPKCS8" or "SEC1WITHPARAMETERS", orgName: OrgName,
            mislabelled: format is "PKCS8ASSEC1" or "SEC1ASPKCS8");
        if (format == "SEC1WITHPARAMETERS")
        {
            pem = "-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + pem; // the OID of P-256
        }

        if (Directory.Exists(path))
        {
            path = Path.Combine(path, account.ClientId + ".pem");
        }

        WriteSecretFile(path, pem); // readable by the owner only, as the private key it is
        WriteObject(account with { KeyPath = path });
    }
}

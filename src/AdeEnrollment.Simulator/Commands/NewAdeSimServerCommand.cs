using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>New-AdeSimServer: ABM "add MDM server" with the uploaded public key; writes the server token (.p7m).</summary>
[Cmdlet(VerbsCommon.New, "AdeSimServer", SupportsShouldProcess = true)]
[OutputType(typeof(AdeSimServer))]
public sealed class NewAdeSimServerCommand : AdeSimCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>The PEM certificate written by New-AdeTokenRequest -OutFile.</summary>
    [Parameter(Mandatory = true)]
    [Alias("PemPath")]
    [ValidateNotNullOrEmpty]
    public string PublicKeyPath { get; set; } = "";

    /// <summary>Where to write the token; a folder gets ABM's file name.</summary>
    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string OutFile { get; set; } = "";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OrgName { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? AdminId { get; set; }

    /// <summary>
    /// Also writes the token's decrypted content (MIME headers and the MESSAGE block with the OAuth credentials), so
    /// that a test can encrypt it with a producer of its own. It holds the server's secrets: for tests only.
    /// </summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PlainTextOutFile { get; set; }

    protected override void ProcessItem()
    {
        var simulator = Current;
        var pem = ReadCertificate(PublicKeyPath);
        if (!ShouldProcess(Name, $"Add MDM server to the simulator at {simulator.Uri} and write its token to '{OutFile}'"))
        {
            return;
        }

        simulator.NewServer(Name, pem, out var token, OrgName, AdminId);
        var path = WriteToken(OutFile, Name, token, simulator.Time.GetUtcNow());
        simulator.SetTokenFile(Name, path);
        if (PlainTextOutFile is not null)
        {
            WriteSecretFile(PlainTextOutFile, Abm.ServerTokenWriter.Message(simulator.CredentialsOf(Name)));
        }

        WriteObject(simulator.GetServer(Name));
    }
}

using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>Export-AdeSimServerToken: ABM "download token". The previous token of the server stops working.</summary>
[Cmdlet(VerbsData.Export, "AdeSimServerToken", SupportsShouldProcess = true)]
[OutputType(typeof(AdeSimServer))]
public sealed class ExportAdeSimServerTokenCommand : AdeSimCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [SimServerTransformation]
    [ValidateNotNullOrEmpty]
    public string Server { get; set; } = "";

    [Parameter(Mandatory = true)]
    [ValidateNotNullOrEmpty]
    public string OutFile { get; set; } = "";

    /// <summary>A new public key to encrypt to (as when the MDM uploads a new certificate); default: the last one uploaded.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PublicKeyPath { get; set; }

    /// <summary>When the new token expires (default: one year from the simulator's clock).</summary>
    [Parameter]
    public DateTimeOffset? ExpiresAt { get; set; }

    /// <summary>Also writes the new token's decrypted content (holds the server's secrets: for tests only).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? PlainTextOutFile { get; set; }

    protected override void ProcessItem()
    {
        var simulator = Current;
        var pem = PublicKeyPath is null ? null : ReadCertificate(PublicKeyPath);
        var server = simulator.GetServer(Server);
        if (!ShouldProcess(server.Name, $"Download a new server token to '{OutFile}' (the current token stops working)"))
        {
            return;
        }

        simulator.ExportServerToken(server.Name, out var token, pem, ExpiresAt);
        var path = WriteToken(OutFile, server.Name, token, simulator.Time.GetUtcNow());
        simulator.SetTokenFile(server.Name, path);
        if (PlainTextOutFile is not null)
        {
            WriteSecretFile(PlainTextOutFile, Abm.ServerTokenWriter.Message(simulator.CredentialsOf(server.Name)));
        }

        WriteObject(simulator.GetServer(server.Name));
    }
}

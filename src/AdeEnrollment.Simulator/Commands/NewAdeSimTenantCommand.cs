using System.Management.Automation;
using System.Management.Automation.Runspaces;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>
/// New-AdeSimTenant: the onboarding every test starts with, in one step: a token request (New-AdeTokenRequest), an
/// MDM server in the simulated ABM with that key (New-AdeSimServer), the token imported into the session's store
/// (New-AdeToken -ServiceUri), and optionally devices assigned to the server. Returns the module's token.
/// </summary>
[Cmdlet(VerbsCommon.New, "AdeSimTenant", SupportsShouldProcess = true)]
[OutputType("AdeEnrollment.Engine.Model.AdeToken")]
public sealed class NewAdeSimTenantCommand : AdeSimCmdlet
{
    /// <summary>The MDM server's name in the simulated ABM, and the token's name in the store.</summary>
    [Parameter(Mandatory = true, Position = 0)]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    /// <summary>How many generated devices ABM assigns to the server (0: none).</summary>
    [Parameter]
    [ValidateRange(0, 200_000)]
    public int Devices { get; set; }

    /// <summary>The family of the generated devices (Add-AdeSimDevice -DeviceFamily).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DeviceFamily { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string EnrollmentUrl { get; set; } = "https://mdm.contoso.example/enroll";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string AppleId { get; set; } = "ade.admin@contoso.example";

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? OrgName { get; set; }

    protected override void ProcessItem()
    {
        var simulator = Current;
        if (simulator.GetServers().Any(s => string.Equals(s.Name, Name.Trim(), StringComparison.OrdinalIgnoreCase)))
        {
            throw SimErrors.ServerExists(Name); // before a token request is made in the store
        }

        Service.DeviceGenerator.CheckFamily(DeviceFamily); // before anything is created

        if (!ShouldProcess(Name, $"Create a token request, an MDM server in the simulator at {simulator.Uri}, its token in the session's store{(Devices > 0 ? $" and {Devices:N0} devices" : "")}"))
        {
            return;
        }

        var folder = Directory.CreateTempSubdirectory("ade-sim-tenant-");
        try
        {
            using var shell = PowerShell.Create(RunspaceMode.CurrentRunspace);
            var pem = Path.Combine(folder.FullName, "request.pem");
            var request = Run(shell, "New-AdeTokenRequest", ("AcceptDataSharing", true), ("OutFile", pem));
            simulator.NewServer(Name, ReadCertificate(pem), out var token, OrgName, null);
            var p7m = WriteToken(Path.Combine(folder.FullName, "token.p7m"), Name, token, simulator.Time.GetUtcNow());
            var imported = Run(shell, "New-AdeToken", ("Request", request), ("Path", p7m), ("AppleId", AppleId), ("Name", Name),
                ("EnrollmentUrl", EnrollmentUrl), ("ServiceUri", simulator.Uri));
            if (Devices > 0)
            {
                simulator.AddDevices(Name, Devices, null, DeviceFamily);
            }

            WriteObject(imported);
        }
        finally
        {
            folder.Delete(recursive: true); // the key pair lives in the store; the files were only the way there
        }
    }

    /// <summary>One AdeEnrollment command in this runspace; its first error ends this one (as its own error record).</summary>
    private PSObject Run(PowerShell shell, string command, params (string Name, object Value)[] parameters)
    {
        shell.Commands.Clear();
        shell.Streams.Error.Clear();
        shell.AddCommand(command);
        foreach (var (name, value) in parameters)
        {
            shell.AddParameter(name, value);
        }

        var output = shell.Invoke();
        if (shell.Streams.Error is [var error, ..])
        {
            ThrowTerminatingError(error);
        }

        return output.Single();
    }
}

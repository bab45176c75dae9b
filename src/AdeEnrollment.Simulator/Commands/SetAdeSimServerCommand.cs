using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>Set-AdeSimServer: what Apple allows an MDM server (whether it may release devices), and what the Business API lists it as.</summary>
[Cmdlet(VerbsCommon.Set, "AdeSimServer", SupportsShouldProcess = true)]
[OutputType(typeof(AdeSimServer))]
public sealed class SetAdeSimServerCommand : AdeSimCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SimServerTransformation]
    [ValidateNotNullOrEmpty]
    public string Server { get; set; } = "";

    /// <summary>$false: POST /devices/disown answers 403 ACCESS_DENIED.</summary>
    [Parameter]
    public bool? AllowDeviceRelease { get; set; }

    /// <summary>
    /// What GET /v1/mdmServers lists the server as: MDM, or one of Apple's own services, APPLE_CONFIGURATOR ("Devices
    /// Added by Apple Configurator 2") or APPLE_MDM (Apple's built-in management).
    /// </summary>
    [Parameter]
    [ValidateSet("MDM", "APPLE_CONFIGURATOR", "APPLE_MDM")]
    public string? ServerType { get; set; }

    protected override void ProcessItem()
    {
        if (AllowDeviceRelease is null && ServerType is null)
        {
            throw SimErrors.ArgumentInvalid("AllowDeviceRelease", "", "give -AllowDeviceRelease, -ServerType or both.");
        }

        var change = string.Join(" and ", new[]
        {
            AllowDeviceRelease is { } allow ? $"{(allow ? "allow" : "forbid")} releasing devices" : null,
            ServerType is { } type ? $"list it as {type}" : null,
        }.OfType<string>());
        if (ShouldProcess(Server, char.ToUpperInvariant(change[0]) + change[1..]))
        {
            WriteObject(Current.SetServer(Server, AllowDeviceRelease, ServerType?.ToUpperInvariant()));
        }
    }
}

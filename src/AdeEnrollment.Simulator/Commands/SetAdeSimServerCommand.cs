using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>Set-AdeSimServer: what Apple allows an MDM server (whether it may release devices).</summary>
[Cmdlet(VerbsCommon.Set, "AdeSimServer", SupportsShouldProcess = true)]
[OutputType(typeof(AdeSimServer))]
public sealed class SetAdeSimServerCommand : AdeSimCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SimServerTransformation]
    [ValidateNotNullOrEmpty]
    public string Server { get; set; } = "";

    /// <summary>$false: POST /devices/disown answers 403 ACCESS_DENIED.</summary>
    [Parameter(Mandatory = true)]
    public bool AllowDeviceRelease { get; set; }

    protected override void ProcessItem()
    {
        if (ShouldProcess(Server, $"{(AllowDeviceRelease ? "Allow" : "Forbid")} releasing devices"))
        {
            WriteObject(Current.SetServer(Server, AllowDeviceRelease));
        }
    }
}

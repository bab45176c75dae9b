using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>Add-AdeSimDevice: ABM "assign to MDM server" for generated or named devices (each an 'added' event).</summary>
[Cmdlet(VerbsCommon.Add, "AdeSimDevice", SupportsShouldProcess = true)]
[OutputType(typeof(AdeSimDevice))]
public sealed class AddAdeSimDeviceCommand : AdeSimCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [SimServerTransformation]
    [ValidateNotNullOrEmpty]
    public string Server { get; set; } = "";

    /// <summary>How many generated devices (default 1 when no -SerialNumber is given).</summary>
    [Parameter(Position = 1)]
    [ValidateRange(0, 1_000_000)]
    public int? Count { get; set; }

    [Parameter(ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[]? SerialNumber { get; set; }

    [Parameter]
    [ValidateSet("iPhone", "iPad", "iPod", "Mac", "AppleTV", "Vision", "Mixed")]
    public string? DeviceFamily { get; set; }

    protected override void ProcessItem()
    {
        var simulator = Current;
        var count = Count ?? (SerialNumber is null ? 1 : 0);
        var what = SerialNumber is null ? $"{count} generated device(s)" : string.Join(", ", SerialNumber) + (count > 0 ? $" and {count} generated device(s)" : "");
        if (!ShouldProcess(Server, $"Assign {what} to the MDM server"))
        {
            return;
        }

        WriteObject(simulator.AddDevices(Server, count, SerialNumber, DeviceFamily), enumerateCollection: true);
    }
}

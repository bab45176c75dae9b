using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>Set-AdeSimDevice: fields ABM sets on an assigned device (a 'modified' event for sync).</summary>
[Cmdlet(VerbsCommon.Set, "AdeSimDevice", SupportsShouldProcess = true)]
[OutputType(typeof(AdeSimDevice))]
public sealed class SetAdeSimDeviceCommand : AdeSimCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipelineByPropertyName = true)]
    [SimServerTransformation]
    [ValidateNotNullOrEmpty]
    public string Server { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] SerialNumber { get; set; } = [];

    /// <summary>mdm_migration_deadline; $null removes it.</summary>
    [Parameter]
    public DateTimeOffset? MdmMigrationDeadline { get; set; }

    [Parameter]
    public bool? IsReplacementDevice { get; set; }

    protected override void ProcessItem()
    {
        var simulator = Current;
        var clear = MyInvocation.BoundParameters.ContainsKey(nameof(MdmMigrationDeadline)) && MdmMigrationDeadline is null;
        foreach (var serial in SerialNumber)
        {
            if (ShouldProcess(serial, $"Set device fields on MDM server '{Server}'"))
            {
                WriteObject(simulator.SetDevice(Server, serial, MdmMigrationDeadline, clear, IsReplacementDevice));
            }
        }
    }
}

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

    /// <summary>The device was switched on and fetched its assigned profile: profile_status becomes pushed (a 'modified' event).</summary>
    [Parameter]
    public SwitchParameter Activate { get; set; }

    protected override void ProcessItem()
    {
        var simulator = Current;
        var clear = MyInvocation.BoundParameters.ContainsKey(nameof(MdmMigrationDeadline)) && MdmMigrationDeadline is null;
        var fields = MyInvocation.BoundParameters.ContainsKey(nameof(MdmMigrationDeadline)) || IsReplacementDevice is not null;
        if (!fields && !Activate)
        {
            ThrowTerminatingError(ToErrorRecord(SimErrors.ArgumentInvalid("Activate", "", "give what changes: -MdmMigrationDeadline, -IsReplacementDevice or -Activate.")));
        }

        foreach (var serial in SerialNumber)
        {
            var what = (fields, Activate.IsPresent) switch
            {
                (true, true) => "Set device fields and activate the device (it fetches its profile)",
                (false, true) => "Activate the device (it fetches its profile)",
                _ => "Set device fields",
            };
            if (!ShouldProcess(serial, $"{what} on MDM server '{Server}'"))
            {
                continue;
            }

            try
            {
                // activated first: a device without a profile is refused before any field of it changes
                var device = Activate ? simulator.ActivateDevice(Server, serial) : null;
                WriteObject(fields ? simulator.SetDevice(Server, serial, MdmMigrationDeadline, clear, IsReplacementDevice) : device);
            }
            catch (AdeSimException ex) when (ex.ErrorId is nameof(SimErrors.DeviceHasNoProfile) or "DeviceNotFound")
            {
                WriteError(ToErrorRecord(ex)); // the other piped devices are still set
            }
        }
    }
}

using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>
/// Use-AdeSimulator: makes a running simulator the current one, the one the other simulator cmdlets act on (a test
/// with two simulators — two tenants — injects a fault into the first while the second runs).
/// </summary>
[Cmdlet(VerbsOther.Use, "AdeSimulator")]
[OutputType(typeof(AdeSimulator))]
public sealed class UseAdeSimulatorCommand : AdeSimCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public AdeSimulator? InputObject { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessItem()
    {
        if (!InputObject!.IsRunning || !SimulatorSession.Use(InputObject))
        {
            throw SimErrors.SimulatorStopped(InputObject.Uri.ToString());
        }

        WriteVerbose($"The simulator cmdlets now act on the ADE simulator on {InputObject.Uri}.");
        if (PassThru)
        {
            WriteObject(InputObject);
        }
    }
}

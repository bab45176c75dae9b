using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>Stop-AdeSimulator: stops the given simulator, or the current one. Stopping when none runs is not an error.</summary>
[Cmdlet(VerbsLifecycle.Stop, "AdeSimulator", SupportsShouldProcess = true)]
[OutputType(typeof(void))]
public sealed class StopAdeSimulatorCommand : AdeSimCmdlet
{
    [Parameter(Position = 0, ValueFromPipeline = true)]
    [ValidateNotNull]
    public AdeSimulator? InputObject { get; set; }

    protected override void ProcessItem()
    {
        var simulator = InputObject ?? SimulatorSession.Current;
        if (simulator is null)
        {
            WriteVerbose("No ADE simulator is running.");
            return;
        }

        if (!ShouldProcess(simulator.Uri.ToString(), "Stop the ADE simulator"))
        {
            return;
        }

        simulator.Stop();
        SimulatorSession.Remove(simulator);
        WriteVerbose($"Stopped the ADE simulator on {simulator.Uri}.");
        if (SimulatorSession.Current is null)
        {
            // the simulation is over: a test file that moved the clock or made waits instant leaves real time behind
            SimulatorSession.EndSimulatedTime();
            WriteVerbose("No simulator is running any more: the simulated time and the module's waits are real again.");
        }
    }
}

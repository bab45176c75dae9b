using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>Stop-AdeSimulator: stops the given simulator, or the current one. Stopping when none runs is not an error.</summary>
[Cmdlet(VerbsLifecycle.Stop, "AdeSimulator")]
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

        simulator.Stop();
        SimulatorSession.Remove(simulator);
        WriteVerbose($"Stopped the ADE simulator on {simulator.Uri}.");
    }
}

using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>Start-AdeSimulator: starts a simulated Apple ADE service on 127.0.0.1.</summary>
[Cmdlet(VerbsLifecycle.Start, "AdeSimulator")]
[OutputType(typeof(AdeSimulator))]
public sealed class StartAdeSimulatorCommand : AdeSimCmdlet
{
    /// <summary>TCP port on 127.0.0.1; 0 (the default) picks a free one.</summary>
    [Parameter(Position = 0)]
    [ValidateRange(0, 65535)]
    public int Port { get; set; }

    /// <summary>Seed of the generated devices and UUIDs.</summary>
    [Parameter]
    public int? Seed { get; set; }

    protected override void ProcessItem()
    {
        var simulator = AdeSimulator.Start(Port, Seed, SimulatorClock.Instance);
        SimulatorSession.Add(simulator);
        WriteVerbose($"The ADE simulator listens on {simulator.Uri} (seed {simulator.Seed}).");
        WriteObject(simulator);
    }
}

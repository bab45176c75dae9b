using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>Clear-AdeSimFault: removes every injected fault; the simulator answers normally again.</summary>
[Cmdlet(VerbsCommon.Clear, "AdeSimFault", SupportsShouldProcess = true)]
[OutputType(typeof(void))]
public sealed class ClearAdeSimFaultCommand : AdeSimCmdlet
{
    protected override void ProcessItem()
    {
        var simulator = SimulatorSession.Current;
        if (simulator is null || !ShouldProcess(simulator.Uri.ToString(), "Remove every injected fault"))
        {
            return;
        }

        var removed = simulator.ClearFaults();
        WriteVerbose($"Removed {removed} fault(s).");
    }
}

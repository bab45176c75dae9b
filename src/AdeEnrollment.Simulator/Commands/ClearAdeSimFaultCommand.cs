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
        if (RunningIfConfirmed("Remove every injected fault") is { } simulator)
        {
            WriteVerbose($"Removed {simulator.ClearFaults()} fault(s).");
        }
    }
}

using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>
/// Clear-AdeSimRequest: empties the simulator's request log, so that a test counts only its own requests (a Pester
/// BeforeEach) instead of counting from a marker.
/// </summary>
[Cmdlet(VerbsCommon.Clear, "AdeSimRequest", SupportsShouldProcess = true)]
[OutputType(typeof(void))]
public sealed class ClearAdeSimRequestCommand : AdeSimCmdlet
{
    protected override void ProcessItem()
    {
        RunningIfConfirmed("Empty the request log")?.ClearRequests();
    }
}

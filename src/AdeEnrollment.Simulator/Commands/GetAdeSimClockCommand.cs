using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>
/// Get-AdeSimClock: the simulated time that the simulator and the AdeEnrollment engine of this process use now (the
/// real time until Set-AdeSimClock moves it), for scripts under test that compute times (a Retry-After, "since yesterday").
/// </summary>
[Cmdlet(VerbsCommon.Get, "AdeSimClock")]
[OutputType(typeof(DateTimeOffset))]
public sealed class GetAdeSimClockCommand : AdeSimCmdlet
{
    protected override void ProcessItem() => WriteObject(SimulatorClock.Instance.GetUtcNow());
}

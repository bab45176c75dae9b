using System.Management.Automation;
using AdeEnrollment.Engine;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>
/// Set-AdeSimClock: moves the simulator's clock and the clock of the AdeEnrollment engine in this PowerShell process
/// together, so a test can check what happens "15 minutes later". Only this test module can move the engine's clock.
/// </summary>
[Cmdlet(VerbsCommon.Set, "AdeSimClock", DefaultParameterSetName = AdvanceSet, SupportsShouldProcess = true)]
[OutputType(typeof(DateTimeOffset))]
public sealed class SetAdeSimClockCommand : AdeSimCmdlet
{
    private const string AdvanceSet = "Advance";
    private const string NowSet = "Now";
    private const string ResetSet = "Reset";
    private const string WaitsSet = "Waits";

    /// <summary>'h:mm[:ss]' is always hours ('25:00:00' is 25 hours, not days), and '15m', '12h', '7d' are read too.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = AdvanceSet)]
    [SimSpanTransformation]
    public TimeSpan Advance { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = NowSet)]
    public DateTimeOffset Now { get; set; }

    /// <summary>Back to the real time, with real waits.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ResetSet)]
    public SwitchParameter Reset { get; set; }

    /// <summary>
    /// Instant: the module's waits (retry back-off, Retry-After, THROTTLED devices, Business budget waits and -Wait
    /// polling) pass at once, each moving the simulated time forward by its length. Real: they take real time (the default).
    /// </summary>
    [Parameter(Mandatory = true, ParameterSetName = WaitsSet)]
    [ValidateSet("Real", "Instant")]
    public string? Waits { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessItem()
    {
        var clock = SimulatorClock.Instance;
        var instant = Waits?.Equals("Instant", StringComparison.OrdinalIgnoreCase);
        var action = ParameterSetName switch
        {
            NowSet => $"Set the simulated time to {Now:u}",
            ResetSet => "Set the simulated time back to the real time, with real waits",
            WaitsSet => instant == true ? "Make the module's waits pass at once on the simulated time" : "Make the module's waits take real time",
            _ => $"Move the simulated time by {Advance}",
        };
        if (!ShouldProcess("simulator and AdeEnrollment engine clock", action))
        {
            return;
        }

        switch (ParameterSetName)
        {
            case NowSet:
                clock.SetNow(Now);
                break;
            case ResetSet:
                clock.Reset();
                instant = false;
                break;
            case WaitsSet:
                break;
            default:
                clock.Advance(Advance);
                break;
        }

        EngineClock.Current = clock; // the engine's public clock seam, shared through the module's load context
        if (instant is { } i)
        {
            EngineClock.Waits = i ? clock.InstantWaits : TimeProvider.System;
        }

        WriteVerbose($"Simulated time is now {clock.GetUtcNow():u} (offset {clock.Offset}).");
        if (PassThru)
        {
            WriteObject(clock.GetUtcNow());
        }
    }
}

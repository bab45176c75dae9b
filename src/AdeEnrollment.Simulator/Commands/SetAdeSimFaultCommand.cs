using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>
/// Set-AdeSimFault: makes the simulator answer an endpoint with an error status, late, or not at all (-AfterApplying:
/// after carrying the request out) — for the next
/// -Count requests or a -Share of them — or makes assignment answer FAILED/THROTTLED/NOT_ACCESSIBLE for given serials.
/// </summary>
[Cmdlet(VerbsCommon.Set, "AdeSimFault", DefaultParameterSetName = Delay, SupportsShouldProcess = true)]
[OutputType(typeof(AdeSimFault))]
public sealed class SetAdeSimFaultCommand : AdeSimCmdlet
{
    private const string Status = "Status";
    private const string Drop = "Drop";
    private const string Delay = "Latency";
    private const string Device = "Device";

    /// <summary>Path the fault applies to (/session, /account, /server/devices …); wildcards allowed, * for all.</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = Status)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = Drop)]
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = Delay)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string Endpoint { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1, ParameterSetName = Status)]
    [ValidateRange(100, 599)]
    public int StatusCode { get; set; }

    /// <summary>The error body (Apple's code, e.g. T_C_NOT_SIGNED); default: a code that fits the status.</summary>
    [Parameter(ParameterSetName = Status)]
    [AllowEmptyString]
    public string? Body { get; set; }

    /// <summary>How many requests the fault hits (default: every request until Clear-AdeSimFault).</summary>
    [Parameter]
    [ValidateRange(1, int.MaxValue)]
    public int? Count { get; set; }

    /// <summary>How many matching requests pass untouched before the fault starts (e.g. 1: the second page fails).</summary>
    [Parameter(ParameterSetName = Status)]
    [Parameter(ParameterSetName = Drop)]
    [Parameter(ParameterSetName = Delay)]
    [ValidateRange(0, int.MaxValue)]
    public int Skip { get; set; }

    /// <summary>The share (0–1] of matching requests hit, for intermittent faults.</summary>
    [Parameter(ParameterSetName = Status)]
    [Parameter(ParameterSetName = Drop)]
    [Parameter(ParameterSetName = Delay)]
    [ValidateRange(0.0001, 1.0)]
    public double Share { get; set; } = 1;

    /// <summary>Sends Retry-After (seconds) with the fault, or retry_after_seconds with THROTTLED devices.</summary>
    [Parameter(ParameterSetName = Status)]
    [Parameter(ParameterSetName = Device)]
    [ValidateRange(0, 86400)]
    public int? RetryAfterSeconds { get; set; }

    [Parameter(ParameterSetName = Status)]
    [Parameter(ParameterSetName = Drop)]
    [Parameter(Mandatory = true, ParameterSetName = Delay)]
    public TimeSpan Latency { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = Drop)]
    public SwitchParameter DropConnection { get; set; }

    /// <summary>
    /// Carry the request out first (the simulator changes its state, e.g. creates the activity of a POST), then answer
    /// with -StatusCode or drop the connection instead of the real answer: Apple failing after it applied the request.
    /// </summary>
    [Parameter(ParameterSetName = Status)]
    [Parameter(ParameterSetName = Drop)]
    public SwitchParameter AfterApplying { get; set; }

    /// <summary>Only requests with this HTTP method (GET, POST, PUT, PATCH, DELETE).</summary>
    [Parameter(ParameterSetName = Status)]
    [Parameter(ParameterSetName = Drop)]
    [Parameter(ParameterSetName = Delay)]
    [ValidateSet("GET", "POST", "PUT", "PATCH", "DELETE")]
    public string? Method { get; set; }

    [Parameter(Mandatory = true, ParameterSetName = Device, ValueFromPipelineByPropertyName = true)]
    [SimServerTransformation]
    [ValidateNotNullOrEmpty]
    public string Server { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = Device, ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string[] SerialNumber { get; set; } = [];

    [Parameter(Mandatory = true, ParameterSetName = Device)]
    [ValidateSet("Failed", "Throttled", "NotAccessible")]
    public string DeviceStatus { get; set; } = "";

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessItem()
    {
        var simulator = Current;
        if (ParameterSetName == Device)
        {
            foreach (var serial in SerialNumber)
            {
                if (ShouldProcess(serial, $"Answer {DeviceStatus} when assigning or removing a profile"))
                {
                    simulator.SetDeviceOutcome(Server, serial, DeviceStatus, Count, RetryAfterSeconds);
                }
            }

            return;
        }

        var description = ParameterSetName switch
        {
            Drop => "drop the connection",
            Delay => $"delay by {Latency}",
            _ => $"answer {StatusCode}",
        };
        if (AfterApplying)
        {
            description = "carry the request out, then " + description;
        }

        if (!ShouldProcess(Endpoint, $"{description} {(Count is null ? "until cleared" : $"for {Count} request(s)")}{(Skip > 0 ? $" after letting {Skip} through" : "")}"))
        {
            return;
        }

        var fault = simulator.AddFault(Endpoint, ParameterSetName == Status ? StatusCode : null, Body, Count, RetryAfterSeconds, Latency,
            DropConnection, Method, Share, afterApplying: AfterApplying, skip: Skip);
        if (PassThru)
        {
            WriteObject(fault);
        }
    }
}

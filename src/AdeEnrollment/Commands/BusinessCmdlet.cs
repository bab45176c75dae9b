using AdeEnrollment.Completers;
using System.Management.Automation;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;

namespace AdeEnrollment.Commands;

/// <summary>
/// Base of the Apple Business API cmdlets: the API account to use (-Account) and whether to wait for Apple's request
/// budget (-WaitForLimit), handed to the engine in one place.
/// </summary>
public abstract class BusinessCmdlet : AdeCmdlet
{
    /// <summary>The devices named by -SerialNumber, or piped to -InputObject.</summary>
    internal const string BySerial = "BySerial";
    internal const string ByObject = "ByObject";

    [Parameter]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(BusinessAccountCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Account { get; set; }

    /// <summary>Wait for Apple's request budget instead of stopping with the time it is allowed again.</summary>
    [Parameter]
    public SwitchParameter WaitForLimit { get; set; }

    /// <summary>
    /// Adds the serial numbers of piped devices (serial strings, AdeOrgDevice or AdeDevice objects, CSV rows, read by
    /// <see cref="PipelineDevice"/>) to <paramref name="serials"/>; a row without one is an error of its own
    /// (non-terminating), and the other rows are still taken.
    /// </summary>
    protected void AddPipedSerials(IEnumerable<PSObject> items, List<string> serials)
    {
        foreach (var item in items)
        {
            RunItem(() => serials.Add(PipelineDevice.SerialNumber(item)));
        }
    }

    /// <summary>The engine's Apple Business service, set to wait for the budget when -WaitForLimit is given.</summary>
    protected BusinessService Business
    {
        get
        {
            Engine.Business.WaitForLimit = WaitForLimit;
            return Engine.Business;
        }
    }
}

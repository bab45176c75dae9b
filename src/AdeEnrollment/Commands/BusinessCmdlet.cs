using System.Management.Automation;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>
/// Base of the Apple Business API cmdlets: the API account to use (-Account) and whether to wait for Apple's request
/// budget (-WaitForLimit), handed to the engine in one place.
/// </summary>
public abstract class BusinessCmdlet : AdeCmdlet
{
    [Parameter]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Account { get; set; }

    /// <summary>Wait for Apple's request budget instead of stopping with the time it is allowed again.</summary>
    [Parameter]
    public SwitchParameter WaitForLimit { get; set; }

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

using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace AdeEnrollment.Completers;

/// <summary>Completes -Id of Get-AdeOrgDeviceActivity with the stored activities' ids, newest first, each described.</summary>
public sealed class ActivityIdCompleter : IArgumentCompleter
{
    /// <summary>The newest activities offered (what a Tab list can show; an older id is typed in full).</summary>
    public const int MaxResults = 200;

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        => CompletionSupport.Described(wordToComplete, engine => engine.Business.GetRecentActivities(MaxResults)
            .Select(a => (a.Id, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{a.CreatedAt.UtcDateTime:yyyy-MM-dd HH:mm}Z {a.Action} {a.DeviceCount} device(s){(a.MdmServer is { } s ? " -> " + s : "")} {a.Status}"))));
}

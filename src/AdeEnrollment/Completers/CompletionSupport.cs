using System.Management.Automation.Language;
using AdeEnrollment.Engine;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Host;

namespace AdeEnrollment.Completers;

/// <summary>What the name completers share: the store they read, and how a name is typed back.</summary>
internal static class CompletionSupport
{
    /// <summary>
    /// An engine over the session's store, or null when there is none yet: pressing Tab never creates the default store
    /// (nor its key), which only a command that needs one may do.
    /// </summary>
    public static AdeEngine? Engine()
        => AdeSession.CurrentIfExists(out _, out _) is { } store ? new AdeEngine(store, NullHost.Instance) : null;

    /// <summary>The names that complete what is typed (quotes around it ignored), each offered as it must be typed.</summary>
    public static IEnumerable<System.Management.Automation.CompletionResult> Names(IEnumerable<string> names, string wordToComplete)
    {
        var prefix = wordToComplete.Trim('\'', '"');
        foreach (var name in names.Where(n => Wildcard.Completes(n, prefix)))
        {
            yield return new System.Management.Automation.CompletionResult(Typed(name), name, System.Management.Automation.CompletionResultType.ParameterValue, name);
        }
    }

    /// <summary>
    /// Ids (client IDs, activity ids) that start with what is typed, each with a description in the Tab list; the list
    /// is read from the store by <paramref name="read"/>, and completion never throws at the user.
    /// </summary>
    public static IEnumerable<System.Management.Automation.CompletionResult> Described(string wordToComplete, Func<AdeEngine, IEnumerable<(string Id, string Description)>> read)
    {
        List<(string Id, string Description)> items;
        try
        {
            if (Engine() is not { } engine)
            {
                return [];
            }

            var prefix = wordToComplete.Trim('\'', '"');
            items = read(engine).Where(i => i.Id.StartsWith(prefix, StringComparison.OrdinalIgnoreCase)).ToList();
        }
        catch (Exception)
        {
            return [];
        }

        return items.Select(i => new System.Management.Automation.CompletionResult(i.Id, i.Id, System.Management.Automation.CompletionResultType.ParameterValue, i.Description));
    }

    /// <summary>
    /// A name as it must be typed to reach the cmdlet as is: bare when it is plain text, otherwise single-quoted, since
    /// PowerShell gives <c>$</c>, parentheses, commas, a leading dash and many more a meaning of their own.
    /// </summary>
    public static string Typed(string name)
        => name.Length > 0 && name[0] != '-' && name.All(c => char.IsLetterOrDigit(c) || c is '_' or '.' or '-')
            ? name
            : "'" + CodeGeneration.EscapeSingleQuotedStringContent(name) + "'";
}

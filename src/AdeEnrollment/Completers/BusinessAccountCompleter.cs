using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace AdeEnrollment.Completers;

/// <summary>Completes -ClientId / -Account with the client IDs of the store's Apple Business and School API accounts, each described.</summary>
public sealed class BusinessAccountCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
        => CompletionSupport.Described(wordToComplete, engine => engine.Business.Accounts.Get()
            .Select(a => (a.ClientId, string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{a.Kind} API account, added {a.CreatedAt.UtcDateTime:yyyy-MM-dd}"))));
}

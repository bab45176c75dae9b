using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace AdeEnrollment.Completers;

/// <summary>Completes -ClientId / -Account with the client IDs of the store's Apple Business and School API accounts, each described.</summary>
public sealed class BusinessAccountCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        List<(string ClientId, string Description)> accounts;
        try
        {
            if (CompletionSupport.Engine() is not { } engine)
            {
                yield break;
            }

            var prefix = wordToComplete.Trim('\'', '"');
            accounts = engine.Business.Accounts.Get()
                .Where(a => a.ClientId.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
                .Select(a => (a.ClientId, $"{a.Kind} API account, added {a.CreatedAt.UtcDateTime:yyyy-MM-dd}"))
                .ToList();
        }
        catch (Exception)
        {
            yield break; // completion never throws at the user
        }

        foreach (var (clientId, description) in accounts)
        {
            yield return new CompletionResult(clientId, clientId, CompletionResultType.ParameterValue, description);
        }
    }
}

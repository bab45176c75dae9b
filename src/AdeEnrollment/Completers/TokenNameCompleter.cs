using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace AdeEnrollment.Completers;

/// <summary>Completes -Token / -Name with the names of the tokens in the current store.</summary>
public sealed class TokenNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IEnumerable<string> names;
        try
        {
            names = CompletionSupport.Engine()?.Tokens.GetTokens().Select(t => t.Name) ?? [];
        }
        catch (Exception)
        {
            yield break; // completion never throws at the user
        }

        foreach (var result in CompletionSupport.Names(names, wordToComplete))
        {
            yield return result;
        }
    }
}

using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using AdeEnrollment.Engine;

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

        var prefix = wordToComplete.Trim('\'', '"');
        foreach (var name in names)
        {
            if (Wildcard.Completes(name, prefix))
            {
                var text = CompletionSupport.Typed(name);
                yield return new CompletionResult(text, name, CompletionResultType.ParameterValue, name);
            }
        }
    }
}

using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace AdeEnrollment.Completers;

/// <summary>
/// Completes -MdmServer with the MDM server names the store knows: those of its tokens and those its Apple Business
/// activities went to. Apple is never asked (Tab must not spend the API's request budget); a server neither holds
/// is typed in full.
/// </summary>
public sealed class MdmServerNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        List<string> names;
        try
        {
            if (CompletionSupport.Engine() is not { } engine)
            {
                yield break;
            }

            names = engine.Tokens.GetTokens().Select(t => t.ServerName)
                .Concat(engine.Business.GetActivityServerNames())
                .OfType<string>().Where(n => n.Length > 0).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.OrdinalIgnoreCase).ToList();
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

using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;

namespace AdeEnrollment.Completers;

/// <summary>Completes -Profile with the profile names in the store (of -Token when it is already given).</summary>
public sealed class ProfileNameCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IEnumerable<string> names;
        try
        {
            if (CompletionSupport.Engine() is not { } engine)
            {
                yield break;
            }

            Guid? tokenId = fakeBoundParameters["Token"] is { } t ? engine.Tokens.ResolveToken(t.ToString()!).Id : null;
            names = engine.Profiles.Get(tokenId).Select(p => p.Name).Distinct();
        }
        catch (Exception)
        {
            yield break;
        }

        foreach (var result in CompletionSupport.Names(names, wordToComplete))
        {
            yield return result;
        }
    }
}

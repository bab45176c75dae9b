using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using AdeEnrollment.Engine.Errors;

namespace AdeEnrollment.Completers;

/// <summary>
/// Completes -SerialNumber with the serial numbers of the store's devices (of -Token when it is already given) that
/// start with what is typed: at most <see cref="MaxResults"/>, read from the store only (Apple is never asked).
/// </summary>
public sealed class SerialNumberCompleter : IArgumentCompleter
{
    /// <summary>A token holds up to 200,000 devices: Tab offers the first ones only; typing more letters narrows them.</summary>
    public const int MaxResults = 100;

    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        IReadOnlyList<string> serials;
        try
        {
            if (CompletionSupport.Engine() is not { } engine)
            {
                yield break;
            }

            Guid? tokenId = null;
            if (fakeBoundParameters["Token"] is { } t)
            {
                try
                {
                    tokenId = engine.Tokens.ResolveToken(t.ToString()!).Id;
                }
                catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.TokenAmbiguous))
                {
                    // -Token still being typed (a pattern of several tokens): the serials of every token
                }
            }

            serials = engine.Devices.GetSerialNumbersStartingWith(wordToComplete.Trim('\'', '"'), tokenId, MaxResults);
        }
        catch (Exception)
        {
            yield break; // completion never throws at the user
        }

        foreach (var serial in serials)
        {
            yield return new CompletionResult(serial, serial, CompletionResultType.ParameterValue, serial);
        }
    }
}

using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using AdeEnrollment.Engine.Devices;

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
        List<string> serials;
        try
        {
            if (CompletionSupport.Engine() is not { } engine)
            {
                yield break;
            }

            var prefix = wordToComplete.Trim('\'', '"');
            if (prefix.Any(c => !char.IsAsciiLetterOrDigit(c)))
            {
                yield break; // a serial is letters and digits: a wildcard or anything else is the user's own pattern
            }

            Guid? tokenId = fakeBoundParameters["Token"] is { } t ? engine.Tokens.ResolveToken(t.ToString()!).Id : null;
            serials = engine.Devices.Get(new DeviceQuery(tokenId, prefix + "*")).Select(d => d.SerialNumber)
                .Distinct(StringComparer.OrdinalIgnoreCase).Take(MaxResults).ToList();
        }
        catch (Exception)
        {
            yield break; // completion never throws at the user
        }

        foreach (var serial in serials.Order(StringComparer.Ordinal))
        {
            yield return new CompletionResult(serial, serial, CompletionResultType.ParameterValue, serial);
        }
    }
}

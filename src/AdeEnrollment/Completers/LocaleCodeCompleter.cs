using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using AdeEnrollment.Engine.Rules;

namespace AdeEnrollment.Completers;

/// <summary>
/// Completes a profile's -Language (ISO 639 codes) and -Region (ISO 3166-1 alpha-2 codes). What is typed matches the
/// start of a code or of its English name ("ger" offers de, deu and ger; "Swi" offers CH), and the code is what
/// completes, two-letter codes first; the engine checks the value given.
/// </summary>
public sealed class LocaleCodeCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var typed = wordToComplete.Trim('\'', '"');
        var codes = parameterName.Equals("Region", StringComparison.OrdinalIgnoreCase) ? IsoCodes.Regions : IsoCodes.Languages;
        // two-letter codes first (the ones Apple's own settings use), then codes before names: "Ger" offers de first
        return codes.Where(c => c.Code.StartsWith(typed, StringComparison.OrdinalIgnoreCase) || (typed.Length > 0 && c.Name.StartsWith(typed, StringComparison.OrdinalIgnoreCase)))
            .OrderBy(c => c.Code.Length)
            .ThenBy(c => c.Code.StartsWith(typed, StringComparison.OrdinalIgnoreCase) ? 0 : 1)
            .ThenBy(c => c.Code, StringComparer.Ordinal)
            .Select(c => new CompletionResult(c.Code, $"{c.Code} {c.Name}", CompletionResultType.ParameterValue, c.Name));
    }
}

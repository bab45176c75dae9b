using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using AdeEnrollment.Engine.Business;

namespace AdeEnrollment.Completers;

/// <summary>Completes -DefaultProductFamily and Get-AdeOrgDevice -ProductFamily with Apple's product families (the engine checks the value given).</summary>
public sealed class ProductFamilyCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var prefix = wordToComplete.Trim('\'', '"');
        return BusinessService.DefaultFamilies.Where(f => f.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            .Select(f => new CompletionResult(f, f, CompletionResultType.ParameterValue,
                parameterName == "ProductFamily" ? "The organisation's " + f + " devices" : "New " + f + " devices of the organisation go to this server"));
    }
}

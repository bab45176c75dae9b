using AdeEnrollment.Engine.Rules;
using System.Collections;
using System.Management.Automation;
using System.Management.Automation.Language;
using AdeEnrollment.Engine;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Host;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Completers;

/// <summary>
/// Completes -HiddenScreen with the panes of the profile's platform only: -Platform when given (New-AdeProfile), the
/// platform of -Profile (Set-AdeProfile), otherwise iOS.
/// </summary>
public sealed class SetupScreenCompleter : IArgumentCompleter
{
    public IEnumerable<CompletionResult> CompleteArgument(string commandName, string parameterName, string wordToComplete, CommandAst commandAst, IDictionary fakeBoundParameters)
    {
        var platform = PlatformOf(fakeBoundParameters);
        var prefix = wordToComplete.Trim('\'', '"');
        foreach (var row in SetupScreens.On(platform).OrderBy(r => r.Screen.ToString(), StringComparer.OrdinalIgnoreCase))
        {
            var name = row.Screen.ToString();
            if (name.StartsWith(prefix, StringComparison.OrdinalIgnoreCase))
            {
                yield return new CompletionResult(name, name, CompletionResultType.ParameterValue, $"{row.Pane} ({row.Key}; {row.On(platform)})");
            }
        }
    }

    private static DevicePlatform PlatformOf(IDictionary bound)
    {
        if (bound["Platform"] is { } given && Enum.TryParse<DevicePlatform>(given.ToString(), ignoreCase: true, out var platform))
        {
            return platform;
        }

        try
        {
            if (bound["Profile"] is { } profile && CompletionSupport.Engine() is { } engine)
            {
                return engine.Profiles.Resolve(profile.ToString()!, bound["Token"]?.ToString()).Platform;
            }
        }
        catch (Exception)
        {
            // an unknown profile completes with iOS panes
        }

        return DevicePlatform.iOS;
    }
}

using System.Text.RegularExpressions;

namespace AdeEnrollment.Simulator.Service;

/// <summary>The path patterns of Set-AdeSimFault -Endpoint and Get-AdeSimRequest -Path: * and ? wildcards, case-insensitive.</summary>
internal static class PathPattern
{
    /// <summary>"*" stays as is; any other pattern gets a leading "/" when it has none.</summary>
    public static string Normalise(string pattern) => pattern == "*" || pattern.StartsWith('/') ? pattern : "/" + pattern;

    public static bool Matches(string pattern, string path)
    {
        if (pattern == "*")
        {
            return true;
        }

        var regex = "^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$";
        return Regex.IsMatch(path, regex, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }
}

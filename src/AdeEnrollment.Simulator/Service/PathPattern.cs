using System.Text.RegularExpressions;

namespace AdeEnrollment.Simulator.Service;

/// <summary>
/// The path patterns of Set-AdeSimFault -Endpoint and Get-AdeSimRequest -Path: * and ? wildcards and <c>{id}</c> for any
/// one segment (as the endpoint templates write it), case-insensitive.
/// </summary>
internal static class PathPattern
{
    /// <summary>"*" stays as is; any other pattern gets a leading "/" when it has none.</summary>
    public static string Normalise(string pattern) => pattern == "*" || pattern.StartsWith('/') ? pattern : "/" + pattern;

    /// <summary>Whether a path without wildcards fits a template whose <c>{id}</c> segments stand for any one segment.</summary>
    public static bool MatchesTemplate(string path, string template)
    {
        var have = path.Split('/');
        var want = template.Split('/');
        return have.Length == want.Length
               && have.Zip(want).All(p => p.Second == "{id}" ? p.First.Length > 0 : string.Equals(p.First, p.Second, StringComparison.OrdinalIgnoreCase));
    }

    public static bool Matches(string pattern, string path)
    {
        if (pattern == "*")
        {
            return true;
        }

        var regex = "^" + Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal)
            .Replace("\\{id}", "[^/]+", StringComparison.OrdinalIgnoreCase) + "$";
        return Regex.IsMatch(path, regex, RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }
}

using System.Text;
using System.Text.RegularExpressions;

namespace AdeEnrollment.Engine;

/// <summary>PowerShell-style wildcards (<c>*</c>, <c>?</c>, <c>[abc]</c>, backtick escape), case-insensitive.</summary>
public static class Wildcard
{
    public static bool HasWildcard(string pattern) => pattern.IndexOfAny(['*', '?', '[']) >= 0;

    public static Regex ToRegex(string pattern)
    {
        var sb = new StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '`' when i + 1 < pattern.Length:
                    sb.Append(Regex.Escape(pattern[++i].ToString()));
                    break;
                case '*':
                    sb.Append(".*");
                    break;
                case '?':
                    sb.Append('.');
                    break;
                case '[':
                    var close = pattern.IndexOf(']', i + 1);
                    if (close > i + 1)
                    {
                        sb.Append('[').Append(pattern[(i + 1)..close].Replace("\\", "\\\\", StringComparison.Ordinal)).Append(']');
                        i = close;
                    }
                    else
                    {
                        sb.Append(Regex.Escape("["));
                    }

                    break;
                default:
                    sb.Append(Regex.Escape(c.ToString()));
                    break;
            }
        }

        return new Regex(sb.Append('$').ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    }

    public static bool IsMatch(string value, string pattern) => ToRegex(pattern).IsMatch(value);
}

using System.Globalization;

namespace AdeEnrollment.Engine;

/// <summary>A count with its noun in the right number ("1 device", "1,250 devices"): every message counts this way.</summary>
public static class Counted
{
    /// <summary>A count as messages write it: "1,234" whatever the session's culture (messages are in one language).</summary>
    public static string N(long count) => count.ToString("N0", CultureInfo.InvariantCulture);

    public static string Of(long count, string singular, string? plural = null)
        => count == 1 ? "1 " + singular : count.ToString("N0", CultureInfo.InvariantCulture) + " " + (plural ?? singular + "s");

    /// <summary>The first <paramref name="max"/> items, then "and N more" (for one summary line instead of one line per item).</summary>
    public static string FirstFew(IReadOnlyCollection<string> items, int max = 5)
        => items.Count <= max
            ? string.Join(", ", items)
            : string.Join(", ", items.Take(max)) + " and " + (items.Count - max).ToString("N0", CultureInfo.InvariantCulture) + " more";
}

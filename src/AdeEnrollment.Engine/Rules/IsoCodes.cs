using System.Collections.Frozen;

namespace AdeEnrollment.Engine.Rules;

/// <summary>
/// The language and region codes a profile's Setup Assistant language and region may take: ISO 639-1 or ISO 639-2 codes
/// (lower case) and ISO 3166-1 alpha-2 codes (upper case), plus Kosovo's XK, which Apple's region list has. The special
/// codes (mul, und, zxx, mis) and the collective ones that name a group of languages are left out: no device is set to
/// them. A code outside the lists reaches a device that knows no such language or region, so it is refused with a hint
/// at the code that was probably meant.
/// </summary>
public static partial class IsoCodes
{
    /// <summary>The lookups, built on first use (a class of their own: the lists are fields of the other half of this class,
    /// and static fields of two files of one class are initialised in no fixed order).</summary>
    private static class Index
    {
        public static readonly FrozenDictionary<string, string> Languages = LanguageList.ToFrozenDictionary(x => x.Code, x => x.Name, StringComparer.Ordinal);
        public static readonly FrozenDictionary<string, string> Regions = RegionList.ToFrozenDictionary(x => x.Code, x => x.Name, StringComparer.Ordinal);
    }

    /// <summary>Every language code with its English name, two-letter codes first.</summary>
    public static IEnumerable<(string Code, string Name)> Languages => LanguageList.OrderBy(x => x.Code.Length).ThenBy(x => x.Code, StringComparer.Ordinal);

    /// <summary>Every region code with its English name.</summary>
    public static IEnumerable<(string Code, string Name)> Regions => RegionList.Select(x => (x.Code, x.Name));

    /// <summary>The English name of a lower-case ISO 639 code, or null when it is none.</summary>
    public static string? LanguageName(string code) => Index.Languages.GetValueOrDefault(code);

    /// <summary>The English name of an upper-case ISO 3166-1 alpha-2 code, or null when it is none.</summary>
    public static string? RegionName(string code) => Index.Regions.GetValueOrDefault(code);

    /// <summary>
    /// For a value that is no language code: the code probably meant, as a phrase for an error message ("'de' (German)"),
    /// or null. Reads a locale such as en-US or de_CH as its language, and an English language name as its code.
    /// </summary>
    public static string? LanguageHint(string value)
    {
        var cut = value.IndexOfAny(['-', '_']);
        if (cut > 0 && LanguageName(value[..cut].ToLowerInvariant()) is { } name)
        {
            var code = value[..cut].ToLowerInvariant();
            return $"'{code}' ({name}): give the language alone; the region is a setting of its own (-Region)";
        }

        var named = LanguageList.Where(x => x.Name.Equals(value.Trim(), StringComparison.OrdinalIgnoreCase)).OrderBy(x => x.Code.Length).FirstOrDefault();
        return named.Code is null ? null : $"'{named.Code}' ({named.Name})";
    }

    /// <summary>
    /// For a value that is no region code: the code probably meant, as a phrase for an error message ("'GB' (United
    /// Kingdom)"), or null. Knows UK (ISO's code is GB), alpha-3 codes such as DEU and English region names.
    /// </summary>
    public static string? RegionHint(string value)
    {
        var v = value.Trim();
        if (v.Equals("UK", StringComparison.OrdinalIgnoreCase))
        {
            return $"'GB' ({RegionName("GB")})";
        }

        var match = RegionList.FirstOrDefault(x => x.Alpha3.Equals(v, StringComparison.OrdinalIgnoreCase) || x.Name.Equals(v, StringComparison.OrdinalIgnoreCase));
        return match.Code is null ? null : $"'{match.Code}' ({match.Name})";
    }
}

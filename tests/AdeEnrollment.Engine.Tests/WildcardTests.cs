using System.Management.Automation;

namespace AdeEnrollment.Engine.Tests;

/// <summary>
/// The module's one name rule, checked against PowerShell's own <see cref="WildcardPattern"/>: same answer for every
/// pattern of a table and of a few thousand random ones, no regex, no super-linear blow-up.
/// </summary>
public sealed class WildcardTests
{
    public static TheoryData<string, string> Table => new()
    {
        { "Contoso", "Contoso" }, { "contoso", "CONTOSO" }, { "Contoso EU", "Contoso*" }, { "Contoso", "Contoso*" },
        { "Contoso EU", "*EU" }, { "Contoso EU", "*US" }, { "Contoso EU", "Contoso" }, { "Contoso EU", "Contoso ?U" },
        { "Contoso U", "Contoso ?U" }, { "Server A", "Server [AB]" }, { "Server C", "Server [AB]" },
        { "Server b", "Server [a-c]" }, { "Server B", "Server [a-c]" }, { "Server [A]", "Server `[A`]" },
        { "Server A", "Server `[A`]" }, { "a*b", "a`*b" }, { "axb", "a`*b" }, { "Contoso.EU", "Contoso.EU" },
        { "ContosoXEU", "Contoso.EU" }, { "a+b (1) $x ^y |z", "a+b (1) $x ^y |z" }, { "back\\slash", "back\\slash" },
        { "tick`", "tick`" }, { "", "*" }, { "", "?" }, { "a", "[^a]" }, { "^", "[^a]" }, { "b", "[^a]" },
        { "a", "[!a]" }, { "!", "[!a]" }, { "b", "[!a]" }, { "a]", "[a]]" }, { "]", "[]]" }, { "a", "[]a]" },
        { "-", "[a-]" }, { "b", "[-b]" }, { "x", "[`]]" }, { "]", "[`]]" }, { "`", "``" }, { "a", "[a`-c]" },
        { "b", "[a`-c]" }, { "-", "[a`-c]" }, { "]", "]" }, { "ab", "a*?b" }, { "axb", "a*?b" }, { "e", "[a-ce-g]" },
        { "d", "[a-ce-g]" }, { "z", "[A-c]" }, { "_", "[A-c]" }, { "\u0130", "i" }, { "\u00df", "SS" }, { "É", "é" },
        { "Sites new", "Sites [new-old]" }, { "x[y", "x[y" }, { "a", "[]" }, { "b", "[c-a]" }, { "a", "[a" },
        { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "*a*a*a*a*a*a*b" },
    };

    [Theory]
    [MemberData(nameof(Table))]
    public void Agrees_with_PowerShells_WildcardPattern(string value, string pattern)
    {
        Assert.Equal(PowerShellAnswer(value, pattern), Wildcard.IsMatch(value, pattern));
    }

    [Fact]
    public void Agrees_with_PowerShells_WildcardPattern_on_random_patterns()
    {
        // A small alphabet full of metacharacters makes every construct (sets, ranges, escapes, stars) frequent.
        const string alphabet = "aAbB-*?[]`!^_z";
        var random = new Random(20261130);
        var disagreements = new HashSet<string>();
        for (var n = 0; n < 20_000; n++)
        {
            var pattern = RandomText(random, alphabet, 7);
            var value = RandomText(random, "aAbB-[]`!^_zc", 5);
            if (pattern == "`")
            {
                continue; // PowerShell's one quirk: a lone backtick matches the empty string (and not a backtick)
            }

            if (PowerShellAnswer(value, pattern) != Wildcard.IsMatch(value, pattern))
            {
                disagreements.Add($"'{value}' -like '{pattern}'");
            }
        }

        Assert.True(disagreements.Count == 0, string.Join(Environment.NewLine, disagreements.Take(40)));
    }

    [Theory]
    [InlineData("Contoso", false)]
    [InlineData("Contoso*", true)]
    [InlineData("Cont?so", true)]
    [InlineData("Server [A]", true)]
    [InlineData("a]", true)]
    [InlineData("a`*", false)]
    [InlineData("a``*", true)]
    [InlineData("a`[b", false)]
    public void HasWildcard_is_PowerShells_rule(string pattern, bool expected)
    {
        Assert.Equal(expected, Wildcard.HasWildcard(pattern));
        Assert.Equal(WildcardPattern.ContainsWildcardCharacters(pattern), Wildcard.HasWildcard(pattern));
    }

    [Theory]
    [InlineData("Contoso", false)]
    [InlineData("Contoso*", true)]
    [InlineData("Server [A]", true)]
    [InlineData("nope[", false)]
    [InlineData("Sites [new-old]", false)]
    [InlineData("Sites []", false)]
    [InlineData("a`*", false)]
    public void A_pattern_PowerShell_refuses_is_a_literal_name(string text, bool expected)
    {
        Assert.Equal(expected, Wildcard.IsPattern(text));
        Assert.Equal(expected, Wildcard.HasWildcard(text) && Wildcard.Parse(text).IsValid);
    }

    [Fact]
    public void An_exact_name_wins_over_its_wildcard_reading()
    {
        string[] names = ["Contoso [EU]", "Contoso E", "Contoso U", "Sites [new-old]"];
        Assert.Equal(["Contoso [EU]"], Wildcard.Select(names, n => n, "contoso [eu]"));
        Assert.Equal(["Contoso E", "Contoso U"], Wildcard.Select(names.Skip(1), n => n, "Contoso [EU]"));
        Assert.Equal(["Sites [new-old]"], Wildcard.Select(names, n => n, "Sites [new-old]"));
        Assert.Empty(Wildcard.Select(names, n => n, "Sites [new-old]x"));
        Assert.Empty(Wildcard.Select(names, n => n, "Contoso")); // no wildcard: exact only, never a substring
    }

    [Fact]
    public void A_name_with_escaped_brackets_names_that_name_as_PowerShell_like_reads_it()
    {
        string[] names = ["Staff [Paris]", "Staff P", "Odd `name"];
        Assert.Equal(["Staff [Paris]"], Wildcard.Select(names, n => n, "Staff `[Paris`]"));
        Assert.Equal(["Staff [Paris]"], Wildcard.Select(names, n => n, "staff `[paris`]"));
        Assert.True(new WildcardPattern("Staff `[Paris`]", WildcardOptions.IgnoreCase).IsMatch("Staff [Paris]")); // PowerShell agrees
        Assert.Equal(["Odd `name"], Wildcard.Select(names, n => n, "Odd `name")); // a backtick of the name itself: the exact name first
        Assert.Empty(Wildcard.Select(names, n => n, "Staff `[Par`]"));
    }

    [Fact]
    public void A_pathological_pattern_is_answered_at_once()
    {
        // A backtracking regex never finishes this (the suite would hang); the matcher's work is bounded by
        // pattern x name length.
        var value = new string('a', 5_000);
        Assert.False(Wildcard.IsMatch(value, "*a*a*a*a*a*a*a*a*a*a*a*a*b"));
        Assert.True(Wildcard.IsMatch(value + "b", "*a*a*a*a*a*a*a*a*a*a*a*a*b"));
    }

    [Theory]
    [InlineData("Cont", "Contoso EU", true)]
    [InlineData("cont", "Contoso EU", true)]
    [InlineData("*EU", "Contoso EU", true)]
    [InlineData("Contoso [E", "Contoso [EU]", true)]
    [InlineData("Contoso [E]", "Contoso EU", true)]
    [InlineData("Fab", "Contoso EU", false)]
    public void Completion_uses_the_same_rule(string word, string name, bool expected)
    {
        Assert.Equal(expected, Wildcard.Completes(name, word));
    }

    private static bool PowerShellAnswer(string value, string pattern)
    {
        try
        {
            return WildcardPattern.Get(pattern, WildcardOptions.IgnoreCase).IsMatch(value);
        }
        catch (WildcardPatternException)
        {
            return false; // PowerShell refuses the pattern: as a wildcard it names nothing
        }
    }

    private static string RandomText(Random random, string alphabet, int maxLength)
    {
        var chars = new char[random.Next(0, maxLength + 1)];
        for (var i = 0; i < chars.Length; i++)
        {
            chars[i] = alphabet[random.Next(alphabet.Length)];
        }

        return new string(chars);
    }
}

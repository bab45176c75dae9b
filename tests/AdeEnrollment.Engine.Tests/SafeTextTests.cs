using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Tests;

/// <summary>The character rule for text shown in a terminal, over whole characters (surrogate pairs) rather than UTF-16 units.</summary>
public sealed class SafeTextTests
{
    private static readonly string Pager = char.ConvertFromUtf32(0x1F4DF);
    private static readonly string TagA = char.ConvertFromUtf32(0xE0041); // an invisible tag character, above U+FFFF

    [Fact]
    public void A_whole_pair_is_safe_but_half_of_one_and_an_invisible_character_above_U_FFFF_are_not()
    {
        Assert.False(SafeText.HasUnsafe("Pager " + Pager));
        Assert.True(SafeText.HasUnsafe("Half " + Pager[0]));
        Assert.True(SafeText.HasUnsafe(Pager[1] + " half"));
        Assert.True(SafeText.HasUnsafe("Tagged" + TagA));
        Assert.False(SafeText.HasUnsafe(null));
    }

    [Fact]
    public void Neutralise_replaces_each_unsafe_character_or_half_pair_by_one_U_FFFD_and_keeps_whole_pairs()
    {
        Assert.Equal("A\uFFFDB\uFFFDC" + Pager, SafeText.Neutralise("A" + TagA + "B\u001bC" + Pager));
        Assert.Equal("x\uFFFD", SafeText.Neutralise("x" + Pager[0]));
    }

    [Fact]
    public void Truncate_never_cuts_a_pair_in_two()
    {
        var text = new string('a', 124) + Pager; // 126 UTF-16 units
        Assert.Equal(new string('a', 124), SafeText.Truncate(text, 125));
        Assert.Equal(text, SafeText.Truncate(text, 126));
        Assert.Equal("ab", SafeText.Truncate("abc", 2));
    }

    [Fact]
    public void A_token_name_taken_from_a_long_file_name_keeps_whole_characters()
    {
        var name = TokenService.NameFromFile("/tmp/" + string.Concat(Enumerable.Repeat(Pager, 70)) + "_Token_2026-01-01_smime.p7m");
        Assert.Equal(124, name.Length); // 62 whole pagers: the 63rd would pass 125 units
        Assert.False(SafeText.HasUnsafe(name));
    }
}

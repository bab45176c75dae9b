namespace AdeEnrollment.Engine.Tests;

public sealed class WildcardTests
{
    [Theory]
    [InlineData("Contoso", "Contoso", true)]
    [InlineData("contoso", "CONTOSO", true)]            // case-insensitive
    [InlineData("Contoso EU", "Contoso*", true)]
    [InlineData("Contoso", "Contoso*", true)]            // * matches nothing too
    [InlineData("Contoso EU", "*EU", true)]
    [InlineData("Contoso EU", "*US", false)]
    [InlineData("Contoso EU", "Contoso", false)]         // anchored: no substring match
    [InlineData("Contoso EU", "Contoso ?U", true)]
    [InlineData("Contoso U", "Contoso ?U", false)]       // ? is exactly one character
    [InlineData("Server A", "Server [AB]", true)]
    [InlineData("Server C", "Server [AB]", false)]
    [InlineData("Server b", "Server [a-c]", true)]
    [InlineData("Server [A]", "Server `[A`]", true)]      // backtick escapes
    [InlineData("Server A", "Server `[A`]", false)]
    [InlineData("a*b", "a`*b", true)]
    [InlineData("axb", "a`*b", false)]
    [InlineData("Contoso.EU", "Contoso.EU", true)]       // regex metacharacters are literal
    [InlineData("ContosoXEU", "Contoso.EU", false)]
    [InlineData("a+b (1) $x ^y |z", "a+b (1) $x ^y |z", true)]
    [InlineData("back\\slash", "back\\slash", true)]
    [InlineData("x[y", "x[y", true)]                     // an unclosed [ is literal
    [InlineData("tick`", "tick`", true)]                 // a trailing backtick is literal
    [InlineData("", "*", true)]
    public void IsMatch(string value, string pattern, bool expected)
    {
        Assert.Equal(expected, Wildcard.IsMatch(value, pattern));
    }

    [Theory]
    [InlineData("Contoso", false)]
    [InlineData("Contoso*", true)]
    [InlineData("Cont?so", true)]
    [InlineData("Server [A]", true)]
    public void HasWildcard(string pattern, bool expected)
    {
        Assert.Equal(expected, Wildcard.HasWildcard(pattern));
    }
}

using System.Globalization;
using System.Text;

namespace AdeEnrollment.Engine;

/// <summary>
/// The character rule for text shown in a terminal, at the bottom of the engine so that every layer (the error
/// catalogue included) can apply it: control characters (C0, DEL, C1 — ESC, so every terminal escape sequence) and
/// the invisible format characters that reorder or hide text (bidirectional overrides, zero-width characters) can
/// rewrite what an administrator sees. <see cref="Rules.TextRules"/> builds the name rules on it.
/// </summary>
public static class SafeText
{
    /// <summary>What replaces a neutralised character: U+FFFD, visibly "something was here".</summary>
    public const char Replacement = '\uFFFD';

    /// <summary>True for a character that may not appear in text shown to an administrator.</summary>
    public static bool IsUnsafe(char ch)
        => char.IsControl(ch)
           || char.GetUnicodeCategory(ch) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    public static bool HasUnsafe(string? text)
    {
        if (text is null)
        {
            return false;
        }

        foreach (var ch in text)
        {
            if (IsUnsafe(ch))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The text made safe to store and show: every unsafe character becomes U+FFFD.</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    public static string? Neutralise(string? text)
    {
        if (!HasUnsafe(text))
        {
            return text;
        }

        var builder = new StringBuilder(text!.Length);
        foreach (var ch in text)
        {
            builder.Append(IsUnsafe(ch) ? Replacement : ch);
        }

        return builder.ToString();
    }
}

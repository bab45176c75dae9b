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
    private static bool IsUnsafe(char ch)
        => char.IsControl(ch)
           || char.GetUnicodeCategory(ch) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    public static bool HasUnsafe(string? text)
    {
        if (text is null)
        {
            return false;
        }

        for (var i = 0; i < text.Length; i++)
        {
            if (IsUnsafe(text, i))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether the character at <paramref name="index"/> is unsafe: a character <see cref="IsUnsafe(char)"/> refuses, or half of a surrogate
    /// pair without its other half (no character at all: UTF-8, and so the store, would keep it as U+FFFD, and a name
    /// typed again would no longer match).
    /// </summary>
    private static bool IsUnsafe(string text, int index)
    {
        var ch = text[index];
        if (char.IsHighSurrogate(ch))
        {
            return index + 1 >= text.Length || !char.IsLowSurrogate(text[index + 1]);
        }

        if (char.IsLowSurrogate(ch))
        {
            return index == 0 || !char.IsHighSurrogate(text[index - 1]);
        }

        return IsUnsafe(ch);
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
        for (var i = 0; i < text.Length; i++)
        {
            builder.Append(IsUnsafe(text, i) ? Replacement : text[i]);
        }

        return builder.ToString();
    }
}

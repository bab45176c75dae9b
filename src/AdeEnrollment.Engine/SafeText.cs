using System.Buffers;
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
    private static bool IsUnsafe(Rune rune)
        => Rune.IsControl(rune)
           || Rune.GetUnicodeCategory(rune) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    /// <summary>
    /// True when the text holds an unsafe character: a control or invisible formatting character (in any plane: the
    /// tag characters U+E0000 and up are format characters too), or half of a surrogate pair without its other half (no
    /// character at all: UTF-8, and so the store, would keep it as U+FFFD, and a name typed again would no longer match).
    /// </summary>
    public static bool HasUnsafe(string? text)
    {
        if (text is null)
        {
            return false;
        }

        for (var i = 0; i < text.Length; i++)
        {
            var ch = text[i];
            if (ch is >= ' ' and < '\u007F')
            {
                continue; // printable ASCII: the text of nearly every name and every field from Apple, checked at once
            }

            if (UnsafeAt(text, i, out var used))
            {
                return true;
            }

            i += used - 1;
        }

        return false;
    }

    /// <summary>Whether the character at <paramref name="index"/> (<paramref name="used"/> UTF-16 units: 2 for a pair) is unsafe.</summary>
    private static bool UnsafeAt(string text, int index, out int used)
        => Rune.DecodeFromUtf16(text.AsSpan(index), out var rune, out used) != OperationStatus.Done || IsUnsafe(rune);

    /// <summary>The text made safe to store and show: every unsafe character (or half pair) becomes one U+FFFD.</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(text))]
    public static string? Neutralise(string? text)
    {
        if (!HasUnsafe(text))
        {
            return text;
        }

        var builder = new StringBuilder(text!.Length);
        var i = 0;
        while (i < text.Length)
        {
            if (UnsafeAt(text, i, out var used))
            {
                builder.Append(Replacement);
            }
            else
            {
                builder.Append(text, i, used);
            }

            i += used;
        }

        return builder.ToString();
    }

    /// <summary>The text cut to at most <paramref name="maxLength"/> UTF-16 units, never between the two halves of a pair.</summary>
    public static string Truncate(string text, int maxLength)
    {
        if (text.Length <= maxLength)
        {
            return text;
        }

        var cut = maxLength > 0 && char.IsHighSurrogate(text[maxLength - 1]) ? maxLength - 1 : maxLength;
        return text[..cut];
    }
}

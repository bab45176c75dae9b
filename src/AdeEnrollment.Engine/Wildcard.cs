namespace AdeEnrollment.Engine;

/// <summary>
/// The one name rule of the module: a token, profile or serial reference is an exact name first (case-insensitive),
/// otherwise a PowerShell wildcard with PowerShell's own semantics — <c>*</c>, <c>?</c>, <c>[abc]</c> sets with
/// <c>a-z</c> ranges, backtick escapes; no negation (PowerShell has none: <c>[!a]</c> is the set of '!' and 'a').
/// A pattern PowerShell refuses (an unclosed <c>[</c>, an empty or reversed set) matches nothing as a wildcard.
/// </summary>
/// <remarks>
/// No regular expression is built from user input: the pattern is parsed into single-character elements and
/// matched by a greedy scan that backtracks only to the last <c>*</c>, so the time is bounded by
/// pattern length × name length, whatever the input (docs/architecture.md, "One name rule").
/// </remarks>
public sealed class Wildcard
{
    private readonly Element[] elements;

    private Wildcard(string pattern, Element[]? elements)
    {
        Pattern = pattern;
        this.elements = elements ?? [];
        IsValid = elements is not null;
    }

    public string Pattern { get; }

    /// <summary>False when PowerShell would refuse the pattern; such a pattern matches no name.</summary>
    public bool IsValid { get; }

    /// <summary>True when <paramref name="pattern"/> has an unescaped <c>*</c>, <c>?</c>, <c>[</c> or <c>]</c> (PowerShell's rule).</summary>
    public static bool HasWildcard(string pattern)
    {
        for (var i = 0; i < pattern.Length; i++)
        {
            switch (pattern[i])
            {
                case '`':
                    i++;
                    break;
                case '*' or '?' or '[' or ']':
                    return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Whether <paramref name="text"/> is matched as a pattern: it has a wildcard character and PowerShell would accept
    /// it. Text that is not (<c>'Sites [new-old]'</c>, an unclosed <c>[</c>) is a literal name, so finding nothing is
    /// "not found", as for any other name.
    /// </summary>
    public static bool IsPattern(string text) => HasWildcard(text) && Compile(text) is not null;

    public static Wildcard Parse(string pattern) => new(pattern, Compile(pattern));

    public static bool IsMatch(string value, string pattern) => Parse(pattern).IsMatch(value);

    /// <summary>
    /// Whether two names are the same name: equal ignoring case in every script ('Ärzte' and 'ÄRZTE' as much as
    /// 'Kiosk' and 'KIOSK'), by their upper case or by their lower case: a few letters fold only one way ('ẞ' and 'ß',
    /// the Kelvin sign and 'k' have one lower case but no common upper case), and a database that folds names with
    /// lower() must never find two names the same that this says differ.
    /// </summary>
    public static bool SameName(string a, string b)
    {
        if (string.Equals(a, b, StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        if (a.Length != b.Length)
        {
            return false;
        }

        for (var i = 0; i < a.Length; i++)
        {
            if (a[i] != b[i] && char.ToLowerInvariant(a[i]) != char.ToLowerInvariant(b[i]) && char.ToUpperInvariant(a[i]) != char.ToUpperInvariant(b[i]))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The items that <paramref name="reference"/> names: those whose name equals it (case-insensitive) when there
    /// are any, otherwise those its wildcard reading matches. 'Contoso [EU]' is the token of that name when it exists,
    /// and 'Contoso `[EU`]' is that name too, escaped as PowerShell's -like reads it.
    /// </summary>
    public static List<T> Select<T>(IEnumerable<T> items, Func<T, string> name, string reference)
    {
        var all = items as IReadOnlyCollection<T> ?? items.ToList();
        var exact = all.Where(i => SameName(name(i), reference)).ToList();
        if (exact.Count > 0 || (!HasWildcard(reference) && !reference.Contains('`', StringComparison.Ordinal)))
        {
            return exact;
        }

        var pattern = Parse(reference);
        return all.Where(i => pattern.IsMatch(name(i))).ToList();
    }

    /// <summary>
    /// Tab completion under the same rule: <paramref name="name"/> is offered for the typed <paramref name="word"/>
    /// when it starts with the word, or when the word read as a wildcard followed by <c>*</c> matches it.
    /// </summary>
    public static bool Completes(string name, string word) =>
        name.StartsWith(word, StringComparison.OrdinalIgnoreCase) || (HasWildcard(word) && Parse(word + "*").IsMatch(name));

    public bool IsMatch(string value)
    {
        if (!IsValid)
        {
            return false;
        }

        int p = 0, s = 0, star = -1, starS = 0;
        while (s < value.Length)
        {
            if (p < elements.Length && elements[p].Kind == ElementKind.Star)
            {
                star = p++;
                starS = s;
            }
            else if (p < elements.Length && elements[p].Matches(value[s]))
            {
                p++;
                s++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                s = ++starS;
            }
            else
            {
                return false;
            }
        }

        while (p < elements.Length && elements[p].Kind == ElementKind.Star)
        {
            p++;
        }

        return p == elements.Length;
    }

    public override string ToString() => Pattern;

    private static Element[]? Compile(string pattern)
    {
        var list = new List<Element>(pattern.Length);
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            switch (c)
            {
                case '`' when i + 1 < pattern.Length:
                    list.Add(Element.Literal(pattern[++i]));
                    break;
                case '*':
                    if (list.Count == 0 || list[^1].Kind != ElementKind.Star)
                    {
                        list.Add(Element.Star);
                    }

                    break;
                case '?':
                    list.Add(Element.Any);
                    break;
                case '[':
                    var set = ParseSet(pattern, ref i);
                    if (set is null)
                    {
                        return null;
                    }

                    list.Add(set);
                    break;
                default:
                    list.Add(Element.Literal(c));
                    break;
            }
        }

        return [.. list];
    }

    /// <summary>Parses the set opening at <paramref name="i"/>; leaves <paramref name="i"/> on its closing ']'.</summary>
    private static Element? ParseSet(string pattern, ref int i)
    {
        var ranges = new List<(char From, char To)>();
        var first = true;
        for (var j = i + 1; j < pattern.Length; j++)
        {
            var c = pattern[j];
            if (c == ']' && !first)
            {
                if (ranges.Count == 0)
                {
                    return null;
                }

                i = j;
                return Element.Set([.. ranges]);
            }

            first = false;
            if (c == '`' && j + 1 < pattern.Length)
            {
                c = pattern[++j];
            }

            // A range needs an unescaped '-' followed by a character other than the closing ']'.
            if (j + 2 < pattern.Length && pattern[j + 1] == '-' && pattern[j + 2] != ']')
            {
                var to = pattern[j + 2];
                j += 2;
                if (to == '`' && j + 1 < pattern.Length)
                {
                    to = pattern[++j];
                }

                if (to < c)
                {
                    return null;
                }

                ranges.Add((c, to));
            }
            else
            {
                ranges.Add((c, c));
            }
        }

        return null; // no closing ']'
    }

    private enum ElementKind
    {
        Literal,
        Any,
        Star,
        Set,
    }

    private sealed class Element
    {
        public static readonly Element Any = new(ElementKind.Any, default, null);
        public static readonly Element Star = new(ElementKind.Star, default, null);

        private readonly char literal;
        private readonly (char From, char To)[]? ranges;

        private Element(ElementKind kind, char literal, (char, char)[]? ranges)
        {
            Kind = kind;
            this.literal = char.ToUpperInvariant(literal);
            this.ranges = ranges;
        }

        public ElementKind Kind { get; }

        public static Element Literal(char c) => new(ElementKind.Literal, c, null);

        public static Element Set((char, char)[] ranges) => new(ElementKind.Set, default, ranges);

        public bool Matches(char c) => Kind switch
        {
            ElementKind.Literal => char.ToUpperInvariant(c) == literal,
            ElementKind.Any => true,
            ElementKind.Set => InSet(c) || InSet(char.ToUpperInvariant(c)) || InSet(char.ToLowerInvariant(c)),
            _ => false,
        };

        private bool InSet(char c)
        {
            foreach (var (from, to) in ranges!)
            {
                if (c >= from && c <= to)
                {
                    return true;
                }
            }

            return false;
        }
    }
}

using System.Globalization;
using System.Text;
using AdeEnrollment.Engine.Errors;

namespace AdeEnrollment.Engine.Rules;

/// <summary>
/// Rules for text that is stored and later shown in a terminal: control characters (C0, DEL, C1 — which includes
/// ESC and so every terminal escape sequence), and the invisible format characters that reorder or hide text
/// (bidirectional overrides, zero-width characters) can rewrite what an administrator sees. Names given by the user
/// are refused when they hold one (<see cref="RefuseControlCharacters"/>); names that come from Apple are
/// neutralised before they are stored or shown (<see cref="Neutralise"/>). docs/security-apple.md explains why.
/// </summary>
public static class TextRules
{
    /// <summary>What replaces a neutralised character: U+FFFD, visibly "something was here".</summary>
    public const char Replacement = SafeText.Replacement;

    public static bool HasUnsafe(string? text) => SafeText.HasUnsafe(text);

    /// <summary>
    /// The one check of a name the user gives (token and profile names, new or changed): a name with a control or
    /// invisible format character is refused with <c>NameInvalid</c>, naming the parameter only (the value could
    /// itself rewrite the terminal).
    /// </summary>
    public static void RefuseControlCharacters(string parameter, string? name)
    {
        if (HasUnsafe(name))
        {
            throw ErrorCatalog.NameInvalid(parameter);
        }
    }

    /// <summary>
    /// True when one of <paramref name="names"/> other than the item <paramref name="except"/> is <paramref name="name"/>
    /// as -Token and -Profile find names (<see cref="Wildcard.SameName"/>): token names, and profile names within a token,
    /// are unique under that comparison. Neither database holds this rule by itself — SQLite's NOCASE folds A–Z only,
    /// PostgreSQL's lower() follows the database's collation — so the services apply it, in the write transaction that
    /// stores the name.
    /// </summary>
    public static bool NameTaken(IEnumerable<(Guid Id, string Name)> names, string name, Guid? except = null)
        => names.Any(n => n.Id != except && Wildcard.SameName(n.Name, name));

    /// <summary>
    /// An address the user gave, as a message may show it back: scheme, host, port and path only. A user name and
    /// password (<c>https://user:secret@host/</c>), a query and a fragment can carry secrets and are never shown; an
    /// address that is not http or https is shown by its scheme alone, since what follows the scheme may be anything.
    /// </summary>
    public static string ShownUri(Uri uri)
    {
        if (!uri.IsAbsoluteUri)
        {
            return "(a relative address)";
        }

        return uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp
            ? Neutralise(uri.GetComponents(UriComponents.SchemeAndServer | UriComponents.Path, UriFormat.UriEscaped))!
            : Neutralise(uri.Scheme + ":…")!;
    }

    /// <summary>Text from Apple, made safe to store and show: every unsafe character becomes U+FFFD.</summary>
    public static string? Neutralise(string? text) => SafeText.Neutralise(text);
}

using System.Security.Cryptography;
using System.Text;

namespace AdeEnrollment.Simulator.Service;

/// <summary>
/// Apple's side of OAuth 1.0a (RFC 5849, HMAC-SHA1) for <c>GET /session</c>, written independently of the engine's
/// signer so that the simulator checks the client rather than agreeing with it by construction.
/// </summary>
internal static class OAuthVerifier
{
    public const string SignatureMethod = "HMAC-SHA1";
    public const string Version = "1.0";

    /// <summary>The decoded parameters of an <c>Authorization: OAuth</c> header, duplicates kept; null when malformed.</summary>
    public static List<KeyValuePair<string, string>>? Parse(string? header)
    {
        const string scheme = "OAuth ";
        if (header is null || !header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var result = new List<KeyValuePair<string, string>>();
        var rest = header.AsSpan(scheme.Length);
        while (true)
        {
            rest = rest.TrimStart(" \t\r\n,");
            if (rest.IsEmpty)
            {
                return result;
            }

            var eq = rest.IndexOf('=');
            if (eq < 0 || eq + 1 >= rest.Length || rest[eq + 1] != '"')
            {
                return null;
            }

            var afterQuote = rest[(eq + 2)..];
            var close = afterQuote.IndexOf('"');
            if (close < 0)
            {
                return null;
            }

            result.Add(new(Uri.UnescapeDataString(rest[..eq].Trim().ToString()), Uri.UnescapeDataString(afterQuote[..close].ToString())));
            rest = afterQuote[(close + 1)..];
        }
    }

    /// <summary>The signature Apple expects for a GET of <paramref name="url"/> with these protocol parameters.</summary>
    public static string ExpectedSignature(Uri url, IEnumerable<KeyValuePair<string, string>> protocol, string consumerSecret, string tokenSecret)
    {
        var query = url.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries).Select(pair =>
        {
            var parts = pair.Split('=', 2);
            return new KeyValuePair<string, string>(Decode(parts[0]), parts.Length > 1 ? Decode(parts[1]) : "");
        });
        var pairs = protocol.Concat(query)
            .Select(p => Encode(p.Key) + "=" + Encode(p.Value))
            .Order(StringComparer.Ordinal);
        var port = url.IsDefaultPort ? "" : ":" + url.Port;
        var baseUri = $"{url.Scheme.ToLowerInvariant()}://{url.Host.ToLowerInvariant()}{port}{url.AbsolutePath}";
        var text = "GET&" + Encode(baseUri) + "&" + Encode(string.Join("&", pairs));
        var key = Encoding.ASCII.GetBytes(Encode(consumerSecret) + "&" + Encode(tokenSecret));
        return Convert.ToBase64String(HMACSHA1.HashData(key, Encoding.ASCII.GetBytes(text)));
    }

    private static string Decode(string value) => Uri.UnescapeDataString(value.Replace('+', ' '));

    /// <summary>RFC 3986 unreserved characters stay, every other UTF-8 byte is %XX in upper-case hex.</summary>
    private static string Encode(string value)
    {
        var builder = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            var c = (char)b;
            if (char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_' or '~')
            {
                builder.Append(c);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AdeEnrollment.Engine.Apple;

/// <summary>
/// OAuth 1.0a request signing with HMAC-SHA1 (RFC 5849 §3.4): percent encoding (§3.6), the signature base string
/// (§3.4.1) and the <c>Authorization: OAuth</c> header (§3.5.1). Used by the Apple client for <c>GET /session</c> and
/// by the simulator to verify it. Pure functions: no secret is kept or logged here.
/// </summary>
internal static class OAuth1
{
    public const string SignatureMethod = "HMAC-SHA1";
    public const string Version = "1.0";

    /// <summary>RFC 5849 §3.6: UTF-8, then every byte except ALPHA / DIGIT / "-" / "." / "_" / "~" as %XX (upper-case hex).</summary>
    public static string PercentEncode(string value)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var builder = new StringBuilder(bytes.Length * 3);
        foreach (var b in bytes)
        {
            if (b is >= (byte)'A' and <= (byte)'Z' or >= (byte)'a' and <= (byte)'z' or >= (byte)'0' and <= (byte)'9'
                or (byte)'-' or (byte)'.' or (byte)'_' or (byte)'~')
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        return builder.ToString();
    }

    /// <summary>Decodes %XX escapes (and, for form/query values, '+' as a space). Invalid escapes are kept as text.</summary>
    public static string PercentDecode(string value, bool plusIsSpace = false)
    {
        if (plusIsSpace)
        {
            value = value.Replace('+', ' ');
        }

        return Uri.UnescapeDataString(value);
    }

    /// <summary>RFC 5849 §3.4.1.2: lower-case scheme and host, the port only when not the scheme's default, the path.</summary>
    public static string BaseStringUri(Uri uri)
    {
        var scheme = uri.Scheme.ToLowerInvariant();
        var host = uri.Host.ToLowerInvariant();
        var defaultPort = (scheme == "http" && uri.Port == 80) || (scheme == "https" && uri.Port == 443);
        var path = string.IsNullOrEmpty(uri.AbsolutePath) ? "/" : uri.AbsolutePath;
        return defaultPort ? $"{scheme}://{host}{path}" : $"{scheme}://{host}:{uri.Port.ToString(CultureInfo.InvariantCulture)}{path}";
    }

    /// <summary>The query parameters of <paramref name="uri"/>, decoded (RFC 5849 §3.4.1.3.1).</summary>
    public static IEnumerable<KeyValuePair<string, string>> QueryParameters(Uri uri)
    {
        var query = uri.Query.TrimStart('?');
        if (query.Length == 0)
        {
            yield break;
        }

        foreach (var pair in query.Split('&'))
        {
            if (pair.Length == 0)
            {
                continue;
            }

            var equals = pair.IndexOf('=');
            var name = equals < 0 ? pair : pair[..equals];
            var value = equals < 0 ? "" : pair[(equals + 1)..];
            yield return new(PercentDecode(name, true), PercentDecode(value, true));
        }
    }

    /// <summary>
    /// RFC 5849 §3.4.1: <c>METHOD&amp;enc(base URI)&amp;enc(normalised parameters)</c>. <paramref name="parameters"/> are the
    /// decoded protocol parameters (without <c>realm</c> and <c>oauth_signature</c>) plus any form-body parameters; the
    /// query of <paramref name="uri"/> is added here.
    /// </summary>
    public static string BaseString(string method, Uri uri, IEnumerable<KeyValuePair<string, string>> parameters)
    {
        var normalised = parameters.Concat(QueryParameters(uri))
            .Select(p => (Name: PercentEncode(p.Key), Value: PercentEncode(p.Value)))
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .ThenBy(p => p.Value, StringComparer.Ordinal)
            .Select(p => p.Name + "=" + p.Value);
        return method.ToUpperInvariant() + "&" + PercentEncode(BaseStringUri(uri)) + "&" + PercentEncode(string.Join("&", normalised));
    }

    /// <summary>RFC 5849 §3.4.2: base64(HMAC-SHA1(enc(consumer secret) &amp; enc(token secret), base string)).</summary>
    public static string Sign(string baseString, string consumerSecret, string tokenSecret)
    {
        var key = Encoding.ASCII.GetBytes(PercentEncode(consumerSecret) + "&" + PercentEncode(tokenSecret));
        try
        {
            return Convert.ToBase64String(HMACSHA1.HashData(key, Encoding.ASCII.GetBytes(baseString)));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>RFC 5849 §3.5.1: <c>OAuth realm="…", name="enc(value)", …</c>.</summary>
    public static string AuthorizationHeader(IEnumerable<KeyValuePair<string, string>> parameters, string? realm = null)
    {
        var parts = new List<string>();
        if (realm is not null)
        {
            parts.Add($"realm=\"{realm}\"");
        }

        parts.AddRange(parameters.Select(p => $"{PercentEncode(p.Key)}=\"{PercentEncode(p.Value)}\""));
        return "OAuth " + string.Join(", ", parts);
    }

    /// <summary>
    /// Parses an <c>Authorization: OAuth …</c> header into its decoded parameters, in order and with duplicates kept
    /// (so that a verifier can refuse a duplicated protocol parameter). Null when it is not an OAuth header or is malformed.
    /// </summary>
    public static IReadOnlyList<KeyValuePair<string, string>>? ParseAuthorizationHeader(string? header)
    {
        if (header is null || !header.StartsWith("OAuth ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }

        var result = new List<KeyValuePair<string, string>>();
        var text = header[6..];
        var i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && (text[i] == ' ' || text[i] == ',' || text[i] == '\t' || text[i] == '\r' || text[i] == '\n'))
            {
                i++;
            }

            if (i >= text.Length)
            {
                break;
            }

            var equals = text.IndexOf('=', i);
            if (equals < 0)
            {
                return null;
            }

            var name = text[i..equals].Trim();
            i = equals + 1;
            if (i >= text.Length || text[i] != '"')
            {
                return null;
            }

            var close = text.IndexOf('"', i + 1);
            if (close < 0)
            {
                return null;
            }

            var value = text[(i + 1)..close];
            result.Add(new(PercentDecode(name), PercentDecode(value)));
            i = close + 1;
        }

        return result;
    }

    /// <summary>A fresh anti-replay value: 128 random bits as hex.</summary>
    public static string NewNonce() => Convert.ToHexString(RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace AdeEnrollment.Engine.Business;

/// <summary>
/// The JWT client assertion of the OAuth client-credentials exchange: header {alg ES256, kid, typ JWT}, claims
/// iss = sub = client ID, aud = Apple's exact audience, iat (back-dated a minute against clock skew), exp (at most 180
/// days after iat), jti; signed with ECDSA
/// P-256 / SHA-256 as the raw 64-byte r‖s (IEEE P1363) that JWS needs, not DER.
/// </summary>
internal static class ClientAssertion
{
    public const string Audience = "https://account.apple.com/auth/oauth2/v2/token";
    public static readonly TimeSpan MaxLifetime = TimeSpan.FromDays(180);

    /// <summary>Short-lived by choice: a fresh assertion per token request (Apple accepts up to 180 days).</summary>
    public static readonly TimeSpan DefaultLifetime = TimeSpan.FromMinutes(15);

    /// <summary>
    /// iat is back-dated by this much, so an Apple that refuses an iat in its future still accepts the assertion of a
    /// host whose clock runs up to a minute ahead (Apple documents no tolerance). exp stays now + lifetime.
    /// </summary>
    public static readonly TimeSpan IssuedAtMargin = TimeSpan.FromSeconds(60);

    public static string Create(ECDsa key, string clientId, string keyId, DateTimeOffset now, TimeSpan? lifetime = null)
    {
        var life = lifetime ?? DefaultLifetime;
        if (life <= TimeSpan.Zero || life + IssuedAtMargin > MaxLifetime)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), "A client assertion lives more than 0 and at most 180 days.");
        }

        var iat = (now - IssuedAtMargin).ToUnixTimeSeconds();
        var exp = now.ToUnixTimeSeconds() + (long)life.TotalSeconds;
        var header = Encode(w =>
        {
            w.WriteString("alg", "ES256");
            w.WriteString("kid", keyId);
            w.WriteString("typ", "JWT");
        });
        var claims = Encode(w =>
        {
            w.WriteString("iss", clientId);
            w.WriteString("sub", clientId);
            w.WriteString("aud", Audience);
            w.WriteNumber("iat", iat);
            w.WriteNumber("exp", exp);
            w.WriteString("jti", Guid.NewGuid().ToString("D"));
        });
        var signingInput = header + "." + claims;
        var signature = key.SignData(Encoding.ASCII.GetBytes(signingInput), HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return signingInput + "." + Base64Url(signature);
    }

    private static string Encode(Action<Utf8JsonWriter> write)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            write(w);
            w.WriteEndObject();
        }

        return Base64Url(buffer.ToArray());
    }

    public static string Base64Url(ReadOnlySpan<byte> data) => Convert.ToBase64String(data).TrimEnd('=').Replace('+', '-').Replace('/', '_');
}

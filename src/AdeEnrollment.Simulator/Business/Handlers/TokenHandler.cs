using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Business.Handlers;

/// <summary>
/// POST /auth/oauth2/token (and /v2/token): OAuth client credentials with an ES256 client assertion. Every check of
/// the assertion is made; a refusal is Apple's bare <c>{"error":"invalid_client"}</c> (400), its reason only in the
/// request log, or with the RfcOAuthErrors switch the RFC code of the reason (invalid_client then 401) with an
/// error_description naming it.
/// </summary>
internal static class TokenHandler
{
    public const string Audience = "https://account.apple.com/auth/oauth2/v2/token";
    private const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

    public static Answer Issue(BusinessRequest r)
    {
        var b = r.B;
        var form = System.Web.HttpUtility.ParseQueryString(Encoding.UTF8.GetString(r.X.Body));
        var query = System.Web.HttpUtility.ParseQueryString(r.X.Url.Query);
        string? P(string name) => form.Get(name) ?? query.Get(name);

        var reason = CheckAssertion(b, P("grant_type"), P("client_assertion_type"), P("client_id"), P("scope"), P("client_assertion"), out var account);
        if (reason is not null)
        {
            var code = b.Settings.RfcOAuthErrors ? RfcCode(reason) : "invalid_client";
            var refused = Answers.Json(w =>
            {
                w.WriteString("error", code);
                if (b.Settings.RfcOAuthErrors)
                {
                    w.WriteString("error_description", "The client assertion was refused: " + reason + "."); // RFC 6749 §5.2 allows it; Apple sends none
                }
            }, null);
            // RFC 6749 §5.2: invalid_client may be 401; Apple answers every refusal 400
            var status = b.Settings.RfcOAuthErrors && code == "invalid_client" ? 401 : 400;
            return new Answer { Status = status, Body = refused.Body, ContentType = "application/json", ErrorCode = code + ":" + reason };
        }

        var token = "sim-at-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        var lifetime = b.Settings.TokenLifetime;
        b.AccessTokens[token] = new SimAccessToken(account!.ClientId, account.Scope, b.Time.GetUtcNow() + lifetime);
        return BusinessJson.Api(w =>
        {
            w.WriteString("access_token", token);
            w.WriteString("token_type", "Bearer");
            w.WriteNumber("expires_in", (long)lifetime.TotalSeconds);
            w.WriteString("scope", account.Scope);
        });
    }

    /// <summary>The RFC 6749 / RFC 7523 error code of a refusal reason (the -OAuthErrorCodes Rfc variant).</summary>
    private static string RfcCode(string reason) => reason switch
    {
        "grant_type" => "unsupported_grant_type",
        "scope" => "invalid_scope",
        "client_assertion_type" or "format" or "iat_exp" or "jti" => "invalid_request",
        "expired" or "lifetime" or "iat_future" or "aud" or "jti_reused" => "invalid_grant",
        _ => "invalid_client", // unknown client, revoked key, kid, alg, signature, iss/sub
    };

    /// <summary>Apple's checks of a client assertion; returns the reason of a refusal (logged, never sent) or null.</summary>
    private static string? CheckAssertion(BusinessState b, string? grant, string? assertionType, string? clientId, string? scope, string? assertion, out SimApiAccount? account)
    {
        account = null;
        if (grant != "client_credentials") return "grant_type";
        if (assertionType != AssertionType) return "client_assertion_type";
        if (clientId is null || !b.Accounts.TryGetValue(clientId, out account)) return "client_id";
        if (account.Revoked) return "revoked";
        if (scope != account.Scope) return "scope";
        var parts = assertion?.Split('.') ?? [];
        if (parts.Length != 3) return "format";
        JsonElement header, claims;
        byte[] signature;
        try
        {
            header = JsonDocument.Parse(BusinessJson.Base64Url(parts[0])).RootElement;
            claims = JsonDocument.Parse(BusinessJson.Base64Url(parts[1])).RootElement;
            signature = BusinessJson.Base64Url(parts[2]);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return "format";
        }

        if (Str(header, "alg") != "ES256") return "alg";
        if (Str(header, "kid") != account.KeyId) return "kid";
        if (signature.Length != 64) return "signature_encoding";
        if (!account.PublicKey.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256)) return "signature";
        if (Str(claims, "sub") != clientId) return "sub";
        if (b.Settings.RequireAssertionIssuer && Str(claims, "iss") != clientId) return "iss";
        if (Str(claims, "aud") != Audience) return "aud";
        if (Str(claims, "jti") is not { } jti) return "jti";
        if (!claims.TryGetProperty("iat", out var iatValue) || !iatValue.TryGetInt64(out var iat)
            || !claims.TryGetProperty("exp", out var expValue) || !expValue.TryGetInt64(out var exp)) return "iat_exp";
        var now = b.Time.GetUtcNow().ToUnixTimeSeconds();
        if (exp <= now) return "expired";
        if (exp - iat > 180L * 86400) return "lifetime";
        if (iat > now + (long)b.Settings.AssertionClockSkew.TotalSeconds) return "iat_future";
        // taken last, so that only an assertion that passed every other check counts as used
        if (b.Settings.SingleUseAssertions && !b.UsedAssertions.Add((clientId, jti))) return "jti_reused";
        return null;

        static string? Str(JsonElement e, string name) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }
}

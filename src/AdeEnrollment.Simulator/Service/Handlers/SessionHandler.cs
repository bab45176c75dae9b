using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Service.Handlers;

/// <summary>GET /session: OAuth 1.0a HMAC-SHA1 (with or without realm) gives a session token for the server's token.</summary>
internal static class SessionHandler
{
    private static readonly HashSet<string> OAuthParameters = new(StringComparer.Ordinal)
    {
        "oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_timestamp", "oauth_nonce", "oauth_version", "oauth_signature",
    };

    private const int NoncesBeforeCleanup = 100_000;

    public static Answer Open(DepRequest r)
    {
        var state = r.State;
        var parameters = OAuthVerifier.Parse(r.X.Header("Authorization"));
        if (parameters is null)
        {
            return Answers.Error(400, "oauth_problem=parameter_absent");
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in parameters)
        {
            if (name == "realm")
            {
                continue;
            }

            if (!OAuthParameters.Contains(name) || !values.TryAdd(name, value))
            {
                return Answers.Error(400, "oauth_problem=parameter_rejected"); // unsupported or duplicated
            }
        }

        foreach (var required in OAuthParameters.Where(p => p != "oauth_version"))
        {
            if (!values.ContainsKey(required))
            {
                return Answers.Error(400, "oauth_problem=parameter_absent");
            }
        }

        if (values["oauth_signature_method"] != OAuthVerifier.SignatureMethod)
        {
            return Answers.Error(400, "oauth_problem=signature_method_rejected");
        }

        if (values.TryGetValue("oauth_version", out var version) && version != OAuthVerifier.Version)
        {
            return Answers.Error(400, "oauth_problem=version_rejected");
        }

        if (!state.ServersByConsumerKey.TryGetValue(values["oauth_consumer_key"], out var server))
        {
            return Answers.Error(401, "oauth_problem=consumer_key_unknown");
        }

        var now = r.Now;
        if (values["oauth_token"] != server.Credentials.AccessToken)
        {
            return Answers.Error(401, "oauth_problem=token_rejected"); // revoked, or replaced by a newer download
        }

        if (server.Credentials.AccessTokenExpiry <= now)
        {
            return Answers.Error(401, "oauth_problem=token_expired");
        }

        var signed = parameters.Where(p => p.Key != "realm" && p.Key != "oauth_signature");
        var expected = OAuthVerifier.ExpectedSignature(r.X.Url, signed, server.Credentials.ConsumerSecret, server.Credentials.AccessSecret);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(values["oauth_signature"])))
        {
            return Answers.Error(401, "oauth_problem=signature_invalid");
        }

        var skew = state.Settings.MaxClockSkew;
        if (!long.TryParse(values["oauth_timestamp"], NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp)
            || Math.Abs(now.ToUnixTimeSeconds() - timestamp) > skew.TotalSeconds)
        {
            return Answers.Error(401, "oauth_problem=timestamp_refused");
        }

        var nonceKey = server.Credentials.ConsumerKey + "|" + values["oauth_nonce"];
        if (state.Nonces.ContainsKey(nonceKey))
        {
            return Answers.Error(401, "oauth_problem=nonce_used");
        }

        if (state.Nonces.Count > NoncesBeforeCleanup)
        {
            foreach (var old in state.Nonces.Where(n => n.Value < now - skew - skew).Select(n => n.Key).ToList())
            {
                state.Nonces.Remove(old);
            }
        }

        state.Nonces[nonceKey] = now;
        var token = state.OpenSession(server, server.Credentials.AccessToken);
        return Answers.Json(w => w.WriteString("auth_session_token", token), server.Name);
    }
}

namespace AdeEnrollment.Engine.Apple;

/// <summary>The OAuth credentials inside an Apple server token. Holds secrets: never log or output it.</summary>
internal sealed record ServerTokenContent(
    string ConsumerKey,
    string ConsumerSecret,
    string AccessToken,
    string AccessSecret,
    DateTimeOffset AccessTokenExpiry)
{
    /// <summary>Never the secrets: only the consumer key, which identifies the MDM server.</summary>
    public override string ToString() => ConsumerKey;
}

/// <summary>
/// Everything an Apple client needs to act for one stored token: the service it talks to, the token's name (for
/// messages) and its decrypted OAuth credentials. Built by the token service, which owns the stored token; the Apple
/// client knows nothing of the store. Holds secrets: never log or output it.
/// </summary>
internal sealed record AppleTokenCredentials(Guid TokenId, string TokenName, Uri ServiceUri, ServerTokenContent OAuth)
{
    /// <summary>Never the secrets.</summary>
    public override string ToString() => $"{TokenName} ({TokenId})";
}

using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Tokens;

/// <summary>
/// What a device sync needs about its token, read from the store once (<see cref="TokenService.ForSync"/>): the token
/// as Get-AdeToken lists it, its default profiles by platform, and its Apple credentials, decrypted on first use.
/// Holds secrets once <see cref="Credentials"/> was read: never log or output it.
/// </summary>
internal sealed class TokenForSync
{
    private readonly Lazy<AppleTokenCredentials> credentials;

    public TokenForSync(AdeToken token, IReadOnlyDictionary<DevicePlatform, Guid> defaultProfileIds, Func<AppleTokenCredentials> openCredentials)
    {
        Token = token;
        DefaultProfileIds = defaultProfileIds;
        credentials = new Lazy<AppleTokenCredentials>(openCredentials, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public AdeToken Token { get; }

    /// <summary>The profile Id of each platform that has a default profile.</summary>
    public IReadOnlyDictionary<DevicePlatform, Guid> DefaultProfileIds { get; }

    /// <summary>For <see cref="AppleClientFactory.ForToken"/>.</summary>
    public AppleTokenCredentials Credentials => credentials.Value;

    public override string ToString() => Token.Name;
}

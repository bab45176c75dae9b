using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace AdeEnrollment.Engine.Apple;

/// <summary>
/// Apple session tokens (<c>X-ADM-Auth-Session</c>) of this process, so that consecutive commands reuse a session
/// instead of calling <c>/session</c> each time. In memory only; keyed by service and a hash of the access token.
/// </summary>
internal sealed class AppleSessionCache
{
    public static readonly AppleSessionCache Shared = new();

    private readonly ConcurrentDictionary<string, string> sessions = new(StringComparer.Ordinal);

    public static string KeyOf(Uri service, string accessToken)
        => service.GetLeftPart(UriPartial.Authority) + "|" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(accessToken)));

    public string? Get(string key) => sessions.TryGetValue(key, out var value) ? value : null;

    public void Set(string key, string session) => sessions[key] = session;

    /// <summary>Forgets <paramref name="session"/> unless another request already replaced it.</summary>
    public void Invalidate(string key, string? session)
    {
        if (session is null)
        {
            sessions.TryRemove(key, out _);
        }
        else
        {
            sessions.TryRemove(new KeyValuePair<string, string>(key, session));
        }
    }
}

using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Apple;

/// <summary>Checks a server token with Apple before it is stored (New-AdeToken).</summary>
internal interface IAppleTokenVerifier
{
    /// <summary>Calls <c>GET /account</c> with the credentials; throws the catalogued Apple error when Apple refuses them.</summary>
    AppleAccount Verify(Uri serviceUri, ServerTokenContent credentials, string tokenName);
}

/// <summary>
/// Makes Apple clients for the engine. A client for a stored token is made from the credentials the token service
/// decrypted for it (<see cref="AppleTokenCredentials"/>); the factory never reads the store.
/// </summary>
internal sealed class AppleClientFactory : IAppleTokenVerifier
{
    private readonly TimeProvider time;
    private readonly IAdeHost host;
    private readonly HttpMessageHandler? handler;
    private readonly AppleClientOptions? options;

    public AppleClientFactory(TimeProvider time, IAdeHost host, HttpMessageHandler? handler = null, AppleClientOptions? options = null)
    {
        this.time = time;
        this.host = host;
        this.handler = handler;
        this.options = options;
    }

    /// <summary>A client for a stored token, with its decrypted credentials.</summary>
    public AppleClient ForToken(AppleTokenCredentials credentials)
        => Create(credentials.ServiceUri, credentials.OAuth, credentials.TokenName);

    /// <summary>
    /// A client reporting to the engine's host. The client may report from pool threads while the caller waits; a host
    /// that only accepts its own thread (the PowerShell adapter) queues those reports and writes them when it can.
    /// </summary>
    public AppleClient Create(Uri serviceUri, ServerTokenContent credentials, string tokenName)
        => new(serviceUri, credentials, tokenName, time, host, handler, options);

    public AppleAccount Verify(Uri serviceUri, ServerTokenContent credentials, string tokenName)
    {
        var account = Create(serviceUri, credentials, tokenName).GetAccountAsync(host.Cancellation).GetAwaiter().GetResult();
        host.WriteVerbose($"Apple knows token '{tokenName}' as MDM server '{account.ServerName}' ({account.ServerUuid}) of '{account.OrgName}'.");
        return account;
    }
}

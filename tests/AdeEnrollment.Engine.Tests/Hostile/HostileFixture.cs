using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Sync;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Tests.Hostile;

/// <summary>
/// A store with one token whose service is a <see cref="HostileAppleServer"/>, and an engine that reaches it through
/// the production HTTP stack (real sockets, the client's own limits and decompression).
/// </summary>
internal sealed class HostileFixture : IDisposable
{
    public HostileFixture(TimeSpan? attemptTimeout = null)
    {
        Server = new HostileAppleServer();
        Options = new AppleClientOptions
        {
            DelayTimeProvider = Delays,
            MaxRetryAttempts = 1,
            AttemptTimeout = attemptTimeout ?? TimeSpan.FromSeconds(20),
            Sessions = new AppleSessionCache(),
        };
        Engine = new AdeEngine(Store.Store, Host, Store.Time, new AppleClientFactory(Store.Time, Host, null, Options));
        var request = Store.SeedRequest();
        var file = Store.AbmTokenFile(request, Store.Credentials());
        Token = Store.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), file, "admin@contoso.com", "Hostile", ServiceUri: Server.Uri))!;
    }

    public TestStore Store { get; } = new();

    public HostileAppleServer Server { get; }

    public InstantDelays Delays { get; } = new();

    public RecordingHost Host { get; } = new();

    public AppleClientOptions Options { get; }

    public AdeEngine Engine { get; }

    public AdeToken Token { get; }

    /// <summary>A first, well-behaved sync (3 devices, a cursor), then 16 minutes later: a manual delta is allowed.</summary>
    public void SyncOnceAndWait()
    {
        var first = Engine.Sync.Sync("Hostile")!;
        Assert.Equal(AdeSyncStatus.Succeeded, first.Status);
        Store.Time.Advance(TimeSpan.FromMinutes(16));
    }

    public string? Cursor() => Store.Scalar<string>("SELECT cursor FROM sync_state WHERE token_id = $t", ("$t", Token.Id.ToString()));

    /// <summary>The rows that must not change when Apple's answer is refused: devices, the token row, the cursor.</summary>
    public string State() => Store.Snapshot() + "cursor=" + Cursor();

    public void Dispose()
    {
        Server.Dispose();
        Store.Dispose();
    }
}

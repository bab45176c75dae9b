using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine;

/// <summary>The engine's services over one store, one clock and one host. Cheap to create per command.</summary>
public sealed class AdeEngine
{
    public AdeEngine(AdeStore store, IAdeHost host, TimeProvider? time = null)
    {
        Store = store;
        Host = host;
        Time = time ?? EngineClock.Current;
        Tokens = new TokenService(store, Time, host);
        StoreInfo = new StoreService(store);
    }

    public AdeStore Store { get; }

    public IAdeHost Host { get; }

    public TimeProvider Time { get; }

    public TokenService Tokens { get; }

    public StoreService StoreInfo { get; }
}

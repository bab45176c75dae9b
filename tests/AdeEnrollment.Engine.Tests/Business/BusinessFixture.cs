using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Simulator;

namespace AdeEnrollment.Engine.Tests.Business;

/// <summary>The sync fixture (store, simulator, a token of server "Contoso iPads") plus an API account of the simulated organisation.</summary>
internal sealed class BusinessFixture : IDisposable
{
    /// <param name="engineAhead">How far the engine's clock runs ahead of the simulator's (a host clock that is fast).</param>
    /// <param name="postgres">A PostgreSQL schema to hold the store in (instead of a SQLite file).</param>
    public BusinessFixture(BusinessClientOptions? options = null, bool sec1 = true, TimeSpan engineAhead = default, TestSupport.TestPostgresSchema? postgres = null)
    {
        Sim = new EngineSimFixture(postgres: postgres);
        Sim.Simulator.ActivityDuration = TimeSpan.FromSeconds(10);
        Options = options ?? new BusinessClientOptions { GetsPerMinute = 10_000, PostsPerHour = 100 };
        Options = new BusinessClientOptions
        {
            GetsPerMinute = Options.GetsPerMinute,
            PostsPerHour = Options.PostsPerHour,
            PageSize = Options.PageSize,
            MaxDevicesPerActivity = Options.MaxDevicesPerActivity,
            PollInterval = TimeSpan.FromSeconds(3),
            MaxLimitWait = Options.MaxLimitWait,
            MaxResponseBytes = Options.MaxResponseBytes,
            Handler = Options.Handler,
            Delay = (d, _) => { Waits.Add(d); OnDelay?.Invoke(d); Sim.Advance(d * WakeFactor); return Task.CompletedTask; },
        };
        TimeProvider engineTime = engineAhead == default ? Sim.Time : new AheadTime(Sim.Time, engineAhead);
        Engine = new AdeEngine(Sim.Store, Sim.Host, engineTime, new AppleClientFactory(engineTime, Sim.Host, null, new AppleClientOptions
        {
            DelayTimeProvider = new InstantDelays(),
            MaxRetryAttempts = 2,
            Sessions = new AppleSessionCache(),
        }), Options);
        Account = Sim.Simulator.NewBusinessAccount(out var pem, sec1: sec1);
        KeyPath = Sim.Temp.File("api-key.pem");
        File.WriteAllText(KeyPath, pem);
        Stored = Engine.Business.Accounts.New(new NewBusinessAccountArgs(Account.ClientId, Account.KeyId, KeyPath, Account.TokenUri, Account.ServiceUri))!;
    }

    public EngineSimFixture Sim { get; }

    public AdeSimulator Simulator => Sim.Simulator;

    public BusinessClientOptions Options { get; }

    public List<TimeSpan> Waits { get; } = [];

    /// <summary>Called at each wait of the client, before the clock moves (a test changes the simulator there).</summary>
    public Action<TimeSpan>? OnDelay { get; set; }

    /// <summary>How much of each delay passes before it returns (a timer that fires early: below 1).</summary>
    public double WakeFactor { get; set; } = 1;

    public AdeEngine Engine { get; }

    public AdeSimBusinessAccount Account { get; }

    public AdeBusinessAccount Stored { get; }

    public string KeyPath { get; }

    public TestSupport.RecordingHost Host => Sim.Host;

    /// <summary>An Apple School Manager API account of the simulator, stored in the engine too.</summary>
    public AdeSimBusinessAccount AddSchoolAccount()
    {
        var school = Simulator.NewBusinessAccount(out var pem, school: true);
        var keyPath = Sim.Temp.File($"school-{Guid.NewGuid():N}.pem");
        File.WriteAllText(keyPath, pem);
        Engine.Business.Accounts.New(new NewBusinessAccountArgs(school.ClientId, school.KeyId, keyPath, school.TokenUri, school.ServiceUri));
        return school;
    }

    /// <summary>A second engine on another instance of the store, as a second process or host would open it (it shares only the access token in memory).</summary>
    public AdeEngine SecondEngine(TestSupport.RecordingHost host)
        => new(Opened(Sim.OpenStore()), host, Sim.Time, new AppleClientFactory(Sim.Time, host, null, new AppleClientOptions
        {
            DelayTimeProvider = new InstantDelays(),
            MaxRetryAttempts = 2,
            Sessions = new AppleSessionCache(),
        }), Options);

    public int Requests(string path) => Simulator.GetRequests(path).Count;

    private readonly List<Engine.Storage.AdeStore> opened = [];

    private Engine.Storage.AdeStore Opened(Engine.Storage.AdeStore store)
    {
        opened.Add(store);
        return store;
    }

    public void Dispose()
    {
        if (Sim.Postgres is not null)
        {
            opened.ForEach(s => s.Release());
        }

        Sim.Dispose();
    }

    /// <summary>A clock a fixed amount ahead of another.</summary>
    private sealed class AheadTime(TimeProvider inner, TimeSpan ahead) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => inner.GetUtcNow() + ahead;
    }
}

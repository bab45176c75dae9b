using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tests.TestSupport;
using AdeEnrollment.Engine.Tokens;
using AdeEnrollment.Simulator;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace AdeEnrollment.Engine.Tests.Support;

/// <summary>
/// A store, an engine and the in-process simulator on one fake clock, with a token made the real way: a token
/// request, the simulator's ABM "add MDM server" with its PEM, and New-AdeToken of the .p7m.
/// </summary>
internal sealed class EngineSimFixture : IDisposable
{
    public const string Server = "Contoso iPads";

    /// <param name="postgres">A PostgreSQL schema to hold the store in (instead of a SQLite file).</param>
    public EngineSimFixture(int devices = 0, int seed = 7, TestPostgresSchema? postgres = null)
    {
        Temp = new TempDirectory();
        Postgres = postgres;
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 5, 4, 8, 0, 0, TimeSpan.Zero));
        Simulator = AdeSimulator.Start(seed: seed, time: Time);
        Store = OpenStore();
        Engine = NewEngine(Host);
        var request = Engine.Tokens.NewRequest(true, null)!;
        Simulator.NewServer(Server, request.PublicKeyPem, out var p7m, "Contoso Ltd", "it@contoso.example");
        var file = Temp.File("token.p7m");
        File.WriteAllText(file, p7m);
        Token = Engine.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), file, "it@contoso.example", Name: "iPads",
            EnrollmentUrl: "https://mdm.contoso.example/enroll", ServiceUri: Simulator.Uri))!;
        if (devices > 0)
        {
            Simulator.AddDevices(Server, devices);
        }
    }

    /// <summary>Another token made the real way (request, ABM server, New-AdeToken), with its own server of <paramref name="devices"/> devices.</summary>
    public AdeToken AddToken(string name, int devices = 0)
    {
        var request = Engine.Tokens.NewRequest(true, null)!;
        var server = "Server " + name;
        Simulator.NewServer(server, request.PublicKeyPem, out var p7m, "Contoso Ltd", "it@contoso.example");
        var file = Temp.File(name + ".p7m");
        File.WriteAllText(file, p7m);
        var token = Engine.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), file, "it@contoso.example", Name: name,
            EnrollmentUrl: "https://mdm.contoso.example/enroll", ServiceUri: Simulator.Uri))!;
        if (devices > 0)
        {
            Simulator.AddDevices(server, devices);
        }

        return token;
    }

    public TempDirectory Temp { get; }

    public FakeTimeProvider Time { get; }

    public AdeSimulator Simulator { get; }

    public AdeStore Store { get; }

    /// <summary>The PostgreSQL schema of the store; null for a SQLite store.</summary>
    public TestPostgresSchema? Postgres { get; }

    /// <summary>Opens the store (another instance on the same file or database, as another process or host would).</summary>
    public AdeStore OpenStore() => Postgres?.Open() ?? AdeStore.Open(Temp.File("sync.db"));

    public RecordingHost Host { get; } = new();

    public AdeEngine Engine { get; }

    public AdeToken Token { get; }

    /// <summary>A second engine over the same store, as another process would have.</summary>
    public AdeEngine NewEngine(Hosting.IAdeHost host, AdeStore? store = null)
        => new(store ?? Store, host, Time, new AppleClientFactory(Time, host, null, new AppleClientOptions
        {
            DelayTimeProvider = new InstantDelays(),
            MaxRetryAttempts = 2,
            Sessions = new AppleSessionCache(),
        }));

    public void Advance(TimeSpan by) => Time.Advance(by);

    /// <summary>The serials the engine holds for the token that are not removed from ABM.</summary>
    public SortedSet<string> EngineSerials()
        => new(Engine.Devices.Get(new Devices.DeviceQuery(Token.Id)).Where(d => d.AbmState == AdeAbmState.Assigned).Select(d => d.SerialNumber), StringComparer.Ordinal);

    public SortedSet<string> AppleSerials() => new(Simulator.GetDevices(Server).Select(d => d.SerialNumber), StringComparer.Ordinal);

    public long Sql(string sql)
    {
        using var c = new SqliteConnection($"Data Source={Store.Path};Pooling=False");
        c.Open();
        using var command = c.CreateCommand();
        command.CommandText = sql;
        return Convert.ToInt64(command.ExecuteScalar() ?? 0L);
    }

    public string? SqlText(string sql)
    {
        using var c = new SqliteConnection($"Data Source={Store.Path};Pooling=False");
        c.Open();
        using var command = c.CreateCommand();
        command.CommandText = sql;
        return command.ExecuteScalar() as string;
    }

    public void Dispose()
    {
        Simulator.Dispose();
        if (Postgres is not null)
        {
            Store.Release();
        }

        SqliteConnection.ClearAllPools();
        Temp.Dispose();
    }
}

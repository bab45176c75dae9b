using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Tokens;
using AdeEnrollment.Simulator;
using Microsoft.Extensions.Time.Testing;

namespace AdeEnrollment.Engine.Tests.Support;

/// <summary>An in-process simulator on a fake clock, one MDM server, and Apple clients for it.</summary>
internal sealed class SimulatorFixture : IDisposable
{
    private static string? certificatePem;

    public SimulatorFixture(int seed = 42, string server = "Contoso iPhones")
    {
        Time = new FakeTimeProvider(new DateTimeOffset(2026, 3, 2, 9, 0, 0, TimeSpan.Zero));
        Simulator = AdeSimulator.Start(seed: seed, time: Time);
        ServerName = server;
        Simulator.NewServer(server, CertificatePem, out _, "Contoso Ltd", "it.admin@contoso.example");
    }

    public FakeTimeProvider Time { get; }

    public AdeSimulator Simulator { get; }

    public string ServerName { get; }

    public RecordingHost Host { get; } = new();

    public InstantDelays Delays { get; } = new();

    /// <summary>One certificate for every test (RSA key generation is slow).</summary>
    public static string CertificatePem => certificatePem ??= TokenRequestFactory.Create(Guid.NewGuid(), DateTimeOffset.UtcNow).CertificatePem;

    public ServerTokenContent Credentials(string? server = null)
    {
        var c = Simulator.CredentialsOf(server ?? ServerName);
        return new ServerTokenContent(c.ConsumerKey, c.ConsumerSecret, c.AccessToken, c.AccessSecret, c.AccessTokenExpiry);
    }

    public AppleClientOptions Options(int retries = 4) => new()
    {
        DelayTimeProvider = Delays,
        MaxRetryAttempts = retries,
        Sessions = new AppleSessionCache(),
        AttemptTimeout = TimeSpan.FromSeconds(20),
    };

    public AppleClient Client(AppleClientOptions? options = null, ServerTokenContent? credentials = null, string? server = null)
        => new(Simulator.Uri, credentials ?? Credentials(server), server ?? ServerName, Time, Host, null, options ?? Options());

    public void Dispose() => Simulator.Dispose();
}

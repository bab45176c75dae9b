using AdeEnrollment.Engine.Storage;

namespace AdeEnrollment.Engine.Tests.Storage.Contract;

/// <summary>
/// The reads Test-AdeHealth makes of tables other than device and token (I&lt;Table&gt;.Health.cs): the schema version,
/// and a token's last success and sync lease. Sync state rows are seeded by <see cref="SeedSyncState"/> (a provider's
/// subclass overrides it).
/// </summary>
public abstract class HealthReadsContract : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);
    private TestStore? store;

    protected abstract TestStore CreateStore();

    protected TestStore Store => store ??= CreateStore();

    public void Dispose()
    {
        store?.Dispose();
        GC.SuppressFinalize(this);
    }

    protected virtual void SeedSyncState(Guid tokenId, DateTimeOffset? lastSuccess, string? leaseId, DateTimeOffset? leaseExpires)
        => Store.Execute("INSERT INTO sync_state (token_id, last_success_at, lease_id, lease_expires_at) VALUES ($t, $s, $l, $e)",
            ("$t", tokenId.ToString()), ("$s", lastSuccess?.ToUnixTimeMilliseconds()), ("$l", leaseId), ("$e", leaseExpires?.ToUnixTimeMilliseconds()));

    [Fact]
    public void SchemaVersion_IsTheLatest()
        => Assert.Equal(Schema.LatestVersion, Store.Store.Read(s => s.Meta.ReadSchemaVersion()));

    [Fact]
    public void SyncHealthState_IsNullBeforeAnySync_ThenReadsTheLastSuccessAndTheLease()
    {
        var a = Store.AddToken("A").Token;
        var b = Store.AddToken("B").Token;
        Assert.Null(Store.Store.Read(s => s.Sync.HealthState(a.Id)));

        SeedSyncState(a.Id, T0, "lease-1", T0.AddMinutes(30));
        SeedSyncState(b.Id, null, null, null);

        Assert.Equal(new SyncHealthRow(T0, "lease-1", T0.AddMinutes(30)), Store.Store.Read(s => s.Sync.HealthState(a.Id)));
        Assert.Equal(new SyncHealthRow(null, null, null), Store.Store.Read(s => s.Sync.HealthState(b.Id)));
    }
}

public sealed class SqliteHealthReadsContract : HealthReadsContract
{
    protected override TestStore CreateStore() => new();
}

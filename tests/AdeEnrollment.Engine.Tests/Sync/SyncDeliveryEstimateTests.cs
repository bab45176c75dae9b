using AdeEnrollment.Engine.Sync;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Tests.TestSupport;

namespace AdeEnrollment.Engine.Tests.Sync;

/// <summary>ExpectedAbmDeliveryMinutes: one reading (the devices still assigned in ABM) in a sync result and in Get-AdeSyncStatus, on each provider.</summary>
public sealed class SyncDeliveryEstimateTests
{
    public static TheoryData<string> Providers => ["SQLite", "PostgreSQL"];

    [Theory]
    [MemberData(nameof(Providers))]
    public void A_sync_result_and_the_sync_status_agree_and_count_only_the_devices_still_in_ABM(string provider)
    {
        using var schema = provider == "PostgreSQL" ? new TestPostgresSchema() : null;
        using var f = new EngineSimFixture(devices: 600, postgres: schema);
        f.Engine.Sync.Sync("iPads");
        foreach (var serial in f.AppleSerials().Take(300).ToList())
        {
            f.Simulator.RemoveDevice(EngineSimFixture.Server, serial);
        }

        f.Advance(TimeSpan.FromMinutes(15));
        var result = f.Engine.Sync.Sync("iPads")!;
        var status = f.Engine.Sync.GetStatus(f.Token);

        // the removed devices stay in the store until purged (DeviceCount), but Apple delivers only the 300 left
        Assert.Equal(300, result.Removed);
        Assert.Equal((600L, 600L), (result.DeviceCount, status.DeviceCount));
        Assert.Equal(Math.Round(300.0 / SyncService.DevicesPerMinuteFromApple, 1), result.ExpectedAbmDeliveryMinutes);
        Assert.Equal(result.ExpectedAbmDeliveryMinutes, status.ExpectedAbmDeliveryMinutes);

        // a scheduler's -IfDue answer when nothing is due, for one token and for a piped batch, reads the same
        var notDue = f.Engine.Sync.Sync("iPads", ifDue: true)!;
        var batch = Assert.Single(f.Engine.Sync.SyncIfDue(["iPads"])).Result!;
        Assert.Equal((AdeEnrollment.Engine.Model.AdeSyncStatus.NotDue, AdeEnrollment.Engine.Model.AdeSyncStatus.NotDue), (notDue.Status, batch.Status));
        Assert.Equal((600L, 600L), (notDue.DeviceCount, batch.DeviceCount));
        Assert.Equal((status.ExpectedAbmDeliveryMinutes, status.ExpectedAbmDeliveryMinutes), (notDue.ExpectedAbmDeliveryMinutes, batch.ExpectedAbmDeliveryMinutes));
    }
}

using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Tests.Support;

namespace AdeEnrollment.Engine.Tests.DeviceActions;

/// <summary>The change journal: what sync, assignment and purge write, set-based and in the change's transaction; queries; retention.</summary>
public class DeviceJournalTests
{
    private const string Server = EngineSimFixture.Server;

    private static List<AdeDeviceEvent> Events(EngineSimFixture f, DeviceEventQuery? q = null) => f.Engine.Devices.GetEvents(q ?? new DeviceEventQuery()).ToList();

    [Fact]
    public void FirstSync_WritesOneAddedEventPerDevice_OldestFirst()
    {
        using var f = new EngineSimFixture(devices: 5);

        f.Engine.Sync.Sync("iPads");

        var events = Events(f);
        Assert.Equal(5, events.Count);
        Assert.All(events, e => Assert.Equal((AdeDeviceEventKind.Added, "iPads", f.Token.Id), (e.Kind, e.Token, e.TokenId)));
        Assert.Equal(f.AppleSerials(), new SortedSet<string>(events.Select(e => e.SerialNumber), StringComparer.Ordinal));
        Assert.Equal(events.Select(e => e.Id).Order(), events.Select(e => e.Id));
    }

    [Fact]
    public void DeltaSync_WritesModifiedWithTheChangedFields_AndDeletedFromAbm()
    {
        using var f = new EngineSimFixture(devices: 3);
        f.Engine.Sync.Sync("iPads");
        var serials = f.AppleSerials().ToList();
        var last = Events(f).Max(e => e.Id);
        f.Simulator.SetDevice(Server, serials[0], new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero), false, true);
        f.Simulator.RemoveDevice(Server, serials[1]);
        f.Advance(TimeSpan.FromMinutes(16));

        f.Engine.Sync.Sync("iPads");

        var events = Events(f, new DeviceEventQuery(AfterId: last));
        var modified = Assert.Single(events, e => e.Kind == AdeDeviceEventKind.Modified);
        Assert.Equal(serials[0], modified.SerialNumber);
        Assert.Equal(["MdmMigrationDeadline", "IsReplacementDevice"], modified.ChangedFields);
        var deleted = Assert.Single(events, e => e.Kind == AdeDeviceEventKind.DeletedFromAbm);
        Assert.Equal(serials[1], deleted.SerialNumber);
        Assert.Equal(2, events.Count);

        var device = f.Engine.Devices.Get(new DeviceQuery(f.Token.Id, serials[0])).Single();
        Assert.Equal((new DateTimeOffset(2026, 9, 1, 0, 0, 0, TimeSpan.Zero), true), (device.MdmMigrationDeadline, device.IsReplacementDevice));
        Assert.Equal([serials[0]], f.Engine.Devices.Get(new DeviceQuery(ReplacementDevice: true)).Select(d => d.SerialNumber));
    }

    [Fact]
    public void SyncOfSeveralPages_JournalsEveryDeviceOnce_InCommitOrder()
    {
        using var f = new EngineSimFixture(devices: 2500); // three pages

        f.Engine.Sync.Sync("iPads");

        var events = Events(f);
        Assert.Equal(2500, events.Count);
        Assert.Equal(2500, events.Select(e => e.SerialNumber).Distinct().Count());
        Assert.Equal(events.Count, (int)(events[^1].Id - events[0].Id + 1));
    }

    [Fact]
    public void Assignment_WritesProfileAssignedAndAssignmentFailed_AndTheLastAttemptIsOnTheDevice()
    {
        using var f = new EngineSimFixture(devices: 3);
        f.Engine.Sync.Sync("iPads");
        f.Engine.Profiles.New("iPads", "Staff", new ProfileSettings { UserAffinity = UserAffinity.WithUserAffinity });
        var s = f.AppleSerials().ToList();
        f.Simulator.SetDeviceOutcome(Server, s[2], "FAILED");
        var last = Events(f).Max(e => e.Id);

        f.Engine.Assignments.Assign("Staff", null, s).ToList();

        var events = Events(f, new DeviceEventQuery(AfterId: last));
        Assert.Equal(2, events.Count(e => e.Kind == AdeDeviceEventKind.ProfileAssigned));
        var failed = Assert.Single(events, e => e.Kind == AdeDeviceEventKind.AssignmentFailed);
        Assert.Equal((s[2], "Staff: FAILED"), (failed.SerialNumber, failed.Detail));
        var device = f.Engine.Devices.Get(new DeviceQuery(f.Token.Id, s[2])).Single();
        Assert.Equal(("Staff", "FAILED", f.Time.GetUtcNow()), (device.LastAssignmentProfile, device.LastAssignmentResult, device.LastAssignmentAt!.Value));
        Assert.Equal([s[2]], f.Engine.Devices.Get(new DeviceQuery(LastAssignmentResult: "FAILED")).Select(d => d.SerialNumber));
    }

    [Fact]
    public void Query_FiltersBySerialWildcardKindAndSince()
    {
        using var f = new EngineSimFixture(devices: 3);
        f.Engine.Sync.Sync("iPads");
        var s = f.AppleSerials().ToList();
        f.Advance(TimeSpan.FromHours(1));
        var since = f.Time.GetUtcNow();
        f.Simulator.RemoveDevice(Server, s[0]);
        f.Engine.Sync.Sync("iPads");

        Assert.Equal([s[0]], Events(f, new DeviceEventQuery(Since: since)).Select(e => e.SerialNumber));
        Assert.Equal([AdeDeviceEventKind.Added, AdeDeviceEventKind.DeletedFromAbm], Events(f, new DeviceEventQuery(SerialNumber: s[0].ToLowerInvariant())).Select(e => e.Kind));
        Assert.Equal(s, Events(f, new DeviceEventQuery(SerialNumber: "*", Kinds: [AdeDeviceEventKind.Added])).Select(e => e.SerialNumber).Order(StringComparer.Ordinal));
        Assert.Empty(Events(f, new DeviceEventQuery(SerialNumber: "NOPE*")));
        Assert.Single(Events(f, new DeviceEventQuery(Kinds: [AdeDeviceEventKind.DeletedFromAbm])));
    }

    [Fact]
    public void Retention_IsAStoreSetting_EnforcedBySync()
    {
        using var f = new EngineSimFixture(devices: 2);
        Assert.Equal(90, f.Engine.StoreInfo.GetInfo().JournalRetentionDays);
        f.Engine.Sync.Sync("iPads");
        Assert.Equal(5, f.Engine.StoreInfo.SetJournalRetention(5).JournalRetentionDays);

        f.Advance(TimeSpan.FromDays(4));
        f.Engine.Sync.Sync("iPads");
        Assert.Equal(2, Events(f).Count);

        f.Advance(TimeSpan.FromDays(2)); // the Added events are now 6 days old
        f.Engine.Sync.Sync("iPads");
        Assert.Empty(Events(f));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(3651)]
    public void Retention_OutOfRange_IsArgumentInvalid_AndChangesNothing(int days)
    {
        using var f = new EngineSimFixture();
        var ex = Assert.Throws<AdeException>(() => f.Engine.StoreInfo.SetJournalRetention(days));
        Assert.Equal(nameof(ErrorCatalog.ArgumentInvalid), ex.ErrorId);
        Assert.Contains("JournalRetentionDays", ex.Message, StringComparison.Ordinal);
        Assert.Equal(90, f.Engine.StoreInfo.GetInfo().JournalRetentionDays);
    }

    [Fact]
    public void Purge_WritesPurgedEvents()
    {
        using var f = new EngineSimFixture(devices: 2);
        f.Engine.Sync.Sync("iPads");
        var s = f.AppleSerials().First();
        f.Simulator.RemoveDevice(Server, s);
        f.Advance(TimeSpan.FromMinutes(16));
        f.Engine.Sync.Sync("iPads");
        f.Advance(TimeSpan.FromDays(46));

        f.Engine.Sync.Sync("iPads");

        Assert.Equal([AdeDeviceEventKind.Added, AdeDeviceEventKind.DeletedFromAbm, AdeDeviceEventKind.Purged], Events(f, new DeviceEventQuery(SerialNumber: s)).Select(e => e.Kind));
    }
}

using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;

namespace AdeEnrollment.Engine.Tests.Storage.Contract;

/// <summary>
/// What table device_event promises, whatever the provider: a batch appended in order, queries by token, serial, time,
/// id and kind (oldest first), and the retention purge (with the retention setting kept among the store's settings).
/// </summary>
public abstract class DeviceEventTableContract : IDisposable
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

    private static DateTimeOffset At(int minutes) => T0.AddMinutes(minutes);

    private int Append(Guid tokenId, DateTimeOffset at, params NewDeviceEventRow[] events)
        => Store.Store.Write(s => s.DeviceEvents.Append(tokenId, at, events));

    private List<DeviceEventRow> Query(DeviceEventFilter filter) => Store.Store.Read(s => s.DeviceEvents.Query(filter).ToList());

    [Fact]
    public void Append_WritesTheBatchInOrder_AndReadsBackEveryColumn()
    {
        var token = Store.AddToken("Contoso").Token;

        var n = Append(token.Id, At(1),
            new NewDeviceEventRow("SN2", AdeDeviceEventKind.Added),
            new NewDeviceEventRow("SN1", AdeDeviceEventKind.Modified, "Model, OS"),
            new NewDeviceEventRow("SN3", AdeDeviceEventKind.ProfileAssigned, "Kiosk: SUCCESS \"quoted\" ü"));

        var events = Query(new DeviceEventFilter());
        Assert.Equal(3, n);
        Assert.Equal(["SN2", "SN1", "SN3"], events.Select(e => e.SerialNumber));
        Assert.Equal(events.Select(e => e.Id).Order(), events.Select(e => e.Id));
        Assert.Equal(3, events.Select(e => e.Id).Distinct().Count());
        Assert.All(events, e => Assert.Equal((At(1), token.Id, "Contoso"), (e.At, e.TokenId, e.Token)));
        Assert.Equal([AdeDeviceEventKind.Added, AdeDeviceEventKind.Modified, AdeDeviceEventKind.ProfileAssigned], events.Select(e => e.Kind));
        Assert.Equal([null, "Model, OS", "Kiosk: SUCCESS \"quoted\" ü"], events.Select(e => e.Detail));
    }

    [Theory]
    [InlineData("Kiosk: SUCCESS \"quoted\" ü")]
    [InlineData(null)]
    public void Append_ABatchWhoseRowsAllSayTheSame_KeepsTheOrderAndEveryColumn(string? detail)
    {
        var token = Store.AddToken("Contoso").Token;
        var serials = new[] { "SN9", "SN1", "SN5", "SN\"Q" };

        var n = Append(token.Id, At(2), serials.Select(s => new NewDeviceEventRow(s, AdeDeviceEventKind.ProfileAssigned, detail)).ToArray());

        var events = Query(new DeviceEventFilter());
        Assert.Equal(4, n);
        Assert.Equal(serials, events.Select(e => e.SerialNumber));
        Assert.Equal(events.Select(e => e.Id).Order(), events.Select(e => e.Id));
        Assert.All(events, e => Assert.Equal((At(2), token.Id, AdeDeviceEventKind.ProfileAssigned, detail), (e.At, e.TokenId, e.Kind, e.Detail)));
    }

    [Fact]
    public void Append_AnEmptyBatch_WritesNothing()
    {
        var token = Store.AddToken("Contoso").Token;

        Assert.Equal(0, Append(token.Id, At(1)));
        Assert.Empty(Query(new DeviceEventFilter()));
    }

    [Fact]
    public void Query_FiltersByTokenSerialTimeIdAndKind()
    {
        var a = Store.AddToken("A").Token;
        var b = Store.AddToken("B").Token;
        Append(a.Id, At(1), new NewDeviceEventRow("SN1", AdeDeviceEventKind.Added), new NewDeviceEventRow("SN2", AdeDeviceEventKind.Added));
        Append(b.Id, At(2), new NewDeviceEventRow("SN1", AdeDeviceEventKind.Added));
        Append(a.Id, At(3), new NewDeviceEventRow("SN1", AdeDeviceEventKind.Released));
        var all = Query(new DeviceEventFilter());
        string Of(IEnumerable<DeviceEventRow> rows) => string.Join(" ", rows.Select(e => $"{e.Token}/{e.SerialNumber}/{e.Kind}"));

        Assert.Equal("A/SN1/Added A/SN2/Added B/SN1/Added A/SN1/Released", Of(all));
        Assert.Equal("A/SN1/Added A/SN2/Added A/SN1/Released", Of(Query(new DeviceEventFilter(TokenId: a.Id))));
        Assert.Equal("A/SN1/Added B/SN1/Added A/SN1/Released", Of(Query(new DeviceEventFilter(SerialNumber: "SN1"))));
        Assert.Equal("B/SN1/Added A/SN1/Released", Of(Query(new DeviceEventFilter(Since: At(2)))));
        Assert.Equal("A/SN1/Released", Of(Query(new DeviceEventFilter(AfterId: all[2].Id))));
        Assert.Equal("A/SN1/Released", Of(Query(new DeviceEventFilter(Kinds: [AdeDeviceEventKind.Released, AdeDeviceEventKind.Purged]))));
        Assert.Equal("A/SN1/Added", Of(Query(new DeviceEventFilter(TokenId: a.Id, SerialNumber: "SN1", Kinds: [AdeDeviceEventKind.Added]))));
    }

    [Fact]
    public void Query_ByASerialAlone_FindsItUnderEveryToken_ThoseDeletedSinceToo()
    {
        var a = Store.AddToken("A").Token;
        var b = Store.AddToken("B").Token;
        var deleted = Guid.NewGuid(); // journal rows outlive their token
        Assert.Empty(Query(new DeviceEventFilter(SerialNumber: "SN1"))); // an empty journal has no tokens to walk
        Append(b.Id, At(1), new NewDeviceEventRow("SN1", AdeDeviceEventKind.Added), new NewDeviceEventRow("SN2", AdeDeviceEventKind.Added));
        Append(deleted, At(2), new NewDeviceEventRow("SN1", AdeDeviceEventKind.Released));
        Append(a.Id, At(3), new NewDeviceEventRow("SN3", AdeDeviceEventKind.Added), new NewDeviceEventRow("SN1", AdeDeviceEventKind.Added));
        Append(b.Id, At(4), new NewDeviceEventRow("SN1", AdeDeviceEventKind.Modified, "OS"));
        string Of(IEnumerable<DeviceEventRow> rows) => string.Join(" ", rows.Select(e => $"{e.Token ?? "-"}/{e.SerialNumber}/{e.Kind}"));
        var sn1 = Query(new DeviceEventFilter(SerialNumber: "SN1"));

        Assert.Equal("B/SN1/Added -/SN1/Released A/SN1/Added B/SN1/Modified", Of(sn1));
        Assert.Equal(sn1.Select(e => e.Id).Order(), sn1.Select(e => e.Id));
        Assert.Equal(deleted, sn1[1].TokenId);
        Assert.Equal("A/SN3/Added", Of(Query(new DeviceEventFilter(SerialNumber: "SN3"))));
        Assert.Empty(Query(new DeviceEventFilter(SerialNumber: "NOPE")));
        Assert.Equal("A/SN1/Added B/SN1/Modified", Of(Query(new DeviceEventFilter(SerialNumber: "SN1", AfterId: sn1[1].Id))));
        Assert.Equal("-/SN1/Released B/SN1/Modified", Of(Query(new DeviceEventFilter(SerialNumber: "SN1", Kinds: [AdeDeviceEventKind.Released, AdeDeviceEventKind.Modified]))));
        Assert.Equal("A/SN1/Added B/SN1/Modified", Of(Query(new DeviceEventFilter(SerialNumber: "SN1", Since: At(3)))));
        Assert.Equal("B/SN1/Added B/SN1/Modified", Of(Query(new DeviceEventFilter(TokenId: b.Id, SerialNumber: "SN1"))));
    }

    [Fact]
    public void DeleteBefore_RemovesOnlyOlderEvents()
    {
        var token = Store.AddToken("Contoso").Token;
        Append(token.Id, At(1), new NewDeviceEventRow("OLD", AdeDeviceEventKind.Added));
        Append(token.Id, At(5), new NewDeviceEventRow("EDGE", AdeDeviceEventKind.Added));
        Append(token.Id, At(9), new NewDeviceEventRow("NEW", AdeDeviceEventKind.Added));

        var deleted = Store.Store.Write(s => s.DeviceEvents.DeleteBefore(At(5)));

        Assert.Equal(1, deleted);
        Assert.Equal(["EDGE", "NEW"], Query(new DeviceEventFilter()).Select(e => e.SerialNumber));
    }

    [Fact]
    public void Retention_DefaultsToNinetyDays_IsKeptAsASetting_AndPrunesByIt()
    {
        var token = Store.AddToken("Contoso").Token;
        var now = At(0) + TimeSpan.FromDays(100);
        Append(token.Id, now - TimeSpan.FromDays(95), new NewDeviceEventRow("D95", AdeDeviceEventKind.Added));
        Append(token.Id, now - TimeSpan.FromDays(20), new NewDeviceEventRow("D20", AdeDeviceEventKind.Added));
        Append(token.Id, now - TimeSpan.FromDays(5), new NewDeviceEventRow("D5", AdeDeviceEventKind.Added));

        Assert.Equal(JournalRetention.DefaultDays, Store.Store.Read(DeviceJournal.RetentionDays));
        Assert.Equal(1, Store.Store.Write(s => DeviceJournal.Prune(s, now)));
        Store.Store.Write(s =>
        {
            s.Meta.Set(JournalRetention.SettingKey, JournalRetention.Setting(10));
            return 0;
        });
        Assert.Equal(10, Store.Store.Read(DeviceJournal.RetentionDays));
        Assert.Equal(1, Store.Store.Write(s => DeviceJournal.Prune(s, now)));
        Assert.Equal(["D5"], Query(new DeviceEventFilter()).Select(e => e.SerialNumber));
    }
}

public sealed class SqliteDeviceEventTableContract : DeviceEventTableContract
{
    protected override TestStore CreateStore() => new();
}

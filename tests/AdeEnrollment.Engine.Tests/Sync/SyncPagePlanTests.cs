using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Sync;

namespace AdeEnrollment.Engine.Tests.Sync;

/// <summary>The page plan tells the store which of its devices the store had no row of when it was read.</summary>
public sealed class SyncPagePlanTests
{
    private static readonly DateTimeOffset T0 = new(2026, 1, 5, 8, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_device_is_new_to_the_store_exactly_when_the_stored_state_read_has_no_row_of_it()
    {
        AppleDevice Device(string serial) => new() { SerialNumber = serial, Model = "iPad Pro", Os = "iPadOS", DeviceFamily = "iPad", ProfileStatus = "empty" };
        var page = SyncPage.Latest([Device("STORED1"), Device("NEW1"), Device("REMOVED1"), Device("NEW1")], events: false);
        var stored = new Dictionary<string, StoredSyncDevice>(StringComparer.Ordinal)
        {
            ["STORED1"] = new(new DeviceStateRow(new DeviceDetailsRow("STORED1", Model: "iPad Air"), RemovedFromAbm: false), null),
            // a device removed from ABM still has its row: it is written over, not inserted
            ["REMOVED1"] = new(new DeviceStateRow(new DeviceDetailsRow("REMOVED1", Model: "iPad Pro"), RemovedFromAbm: true), null),
        };

        var plan = SyncPage.Plan(page, stored, null, T0);

        Assert.Equal(
            [("STORED1", false), ("NEW1", true), ("REMOVED1", false)],
            plan.Upserts.Select(u => (u.Details.SerialNumber, u.New)).Distinct());
        Assert.Equal(1, plan.Added);
    }
}

using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Storage;

namespace AdeEnrollment.Engine.Tests.DeviceActions;

/// <summary>The one rule of "what did Apple change" (the Modified event's fields), shared by sync pages and Update-AdeDevice.</summary>
public class DeviceChangeTests
{
    private static readonly DateTimeOffset T = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly DeviceDetailsRow Stored = new("SN1", "iPad", "IPAD", "Blue", "A-1", "iPadOS", "iPad", "UUID-1", "assigned",
        T, T.AddMinutes(1), T.AddMinutes(2), "me", T.AddDays(30), false);

    [Fact]
    public void NothingChanged_IsEmpty_EvenWhenTimesDifferBelowASecond()
    {
        // the store's assign time has milliseconds (recorded when Apple accepted); Apple's own has whole seconds
        var recorded = Stored with { ProfileAssignTime = T.AddMilliseconds(828) };
        var after = Stored with { ProfileAssignTime = T, AssignedAt = T.AddMinutes(2).ToOffset(TimeSpan.FromHours(2)) };

        Assert.Equal("", DeviceRepository.ChangedFields(new DeviceStateRow(recorded, RemovedFromAbm: false), after));
        // this computer's clock and Apple's differ by seconds: the same assignment; a later one is a change
        Assert.Equal("", DeviceRepository.ChangedFields(new DeviceStateRow(recorded, RemovedFromAbm: false), after with { ProfileAssignTime = T.AddSeconds(4) }));
        Assert.Equal("ProfileAssignedAt", DeviceRepository.ChangedFields(new DeviceStateRow(recorded, RemovedFromAbm: false), after with { ProfileAssignTime = T.AddMinutes(5) }));
    }

    [Fact]
    public void ChangedFields_AreNamedAsAdeDeviceNamesThem_InAFixedOrder()
    {
        var after = Stored with
        {
            MdmMigrationDeadline = null, Os = "iOS", Model = "iPad Pro", ProfileUuid = null, IsReplacementDevice = true, ProfilePushTime = T.AddHours(1),
        };

        Assert.Equal("Model, OS, EnrollmentProfile, ProfilePushedAt, MdmMigrationDeadline, IsReplacementDevice",
            DeviceRepository.ChangedFields(new DeviceStateRow(Stored, RemovedFromAbm: false), after));
    }

    [Fact]
    public void ADeviceBackInAbm_HasChangedItsAbmState()
        => Assert.Equal("AbmState", DeviceRepository.ChangedFields(new DeviceStateRow(Stored, RemovedFromAbm: true), Stored));

    [Fact]
    public void Details_PutAppleRecordInTheStoresTerms()
    {
        var d = DeviceRepository.Details(new AppleDevice { SerialNumber = "SN1", ProfileUuid = "", ProfileStatus = "PUSHED", DeviceFamily = "Mac", IsReplacementDevice = true });

        Assert.Equal(new DeviceDetailsRow("SN1", DeviceFamily: "Mac", ProfileStatus: "pushed", IsReplacementDevice: true), d);
    }
}

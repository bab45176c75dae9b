using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Storage.Sqlite;
using AdeEnrollment.Engine.Tests.TestSupport;

namespace AdeEnrollment.Engine.Tests.Storage.Contract;

/// <summary>
/// What table device promises, whatever the provider: every column read back as written, the filters of Get-AdeDevice,
/// the order of a streamed query, and the writes of the device actions. Rows are seeded by <see cref="SeedDevice"/>
/// (the page writes of a sync and the assignment records have their own tables' contracts); a provider's subclass
/// overrides the seeders when its SQL differs.
/// </summary>
public abstract class DeviceTableContract : IDisposable
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

    /// <summary>A device row with every column given (null leaves a column empty).</summary>
    protected sealed record DeviceSeed(string Serial)
    {
        public string? Model { get; init; }
        public string? Description { get; init; }
        public string? Color { get; init; }
        public string? AssetTag { get; init; }
        public string? Os { get; init; }
        public string? DeviceFamily { get; init; }
        public string? ProfileId { get; init; }
        public string? ProfileUuid { get; init; }
        public string? ProfileStatus { get; init; }
        public DateTimeOffset? ProfileAssignTime { get; init; }
        public DateTimeOffset? ProfilePushTime { get; init; }
        public DateTimeOffset? AssignedAt { get; init; }
        public string? AssignedBy { get; init; }
        public DateTimeOffset? RemovedAt { get; init; }
        public DateTimeOffset? PurgeAfter { get; init; }
        public DateTimeOffset UpdatedAt { get; init; } = T0;
        public DateTimeOffset? MdmMigrationDeadline { get; init; }
        public bool? IsReplacementDevice { get; init; }
        public DateTimeOffset? LastAttemptAt { get; init; }
        public string? LastAttemptProfile { get; init; }
        public string? LastAttemptResult { get; init; }
        public DateTimeOffset? ReleasedAt { get; init; }
        public DateTimeOffset? AssignFailedAt { get; init; }
    }

    protected virtual void SeedDevice(Guid tokenId, DeviceSeed d)
        => Store.Execute(
            """
            INSERT INTO device (token_id, serial_number, model, description, color, asset_tag, os, device_family, profile_id, profile_uuid,
                                profile_status, profile_assign_time, profile_push_time, device_assigned_date, device_assigned_by, removed_at,
                                purge_after, updated_at, mdm_migration_deadline, is_replacement_device, last_attempt_at, last_attempt_profile,
                                last_attempt_result, released_at, assign_failed_at)
            VALUES ($t, $s, $model, $desc, $color, $asset, $os, $family, $pid, $pu, $ps, $pat, $ppt, $dad, $dab, $rem, $purge, $upd, $mmd, $rep,
                    $lat, $lap, $lar, $rel, $faf)
            """,
            ("$t", tokenId.ToString()), ("$s", d.Serial), ("$model", d.Model), ("$desc", d.Description), ("$color", d.Color), ("$asset", d.AssetTag),
            ("$os", d.Os), ("$family", d.DeviceFamily), ("$pid", d.ProfileId), ("$pu", d.ProfileUuid), ("$ps", d.ProfileStatus),
            ("$pat", Ms(d.ProfileAssignTime)), ("$ppt", Ms(d.ProfilePushTime)), ("$dad", Ms(d.AssignedAt)), ("$dab", d.AssignedBy),
            ("$rem", Ms(d.RemovedAt)), ("$purge", Ms(d.PurgeAfter)), ("$upd", Ms(d.UpdatedAt)), ("$mmd", Ms(d.MdmMigrationDeadline)),
            ("$rep", d.IsReplacementDevice is { } r ? (r ? 1 : 0) : null), ("$lat", Ms(d.LastAttemptAt)), ("$lap", d.LastAttemptProfile),
            ("$lar", d.LastAttemptResult), ("$rel", Ms(d.ReleasedAt)), ("$faf", Ms(d.AssignFailedAt)));

    /// <summary><paramref name="count"/> empty devices of one token, serials <paramref name="prefix"/> + 00001, 00002, ….</summary>
    protected virtual void SeedDevices(Guid tokenId, string prefix, int count)
        => Store.Execute(
            """
            WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $n)
            INSERT INTO device (token_id, serial_number, updated_at) SELECT $t, printf('%s%05d', $p, i), 0 FROM n
            """,
            ("$t", tokenId.ToString()), ("$p", prefix), ("$n", count));

    private static List<string> SerialRange(string prefix, int from, int count) => Enumerable.Range(from, count).Select(i => $"{prefix}{i:D5}").ToList();

    protected virtual string SeedProfile(Guid tokenId, string name, string appleUuid)
    {
        var id = Guid.NewGuid().ToString();
        Store.Execute("INSERT INTO profile (id, token_id, name, settings, apple_profile_uuid, created_at, modified_at) VALUES ($id, $t, $n, '{}', $u, 0, 0)",
            ("$id", id), ("$t", tokenId.ToString()), ("$n", name), ("$u", appleUuid));
        return id;
    }

    protected virtual void SeedScopeTags(Guid tokenId, string json)
        => Store.Execute("UPDATE token SET scope_tags = $j WHERE id = $t", ("$j", json), ("$t", tokenId.ToString()));

    private static long? Ms(DateTimeOffset? t) => t?.ToUnixTimeMilliseconds();

    private static DateTimeOffset At(int minutes) => T0.AddMinutes(minutes);

    private List<AdeDevice> Query(DeviceFilter filter) => Store.Store.Read(s => s.Devices.Query(filter).ToList());

    private List<string> Serials(DeviceFilter filter) => Query(filter).Select(d => d.SerialNumber).ToList();

    [Fact]
    public void Query_ReadsBackEveryColumn_WithItsTokenAndProfile()
    {
        var token = Store.AddToken("Contoso").Token;
        SeedScopeTags(token.Id, """["Paris","Lyon"]""");
        var profile = SeedProfile(token.Id, "Classroom", "UUID-1");
        SeedDevice(token.Id, new DeviceSeed("C02FULL")
        {
            Model = "iPad Air", Description = "IPAD AIR 11", Color = "Blue", AssetTag = "A-17", Os = "iPadOS", DeviceFamily = "iPad",
            ProfileId = profile, ProfileUuid = "UUID-1", ProfileStatus = "pushed", ProfileAssignTime = At(1), ProfilePushTime = At(2),
            AssignedAt = At(3), AssignedBy = "admin@contoso.com", RemovedAt = At(4), PurgeAfter = At(5), MdmMigrationDeadline = At(6),
            IsReplacementDevice = true, LastAttemptAt = At(7), LastAttemptProfile = "Classroom", LastAttemptResult = "SUCCESS", ReleasedAt = At(8),
        });

        var d = Assert.Single(Query(new DeviceFilter()));

        Assert.Equal(("C02FULL", "iPad Air", "IPAD AIR 11", "Blue", "A-17", "iPadOS", "iPad"), (d.SerialNumber, d.Model, d.Description, d.Color, d.AssetTag, d.OS, d.DeviceFamily));
        Assert.Equal(("Classroom", Guid.Parse(profile), AdeProfileStatus.Pushed), (d.EnrollmentProfileName, d.ProfileId, d.ProfileStatus));
        Assert.Equal((At(1), At(2), At(3), "admin@contoso.com"), (d.ProfileAssignedAt, d.ProfilePushedAt, d.AssignedAt, d.AssignedBy));
        Assert.Equal((AdeAbmState.RemovedFromAbm, At(4), At(5)), (d.AbmState, d.RemovedAt, d.PurgeAfter));
        Assert.Equal(("Contoso", token.Id), (d.Token, d.TokenId));
        Assert.Equal(["Paris", "Lyon"], d.ScopeTags);
        Assert.Equal((At(6), true), (d.MdmMigrationDeadline, d.IsReplacementDevice));
        Assert.Equal((At(7), "Classroom", "SUCCESS", At(8)), (d.LastAssignmentAt, d.LastAssignmentProfile, d.LastAssignmentResult, d.ReleasedAt));
    }

    [Fact]
    public void Query_ReadsAnEmptyRowAsEmpty()
    {
        var token = Store.AddToken("Contoso").Token;
        SeedDevice(token.Id, new DeviceSeed("C02EMPTY"));

        var d = Assert.Single(Query(new DeviceFilter()));

        Assert.Equal("C02EMPTY", d.SerialNumber);
        Assert.Null(d.Model);
        Assert.Null(d.OS);
        Assert.Equal(("", (Guid?)null, AdeProfileStatus.Empty), (d.EnrollmentProfileName, d.ProfileId, d.ProfileStatus));
        Assert.Equal((AdeAbmState.Assigned, (DateTimeOffset?)null, (DateTimeOffset?)null), (d.AbmState, d.RemovedAt, d.PurgeAfter));
        Assert.Null(d.IsReplacementDevice);
        Assert.Null(d.LastAssignmentResult);
        Assert.Null(d.ReleasedAt);
        Assert.Equal(token.ScopeTags, d.ScopeTags);
    }

    [Fact]
    public void Query_StreamsOrderedByTokenNameThenSerial()
    {
        var beta = Store.AddToken("Beta").Token;
        var alpha = Store.AddToken("Alpha").Token;
        foreach (var serial in new[] { "S3", "S1", "S2" })
        {
            SeedDevice(beta.Id, new DeviceSeed(serial));
            SeedDevice(alpha.Id, new DeviceSeed(serial));
        }

        var rows = Query(new DeviceFilter()).Select(d => $"{d.Token}/{d.SerialNumber}");

        Assert.Equal(["Alpha/S1", "Alpha/S2", "Alpha/S3", "Beta/S1", "Beta/S2", "Beta/S3"], rows);
    }

    [Fact]
    public void Query_FiltersByTokenSerialAndProfile()
    {
        var a = Store.AddToken("A").Token;
        var b = Store.AddToken("B").Token;
        var profile = SeedProfile(a.Id, "Kiosk", "UUID-K");
        SeedDevice(a.Id, new DeviceSeed("SN1") { ProfileId = profile, ProfileUuid = "UUID-K" });
        SeedDevice(a.Id, new DeviceSeed("SN2"));
        SeedDevice(b.Id, new DeviceSeed("SN1"));

        Assert.Equal(["SN1", "SN2"], Serials(new DeviceFilter(TokenId: a.Id)));
        Assert.Equal(["A", "B"], Query(new DeviceFilter(SerialNumber: "SN1")).Select(d => d.Token));
        Assert.Equal(["SN1"], Serials(new DeviceFilter(TokenId: b.Id, SerialNumber: "SN1")));
        Assert.Empty(Serials(new DeviceFilter(TokenId: b.Id, SerialNumber: "SN2")));
        Assert.Equal(["SN1"], Serials(new DeviceFilter(ProfileId: Guid.Parse(profile))));
        Assert.Equal(["A/SN2", "B/SN1"], Query(new DeviceFilter(Unassigned: true)).Select(d => $"{d.Token}/{d.SerialNumber}"));
    }

    [Fact]
    public void Query_FiltersByAbmStateAssignmentResultReplacementAndDeadline()
    {
        var token = Store.AddToken("Contoso").Token;
        SeedDevice(token.Id, new DeviceSeed("GONE") { RemovedAt = At(1), PurgeAfter = At(2) });
        SeedDevice(token.Id, new DeviceSeed("FAILED") { LastAttemptResult = "FAILED", LastAttemptAt = At(1) });
        SeedDevice(token.Id, new DeviceSeed("SPARE") { IsReplacementDevice = true });
        SeedDevice(token.Id, new DeviceSeed("NOTSPARE") { IsReplacementDevice = false });
        SeedDevice(token.Id, new DeviceSeed("SOON") { MdmMigrationDeadline = At(10) });
        SeedDevice(token.Id, new DeviceSeed("LATER") { MdmMigrationDeadline = At(30) });

        Assert.Equal(["GONE"], Serials(new DeviceFilter(RemovedFromAbm: true)));
        Assert.Equal(["FAILED"], Serials(new DeviceFilter(LastAssignmentResult: "FAILED")));
        Assert.Equal(["SPARE"], Serials(new DeviceFilter(ReplacementDevice: true)));
        Assert.Equal(["SOON"], Serials(new DeviceFilter(MigrationDeadlineBefore: At(20))));
        Assert.Equal(6, Query(new DeviceFilter()).Count);
    }

    [Fact]
    public void DeviceQuery_MatchesSerialWildcards_AndNormalisesAnExactSerial()
    {
        var token = Store.AddToken("Contoso").Token;
        foreach (var serial in new[] { "C02AAA", "C02BBB", "DMP111" })
        {
            SeedDevice(token.Id, new DeviceSeed(serial));
        }

        List<string> Get(string serial) => Store.Store.Read(s => DeviceRepository.Query(s, new DeviceQuery(SerialNumber: serial)).Select(d => d.SerialNumber).ToList());

        Assert.Equal(["C02AAA", "C02BBB"], Get("c02*"));
        Assert.Equal(["C02BBB", "DMP111"], Get("*[B1]"));
        Assert.Equal(["DMP111"], Get(" dmp111 "));
        Assert.Empty(Get("C02"));
    }

    [Fact]
    public void States_ReturnsWhatIsStored_ForKnownSerialsOnly()
    {
        var token = Store.AddToken("Contoso").Token;
        SeedDevice(token.Id, new DeviceSeed("KNOWN")
        {
            Model = "iPad", Os = "iPadOS", ProfileUuid = "U1", ProfileStatus = "assigned", ProfileAssignTime = At(1), AssignedAt = At(2),
            AssignedBy = "me", MdmMigrationDeadline = At(3), IsReplacementDevice = false, RemovedAt = At(4),
        });

        var states = Store.Store.Read(s => s.Devices.States(token.Id, ["KNOWN", "UNKNOWN"]));

        var state = Assert.Single(states).Value;
        Assert.True(state.RemovedFromAbm);
        Assert.Equal(new DeviceDetailsRow("KNOWN", Model: "iPad", Os: "iPadOS", ProfileUuid: "U1", ProfileStatus: "assigned", ProfileAssignTime: At(1),
            AssignedAt: At(2), AssignedBy: "me", MdmMigrationDeadline: At(3), IsReplacementDevice: false), state.Details);
        Assert.Empty(Store.Store.Read(s => s.Devices.States(Guid.NewGuid(), ["KNOWN"])));
    }

    [Fact]
    public void ApplyDetails_WritesAppleFieldsOverKnownDevices_KeepsLeftOutOnes_AndLinksTheProfile()
    {
        var token = Store.AddToken("Contoso").Token;
        var profile = SeedProfile(token.Id, "Kiosk", "UUID-K");
        SeedDevice(token.Id, new DeviceSeed("KNOWN") { Model = "old", Color = "Red", AssignedBy = "me", AssignedAt = At(1), MdmMigrationDeadline = At(2), IsReplacementDevice = true });

        var n = Store.Store.Write(s => s.Devices.ApplyDetails(token.Id,
        [
            new DeviceDetailsRow("KNOWN", Model: "new", ProfileUuid: "UUID-K", ProfileStatus: "assigned", ProfileAssignTime: At(5)),
            new DeviceDetailsRow("UNKNOWN", Model: "x"),
        ], At(9)));

        Assert.Equal(1, n);
        var d = Assert.Single(Query(new DeviceFilter()));
        Assert.Equal(("new", "Red", "me", At(1)), (d.Model, d.Color, d.AssignedBy, d.AssignedAt));
        Assert.Equal(("Kiosk", Guid.Parse(profile), AdeProfileStatus.Assigned, At(5)), (d.EnrollmentProfileName, d.ProfileId, d.ProfileStatus, d.ProfileAssignedAt));
        Assert.Equal(((DateTimeOffset?)null, (bool?)null), (d.MdmMigrationDeadline, d.IsReplacementDevice));
    }

    [Fact]
    public void Find_ReturnsEveryTokensDevice_WithTokenAndProfileNames()
    {
        var a = Store.AddToken("A").Token;
        var b = Store.AddToken("B").Token;
        var profile = SeedProfile(a.Id, "Kiosk", "UUID-K");
        SeedDevice(a.Id, new DeviceSeed("SN1") { ProfileId = profile });
        SeedDevice(b.Id, new DeviceSeed("SN1"));
        SeedDevice(b.Id, new DeviceSeed("SN2"));

        var found = Store.Store.Read(s => s.Devices.Find(["SN1", "NOPE"])).OrderBy(r => r.Token).ToList();

        Assert.Equal([new DeviceRefRow("SN1", a.Id, "A", "Kiosk"), new DeviceRefRow("SN1", b.Id, "B", "")], found);
        Assert.Empty(Store.Store.Read(s => s.Devices.Find([])));
    }

    /// <summary>Tokens A (S00001–S00030) and B (S00001–S00005), and a list of serials that is past the probe limit for two tokens.</summary>
    private (Guid A, Guid B, List<string> Wanted) SeedPastTheProbeLimit()
    {
        var a = Store.AddToken("A").Token;
        var b = Store.AddToken("B").Token;
        SeedDevices(a.Id, "S", 30);
        SeedDevices(b.Id, "S", 5);
        var wanted = SerialRange("S", 1, (int)SerialLookup.ProbeLimit / 2 + 1); // × 2 tokens: past the limit
        Assert.False(SerialLookup.ProbePerToken(wanted.Count, 2));
        return (a.Id, b.Id, wanted);
    }

    /// <summary>SN1 under Alpha (removed from ABM) and Gamma, SN2 and SN3 under beta: token order is not creation order.</summary>
    private (Guid Alpha, Guid Beta, Guid Gamma) SeedSerialsUnderThreeTokens()
    {
        var a = Store.AddToken("Alpha").Token;
        var b = Store.AddToken("beta").Token;
        var c = Store.AddToken("Gamma").Token;
        SeedDevice(c.Id, new DeviceSeed("SN1"));
        SeedDevice(a.Id, new DeviceSeed("SN1") { RemovedAt = T0 });
        SeedDevice(b.Id, new DeviceSeed("SN2"));
        SeedDevice(b.Id, new DeviceSeed("SN3"));
        return (a.Id, b.Id, c.Id);
    }

    [Fact]
    public void Find_AListTooLongToProbePerToken_ReadsEveryDeviceOnce_AndFindsTheSame()
    {
        var (a, b, wanted) = SeedPastTheProbeLimit();
        Assert.True(SerialLookup.ProbePerToken(10, 2));

        var many = Store.Store.Read(s => s.Devices.Find(wanted));
        var few = Store.Store.Read(s => s.Devices.Find(SerialRange("S", 3, 3)));

        Assert.Equal(35, many.Count);
        Assert.Equal(30, many.Count(r => r.TokenId == a));
        Assert.Equal(6, few.Count);
        Assert.Equal(SerialRange("S", 3, 3), few.Where(r => r.TokenId == b).Select(r => r.SerialNumber).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Query_ByASerialAlone_FindsItUnderEveryToken_InTokenOrder()
    {
        var (_, b, c) = SeedSerialsUnderThreeTokens();

        Assert.Equal(["Alpha", "Gamma"], Query(new DeviceFilter(SerialNumber: "SN1")).Select(d => d.Token));
        Assert.Equal(["Gamma"], Query(new DeviceFilter(TokenId: c, SerialNumber: "SN1")).Select(d => d.Token));
        Assert.Equal(["beta"], Query(new DeviceFilter(SerialNumber: "SN2")).Select(d => d.Token));
        Assert.Empty(Query(new DeviceFilter(SerialNumber: "NOPE")));
        Assert.Empty(Query(new DeviceFilter(TokenId: b, SerialNumber: "SN1")));
    }

    [Fact]
    public void Query_BySeveralSerials_FindsEachUnderEveryToken_InTokenOrder_WithTheOtherFilters()
    {
        var (_, _, c) = SeedSerialsUnderThreeTokens();

        string[] Rows(DeviceFilter f) => [.. Query(f).Select(d => $"{d.Token}/{d.SerialNumber}")];

        Assert.Equal(["Alpha/SN1", "beta/SN2", "Gamma/SN1"], Rows(new DeviceFilter(SerialNumbers: ["SN2", "SN1", "NOPE"])));
        Assert.Equal(["Gamma/SN1"], Rows(new DeviceFilter(TokenId: c, SerialNumbers: ["SN1", "SN2"])));
        Assert.Equal(["Alpha/SN1"], Rows(new DeviceFilter(RemovedFromAbm: true, SerialNumbers: ["SN1", "SN2"])));
        Assert.Empty(Rows(new DeviceFilter(SerialNumbers: ["NOPE"])));
        Assert.Empty(Rows(new DeviceFilter(SerialNumbers: [])));
    }

    [Fact]
    public void Query_BySerialsTooManyToProbePerToken_ReadsEveryDeviceOnce_AndFindsTheSame()
    {
        var (_, _, wanted) = SeedPastTheProbeLimit();

        var many = Query(new DeviceFilter(SerialNumbers: wanted));
        var few = Query(new DeviceFilter(SerialNumbers: SerialRange("S", 3, 3)));

        Assert.Equal(35, many.Count);
        Assert.Equal(SerialRange("S", 1, 30).Concat(SerialRange("S", 1, 5)), many.Select(d => d.SerialNumber));
        Assert.Equal(SerialRange("S", 3, 3).Select(x => "A/" + x).Concat(SerialRange("S", 3, 3).Select(x => "B/" + x)), few.Select(d => $"{d.Token}/{d.SerialNumber}"));
    }

    [Fact]
    public void DeviceActions_ClearProfile_Release_AndDelete_ChangeOnlyTheirToken()
    {
        var a = Store.AddToken("A").Token;
        var b = Store.AddToken("B").Token;
        var profile = SeedProfile(a.Id, "Kiosk", "UUID-K");
        SeedDevice(a.Id, new DeviceSeed("SN1") { ProfileId = profile, ProfileUuid = "UUID-K", ProfileStatus = "pushed" });
        SeedDevice(a.Id, new DeviceSeed("SN2"));
        SeedDevice(a.Id, new DeviceSeed("SN3") { RemovedAt = At(1), PurgeAfter = At(2) });
        SeedDevice(b.Id, new DeviceSeed("SN1") { ProfileStatus = "pushed" });

        Store.Store.Write(s => s.Devices.MarkProfileCleared(a.Id, ["SN1"], At(10)));
        var released = Store.Store.Write(s => s.Devices.MarkReleased(a.Id, ["SN2", "SN3"], At(11), At(99)));
        var deleted = Store.Store.Write(s => s.Devices.Delete(b.Id, ["SN1", "SN9"]));
        var again = Store.Store.Write(s => s.Devices.Delete(b.Id, ["SN1"]));

        var devices = Query(new DeviceFilter()).ToDictionary(d => $"{d.Token}/{d.SerialNumber}");
        Assert.Equal((2, 1, 0), (released, deleted, again));
        Assert.Equal(["A/SN1", "A/SN2", "A/SN3"], devices.Keys);
        Assert.Equal(("", (Guid?)null, AdeProfileStatus.Removed), (devices["A/SN1"].EnrollmentProfileName, devices["A/SN1"].ProfileId, devices["A/SN1"].ProfileStatus));
        Assert.Equal((At(11), At(11), At(99), AdeAbmState.RemovedFromAbm), (devices["A/SN2"].ReleasedAt, devices["A/SN2"].RemovedAt, devices["A/SN2"].PurgeAfter, devices["A/SN2"].AbmState));
        Assert.Equal((At(11), At(1), At(2)), (devices["A/SN3"].ReleasedAt, devices["A/SN3"].RemovedAt, devices["A/SN3"].PurgeAfter));
    }

    [Fact]
    public void HealthCounts_DevicesWithoutProfileByFamily_AndHeldAfterFailure()
    {
        var token = Store.AddToken("Contoso").Token;
        var profile = SeedProfile(token.Id, "Kiosk", "UUID-K");
        SeedDevice(token.Id, new DeviceSeed("OLD1") { DeviceFamily = "iPad", AssignedAt = At(0) });
        SeedDevice(token.Id, new DeviceSeed("OLD2") { DeviceFamily = "iPad", AssignedAt = At(1) });
        SeedDevice(token.Id, new DeviceSeed("OLD3") { UpdatedAt = At(2) });
        SeedDevice(token.Id, new DeviceSeed("NEW") { DeviceFamily = "Mac", AssignedAt = At(60) });
        SeedDevice(token.Id, new DeviceSeed("HASPROFILE") { DeviceFamily = "Mac", AssignedAt = At(0), ProfileId = profile });
        SeedDevice(token.Id, new DeviceSeed("GONE") { DeviceFamily = "Mac", AssignedAt = At(0), RemovedAt = At(1), AssignFailedAt = At(50) });
        SeedDevice(token.Id, new DeviceSeed("FAILED") { ProfileId = profile, AssignFailedAt = At(50) });
        SeedDevice(token.Id, new DeviceSeed("FAILEDLONGAGO") { ProfileId = profile, AssignFailedAt = At(5) });
        SeedDevice(token.Id, new DeviceSeed("CLEARED") { DeviceFamily = "iPad", AssignedAt = At(0), ProfileStatus = "removed" }); // cleared on purpose

        var (without, held) = Store.Store.Read(s => (s.Devices.CountWithoutProfile(token.Id, At(30)), s.Devices.AssignFailedSince(token.Id, At(10))));

        Assert.Equal([new DeviceFamilyCount("", 1), new DeviceFamilyCount("iPad", 2)], without);
        Assert.Equal((1L, (DateTimeOffset?)At(50)), held);
        Assert.Equal((0L, (DateTimeOffset?)null), Store.Store.Read(s => s.Devices.AssignFailedSince(token.Id, At(60))));
    }

    [Fact]
    public void Query_CombinesEveryFilter_MatchesExactly_AndTheDeadlineIsStrictlyBefore()
    {
        var a = Store.AddToken("A").Token;
        var b = Store.AddToken("B").Token;
        var profile = SeedProfile(a.Id, "Kiosk", "UUID-K");
        var full = new DeviceSeed("HIT")
        {
            ProfileId = profile, ProfileUuid = "UUID-K", RemovedAt = At(1), LastAttemptResult = "FAILED", IsReplacementDevice = true, MdmMigrationDeadline = At(10),
        };
        SeedDevice(a.Id, full);
        SeedDevice(b.Id, full with { ProfileId = null });
        SeedDevice(a.Id, full with { Serial = "ATDEADLINE", MdmMigrationDeadline = At(20) });
        SeedDevice(a.Id, full with { Serial = "NODEADLINE", MdmMigrationDeadline = null });
        SeedDevice(a.Id, full with { Serial = "INABM", RemovedAt = null });
        SeedDevice(a.Id, full with { Serial = "SUCCEEDED", LastAttemptResult = "SUCCESS" });
        SeedDevice(a.Id, full with { Serial = "NOTSPARE", IsReplacementDevice = false });
        SeedDevice(a.Id, full with { Serial = "NOPROFILE", ProfileId = null });

        var every = new DeviceFilter(TokenId: a.Id, SerialNumber: "HIT", ProfileId: Guid.Parse(profile), RemovedFromAbm: true, LastAssignmentResult: "FAILED",
            ReplacementDevice: true, MigrationDeadlineBefore: At(20));
        var some = every with { SerialNumber = null };

        Assert.Equal(["HIT"], Serials(every));
        Assert.Equal(["HIT"], Serials(some));
        Assert.Equal(["ATDEADLINE", "HIT"], Serials(some with { MigrationDeadlineBefore = At(20).AddMilliseconds(1) }));
        Assert.Equal(["NOPROFILE"], Serials(some with { ProfileId = null, Unassigned = true }));
        Assert.Equal(["B/HIT"], Query(new DeviceFilter(Unassigned: true, SerialNumber: "HIT")).Select(d => $"{d.Token}/{d.SerialNumber}"));
        Assert.Empty(Serials(every with { SerialNumber = "hit" }));
        Assert.Empty(Serials(some with { LastAssignmentResult = "failed" }));
        Assert.Empty(Serials(every with { TokenId = b.Id }));
        Assert.Empty(Serials(new DeviceFilter(TokenId: Guid.NewGuid())));
    }

    [Fact]
    public void Query_OrdersTokenNamesIgnoringCase_AndSerialsByteByByte()
    {
        var gamma = Store.AddToken("Gamma").Token;
        var beta = Store.AddToken("beta").Token;
        var alpha = Store.AddToken("Alpha").Token;
        foreach (var token in new[] { gamma, beta, alpha })
        {
            foreach (var serial in new[] { "a1", "B1", "10", "b-2", "B-1", "Z9" })
            {
                SeedDevice(token.Id, new DeviceSeed(serial));
            }
        }

        var rows = Query(new DeviceFilter()).Select(d => $"{d.Token}/{d.SerialNumber}").ToList();

        string[] serials = ["10", "B-1", "B1", "Z9", "a1", "b-2"];
        Assert.Equal(new[] { "Alpha", "beta", "Gamma" }.SelectMany(t => serials.Select(s => $"{t}/{s}")), rows);
    }

    [Fact]
    public void Query_IsAStream_AndStoppingEarlyLeavesTheSessionUsable()
    {
        var token = Store.AddToken("Contoso").Token;
        SeedDevices(token.Id, "S", 50);

        var (first, count, found) = Store.Store.Read(s =>
        {
            var query = s.Devices.Query(new DeviceFilter());
            Assert.IsNotAssignableFrom<System.Collections.ICollection>(query);
            Assert.IsNotAssignableFrom<IReadOnlyCollection<AdeDevice>>(query);
            var first = query.First().SerialNumber;
            var count = s.Devices.Query(new DeviceFilter(TokenId: token.Id)).Count();
            var found = s.Devices.Find(["S00050"]).Count;
            return (first, count, found);
        });

        Assert.Equal(("S00001", 50, 1), (first, count, found));
    }

    [Fact]
    public void Times_RoundTripToTheMillisecond()
    {
        var token = Store.AddToken("Contoso").Token;
        var odd = new DateTimeOffset(2031, 12, 31, 23, 59, 59, 999, TimeSpan.Zero);
        var subMillisecond = T0.AddTicks(1_234_567);
        SeedDevice(token.Id, new DeviceSeed("SEEDED") { RemovedAt = odd, PurgeAfter = odd.AddMilliseconds(1), LastAttemptAt = T0.AddMilliseconds(1) });
        SeedDevice(token.Id, new DeviceSeed("APPLIED"));
        SeedDevice(token.Id, new DeviceSeed("RELEASED"));

        Store.Store.Write(s => s.Devices.ApplyDetails(token.Id,
            [new DeviceDetailsRow("APPLIED", ProfileAssignTime: subMillisecond, ProfilePushTime: odd, AssignedAt: T0.AddMilliseconds(7), MdmMigrationDeadline: odd.AddYears(60))],
            T0));
        Store.Store.Write(s => s.Devices.MarkReleased(token.Id, ["RELEASED"], subMillisecond, odd));

        var devices = Query(new DeviceFilter()).ToDictionary(d => d.SerialNumber);
        var applied = devices["APPLIED"];
        var truncated = T0.AddMilliseconds(123);
        Assert.Equal((truncated, odd, T0.AddMilliseconds(7), odd.AddYears(60)), (applied.ProfileAssignedAt, applied.ProfilePushedAt, applied.AssignedAt, applied.MdmMigrationDeadline));
        Assert.Equal((odd, odd.AddMilliseconds(1), T0.AddMilliseconds(1)), (devices["SEEDED"].RemovedAt, devices["SEEDED"].PurgeAfter, devices["SEEDED"].LastAssignmentAt));
        Assert.Equal((truncated, truncated, odd), (devices["RELEASED"].ReleasedAt, devices["RELEASED"].RemovedAt, devices["RELEASED"].PurgeAfter));
        var state = Store.Store.Read(s => s.Devices.States(token.Id, ["APPLIED"]))["APPLIED"].Details;
        Assert.Equal((truncated, odd), (state.ProfileAssignTime, state.ProfilePushTime));
        Assert.Equal(TimeSpan.Zero, applied.ProfileAssignedAt!.Value.Offset);
    }

    [Fact]
    public void SerialSets_OfMoreThanAThousandSerials_AreHandledWhole()
    {
        var a = Store.AddToken("A").Token;
        var b = Store.AddToken("B").Token;
        SeedDevices(a.Id, "S", 1_500);
        SeedDevices(b.Id, "S", 10);
        var wanted = SerialRange("S", 1, 2_500);

        var (found, states) = Store.Store.Read(s => (s.Devices.Find(wanted), s.Devices.States(a.Id, wanted)));
        var applied = Store.Store.Write(s => s.Devices.ApplyDetails(a.Id, wanted.Select(serial => new DeviceDetailsRow(serial, Model: "M-" + serial)).ToList(), T0));
        var cleared = Store.Store.Write(s => s.Devices.MarkProfileCleared(a.Id, SerialRange("S", 1, 1_200), T0));
        var released = Store.Store.Write(s => s.Devices.MarkReleased(a.Id, SerialRange("S", 301, 2_000), T0, At(60)));

        Assert.Equal(1_510, found.Count);
        Assert.Equal(1_500, found.Count(r => r.TokenId == a.Id));
        Assert.Equal(1_500, states.Count);
        Assert.Equal((1_500, 1_200, 1_200), (applied, cleared, released));
        var devices = Query(new DeviceFilter(TokenId: a.Id));
        Assert.Equal(1_500, devices.Count);
        Assert.All(devices, d => Assert.Equal("M-" + d.SerialNumber, d.Model));
        Assert.Equal(1_200, devices.Count(d => d.ProfileStatus == AdeProfileStatus.Removed));
        Assert.Equal(SerialRange("S", 301, 1_200), devices.Where(d => d.ReleasedAt is not null).Select(d => d.SerialNumber));
        Assert.All(Query(new DeviceFilter(TokenId: b.Id)), d => Assert.Equal((null, null, AdeProfileStatus.Empty), (d.Model, d.ReleasedAt, d.ProfileStatus)));
    }
}

public sealed class SqliteDeviceTableContract : DeviceTableContract
{
    protected override TestStore CreateStore() => new();

    /// <summary>
    /// A batch of piped serials (Get-AdeDevice, Remove-AdeDevice: 500 at a time) without a token probes the
    /// (token_id, serial_number) key once per serial and token, with or without statistics (ANALYZE); with a token,
    /// once per serial. The device table is never scanned.
    /// </summary>
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Query_BySeveralSerials_ProbesTheKey_AndNeverScansTheDevices(bool analyzed)
    {
        var tokens = new[] { "A", "B", "C" }.Select(name => Store.AddToken(name).Token.Id).ToList();
        foreach (var token in tokens)
        {
            SeedDevices(token, "S", 20_000);
        }

        if (analyzed)
        {
            Store.Execute("ANALYZE");
        }

        var serials = Enumerable.Range(77, DeviceService.LookupBatchSize).Select(i => $"S{i:D5}").ToList();
        foreach (var filter in new[] { new DeviceFilter(SerialNumbers: serials), new DeviceFilter(TokenId: tokens[1], SerialNumbers: serials) })
        {
            var (sql, parameters) = SqliteDeviceTable.QueryStatement(filter, tokens: tokens.Count);
            var plan = RawSqlite.ExplainPlan(Store.StorePath, sql, parameters);

            Assert.Contains("SEARCH d USING PRIMARY KEY (token_id=? AND serial_number=?)", plan, StringComparison.Ordinal);
            Assert.DoesNotContain("SCAN d", plan, StringComparison.Ordinal);
        }
    }
}

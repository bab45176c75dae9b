using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tests.TestSupport;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Tests.Storage.Contract;

/// <summary>
/// What every provider's profile table (profile, token_default_profile) and the assignment side of its device table
/// (assignment states, assignment records, holders) promise. A provider adds a subclass that makes
/// its store.
/// </summary>
public abstract class ProfileTableContract : IDisposable
{
    private static readonly DateTimeOffset Created = new(2025, 3, 1, 12, 0, 0, 123, TimeSpan.Zero);
    private TestStore? store;

    protected abstract TestStore CreateStore();

    protected TestStore Store => store ??= CreateStore();

    public void Dispose()
    {
        store?.Dispose();
        GC.SuppressFinalize(this);
    }

    /// <summary>A device row as a sync stores it (the device table's page writes belong to the sync side).</summary>
    protected virtual void AddDevice(Guid tokenId, string serial, string? deviceFamily = "iPad", string? os = "iOS", Guid? profileId = null,
        string? profileStatus = null, bool removed = false)
        => Store.Execute(
            """
            INSERT INTO device (token_id, serial_number, device_family, os, profile_id, profile_status, removed_at, updated_at)
            VALUES ($t, $s, $f, $os, $p, $ps, $r, 0)
            """,
            ("$t", tokenId.ToString()), ("$s", serial), ("$f", deviceFamily), ("$os", os), ("$p", profileId?.ToString()), ("$ps", profileStatus),
            ("$r", removed ? 1L : null));

    /// <summary>Seeds many devices of a token at once (plain, no profile).</summary>
    protected virtual void AddDevices(Guid tokenId, IReadOnlyList<string> serials)
        => Store.Execute(
            "INSERT INTO device (token_id, serial_number, device_family, os, updated_at) SELECT $t, value, 'iPad', 'iOS', 0 FROM json_each($s)",
            ("$t", tokenId.ToString()), ("$s", System.Text.Json.JsonSerializer.Serialize(serials)));

    /// <summary>
    /// The assignment columns of one device as stored, as one line ("-" for null): last attempt (at, profile, result),
    /// profile (id, UUID, status, assign time), failure time, update time. Null when there is no such device.
    /// </summary>
    protected virtual string? DeviceFacts(Guid tokenId, string serial)
        => Store.Scalar<string>(DeviceFactsSql("$"), ("$t", tokenId.ToString()), ("$s", serial));

    /// <summary>How many rows of <paramref name="table"/> meet <paramref name="condition"/> (SQL both providers read alike).</summary>
    protected virtual long CountWhere(string table, string condition) => Store.Scalar<long>($"SELECT count(*) FROM {table} WHERE {condition}");

    /// <summary>The query of <see cref="DeviceFacts"/> with the provider's parameter prefix.</summary>
    protected static string DeviceFactsSql(string prefix)
        => $"""
            SELECT coalesce(CAST(last_attempt_at AS TEXT), '-') || '|' || coalesce(last_attempt_profile, '-') || '|' || coalesce(last_attempt_result, '-')
                || '|' || coalesce(profile_id, '-') || '|' || coalesce(profile_uuid, '-') || '|' || coalesce(profile_status, '-')
                || '|' || coalesce(CAST(profile_assign_time AS TEXT), '-') || '|' || coalesce(CAST(assign_failed_at AS TEXT), '-')
                || '|' || CAST(updated_at AS TEXT)
            FROM device WHERE token_id = {prefix}t AND serial_number = {prefix}s
            """;

    private static string Facts(DateTimeOffset? at, string? profile, string? result, Guid? profileId, string? uuid, string? status, DateTimeOffset? assignTime,
        DateTimeOffset? failedAt, long updatedAt)
        => string.Join('|', Ms(at), profile ?? "-", result ?? "-", profileId?.ToString() ?? "-", uuid ?? "-", status ?? "-", Ms(assignTime), Ms(failedAt),
            updatedAt.ToString(System.Globalization.CultureInfo.InvariantCulture));

    private static string Ms(DateTimeOffset? t) => t?.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "-";

    private T Write<T>(Func<IStoreSession, T> work) => Store.Store.Write(work);

    private void Write(Action<IStoreSession> work) => Store.Store.Write(s =>
    {
        work(s);
        return 0;
    });

    private T Read<T>(Func<IStoreSession, T> work) => Store.Store.Read(work);

    private AdeToken Token(string name) => Store.AddToken(name).Token;

    private static ProfileRow Row(Guid tokenId, string name, string settings = """{"UserAffinity":"WithUserAffinity"}""", string? uuid = null, string? hash = null)
        => new(Guid.NewGuid(), tokenId, name, settings, uuid, hash, Created, Created.AddMinutes(5));

    private ProfileRow Insert(Guid tokenId, string name)
    {
        var row = Row(tokenId, name);
        Write(s => s.Profiles.Insert(row));
        return row;
    }

    // ---- profile ---------------------------------------------------------------------------------------------------

    [Fact]
    public void Insert_ThenGet_RoundTripsEveryColumn_AndTheSettingsTextUnchanged()
    {
        var token = Token("Contoso");
        const string settings = """{"UserAffinity":"WithUserAffinity","Department":"IT +49 Zürich \"HQ\"","HiddenScreens":["Siri","Privacy"],"Platform":"iOS"}""";
        var row = Row(token.Id, "Staff ü", settings, uuid: "ABCDEF0123456789", hash: "hash-1");

        Write(s => s.Profiles.Insert(row));

        Assert.Equal(row, Read(s => s.Profiles.Get(row.Id)));
        var bare = Row(token.Id, "Bare");
        Write(s => s.Profiles.Insert(bare));
        Assert.Equal(bare, Read(s => s.Profiles.Get(bare.Id))); // null UUID and hash stay null
        Assert.Null(Read(s => s.Profiles.Get(Guid.NewGuid())));
    }

    [Fact]
    public void List_ShowsTokenNameAndScopeTags_OrdersByTokenThenProfile_AndFilters()
    {
        var b = Token("Beta");
        var a = Token("Alpha");
        Store.Tokens.SetToken(new SetTokenArgs("Alpha", ScopeTags: ["1", "7"]));
        Store.Tokens.SetToken(new SetTokenArgs("Beta", ScopeTags: ["3"]));
        var bz = Insert(b.Id, "Zeta");
        var ba = Insert(b.Id, "Able");
        var az = Insert(a.Id, "Zulu");

        var all = Read(s => s.Profiles.List(new ProfileListQuery()));
        Assert.Equal(new[] { az.Id, ba.Id, bz.Id }, all.Select(p => p.Profile.Id));
        Assert.Equal(az, all[0].Profile);
        Assert.Equal("Alpha", all[0].TokenName);
        Assert.Equal(new[] { "1", "7" }, all[0].TokenScopeTags);
        Assert.Equal("Beta", all[1].TokenName);
        Assert.Equal(new[] { "3" }, all[1].TokenScopeTags);

        Assert.Equal(new[] { ba.Id, bz.Id }, Read(s => s.Profiles.List(new ProfileListQuery(TokenId: b.Id))).Select(p => p.Profile.Id));
        Assert.Equal(new[] { bz.Id }, Read(s => s.Profiles.List(new ProfileListQuery(Id: bz.Id))).Select(p => p.Profile.Id));
        Assert.Empty(Read(s => s.Profiles.List(new ProfileListQuery(Id: Guid.NewGuid()))));
    }

    [Fact]
    public void List_MarksDefaults_AndCountsHoldingDevicesOnlyWhenAsked()
    {
        var token = Token("Contoso");
        var staff = Insert(token.Id, "Staff");
        var kiosk = Insert(token.Id, "Kiosk");
        Write(s => s.Profiles.SetDefault(token.Id, DevicePlatform.iOS, kiosk.Id));
        AddDevice(token.Id, "S1", profileId: staff.Id);
        AddDevice(token.Id, "S2", profileId: staff.Id, removed: true); // still refers to it until purged: counted
        AddDevice(token.Id, "K1", profileId: kiosk.Id);
        AddDevice(token.Id, "N1");

        var counted = Read(s => s.Profiles.List(new ProfileListQuery())).ToDictionary(p => p.Profile.Name);
        Assert.Equal((false, 2L), (counted["Staff"].IsDefault, counted["Staff"].DeviceCount));
        Assert.Equal((true, 1L), (counted["Kiosk"].IsDefault, counted["Kiosk"].DeviceCount));

        var uncounted = Read(s => s.Profiles.List(new ProfileListQuery(CountDevices: false)));
        Assert.All(uncounted, p => Assert.Equal(0, p.DeviceCount));

        Assert.Equal(new[] { kiosk.Id }, Read(s => s.Profiles.List(new ProfileListQuery(DefaultOnly: true))).Select(p => p.Profile.Id));
    }

    [Fact]
    public void Names_AreThoseOfTheTokensProfiles_AsStored()
    {
        var contoso = Token("Contoso");
        var fabrikam = Token("Fabrikam");
        var staff = Insert(contoso.Id, "Staff");
        var eleves = Insert(contoso.Id, "Élèves");
        Insert(fabrikam.Id, "Kiosk");

        Assert.Equal(new[] { (staff.Id, "Staff"), (eleves.Id, "Élèves") }, Read(s => s.Profiles.Names(contoso.Id)).OrderBy(n => n.Name, StringComparer.Ordinal));
        Assert.Empty(Read(s => s.Profiles.Names(Guid.NewGuid())));
    }

    [Fact]
    public void Names_AreUniquePerTokenWithoutRegardToCase_AndTheListOrdersThemWithoutRegardToCase()
    {
        var contoso = Token("contoso");
        var delta = Token("Delta");
        var staff = Insert(contoso.Id, "Staff");

        Assert.ThrowsAny<Exception>(() => Write(s => s.Profiles.Insert(Row(contoso.Id, "STAFF"))));
        Assert.Equal(1, Read(s => s.Profiles.CountForToken(contoso.Id))); // the refused insert left nothing
        var other = Insert(delta.Id, "staff"); // another token may use the name
        var zeta = Insert(contoso.Id, "Zeta");
        var able = Insert(contoso.Id, "able");
        var second = Insert(contoso.Id, "Second");
        Assert.ThrowsAny<Exception>(() => Write(s => s.Profiles.Update(second.Id, "sTaFf", "{}", Created)));
        Assert.Equal("Second", Read(s => s.Profiles.Get(second.Id))!.Name);

        // Tokens "contoso" < "Delta" and profiles "able" < "Second" < "Staff" < "Zeta" whatever the case.
        Assert.Equal(new[] { able.Id, second.Id, staff.Id, zeta.Id, other.Id }, Read(s => s.Profiles.List(new ProfileListQuery())).Select(p => p.Profile.Id));
    }

    [Fact]
    public void The_list_folds_only_ASCII_case_and_orders_byte_by_byte_on_every_provider()
    {
        var upper = Token("Äb");
        var lower = Token("äa");
        var names = new[] { "äa", "Zahn", "a_1", "Äb", "a1" };
        foreach (var name in names)
        {
            Insert(upper.Id, name);
            Insert(lower.Id, name);
        }

        string[] order = ["a1", "a_1", "Zahn", "Äb", "äa"];
        Assert.Equal(order.Select(n => "Äb/" + n).Concat(order.Select(n => "äa/" + n)),
            Read(s => s.Profiles.List(new ProfileListQuery())).Select(p => $"{p.TokenName}/{p.Profile.Name}"));
    }

    [Fact]
    public void CountForToken_CountsOnlyThatTokensProfiles()
    {
        var contoso = Token("Contoso");
        var fabrikam = Token("Fabrikam");
        Insert(contoso.Id, "A");
        Insert(contoso.Id, "B");
        Insert(fabrikam.Id, "A");

        Assert.Equal((2L, 1L, 0L), Read(s => (s.Profiles.CountForToken(contoso.Id), s.Profiles.CountForToken(fabrikam.Id), s.Profiles.CountForToken(Guid.NewGuid()))));
    }

    [Fact]
    public void Update_ChangesNameSettingsAndModifiedTime_AndKeepsTheRest()
    {
        var token = Token("Contoso");
        var row = Row(token.Id, "Staff", uuid: "U1", hash: "H1");
        Write(s => s.Profiles.Insert(row));
        var modified = Created.AddDays(1).AddMilliseconds(7);

        Assert.True(Write(s => s.Profiles.Update(row.Id, "Staff iPads", """{"Department":"IT"}""", modified)));
        Assert.False(Write(s => s.Profiles.Update(Guid.NewGuid(), "X", "{}", modified)));

        Assert.Equal(row with { Name = "Staff iPads", Settings = """{"Department":"IT"}""", ModifiedAt = modified }, Read(s => s.Profiles.Get(row.Id)));
    }

    [Fact]
    public void Delete_RemovesTheProfile_AndFreesItsName()
    {
        var token = Token("Contoso");
        var row = Insert(token.Id, "Staff");

        Assert.True(Write(s => s.Profiles.Delete(row.Id)));
        Assert.False(Write(s => s.Profiles.Delete(row.Id)));

        Assert.Null(Read(s => s.Profiles.Get(row.Id)));
        Assert.Empty(Read(s => s.Profiles.Names(token.Id)));
        Assert.Equal(0, Read(s => s.Profiles.CountForToken(token.Id)));
    }

    [Fact]
    public void SetAppleDefinition_RecordsAndClearsWhatAppleHolds()
    {
        var token = Token("Contoso");
        var row = Insert(token.Id, "Staff");

        Write(s => s.Profiles.SetAppleDefinition(row.Id, "UUID-1", "hash-1"));
        Assert.Equal(("UUID-1", "hash-1"), Read(s => s.Profiles.Get(row.Id)) is { } p ? (p.AppleProfileUuid, p.AppleDefinedHash) : default);

        Write(s => s.Profiles.SetAppleDefinition(row.Id, "UUID-1", null));
        Assert.Equal(("UUID-1", (string?)null), Read(s => s.Profiles.Get(row.Id)) is { } q ? (q.AppleProfileUuid, q.AppleDefinedHash) : default);

        Write(s => s.Profiles.SetAppleDefinition(row.Id, null, null));
        Assert.Equal(row, Read(s => s.Profiles.Get(row.Id)));
    }

    // ---- token_default_profile ---------------------------------------------------------------------------------------

    [Fact]
    public void Defaults_ArePerTokenAndPlatform_ReplacedBySetDefault_AndClearedByPlatformOrAll()
    {
        var contoso = Token("Contoso");
        var fabrikam = Token("Fabrikam");
        var ios = Insert(contoso.Id, "iPads");
        var ios2 = Insert(contoso.Id, "iPads 2");
        var mac = Insert(contoso.Id, "Macs");
        var other = Insert(fabrikam.Id, "iPads");

        Write(s =>
        {
            s.Profiles.SetDefault(contoso.Id, DevicePlatform.iOS, ios.Id);
            s.Profiles.SetDefault(contoso.Id, DevicePlatform.macOS, mac.Id);
            s.Profiles.SetDefault(fabrikam.Id, DevicePlatform.iOS, other.Id);
        });
        Assert.Equal(new Dictionary<DevicePlatform, Guid> { [DevicePlatform.iOS] = ios.Id, [DevicePlatform.macOS] = mac.Id }, Read(s => s.Profiles.GetDefaults(contoso.Id)));
        Assert.True(Read(s => s.Profiles.IsDefault(ios.Id)));

        Write(s => s.Profiles.SetDefault(contoso.Id, DevicePlatform.iOS, ios2.Id)); // replaces, one default per platform
        Assert.Equal(new Dictionary<DevicePlatform, Guid> { [DevicePlatform.iOS] = ios2.Id, [DevicePlatform.macOS] = mac.Id }, Read(s => s.Profiles.GetDefaults(contoso.Id)));
        Assert.Equal((false, true), Read(s => (s.Profiles.IsDefault(ios.Id), s.Profiles.IsDefault(ios2.Id))));

        Assert.Equal(1, Write(s => s.Profiles.ClearDefaults(contoso.Id, DevicePlatform.macOS)));
        Assert.Equal(0, Write(s => s.Profiles.ClearDefaults(contoso.Id, DevicePlatform.tvOS)));
        Assert.Equal(new[] { DevicePlatform.iOS }, Read(s => s.Profiles.GetDefaults(contoso.Id)).Keys);

        Write(s => s.Profiles.SetDefault(contoso.Id, DevicePlatform.macOS, mac.Id));
        Assert.Equal(2, Write(s => s.Profiles.ClearDefaults(contoso.Id)));
        Assert.Empty(Read(s => s.Profiles.GetDefaults(contoso.Id)));
        Assert.Equal(new[] { DevicePlatform.iOS }, Read(s => s.Profiles.GetDefaults(fabrikam.Id)).Keys); // another token's stays
    }

    // ---- device: assignment side -------------------------------------------------------------------------------------

    [Fact]
    public void GetAssignmentStates_ReturnsTheKnownDevicesOfTheBatchOnTheToken_WithTheirProfileFailureAndPlatform()
    {
        var token = Token("Contoso");
        var other = Token("Fabrikam");
        var staff = Insert(token.Id, "Staff");
        AddDevice(token.Id, "A1", profileId: staff.Id);
        AddDevice(token.Id, "A2", deviceFamily: "Mac", os: "OSX");
        AddDevice(token.Id, "A3"); // not asked for
        AddDevice(other.Id, "B1");
        var failedAt = Created.AddMilliseconds(321);
        Write(s => s.Devices.RecordAssignments(new AssignmentRecord(token.Id, staff.Id, "Staff", "U", failedAt,
            [new AssignmentOutcome("FAILED", AssignmentEffect.Failed, ["A2"])])));

        var states = Read(s => s.Devices.GetAssignmentStates(token.Id, ["A1", "A2", "B1", "NOPE"])).OrderBy(d => d.SerialNumber, StringComparer.Ordinal).ToList();

        Assert.Equal(
            new[] { new DeviceAssignmentState("A1", "Staff", null, "iPad", "iOS"), new DeviceAssignmentState("A2", null, failedAt, "Mac", "OSX") },
            states);
        Assert.Empty(Read(s => s.Devices.GetAssignmentStates(token.Id, [])));
    }

    [Fact]
    public void RecordAssignments_RecordsTheAttemptOnEveryDevice_AndEachAnswersEffect()
    {
        var token = Token("Contoso");
        var old = Insert(token.Id, "Old");
        var staff = Insert(token.Id, "Staff");
        foreach (var serial in new[] { "OK1", "OK2", "FAIL", "SLOW", "GONE" })
        {
            AddDevice(token.Id, serial, profileId: old.Id);
        }

        var earlier = Created.AddHours(-30);
        Write(s => s.Devices.RecordAssignments(new AssignmentRecord(token.Id, old.Id, "Old", "U0", earlier,
            [new AssignmentOutcome("FAILED", AssignmentEffect.Failed, ["OK2", "FAIL"])])));
        var now = Created.AddMilliseconds(42);

        Write(s => s.Devices.RecordAssignments(new AssignmentRecord(token.Id, staff.Id, "Staff", "UUID-STAFF", now,
        [
            new AssignmentOutcome("SUCCESS", AssignmentEffect.Assigned, ["OK1", "OK2", "UNKNOWN"]),
            new AssignmentOutcome("FAILED", AssignmentEffect.Failed, ["FAIL"]),
            new AssignmentOutcome("THROTTLED", AssignmentEffect.AttemptOnly, ["SLOW"]),
            new AssignmentOutcome("NOT_ACCESSIBLE", AssignmentEffect.AttemptOnly, []),
        ])));

        Assert.Equal(5, CountWhere("device", "1 = 1")); // the unknown serial was skipped, not added
        var nowMs = now.ToUnixTimeMilliseconds();
        Assert.Equal(Facts(now, "Staff", "SUCCESS", staff.Id, "UUID-STAFF", "assigned", now, null, nowMs), DeviceFacts(token.Id, "OK1"));
        Assert.Equal(Facts(now, "Staff", "SUCCESS", staff.Id, "UUID-STAFF", "assigned", now, null, nowMs), DeviceFacts(token.Id, "OK2")); // success clears the failure
        Assert.Equal(Facts(now, "Staff", "FAILED", old.Id, null, null, null, now, 0), DeviceFacts(token.Id, "FAIL")); // a failure keeps the profile the device had
        Assert.Equal(Facts(now, "Staff", "THROTTLED", old.Id, null, null, null, null, 0), DeviceFacts(token.Id, "SLOW"));
        Assert.Equal(Facts(null, null, null, old.Id, null, null, null, null, 0), DeviceFacts(token.Id, "GONE"));
        Assert.Null(DeviceFacts(token.Id, "UNKNOWN"));

        var states = Read(s => s.Devices.GetAssignmentStates(token.Id, ["OK1", "OK2", "FAIL", "SLOW"])).ToDictionary(d => d.SerialNumber);
        Assert.Equal(("Staff", (DateTimeOffset?)null), (states["OK2"].ProfileName, states["OK2"].AssignFailedAt)); // success clears the failure
        Assert.Equal(("Old", (DateTimeOffset?)now), (states["FAIL"].ProfileName, states["FAIL"].AssignFailedAt));
        Assert.Equal(("Old", (DateTimeOffset?)null), (states["SLOW"].ProfileName, states["SLOW"].AssignFailedAt));
    }

    [Fact]
    public void RecordAssignments_OverABatchOfAThousand_UpdatesExactlyTheKnownDevicesOfEachAnswer_AndWritesNoJournalRow()
    {
        var token = Token("Contoso");
        var other = Token("Fabrikam");
        var staff = Insert(token.Id, "Staff");
        var serials = Enumerable.Range(0, 1000).Select(i => $"C{i:D4}").ToList();
        AddDevices(token.Id, serials.Where((_, i) => i % 10 != 9).ToList()); // every tenth is unknown to the store
        AddDevices(other.Id, serials); // the same serials on another token stay untouched
        AddDevices(token.Id, ["BYSTANDER"]);
        var now = Created.AddMilliseconds(7);

        Write(s => s.Devices.RecordAssignments(new AssignmentRecord(token.Id, staff.Id, "Staff", "UUID-STAFF", now,
        [
            new AssignmentOutcome("SUCCESS", AssignmentEffect.Assigned, serials[..600]),
            new AssignmentOutcome("FAILED", AssignmentEffect.Failed, serials[600..900]),
            new AssignmentOutcome("THROTTLED", AssignmentEffect.AttemptOnly, serials[900..]),
        ])));

        var t = $"token_id = '{token.Id}'";
        var at = now.ToUnixTimeMilliseconds();
        Assert.Equal(540, CountWhere("device", $"{t} AND last_attempt_at = {at} AND last_attempt_result = 'SUCCESS' AND profile_id = '{staff.Id}' AND profile_status = 'assigned'"));
        Assert.Equal(270, CountWhere("device", $"{t} AND last_attempt_at = {at} AND last_attempt_result = 'FAILED' AND assign_failed_at = {at} AND profile_id IS NULL"));
        Assert.Equal(90, CountWhere("device", $"{t} AND last_attempt_at = {at} AND last_attempt_result = 'THROTTLED' AND assign_failed_at IS NULL AND profile_id IS NULL"));
        Assert.Equal(900, CountWhere("device", $"{t} AND last_attempt_profile = 'Staff'"));
        Assert.Equal(901, CountWhere("device", t)); // unknown serials skipped, not added
        Assert.Equal(0, CountWhere("device", $"(token_id = '{other.Id}' OR serial_number = 'BYSTANDER') AND last_attempt_at IS NOT NULL"));
        Assert.Equal(0, CountWhere("device_event", "1 = 1")); // the journal is the service's to write, through the device_event table

        var states = Read(s => s.Devices.GetAssignmentStates(token.Id, serials));
        Assert.Equal(900, states.Count);
        Assert.Equal(540, states.Count(d => d.ProfileName == "Staff"));
        Assert.Equal(270, states.Count(d => d.AssignFailedAt == now));
    }

    [Fact]
    public void ProfileHolders_AreTheDevicesStillInAbm_PushedCountedApart_AndRemovedDevicesCanBeReleased()
    {
        var token = Token("Contoso");
        var staff = Insert(token.Id, "Staff");
        var other = Insert(token.Id, "Other");
        AddDevice(token.Id, "H1", profileId: staff.Id, profileStatus: "assigned");
        AddDevice(token.Id, "H2", profileId: staff.Id, profileStatus: "pushed");
        AddDevice(token.Id, "R1", profileId: staff.Id, profileStatus: "pushed", removed: true);
        AddDevice(token.Id, "O1", profileId: other.Id);

        Assert.Equal(new[] { "H1", "H2" }, Read(s => s.Devices.GetProfileHolders(staff.Id)).Order(StringComparer.Ordinal));
        Assert.Equal(new ProfileHolderCounts(2, 1), Read(s => s.Devices.CountProfileHolders(staff.Id)));
        Assert.Equal(new ProfileHolderCounts(0, 0), Read(s => s.Devices.CountProfileHolders(Guid.NewGuid())));

        Assert.Equal(1, Write(s => s.Devices.ReleaseProfileFromRemovedDevices(staff.Id)));
        Assert.Equal(2L, Read(s => s.Profiles.List(new ProfileListQuery(Id: staff.Id))).Single().DeviceCount);
        Assert.Equal(new ProfileHolderCounts(2, 1), Read(s => s.Devices.CountProfileHolders(staff.Id)));
    }
}

public sealed class SqliteProfileTableContract : ProfileTableContract
{
    protected override TestStore CreateStore() => new();
}

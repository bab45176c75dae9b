using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Tests.TestSupport;

namespace AdeEnrollment.Engine.Tests.DeviceActions;

/// <summary>
/// Get-AdeDevice, Remove-AdeDevice and the device actions through the engine, the same on each store provider.
/// Devices are written with plain SQL that both providers accept (the page writes of a sync are another table's).
/// </summary>
public class DeviceServiceProviderTests
{
    public static TheoryData<string> Providers => ["SQLite", "PostgreSQL"];

    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    private const string InsertDevice =
        """
        INSERT INTO device (token_id, serial_number, model, device_family, profile_id, profile_uuid, profile_status, removed_at, purge_after,
                            updated_at, mdm_migration_deadline, is_replacement_device, last_attempt_result)
        VALUES (@t, @s, @model, @family, @pid, @pu, @ps, @rem, @purge, 0, @mmd, @rep, @lar)
        """;

    /// <summary>A <see cref="TestStore"/> on the provider, and a way to run SQL with @named parameters on its store.</summary>
    private static (TestStore Store, Action<string, (string, object?)[]> Sql) Open(string provider)
    {
        if (provider == "SQLite")
        {
            var sqlite = new TestStore();
            return (sqlite, (sql, p) => sqlite.Execute(sql, p));
        }

        var store = PostgresTestStores.Create(out var schema);
        return (store, (sql, p) => schema.Execute(sql, p));
    }

    private static (string, object?)[] Device(Guid tokenId, string serial, string? profileId = null, string? profileUuid = null, DateTimeOffset? removed = null,
        DateTimeOffset? deadline = null, bool? replacement = null, string? lastResult = null, string? model = null, string? family = null)
        => [("@t", tokenId.ToString()), ("@s", serial), ("@model", model), ("@family", family), ("@pid", profileId), ("@pu", profileUuid),
            ("@ps", profileId is null ? null : "pushed"), ("@rem", removed?.ToUnixTimeMilliseconds()), ("@purge", removed?.AddDays(30).ToUnixTimeMilliseconds()),
            ("@mmd", deadline?.ToUnixTimeMilliseconds()), ("@rep", replacement is { } r ? (r ? 1L : 0L) : null), ("@lar", lastResult)];

    private static string Profile(Action<string, (string, object?)[]> sql, Guid tokenId, string name, string uuid)
    {
        var id = Guid.NewGuid().ToString();
        sql(@"INSERT INTO profile (id, token_id, name, settings, apple_profile_uuid, created_at, modified_at) VALUES (@id, @t, @n, '{""UserAffinity"":""WithoutUserAffinity""}', @u, 0, 0)",
            [("@id", id), ("@t", tokenId.ToString()), ("@n", name), ("@u", uuid)]);
        return id;
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void Scopes_KeepTheDevicesOfTheirTokens_EachWithItsOwnProfile_InGetAndGetEach(string provider)
    {
        var (store, sql) = Open(provider);
        using var _ = store;
        var contosoEu = store.AddToken("Contoso EU").Token;
        var contosoUs = store.AddToken("Contoso US").Token;
        var fabrikam = store.AddToken("Fabrikam").Token;
        var kioskEu = Profile(sql, contosoEu.Id, "Kiosk", "U-EU");
        var kioskUs = Profile(sql, contosoUs.Id, "Kiosk", "U-US");
        Profile(sql, fabrikam.Id, "Kiosk", "U-FA");
        sql(InsertDevice, Device(contosoEu.Id, "EU1", kioskEu, "U-EU"));
        sql(InsertDevice, Device(contosoEu.Id, "EU2"));
        sql(InsertDevice, Device(contosoUs.Id, "US1", kioskUs, "U-US"));
        sql(InsertDevice, Device(fabrikam.Id, "FA1"));
        sql(InsertDevice, Device(fabrikam.Id, "EU1"));
        var devices = store.Engine.Devices;
        string[] Serials(DeviceQuery q) => [.. devices.Get(q).Select(d => $"{d.Token}/{d.SerialNumber}")];

        var contoso = store.Engine.Tokens.ResolveTokens("Contoso*");
        var all = store.Engine.Profiles.ScopesOf(contoso, null);
        var kiosk = store.Engine.Profiles.ScopesOf(contoso, "Kiosk");
        Assert.Equal([new DeviceScope(contosoEu.Id, Guid.Parse(kioskEu)), new DeviceScope(contosoUs.Id, Guid.Parse(kioskUs))], kiosk);

        Assert.Equal(["Contoso EU/EU1", "Contoso EU/EU2", "Contoso US/US1"], Serials(new DeviceQuery(Scopes: all)));
        Assert.Equal(["Contoso EU/EU1", "Contoso US/US1"], Serials(new DeviceQuery(Scopes: kiosk)));
        Assert.Equal(["Contoso EU/EU1", "Contoso EU/EU2"], Serials(new DeviceQuery(SerialNumber: "EU*", Scopes: all))); // not Fabrikam's EU1
        Assert.Empty(Serials(new DeviceQuery(Scopes: [])));
        Assert.Equal(["Contoso EU/EU2"], Serials(new DeviceQuery(Scopes: [new DeviceScope(contosoEu.Id)], Unassigned: true)));

        var each = devices.GetEach([new DeviceQuery(SerialNumber: "EU1", Scopes: all), new DeviceQuery(SerialNumber: "FA1", Scopes: all),
            new DeviceQuery(SerialNumber: "EU2", Scopes: kiosk), new DeviceQuery(SerialNumber: "US1", Scopes: kiosk)]);
        Assert.Equal([["Contoso EU"], [], [], ["Contoso US"]], each.Select(found => found.Select(d => d.Token).ToArray()));

        // the error for a serial outside the scopes names the token it is in
        var notFound = devices.NotFound(new DeviceQuery(SerialNumber: "FA1", Scopes: all));
        Assert.Contains("Fabrikam", notFound.Message);

        // a profile none of the tokens has is ProfileNotFound; a wildcard that matched no token has no scopes and no error
        AdeAssert.Throws("ProfileNotFound", () => store.Engine.Profiles.ScopesOf(contoso, "Shared"));
        Assert.Empty(store.Engine.Profiles.ScopesOf([], "Shared"));
        Assert.Equal([new DeviceScope(fabrikam.Id, null)], store.Engine.Profiles.ScopesOf([fabrikam], null));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void SerialNumbersStartingWith_ReadsTheKeyInOrder_OnceEach_WithinATokenAndALimit(string provider)
    {
        var (store, sql) = Open(provider);
        using var _ = store;
        var contoso = store.AddToken("Contoso").Token;
        var fabrikam = store.AddToken("Fabrikam").Token;
        foreach (var serial in new[] { "C02B2", "C02A1", "C03X", "C02A9Z", "DMP1" })
        {
            sql(InsertDevice, Device(contoso.Id, serial));
        }

        sql(InsertDevice, Device(fabrikam.Id, "C02A1"));
        sql(InsertDevice, Device(fabrikam.Id, "C02Z0"));
        var devices = store.Engine.Devices;

        Assert.Equal(["C02A1", "C02A9Z", "C02B2", "C02Z0"], devices.GetSerialNumbersStartingWith("c02", null, 10));
        Assert.Equal(["C02A1", "C02A9Z", "C02B2"], devices.GetSerialNumbersStartingWith("C02", contoso.Id, 10));
        Assert.Equal(["C02A1", "C02A9Z"], devices.GetSerialNumbersStartingWith("C02", null, 2));
        Assert.Equal(["C02A1", "C02A9Z", "C02B2", "C02Z0", "C03X", "DMP1"], devices.GetSerialNumbersStartingWith("", null, 100));
        Assert.Empty(devices.GetSerialNumbersStartingWith("C02*", null, 10)); // a pattern is the user's own, not a prefix
        Assert.Empty(devices.GetSerialNumbersStartingWith("C02'", null, 10));
        Assert.Empty(devices.GetSerialNumbersStartingWith("DMP1X", null, 10));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void GetEach_AnswersEveryQueryAsItsOwnGetWould_InTheOrderGiven(string provider)
    {
        var (store, sql) = Open(provider);
        using var _ = store;
        var contoso = store.AddToken("Contoso").Token;
        var fabrikam = store.AddToken("fabrikam").Token;
        var kiosk = Guid.Parse(Profile(sql, contoso.Id, "Kiosk", "UUID-K"));
        sql(InsertDevice, Device(contoso.Id, "C02AAA", profileId: kiosk.ToString(), profileUuid: "UUID-K"));
        sql(InsertDevice, Device(contoso.Id, "C02BBB", removed: T0));
        sql(InsertDevice, Device(fabrikam.Id, "C02AAA"));
        sql(InsertDevice, Device(fabrikam.Id, "F0001"));

        DeviceQuery[] queries =
        [
            new(SerialNumber: "F0001"), new(SerialNumber: " c02aaa "), new(SerialNumber: "NOPE"), new(TokenId: contoso.Id, SerialNumber: "C02AAA"),
            new(TokenId: contoso.Id, SerialNumber: "F0001"), new(SerialNumber: "C02AAA", ProfileId: kiosk), new(SerialNumber: "C02BBB"), new(SerialNumber: "F0001"),
        ];
        static string Rows(IEnumerable<AdeDevice> ds) => string.Join(",", ds.Select(d => $"{d.Token}/{d.SerialNumber}/{d.EnrollmentProfileName}"));

        var each = store.Engine.Devices.GetEach(queries);

        Assert.Equal(queries.Select(q => Rows(store.Engine.Devices.Get(q))), each.Select(Rows));
        Assert.Equal(["fabrikam/F0001/", "Contoso/C02AAA/Kiosk,fabrikam/C02AAA/", "", "Contoso/C02AAA/Kiosk", "", "Contoso/C02AAA/Kiosk", "Contoso/C02BBB/", "fabrikam/F0001/"],
            each.Select(Rows));
        var removed = store.Engine.Devices.GetEach([new(SerialNumber: "C02AAA", RemovedFromAbm: true), new(SerialNumber: "C02BBB", RemovedFromAbm: true)]);
        Assert.Equal(["", "Contoso/C02BBB/"], removed.Select(Rows));
        Assert.Empty(store.Engine.Devices.GetEach([]));
    }

    [Fact]
    public void GetEach_RefusesPatternsMixedFilters_AndMoreThanOneBatch()
    {
        using var store = new TestStore();
        var devices = store.Engine.Devices;

        Assert.Throws<ArgumentException>(() => devices.GetEach([new(SerialNumber: "C02*"), new(SerialNumber: "C03")]));
        Assert.Throws<ArgumentException>(() => devices.GetEach([new(SerialNumber: " "), new(SerialNumber: "C03")]));
        Assert.Throws<ArgumentException>(() => devices.GetEach([new(SerialNumber: "C02"), new(SerialNumber: "C03", Unassigned: true)]));
        Assert.Throws<ArgumentOutOfRangeException>(() => devices.GetEach([.. Enumerable.Range(0, DeviceService.LookupBatchSize + 1).Select(i => new DeviceQuery(SerialNumber: $"S{i}"))]));
        Assert.Equal(DeviceService.LookupBatchSize, devices.GetEach([.. Enumerable.Range(0, DeviceService.LookupBatchSize).Select(i => new DeviceQuery(SerialNumber: $"S{i}"))]).Count);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void Get_FiltersWildcardsAndOrder_AreTheSameOnEachProvider(string provider)
    {
        var (store, sql) = Open(provider);
        using var _ = store;
        var contoso = store.AddToken("Contoso").Token;
        var fabrikam = store.AddToken("fabrikam").Token;
        var kiosk = Profile(sql, contoso.Id, "Kiosk", "UUID-K");
        sql(InsertDevice, Device(contoso.Id, "C02AAA", profileId: kiosk, profileUuid: "UUID-K", model: "iPad Air", family: "iPad"));
        sql(InsertDevice, Device(contoso.Id, "C02BBB", removed: T0, lastResult: "FAILED"));
        sql(InsertDevice, Device(contoso.Id, "DMP111", replacement: true, deadline: T0.AddDays(1)));
        sql(InsertDevice, Device(fabrikam.Id, "C02AAA", deadline: T0.AddDays(10)));

        List<string> Get(DeviceQuery q) => store.Engine.Devices.Get(q).Select(d => $"{d.Token}/{d.SerialNumber}").ToList();

        Assert.Equal(["Contoso/C02AAA", "Contoso/C02BBB", "Contoso/DMP111", "fabrikam/C02AAA"], Get(new DeviceQuery()));
        Assert.Equal(["Contoso/C02AAA", "Contoso/C02BBB", "fabrikam/C02AAA"], Get(new DeviceQuery(SerialNumber: "c02*")));
        Assert.Equal(["Contoso/C02AAA", "fabrikam/C02AAA"], Get(new DeviceQuery(SerialNumber: " c02aaa ")));
        Assert.Equal(["fabrikam/C02AAA"], Get(new DeviceQuery(TokenId: fabrikam.Id)));
        Assert.Equal(["Contoso/C02AAA"], Get(new DeviceQuery(ProfileId: Guid.Parse(kiosk))));
        Assert.Equal(["Contoso/C02BBB", "Contoso/DMP111", "fabrikam/C02AAA"], Get(new DeviceQuery(Unassigned: true)));
        Assert.Equal(["Contoso/C02BBB"], Get(new DeviceQuery(RemovedFromAbm: true, LastAssignmentResult: "FAILED")));
        Assert.Equal(["Contoso/DMP111"], Get(new DeviceQuery(ReplacementDevice: true)));
        Assert.Equal(["Contoso/DMP111"], Get(new DeviceQuery(MigrationDeadlineBefore: T0.AddDays(2))));
        var d = store.Engine.Devices.Get(new DeviceQuery(TokenId: contoso.Id, SerialNumber: "C02AAA")).Single();
        Assert.Equal(("Kiosk", AdeProfileStatus.Pushed, "iPad Air", "iPad", AdeAbmState.Assigned), (d.EnrollmentProfileName, d.ProfileStatus, d.Model, d.DeviceFamily, d.AbmState));
        Assert.Equal(contoso.ScopeTags, d.ScopeTags);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void NotFound_SaysWhenTheSerialIsInTheStoreButOtherFiltersLeftItOut(string provider)
    {
        var (store, sql) = Open(provider);
        using var _ = store;
        var token = store.AddToken("Contoso").Token;
        sql(InsertDevice, Device(token.Id, "C02AAA"));

        var unknown = store.Engine.Devices.NotFound(new DeviceQuery(SerialNumber: "C02NOPE"));
        Assert.Equal(("DeviceNotFound", AdeErrorCategory.ObjectNotFound), (unknown.ErrorId, unknown.Category));
        Assert.Contains("No device with serial number 'C02NOPE' is known", unknown.Message, StringComparison.Ordinal);
        var filtered = store.Engine.Devices.NotFound(new DeviceQuery(SerialNumber: "C02AAA", RemovedFromAbm: true));
        Assert.Equal("DeviceNotFound", filtered.ErrorId);
        Assert.Contains("Device 'C02AAA' is in the store (token 'Contoso') but does not match the other filters given", filtered.Message, StringComparison.Ordinal);
        Assert.Contains("No device with serial number 'C02NOPE'", store.Engine.Devices.NotFound(new DeviceQuery(SerialNumber: "C02NOPE", Unassigned: true)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void Remove_DeletesTheDevice_WarnsWhenAbmStillAssignsIt_AndAnUnknownSerialIsDeviceNotFound(string provider)
    {
        var (store, sql) = Open(provider);
        using var _ = store;
        var token = store.AddToken("Contoso").Token;
        sql(InsertDevice, Device(token.Id, "C02AAA"));
        sql(InsertDevice, Device(token.Id, "C02GONE", removed: T0));
        var errors = new List<string>();

        var removal = store.Engine.Devices.Remove([new DeviceTarget("c02aaa"), new DeviceTarget("C02GONE", token.Id), new DeviceTarget("C02NOPE")], ex => errors.Add(ex.ErrorId));

        Assert.Equal(2, removal.Removed);
        Assert.Equal(["DeviceNotFound"], errors);
        Assert.Empty(store.Engine.Devices.Get(new DeviceQuery()));
        Assert.Contains(store.Host.Warnings, w => w.Contains("C02AAA", StringComparison.Ordinal) && !w.Contains("C02GONE", StringComparison.Ordinal));
        // the journal keeps each removal, saying whether ABM still assigned the device
        var removed = store.Engine.Devices.GetEvents(new DeviceEventQuery(Kinds: [AdeDeviceEventKind.Removed])).Select(e => $"{e.SerialNumber}:{e.Detail}").Order();
        Assert.Equal(["C02AAA:StillInAbm", "C02GONE:"], removed);
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void Remove_LooksUpItsTargetsABatchAtATime_AndEachTargetGivesWhatItsOwnLookupAfterTheRemovalsBeforeItWould(string provider)
    {
        var (store, sql) = Open(provider);
        using var _ = store;
        var token = store.AddToken("Contoso").Token;
        var serials = Enumerable.Range(0, DeviceService.LookupBatchSize + 20).Select(i => $"C{i:D5}").ToList();
        foreach (var serial in serials.Where(s => s != "C00002" && s != "C00510"))
        {
            sql(InsertDevice, Device(token.Id, serial));
        }

        // While the first device is being confirmed, C00002 (in the first batch) and C00510 (in the second) arrive: the
        // first batch was read before that prompt, the second is read after it.
        store.Host.OnShouldProcess = target =>
        {
            if (target.StartsWith("C00000 ", StringComparison.Ordinal))
            {
                sql(InsertDevice, Device(token.Id, "C00002"));
                sql(InsertDevice, Device(token.Id, "C00510"));
            }
        };
        var errors = new List<string>();
        store.Host.ShouldProcessCalls.Clear();
        // A serial named again (in another case) in its own batch, and one after its device's batch: passed over. A
        // pattern names no device (serials are exact), though C00510-C00519 are still there when it comes.
        DeviceTarget[] targets = [.. serials.Take(5).Select(s => new DeviceTarget(s.ToLowerInvariant())), new DeviceTarget("C00003"),
            .. serials.Skip(5).Take(500).Select(s => new DeviceTarget(s)), new DeviceTarget("C0051*"), new DeviceTarget("NOPE"),
            .. serials.Skip(505).Select(s => new DeviceTarget(s)), new DeviceTarget("C00001"), new DeviceTarget(" ")];

        var removal = store.Engine.Devices.Remove(targets, ex => errors.Add($"{ex.ErrorId}:{ex.Message.Split('\'')[1]}"));

        Assert.Equal(["DeviceNotFound:c00002", "DeviceNotFound:C0051*", "DeviceNotFound:NOPE"], errors);
        Assert.Equal(serials.Count - 1, removal.Removed);
        Assert.Equal(serials.Where(s => s != "C00002").Select(s => $"{s} (token 'Contoso')"), store.Host.ShouldProcessCalls.Select(c => c.Target)); // once each, in order
        Assert.Equal(["C00002"], store.Engine.Devices.Get(new DeviceQuery()).Select(d => d.SerialNumber));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void Remove_StoppedAtAPrompt_DeletesTheDevicesConfirmedBeforeIt_AndNoOthers(string provider)
    {
        var (store, sql) = Open(provider);
        using var _ = store;
        var token = store.AddToken("Contoso").Token;
        foreach (var serial in new[] { "C02AAA", "C02BBB", "C02CCC", "C02DDD" })
        {
            sql(InsertDevice, Device(token.Id, serial));
        }

        store.Host.OnShouldProcess = target =>
        {
            if (target.StartsWith("C02CCC", StringComparison.Ordinal)) throw new OperationCanceledException("stopped at the prompt");
        };

        Assert.Throws<OperationCanceledException>(() => store.Engine.Devices.Remove(new[] { "C02AAA", "C02BBB", "C02CCC", "C02DDD" }.Select(s => new DeviceTarget(s)), ex => throw ex));

        Assert.Equal(["C02CCC", "C02DDD"], store.Engine.Devices.Get(new DeviceQuery()).Select(d => d.SerialNumber));
    }

    /// <summary>
    /// The simulator's token, with its devices in the store as a sync would have left them (no profile); the store is
    /// in <paramref name="postgres"/> when given (the caller disposes it after the fixture).
    /// </summary>
    private static EngineSimFixture Actions(TestPostgresSchema? postgres, int devices)
    {
        var f = new EngineSimFixture(devices: devices, postgres: postgres);
        Action<string, (string, object?)[]> sql = postgres is not null
            ? (text, p) => postgres.Execute(text, p)
            : (text, p) =>
            {
                using var c = f.Store.OpenConnection();
                c.Execute(text, p);
            };
        foreach (var d in f.Simulator.GetDevices(EngineSimFixture.Server))
        {
            sql(InsertDevice, Device(f.Token.Id, d.SerialNumber, model: "stale", family: d.DeviceFamily));
        }

        return f;
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void DeviceActions_ClearRefreshRelease_ChangeTheStoreAsOnSqlite(string provider)
    {
        using var schema = provider == "PostgreSQL" ? new TestPostgresSchema() : null;
        using var f = Actions(schema, 3);
        var s = f.AppleSerials().ToList();
        List<DeviceTarget> Targets(params string[] serials) => serials.Select(x => new DeviceTarget(x)).ToList();
        AdeDevice Stored(string serial) => f.Engine.Devices.Get(new DeviceQuery(f.Token.Id, serial)).Single();

        var cleared = f.Engine.DeviceActions.ClearProfile(Targets(s[0], "C02UNKNOWN01"), null).ToDictionary(r => r.SerialNumber, r => r.Status);
        var refreshed = f.Engine.DeviceActions.Refresh(Targets(s[1]), null).Single();
        var released = f.Engine.DeviceActions.Release(Targets(s[2]), null).Single();

        Assert.Equal((AdeDeviceActionStatus.Success, AdeDeviceActionStatus.UnknownDevice), (cleared[s[0]], cleared["C02UNKNOWN01"]));
        Assert.Equal(AdeProfileStatus.Removed, Stored(s[0]).ProfileStatus);
        Assert.Equal((AdeDeviceActionStatus.Success, AdeDeviceActionStatus.Success), (refreshed.Status, released.Status));
        var apple = f.Simulator.GetDevices(EngineSimFixture.Server, [s[1]]).Single();
        Assert.Equal(apple.Model, Stored(s[1]).Model);
        Assert.Equal(apple.Model, refreshed.Device!.Model);
        var gone = Stored(s[2]);
        Assert.Equal((AdeAbmState.RemovedFromAbm, f.Time.GetUtcNow()), (gone.AbmState, gone.ReleasedAt));
        Assert.Equal(f.Time.GetUtcNow() + DeviceRepository.PurgeDelay, gone.PurgeAfter);
    }
}

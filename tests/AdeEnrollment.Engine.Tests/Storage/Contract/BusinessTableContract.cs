using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tests.TestSupport;

namespace AdeEnrollment.Engine.Tests.Storage.Contract;

/// <summary>What every provider's business tables promise: accounts, activities, and the request budget shared by processes.</summary>
public abstract class BusinessTableContract : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2026, 5, 4, 10, 0, 0, 123, TimeSpan.Zero);
    private TestStore? store;

    protected abstract TestStore CreateStore();

    protected TestStore Store => store ??= CreateStore();

    public void Dispose()
    {
        store?.Dispose();
        GC.SuppressFinalize(this);
    }

    private T Write<T>(Func<IBusinessTable, T> work) => Store.Store.Write(s => work(s.Business));

    private void Write(Action<IBusinessTable> work) => Store.Store.Write(s => { work(s.Business); return 0; });

    private T Read<T>(Func<IBusinessTable, T> work) => Store.Store.Read(s => work(s.Business));

    private static BusinessAccountRow Account(string clientId, DateTimeOffset? at = null)
        => new(Guid.NewGuid(), clientId, "e339d085-a821-438a-a527-d044edacf50a", "business.api", "https://account.apple.com/auth/oauth2/token",
            "https://api-business.apple.com/v1/", at ?? T0);

    private static BusinessActivityRow Activity(string id, Guid account, DateTimeOffset at, string status = "IN_PROGRESS")
        => new(id, account, "ASSIGN_DEVICES", "1F97349736CF4614A94F624E705841AD", "Contoso iPads", Guid.NewGuid(), 2, ["C02AAAAAAAAA", "C02BBBBBBBBB"],
            status, "SUBMITTED", null, at, null, at);

    [Fact]
    public void Account_round_trips_every_column_and_its_key_is_read_only_by_id()
    {
        var row = Account("BUSINESSAPI.2f0d3c6e-8f0c-4d3e-9a55-9d6b3c1e0a11") with { GetsPerMinute = 120, PostsPerHour = 12 };
        byte[] key = [1, 2, 3, 250];
        Write(b => b.InsertAccount(row, key));
        Assert.Equal(row, Assert.Single(Read(b => b.Accounts())));
        Assert.Equal(key, Read(b => b.PrivateKey(row.Id)));
        Assert.Null(Read(b => b.PrivateKey(Guid.NewGuid())));
    }

    [Fact]
    public void Accounts_are_ordered_by_client_id_and_exist_case_insensitively()
    {
        var b1 = Account("SCHOOLAPI.00000000-0000-0000-0000-000000000001");
        var a1 = Account("BUSINESSAPI.00000000-0000-0000-0000-000000000002");
        Write(b => { b.InsertAccount(b1, [1]); b.InsertAccount(a1, [2]); });
        Assert.Equal([a1.ClientId, b1.ClientId], Read(b => b.Accounts()).Select(a => a.ClientId));
        Assert.True(Read(b => b.AccountExists(a1.ClientId.ToLowerInvariant())));
        Assert.False(Read(b => b.AccountExists("BUSINESSAPI.00000000-0000-0000-0000-000000000009")));
    }

    [Fact]
    public void Activity_round_trips_and_an_update_keeps_results_unless_given()
    {
        var acc = Account("BUSINESSAPI.00000000-0000-0000-0000-000000000003");
        var row = Activity("b1481656-b267-480d-b284-a809eed8b041", acc.Id, T0);
        Write(b => { b.InsertAccount(acc, [1]); b.InsertActivity(row); });
        var read = Assert.Single(Read(b => b.Activities()));
        Assert.Equal(row with { Serials = read.Serials }, read);
        Assert.Equal(row.Serials, read.Serials);

        BusinessDeviceResultRow[] results = [new("C02AAAAAAAAA", "SUCCESS", null), new("C02BBBBBBBBB", "FAILED", "ALREADY_ASSIGNED")];
        Write(b => b.UpdateActivity(row.Id, "COMPLETED", "COMPLETED_WITH_ERROR", T0.AddSeconds(11), results, T0.AddSeconds(12)));
        Write(b => b.UpdateActivity(row.Id.ToUpperInvariant(), "COMPLETED", "COMPLETED_WITH_ERROR", T0.AddSeconds(11), null, T0.AddSeconds(20)));
        var done = Assert.Single(Read(b => b.Activities(row.Id.ToUpperInvariant())));
        Assert.Equal("COMPLETED", done.Status);
        Assert.Equal("COMPLETED_WITH_ERROR", done.SubStatus);
        Assert.Equal(T0.AddSeconds(11), done.CompletedAt);
        Assert.Equal(T0.AddSeconds(20), done.CheckedAt);
        Assert.Equal(results, done.Results);
    }

    [Fact]
    public void Activities_are_newest_first_and_filtered_by_account()
    {
        var a = Account("BUSINESSAPI.00000000-0000-0000-0000-000000000004");
        var b2 = Account("BUSINESSAPI.00000000-0000-0000-0000-000000000005");
        Write(b =>
        {
            b.InsertAccount(a, [1]);
            b.InsertAccount(b2, [1]);
            b.InsertActivity(Activity("a-1", a.Id, T0));
            b.InsertActivity(Activity("a-2", a.Id, T0.AddMinutes(30)));
            b.InsertActivity(Activity("b-1", b2.Id, T0.AddMinutes(10)));
        });
        Assert.Equal(["a-2", "b-1", "a-1"], Read(b => b.Activities()).Select(x => x.Id));
        Assert.Equal(["a-2", "a-1"], Read(b => b.Activities(accountId: a.Id)).Select(x => x.Id));
    }

    [Fact]
    public void Requests_are_counted_per_account_and_method_and_pruned_before_a_time()
    {
        var a = Account("BUSINESSAPI.00000000-0000-0000-0000-000000000006");
        var b2 = Account("BUSINESSAPI.00000000-0000-0000-0000-000000000007");
        Write(b =>
        {
            b.InsertAccount(a, [1]);
            b.InsertAccount(b2, [1]);
            b.AddRequest(a.Id, "GET", T0);
            b.AddRequest(a.Id, "GET", T0.AddSeconds(30));
            b.AddRequest(a.Id, "POST", T0.AddSeconds(31));
            b.AddRequest(b2.Id, "GET", T0.AddSeconds(40));
        });
        Assert.Equal([T0, T0.AddSeconds(30)], Read(b => b.Requests(a.Id, "GET", T0.AddSeconds(-1))));
        Assert.Equal([T0.AddSeconds(30)], Read(b => b.Requests(a.Id, "GET", T0)));
        Write(b => b.PruneRequests(a.Id, "GET", T0));
        Assert.Equal([T0.AddSeconds(30)], Read(b => b.Requests(a.Id, "GET", DateTimeOffset.UnixEpoch)));
        Assert.Single(Read(b => b.Requests(b2.Id, "GET", DateTimeOffset.UnixEpoch)));
        // a prune of one method keeps the other's (a POST counts for an hour, a GET for a minute)
        Write(b => b.PruneRequests(a.Id, "GET", T0.AddSeconds(59)));
        Assert.Empty(Read(b => b.Requests(a.Id, "GET", DateTimeOffset.UnixEpoch)));
        Assert.Equal([T0.AddSeconds(31)], Read(b => b.Requests(a.Id, "POST", DateTimeOffset.UnixEpoch)));
    }

    [Fact]
    public void A_counted_request_is_taken_back_one_at_a_time_of_its_method_and_account()
    {
        var a = Account("BUSINESSAPI.00000000-0000-0000-0000-00000000000a");
        var b2 = Account("BUSINESSAPI.00000000-0000-0000-0000-00000000000b");
        Write(b =>
        {
            b.InsertAccount(a, [1]);
            b.InsertAccount(b2, [1]);
            b.AddRequest(a.Id, "POST", T0);
            b.AddRequest(a.Id, "POST", T0); // two hosts in the same millisecond
            b.AddRequest(a.Id, "GET", T0);
            b.AddRequest(b2.Id, "POST", T0);
        });
        Assert.True(Write(b => b.RemoveRequest(a.Id, "POST", T0)));
        Assert.Equal([T0], Read(b => b.Requests(a.Id, "POST", DateTimeOffset.UnixEpoch)));
        Assert.True(Write(b => b.RemoveRequest(a.Id, "POST", T0)));
        Assert.False(Write(b => b.RemoveRequest(a.Id, "POST", T0)));
        Assert.False(Write(b => b.RemoveRequest(a.Id, "POST", T0.AddMilliseconds(1))));
        Assert.Empty(Read(b => b.Requests(a.Id, "POST", DateTimeOffset.UnixEpoch)));
        Assert.Equal([T0], Read(b => b.Requests(a.Id, "GET", DateTimeOffset.UnixEpoch)));
        Assert.Equal([T0], Read(b => b.Requests(b2.Id, "POST", DateTimeOffset.UnixEpoch)));
    }

    [Fact]
    public void Blocked_until_is_set_read_and_cleared_per_account_and_method()
    {
        var a = Account("BUSINESSAPI.00000000-0000-0000-0000-000000000008");
        var b2 = Account("BUSINESSAPI.00000000-0000-0000-0000-000000000009");
        Write(b => { b.InsertAccount(a, [1]); b.InsertAccount(b2, [1]); });
        Assert.Null(Read(b => b.BlockedUntil(a.Id, "GET")));
        Write(b => b.SetBlockedUntil(a.Id, "GET", T0.AddSeconds(60)));
        Assert.Equal(T0.AddSeconds(60), Read(b => b.BlockedUntil(a.Id, "GET")));
        Assert.Null(Read(b => b.BlockedUntil(a.Id, "POST"))); // reads and writes are blocked apart
        Assert.Null(Read(b => b.BlockedUntil(b2.Id, "GET")));
        Write(b => b.SetBlockedUntil(a.Id, "POST", T0.AddMinutes(30)));
        Assert.Equal((T0.AddSeconds(60), T0.AddMinutes(30)), Read(b => (b.BlockedUntil(a.Id, "GET"), b.BlockedUntil(a.Id, "POST"))));
        Write(b => b.SetBlockedUntil(a.Id, "GET", null));
        Assert.Null(Read(b => b.BlockedUntil(a.Id, "GET")));
        Assert.Equal(T0.AddMinutes(30), Read(b => b.BlockedUntil(a.Id, "POST")));
    }

    [Fact]
    public void Device_server_index_is_per_read_last_write_wins_and_is_dropped_with_stale_reads()
    {
        Guid run = Guid.NewGuid(), other = Guid.NewGuid(), stale = Guid.NewGuid();
        Write(b =>
        {
            b.AddDeviceServers(run, [("C02AAAAAAAAA", "S1"), ("C02BBBBBBBBB", "S1")], T0);
            b.AddDeviceServers(run, [("C02BBBBBBBBB", "S2")], T0);
            b.AddDeviceServers(other, [("C02AAAAAAAAA", "S9")], T0);
            b.AddDeviceServers(stale, [("C02CCCCCCCCC", "S3")], T0.AddDays(-2));
        });
        var found = Read(b => b.DeviceServers(run, ["c02aaaaaaaaa", "C02BBBBBBBBB", "C02ZZZZZZZZZ"]));
        Assert.Equal(2, found.Count);
        Assert.Equal("S1", found["C02AAAAAAAAA"]);
        Assert.Equal("S2", found["C02BBBBBBBBB"]);
        Write(b => b.DropDeviceServers(run, T0.AddDays(-1)));
        Assert.Empty(Read(b => b.DeviceServers(run, ["C02AAAAAAAAA"])));
        Assert.Empty(Read(b => b.DeviceServers(stale, ["C02CCCCCCCCC"])));
        Assert.Equal("S9", Read(b => b.DeviceServers(other, ["C02AAAAAAAAA"]))["C02AAAAAAAAA"]);
    }

    [Fact]
    public void Device_server_index_reads_a_serial_given_twice_once_and_skips_unknown_serials()
    {
        Guid run = Guid.NewGuid(), other = Guid.NewGuid();
        Write(b =>
        {
            b.AddDeviceServers(run, [("C02AAAAAAAAA", "S1")], T0);
            b.AddDeviceServers(other, [("C02BBBBBBBBB", "S9")], T0);
        });

        var found = Read(b => b.DeviceServers(run, ["C02AAAAAAAAA", "c02aaaaaaaaa", "C02ZZZZZZZZZ", "C02BBBBBBBBB", "C02AAAAAAAAA"]));

        Assert.Equal(["C02AAAAAAAAA"], found.Keys.Select(k => k.ToUpperInvariant()));
        Assert.Equal("S1", found["C02AAAAAAAAA"]);
    }

    [Fact]
    public void Deleting_an_account_removes_its_key_activities_and_requests_only()
    {
        var a = Account("BUSINESSAPI.00000000-0000-0000-0000-00000000000a");
        var keep = Account("BUSINESSAPI.00000000-0000-0000-0000-00000000000b");
        Write(b =>
        {
            b.InsertAccount(a, [1]);
            b.InsertAccount(keep, [2]);
            b.InsertActivity(Activity("gone", a.Id, T0));
            b.InsertActivity(Activity("kept", keep.Id, T0));
            b.AddRequest(a.Id, "GET", T0);
            b.AddRequest(keep.Id, "GET", T0);
        });
        Assert.True(Write(b => b.DeleteAccount(a.Id)));
        Assert.False(Write(b => b.DeleteAccount(a.Id)));
        Assert.Equal([keep.Id], Read(b => b.Accounts()).Select(x => x.Id));
        Assert.Null(Read(b => b.PrivateKey(a.Id)));
        Assert.Equal(["kept"], Read(b => b.Activities()).Select(x => x.Id));
        Assert.Empty(Read(b => b.Requests(a.Id, "GET", DateTimeOffset.UnixEpoch)));
        Assert.Single(Read(b => b.Requests(keep.Id, "GET", DateTimeOffset.UnixEpoch)));
    }
}

public sealed class SqliteBusinessTableContract : BusinessTableContract
{
    protected override TestStore CreateStore() => new();
}

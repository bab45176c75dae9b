using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;

namespace AdeEnrollment.Engine.Tests.Storage.Contract;

/// <summary>
/// What every provider's token table promises (ITokenTable): a round trip of every column, sealed credentials
/// included, name and consumer-key lookups, partial updates, the token list with its counts, default profiles and
/// sync facts, and what a delete takes with it. A provider runs it by subclassing with its own <see cref="CreateStore"/>.
/// </summary>
public abstract class TokenTableContract : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, 123, TimeSpan.Zero);
    private TestStore? store;

    protected abstract TestStore CreateStore();

    protected TestStore Store => store ??= CreateStore();

    private AdeStore Db => Store.Store;

    public void Dispose()
    {
        store?.Dispose();
        GC.SuppressFinalize(this);
    }

    // Profiles, devices and sync state belong to other tables: written through the store's test helpers until
    // those tables have the inserts a provider-neutral test can use.
    protected virtual Guid AddProfile(Guid tokenId, string name) => Guid.Parse(Store.AddProfile(tokenId, name));

    protected virtual void AddDevice(Guid tokenId, string serial) => Store.AddDevice(tokenId, serial);

    protected virtual void SetDefaultProfile(Guid tokenId, Guid profileId, DevicePlatform platform) => Store.SetDefaultProfile(tokenId, profileId.ToString(), platform.ToString());

    protected virtual void AddSyncState(Guid tokenId, DateTimeOffset started, DateTimeOffset? success, DateTimeOffset? full, bool nextMustBeFull)
    {
        Store.Execute(
            "INSERT INTO sync_state (token_id, last_started_at, last_success_at, last_full_at, next_must_be_full) VALUES ($t, $s, $ok, $f, $n)",
            ("$t", tokenId.ToString()), ("$s", started.ToUnixTimeMilliseconds()), ("$ok", success?.ToUnixTimeMilliseconds()),
            ("$f", full?.ToUnixTimeMilliseconds()), ("$n", nextMustBeFull ? 1 : 0));
        Store.Execute("INSERT INTO sync_history (token_id, kind, trigger_kind, status, started_at) VALUES ($t, 'Full', 'Manual', 'Succeeded', $s)",
            ("$t", tokenId.ToString()), ("$s", started.ToUnixTimeMilliseconds()));
    }

    protected virtual long SyncRows(Guid tokenId)
        => Store.Scalar<long>("SELECT (SELECT count(*) FROM sync_state WHERE token_id = $t) + (SELECT count(*) FROM sync_history WHERE token_id = $t)", ("$t", tokenId.ToString()));

    private TokenRow NewRow(string name, string? hash = null)
    {
        var requestId = Guid.NewGuid();
        Db.Write(s =>
        {
            s.TokenRequests.Insert(new TokenRequestRow(requestId, T0, "AB" + requestId.ToString("N"), "PEM " + name, [1, 2, 3], null));
            return 0;
        });
        return new TokenRow(
            Guid.NewGuid(), name, $"admin@{name.ToLowerInvariant().Replace(' ', '-')}.example", hash ?? Convert.ToHexString(Guid.NewGuid().ToByteArray()),
            [0, 1, 2, 250, 251, 255, 0], T0.AddDays(300), requestId, null, ["Default"], new Uri("https://mdmenrollment.apple.com/"),
            TokenServerFacts.None, null, null, T0, T0);
    }

    private TokenRow Insert(TokenRow row)
    {
        Db.Write(s =>
        {
            s.Tokens.Insert(row);
            return 0;
        });
        return row;
    }

    private TokenRow Insert(string name, string? hash = null) => Insert(NewRow(name, hash));

    private static void AssertSame(TokenRow expected, TokenRow? actual)
    {
        Assert.NotNull(actual);
        Assert.Equal(expected.Id, actual.Id);
        Assert.Equal(expected.Name, actual.Name);
        Assert.Equal(expected.AppleId, actual.AppleId);
        Assert.Equal(expected.ConsumerKeyHash, actual.ConsumerKeyHash);
        Assert.Equal(expected.Credentials, actual.Credentials);
        Assert.Equal(expected.ExpiresAt, actual.ExpiresAt);
        Assert.Equal(expected.RequestId, actual.RequestId);
        Assert.Equal(expected.EnrollmentUrl, actual.EnrollmentUrl);
        Assert.Equal(expected.ScopeTags, actual.ScopeTags);
        Assert.Equal(expected.ServiceUri, actual.ServiceUri);
        Assert.Equal(expected.Server, actual.Server);
        Assert.Equal(expected.InvalidReason, actual.InvalidReason);
        Assert.Equal(expected.TermsNotSignedAt, actual.TermsNotSignedAt);
        Assert.Equal(expected.CreatedAt, actual.CreatedAt);
        Assert.Equal(expected.ModifiedAt, actual.ModifiedAt);
    }

    [Fact]
    public void Every_column_round_trips_including_the_sealed_credentials()
    {
        var full = NewRow("Contoso EU") with
        {
            Credentials = [.. Enumerable.Range(0, 300).Select(i => (byte)i)],
            EnrollmentUrl = "https://mdm.contoso.example/enroll",
            ScopeTags = ["Paris", "Default", "Zürich"],
            ServiceUri = new Uri("http://127.0.0.1:5081/"),
            Server = new TokenServerFacts("Contoso MDM", "5A1B-UUID", "Contoso Ltd", "edu", "admin-17"),
            InvalidReason = "Apple refused the token.",
            TermsNotSignedAt = T0.AddMinutes(5),
            CreatedAt = T0.AddMilliseconds(1),
            ModifiedAt = T0.AddHours(2).AddMilliseconds(7),
        };
        var bare = NewRow("Bare");
        Insert(full);
        Insert(bare);

        AssertSame(full, Db.Read(s => s.Tokens.Get(full.Id)));
        AssertSame(bare, Db.Read(s => s.Tokens.Get(bare.Id)));
    }

    [Fact]
    public void Get_of_an_unknown_token_is_null()
    {
        Insert("Contoso");
        Assert.Null(Db.Read(s => s.Tokens.Get(Guid.NewGuid())));
    }

    [Fact]
    public void The_list_folds_only_ASCII_case_and_orders_byte_by_byte_on_every_provider()
    {
        // SQLite's NOCASE folds A-Z only and compares bytes; a server store must give the same order whatever its
        // database's collation ("Äb" before "äa": Ä is a different byte from ä, and no collation may fold it).
        foreach (var name in new[] { "äa", "Zahn", "a_1", "Äb", "a1" })
        {
            Insert(name);
        }

        Assert.Equal(["a1", "a_1", "Zahn", "Äb", "äa"], Db.Read(s => s.Tokens.List()).Select(t => t.Name));
    }

    [Fact]
    public void The_list_is_ordered_by_name_and_shows_the_stored_values()
    {
        var b = Insert(NewRow("beta") with { Server = new TokenServerFacts("S", "U", "O", "T", "A"), InvalidReason = "gone", ScopeTags = ["x", "y"] });
        var a = Insert("Alpha");
        var c = Insert("Gamma");

        var list = Db.Read(s => s.Tokens.List());
        Assert.Equal(["Alpha", "beta", "Gamma"], list.Select(t => t.Name));
        var listed = list[1];
        Assert.Equal(b.Id, listed.Id);
        Assert.Equal(b.AppleId, listed.AppleId);
        Assert.Equal(b.ExpiresAt, listed.ExpiresAt);
        Assert.Equal(b.RequestId, listed.RequestId);
        Assert.Equal(b.ScopeTags, listed.ScopeTags);
        Assert.Equal(b.ServiceUri, listed.ServiceUri);
        Assert.Equal(b.Server, listed.Server);
        Assert.Equal("gone", listed.InvalidReason);
        Assert.Equal(b.CreatedAt, listed.CreatedAt);
        Assert.Equal(b.ModifiedAt, listed.ModifiedAt);
        Assert.Equal(c.Id, Assert.Single(Db.Read(s => s.Tokens.List(c.Id))).Id);
        Assert.Empty(Db.Read(s => s.Tokens.List(Guid.NewGuid())));
        Assert.Equal(a.Id, list[0].Id);
        // ListOf: the same rows for a set of ids, by name; an id that is no token is left out
        var some = Db.Read(s => s.Tokens.ListOf([c.Id, Guid.NewGuid(), b.Id]));
        static object Key(TokenListRow t) => (t.Id, t.Name, t.AppleId, t.ExpiresAt, t.Server, t.InvalidReason, string.Join("|", t.ScopeTags), t.DeviceCount, t.ProfileCount, t.History);
        Assert.Equal([Key(list[1]), Key(list[2])], some.Select(Key));
        Assert.Empty(Db.Read(s => s.Tokens.ListOf([])));
    }

    [Fact]
    public void ListOfWithSyncStates_is_ListOf_with_each_tokens_sync_state_as_GetStates_reads_it()
    {
        var a = Insert("Alpha");
        var b = Insert("beta");
        var c = Insert("Gamma");
        SetDefaultProfile(a.Id, AddProfile(a.Id, "Kiosk"), DevicePlatform.macOS);
        SetDefaultProfile(a.Id, AddProfile(a.Id, "Phones"), DevicePlatform.iOS);
        AddDevice(a.Id, "C02A");
        AddDevice(a.Id, "C02B");
        AddDevice(c.Id, "C02C");
        AddSyncState(b.Id, T0, T0.AddMinutes(3), T0.AddMinutes(3), nextMustBeFull: true);
        Db.Write(s =>
        {
            // a sync running on Alpha: its lease, its run and a saved cursor are part of the state
            s.Sync.CreateState(a.Id);
            var run = s.Sync.StartHistory(a.Id, AdeSyncKind.Full, AdeSyncTrigger.First, T0);
            s.Sync.TakeLease(a.Id, "lease-1", T0.AddMinutes(15), run, T0);
            return s.Sync.SaveCursor(a.Id, "lease-1", T0.AddMinutes(1), new SyncCursor("fetch-cursor", SyncCursorKind.Fetch, 42), null);
        });

        Guid[] ids = [c.Id, Guid.NewGuid(), b.Id, a.Id];
        var both = Db.ReadStatement(s => s.Tokens.ListOfWithSyncStates(ids));
        var listed = Db.Read(s => s.Tokens.ListOf(ids));
        var states = Db.Read(s => s.Sync.GetStates(ids));

        static object Key(TokenListRow t) => (t.Id, t.Name, t.AppleId, t.ExpiresAt, t.Server, t.InvalidReason, string.Join("|", t.ScopeTags), t.DeviceCount,
            t.ProfileCount, t.History, string.Join("|", t.DefaultProfiles));
        Assert.Equal(["Alpha", "beta", "Gamma"], both.Select(x => x.Token.Name)); // by name; the unknown id left out
        Assert.Equal(listed.Select(Key), both.Select(x => Key(x.Token)));
        Assert.Equal([2, 0, 1], both.Select(x => x.Token.DeviceCount));
        Assert.Equal([DevicePlatform.iOS, DevicePlatform.macOS], both[0].Token.DefaultProfiles.Select(d => d.Platform));
        Assert.Equal(listed.Select(t => states.GetValueOrDefault(t.Id)), both.Select(x => x.State));
        Assert.Equal(("lease-1", T0.AddMinutes(15), new SyncCursor("fetch-cursor", SyncCursorKind.Fetch, 42)),
            (both[0].State!.LeaseId, both[0].State!.LeaseExpiresAt, both[0].State!.Cursor));
        Assert.True(both[1].State!.NextMustBeFull);
        Assert.Null(both[2].State); // never synced
        Assert.Empty(Db.ReadStatement(s => s.Tokens.ListOfWithSyncStates([])));
    }

    [Fact]
    public void Count_counts_the_tokens()
    {
        Assert.Equal(0, Db.Read(s => s.Tokens.Count()));
        Insert("A");
        Insert("B");
        Assert.Equal(2, Db.Read(s => s.Tokens.Count()));
    }

    [Fact]
    public void Names_are_every_tokens_id_and_name_as_stored()
    {
        var contoso = Insert("Contoso EU");
        var arzte = Insert("Ärzte");

        Assert.Equal(new[] { (contoso.Id, "Contoso EU"), (arzte.Id, "Ärzte") }, Db.Read(s => s.Tokens.Names()).OrderBy(n => n.Name, StringComparer.Ordinal));
    }

    [Fact]
    public void A_second_token_of_the_same_name_in_other_case_is_refused()
    {
        Insert("Contoso");
        Assert.Throws<AdeException>(() => Insert("CONTOSO"));
        Assert.Equal(1, Db.Read(s => s.Tokens.Count()));
    }

    [Fact]
    public void A_consumer_key_hash_finds_its_token_except_the_given_one()
    {
        var contoso = Insert("Contoso", hash: "AA11");
        Insert("Fabrikam", hash: "BB22");

        Assert.Equal("Contoso", Db.Read(s => s.Tokens.NameOfConsumerKeyHash("AA11")));
        Assert.Null(Db.Read(s => s.Tokens.NameOfConsumerKeyHash("AA11", except: contoso.Id)));
        Assert.Null(Db.Read(s => s.Tokens.NameOfConsumerKeyHash("CC33")));
        Assert.Throws<AdeException>(() => Insert("Other", hash: "BB22")); // unique
    }

    [Fact]
    public void UpdateSettings_changes_only_what_is_given()
    {
        var row = Insert(NewRow("Contoso") with { EnrollmentUrl = "https://a.example/", ScopeTags = ["One"] });
        var later = T0.AddDays(1);

        Db.Write(s =>
        {
            s.Tokens.UpdateSettings(row.Id, name: null, scopeTags: ["Two", "Three"], enrollmentUrl: null, later);
            return 0;
        });
        AssertSame(row with { ScopeTags = ["Two", "Three"], ModifiedAt = later }, Db.Read(s => s.Tokens.Get(row.Id)));

        Db.Write(s =>
        {
            s.Tokens.UpdateSettings(row.Id, "Contoso EU", scopeTags: null, "https://b.example/", later.AddDays(1));
            return 0;
        });
        AssertSame(row with { Name = "Contoso EU", ScopeTags = ["Two", "Three"], EnrollmentUrl = "https://b.example/", ModifiedAt = later.AddDays(1) },
            Db.Read(s => s.Tokens.Get(row.Id)));
    }

    [Fact]
    public void Renew_replaces_the_credentials_makes_the_token_valid_and_keeps_unknown_server_facts()
    {
        var row = Insert(NewRow("Contoso") with { Server = new TokenServerFacts("Old", "UUID-1", "Org", "biz", "adm"), InvalidReason = "revoked" });
        var later = T0.AddDays(3);

        Db.Write(s =>
        {
            s.Tokens.Renew(row.Id, [9, 9, 9], "NEWHASH", T0.AddDays(700), "new@contoso.example", new TokenServerFacts("New", null, null, null, "adm-2"), later);
            return 0;
        });

        AssertSame(row with
        {
            Credentials = [9, 9, 9], ConsumerKeyHash = "NEWHASH", ExpiresAt = T0.AddDays(700), AppleId = "new@contoso.example",
            Server = new TokenServerFacts("New", "UUID-1", "Org", "biz", "adm-2"), InvalidReason = null, ModifiedAt = later,
        }, Db.Read(s => s.Tokens.Get(row.Id)));
    }

    [Fact]
    public void Invalid_reason_terms_and_modification_time_are_set_and_cleared()
    {
        var row = Insert("Contoso");
        var other = Insert("Fabrikam");
        Db.Write(s =>
        {
            s.Tokens.SetInvalidReason(row.Id, "Apple refused it");
            s.Tokens.SetTermsNotSignedAt(row.Id, T0.AddHours(1));
            s.Tokens.Touch(row.Id, T0.AddHours(2));
            return 0;
        });
        AssertSame(row with { InvalidReason = "Apple refused it", TermsNotSignedAt = T0.AddHours(1), ModifiedAt = T0.AddHours(2) }, Db.Read(s => s.Tokens.Get(row.Id)));
        AssertSame(other, Db.Read(s => s.Tokens.Get(other.Id)));

        // Apple accepted the token again: both marks go in one write, which only a marked token gets
        Assert.True(Db.Write(s => s.Tokens.ClearAppleRefusals(row.Id)));
        AssertSame(row with { ModifiedAt = T0.AddHours(2) }, Db.Read(s => s.Tokens.Get(row.Id)));
        Assert.False(Db.Write(s => s.Tokens.ClearAppleRefusals(row.Id)));
        Assert.False(Db.Write(s => s.Tokens.ClearAppleRefusals(other.Id)));
        Db.Write(s =>
        {
            s.Tokens.SetTermsNotSignedAt(row.Id, T0.AddHours(3));
            return 0;
        });
        Assert.True(Db.Write(s => s.Tokens.ClearAppleRefusals(row.Id)));
        Assert.Null(Db.Read(s => s.Tokens.Get(row.Id))!.TermsNotSignedAt);
    }

    [Fact]
    public void The_list_counts_profiles_and_devices_and_gives_default_profiles_by_platform()
    {
        var contoso = Insert("Contoso");
        var fabrikam = Insert("Fabrikam");
        var staff = AddProfile(contoso.Id, "Staff");
        var macs = AddProfile(contoso.Id, "Macs");
        AddProfile(contoso.Id, "Spare");
        AddProfile(fabrikam.Id, "Other");
        for (var i = 0; i < 5; i++)
        {
            AddDevice(contoso.Id, $"C{i:D4}");
        }

        AddDevice(fabrikam.Id, "F0001");
        SetDefaultProfile(contoso.Id, macs, DevicePlatform.macOS);
        SetDefaultProfile(contoso.Id, staff, DevicePlatform.iOS);

        var list = Db.Read(s => s.Tokens.List());
        var c = list.Single(t => t.Id == contoso.Id);
        var f = list.Single(t => t.Id == fabrikam.Id);
        Assert.Equal((3, 5), (c.ProfileCount, c.DeviceCount));
        Assert.Equal((1, 1), (f.ProfileCount, f.DeviceCount));
        Assert.Equal([new TokenDefaultProfileRow(DevicePlatform.iOS, staff, "Staff"), new TokenDefaultProfileRow(DevicePlatform.macOS, macs, "Macs")], c.DefaultProfiles);
        Assert.Empty(f.DefaultProfiles);
        Assert.Equal(c.DefaultProfiles, Assert.Single(Db.Read(s => s.Tokens.List(contoso.Id))).DefaultProfiles);
    }

    [Fact]
    public void The_list_gives_the_sync_facts_of_each_token()
    {
        var synced = Insert("Synced");
        var never = Insert("Never");
        AddSyncState(synced.Id, T0.AddHours(1), T0.AddHours(1).AddMinutes(2), T0.AddMinutes(30), nextMustBeFull: true);

        var list = Db.Read(s => s.Tokens.List());
        Assert.Equal(new Rules.SyncHistoryState(T0.AddHours(1), T0.AddHours(1).AddMinutes(2), T0.AddMinutes(30), true), list.Single(t => t.Id == synced.Id).History);
        Assert.Equal(new Rules.SyncHistoryState(null, null, null, false), list.Single(t => t.Id == never.Id).History);
    }

    [Fact]
    public void Delete_takes_the_sync_state_and_history_with_the_token_and_nothing_of_other_tokens()
    {
        var gone = Insert("Gone");
        var kept = Insert("Kept");
        AddSyncState(gone.Id, T0, T0, T0, false);
        AddSyncState(kept.Id, T0, T0, T0, false);

        Db.Write(s =>
        {
            s.Tokens.Delete(gone.Id);
            return 0;
        });

        Assert.Null(Db.Read(s => s.Tokens.Get(gone.Id)));
        Assert.Equal(0, SyncRows(gone.Id));
        Assert.Equal(2, SyncRows(kept.Id));
        AssertSame(kept, Db.Read(s => s.Tokens.Get(kept.Id)));
        Assert.Single(Db.Read(s => s.TokenRequests.List(gone.RequestId))); // its request is deleted on its own
    }

    [Fact]
    public void A_token_that_still_has_profiles_or_devices_cannot_be_deleted()
    {
        var withProfile = Insert("With profile");
        var withDevice = Insert("With device");
        AddProfile(withProfile.Id, "Staff");
        AddDevice(withDevice.Id, "D0001");

        Assert.Throws<AdeException>(() => Db.Write(s =>
        {
            s.Tokens.Delete(withProfile.Id);
            return 0;
        }));
        Assert.Throws<AdeException>(() => Db.Write(s =>
        {
            s.Tokens.Delete(withDevice.Id);
            return 0;
        }));
        Assert.Equal(2, Db.Read(s => s.Tokens.Count()));
    }
}

public sealed class SqliteTokenTableContract : TokenTableContract
{
    protected override TestStore CreateStore() => new();
}

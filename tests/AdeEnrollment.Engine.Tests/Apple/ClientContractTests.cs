using System.Text.RegularExpressions;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Tests.Support;
using Xunit;

namespace AdeEnrollment.Engine.Tests.Apple;

/// <summary>Every endpoint of the client against the in-process simulator: success and each documented error.</summary>
public sealed class ClientContractTests : IDisposable
{
    private readonly SimulatorFixture f = new();

    public void Dispose() => f.Dispose();

    private static async Task<AdeException> Fails(Func<Task> call) => await Assert.ThrowsAsync<AdeException>(call);

    [Fact]
    public async Task AccountDescribesTheServerAndOrganisation()
    {
        var account = await f.Client().GetAccountAsync();
        Assert.Equal("Contoso iPhones", account.ServerName);
        Assert.Matches("^[0-9A-F]{32}$", account.ServerUuid);
        Assert.Equal("Contoso Ltd", account.OrgName);
        Assert.Equal("org", account.OrgType);
        Assert.Equal("it.admin@contoso.example", account.AdminId);
        Assert.Contains(account.Urls!, u => u.Uri == "/server/devices" && u.Limit!.Maximum == 1000);
    }

    [Fact]
    public async Task EveryRequestCarriesUserAgentProtocolVersionAndOneSession()
    {
        var client = f.Client();
        await client.GetAccountAsync();
        await client.GetAccountAsync();
        var log = f.Simulator.GetRequests();
        Assert.Equal(["/session", "/account", "/account"], log.Select(r => r.Path));
        Assert.All(log, r => Assert.Equal(AppleClient.UserAgent, r.UserAgent));
        Assert.All(log, r => Assert.Equal("10", r.ProtocolVersion));
        Assert.Matches(@"^AdeEnrollment/\d+\.\d+\.\d+$", AppleClient.UserAgent);
    }

    [Fact]
    public async Task FetchPagesThroughASnapshotThenTheCursorIsExhausted()
    {
        var added = f.Simulator.AddDevices(f.ServerName, 250).Select(d => d.SerialNumber).ToHashSet();
        var client = f.Client();
        var pages = new List<AppleDevicePage>();
        string? cursor = null;
        do
        {
            var page = await client.FetchDevicesAsync(cursor, 100);
            pages.Add(page);
            cursor = page.Cursor;
            if (pages.Count == 1)
            {
                f.Simulator.AddDevices(f.ServerName, 5); // arrives after the snapshot: not in this fetch
            }
        }
        while (pages[^1].MoreToFollow);

        Assert.Equal([100, 100, 50], pages.Select(p => p.Devices.Count));
        Assert.True(added.SetEquals(pages.SelectMany(p => p.Devices).Select(d => d.SerialNumber)));
        Assert.All(pages.SelectMany(p => p.Devices), d =>
        {
            Assert.Null(d.OpType);
            Assert.NotNull(d.Model);
            Assert.Equal("empty", d.ProfileStatus);
            Assert.Contains(d.DeviceFamily, new[] { "iPhone", "iPad" });
            Assert.Equal(d.DeviceFamily == "iPad" ? "iPadOS" : "iOS", d.Os);
            Assert.Equal("it.admin@contoso.example", d.DeviceAssignedBy);
            Assert.NotNull(d.DeviceAssignedDate);
        });

        var e = await Fails(() => client.FetchDevicesAsync(cursor, 100));
        Assert.Equal("AppleCursorExhausted", e.ErrorId);

        // the 5 late devices come with a delta sync from the fetch cursor
        var sync = await client.SyncDevicesAsync(cursor!);
        Assert.Equal(5, sync.Devices.Count);
        Assert.All(sync.Devices, d => Assert.Equal("added", d.OpType));
    }

    [Fact]
    public async Task FetchUsesApplesDefaultPageSize()
    {
        f.Simulator.AddDevices(f.ServerName, 150);
        var page = await f.Client().FetchDevicesAsync(null);
        Assert.Equal(100, page.Devices.Count);
        Assert.True(page.MoreToFollow);
        Assert.NotNull(page.FetchedUntil);
    }

    [Fact]
    public async Task PageLimitAndSerialCountsAreCheckedBeforeSending()
    {
        var client = f.Client();
        Assert.Equal("ArgumentInvalid", (await Fails(() => client.FetchDevicesAsync(null, 5000))).ErrorId);
        Assert.Equal("ArgumentInvalid", (await Fails(() => client.AssignProfileAsync("ABC", Enumerable.Range(0, 1001).Select(i => $"SN{i:D8}").ToList()))).ErrorId);
        Assert.Equal("ArgumentInvalid", (await Fails(() => client.RemoveProfileAsync([]))).ErrorId);
        Assert.Equal("ArgumentInvalid", (await Fails(() => client.SyncDevicesAsync(""))).ErrorId);
        Assert.Empty(f.Simulator.GetRequests());
    }

    [Fact]
    public async Task SyncReturnsAddedModifiedAndDeletedWithOpDates()
    {
        var devices = f.Simulator.AddDevices(f.ServerName, 3);
        var client = f.Client();
        var fetch = await client.FetchDevicesAsync(null, 1000);
        f.Time.Advance(TimeSpan.FromMinutes(1));
        var newOnes = f.Simulator.AddDevices(f.ServerName, 2);
        f.Simulator.RemoveDevice(f.ServerName, devices[0].SerialNumber);
        var profile = await client.DefineProfileAsync(new AppleProfile { ProfileName = "Kiosk", Url = "https://mdm.example/enroll" });
        await client.AssignProfileAsync(profile.ProfileUuid, [devices[1].SerialNumber]);
        await client.AssignProfileAsync(profile.ProfileUuid, [devices[1].SerialNumber]); // a duplicate in the same sync

        var sync = await client.SyncDevicesAsync(fetch.Cursor!);
        Assert.False(sync.MoreToFollow);
        Assert.Equal(["added", "added", "deleted", "modified", "modified"], sync.Devices.Select(d => d.OpType));
        Assert.Equal(newOnes.Select(d => d.SerialNumber), sync.Devices.Take(2).Select(d => d.SerialNumber));
        var deleted = sync.Devices[2];
        Assert.Equal(devices[0].SerialNumber, deleted.SerialNumber);
        Assert.Null(deleted.Model); // a deleted entry carries little more than the serial number
        Assert.All(sync.Devices, d => Assert.Equal(f.Time.GetUtcNow(), d.OpDate));
        Assert.Equal("assigned", sync.Devices[^1].ProfileStatus);
        Assert.Equal(profile.ProfileUuid, sync.Devices[^1].ProfileUuid);

        // nothing new: an empty page with a fresh cursor
        var again = await client.SyncDevicesAsync(sync.Cursor!);
        Assert.Empty(again.Devices);
        Assert.NotNull(again.Cursor);
    }

    [Fact]
    public async Task SyncPagesByLimit()
    {
        var client = f.Client();
        var cursor = (await client.FetchDevicesAsync(null)).Cursor!;
        f.Simulator.AddDevices(f.ServerName, 7);
        var first = await client.SyncDevicesAsync(cursor, 5);
        Assert.True(first.MoreToFollow);
        var second = await client.SyncDevicesAsync(first.Cursor!, 5);
        Assert.False(second.MoreToFollow);
        Assert.Equal(7, first.Devices.Concat(second.Devices).Select(d => d.SerialNumber).Distinct().Count());
    }

    [Fact]
    public async Task CursorErrorsAreClassified()
    {
        var client = f.Client();
        var cursor = (await client.FetchDevicesAsync(null)).Cursor!;
        var syncCursor = (await client.SyncDevicesAsync(cursor)).Cursor!;
        Assert.Equal("AppleCursorExhausted", (await Fails(() => client.FetchDevicesAsync(syncCursor))).ErrorId);
        Assert.Equal("AppleCursorInvalid", (await Fails(() => client.SyncDevicesAsync("bm90LWEtY3Vyc29y"))).ErrorId);
        Assert.Equal("AppleCursorInvalid", (await Fails(() => client.FetchDevicesAsync("MTY1NzE3MTU3Mi0w"))).ErrorId);

        f.Time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
        var expired = await Fails(() => client.SyncDevicesAsync(syncCursor));
        Assert.Equal("AppleCursorExpired", expired.ErrorId);
        Assert.Contains("Contoso iPhones", expired.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CursorOfAnotherServerIsInvalid()
    {
        f.Simulator.NewServer("Other", SimulatorFixture.CertificatePem, out _);
        var other = f.Client(server: "Other");
        var cursor = (await other.FetchDevicesAsync(null)).Cursor!;
        Assert.Equal("AppleCursorInvalid", (await Fails(() => f.Client().SyncDevicesAsync(cursor))).ErrorId);
    }

    [Fact]
    public async Task DeviceDetailsForKnownAndUnknownSerials()
    {
        var device = f.Simulator.AddDevices(f.ServerName, 1, deviceFamily: "iPad")[0];
        var details = await f.Client().GetDeviceDetailsAsync([device.SerialNumber, "UNKNOWN0001"]);
        Assert.Equal("SUCCESS", details.Devices[device.SerialNumber].ResponseStatus);
        Assert.Equal("iPad", details.Devices[device.SerialNumber].DeviceFamily);
        Assert.Equal(device.Description, details.Devices[device.SerialNumber].Description);
        Assert.Equal("NOT_ACCESSIBLE", details.Devices["UNKNOWN0001"].ResponseStatus);
    }

    [Fact]
    public async Task DisownReleasesDevicesForGood()
    {
        var device = f.Simulator.AddDevices(f.ServerName, 1)[0];
        var client = f.Client();
        var cursor = (await client.FetchDevicesAsync(null)).Cursor!;
        var result = await client.DisownDevicesAsync([device.SerialNumber, "UNKNOWN0001"]);
        Assert.Equal(AppleDeviceStatus.Success, result.Devices[device.SerialNumber]);
        Assert.Equal(AppleDeviceStatus.NotAccessible, result.Devices["UNKNOWN0001"]);
        Assert.Empty(f.Simulator.GetDevices(f.ServerName));
        Assert.Equal("deleted", Assert.Single((await client.SyncDevicesAsync(cursor)).Devices).OpType);
    }

    [Fact]
    public async Task DefineAndReadAProfile()
    {
        var devices = f.Simulator.AddDevices(f.ServerName, 2);
        var client = f.Client();
        var defined = await client.DefineProfileAsync(new AppleProfile
        {
            ProfileName = "Corporate iPhones",
            Url = "https://mdm.example/enroll",
            ConfigurationWebUrl = "https://mdm.example/enroll",
            IsSupervised = true,
            IsMdmRemovable = false,
            Department = "IT",
            SupportPhoneNumber = "+1 555 0100",
            SkipSetupItems = ["Siri", "Payment", "SomeFutureKey"],
            OrgMagic = "1",
            Language = "en",
            Region = "US",
            Devices = [devices[0].SerialNumber, "UNKNOWN0001"],
        });
        Assert.Matches("^[0-9A-F]{32}$", defined.ProfileUuid);
        Assert.Equal("SUCCESS", defined.Devices![devices[0].SerialNumber]);
        Assert.Equal("NOT_ACCESSIBLE", defined.Devices["UNKNOWN0001"]);

        var read = await client.GetProfileAsync(defined.ProfileUuid);
        Assert.Equal(defined.ProfileUuid, read.ProfileUuid);
        Assert.Equal("Corporate iPhones", read.ProfileName);
        Assert.False(read.IsMdmRemovable);
        Assert.Equal(["Siri", "Payment", "SomeFutureKey"], read.SkipSetupItems);
        Assert.Null(read.Devices);
        Assert.Equal("assigned", f.Simulator.GetDevices(f.ServerName, [devices[0].SerialNumber])[0].ProfileStatus);
    }

    private static readonly Dictionary<string, Action<AppleProfile>> Spoilers = new()
    {
        ["empty name"] = p => p.ProfileName = "",
        ["long name"] = p => p.ProfileName = new string('n', 126),
        ["no url"] = p => p.Url = null,
        ["bad url"] = p => p.Url = "not a url",
        ["bad web url"] = p => p.ConfigurationWebUrl = "ftp:/x",
        ["locked unsupervised"] = p => { p.IsMdmRemovable = false; p.IsSupervised = false; },
        ["long department"] = p => p.Department = new string('d', 126),
        ["long phone"] = p => p.SupportPhoneNumber = new string('1', 51),
        ["bad email"] = p => p.SupportEmailAddress = "not-an-email",
        ["long magic"] = p => p.OrgMagic = new string('m', 257),
        ["bad language"] = p => p.Language = "english",
        ["bad region"] = p => p.Region = "USA",
        ["bad anchor"] = p => p.AnchorCerts = ["***not base64***"],
    };

    [Theory]
    [InlineData("CONFIG_NAME_REQUIRED", "empty name")]
    [InlineData("CONFIG_NAME_INVALID", "long name")]
    [InlineData("CONFIG_URL_REQUIRED", "no url")]
    [InlineData("CONFIG_URL_INVALID", "bad url")]
    [InlineData("CONFIG_URL_INVALID", "bad web url")]
    [InlineData("FLAGS_INVALID", "locked unsupervised")]
    [InlineData("DEPARTMENT_INVALID", "long department")]
    [InlineData("SUPPORT_PHONE_INVALID", "long phone")]
    [InlineData("SUPPORT_EMAIL_INVALID", "bad email")]
    [InlineData("MAGIC_INVALID", "long magic")]
    [InlineData("LOCALE_INVALID", "bad language")]
    [InlineData("LOCALE_INVALID", "bad region")]
    [InlineData("MALFORMED_REQUEST_BODY", "bad anchor")]
    public async Task InvalidProfilesAreRefusedWithApplesCode(string code, string spoiler)
    {
        var profile = new AppleProfile { ProfileName = "Valid", Url = "https://mdm.example/enroll" };
        Spoilers[spoiler](profile);
        var e = await Fails(() => f.Client().DefineProfileAsync(profile));
        Assert.Equal("AppleRequestInvalid", e.ErrorId);
        Assert.Contains(code, e.Message, StringComparison.Ordinal);
        Assert.Contains("POST /profile", e.Message, StringComparison.Ordinal);
        Assert.Single(f.Simulator.GetRequests("/profile")); // a 400 is never retried
    }

    [Fact]
    public async Task UnknownProfileIsNotFound()
    {
        var client = f.Client();
        Assert.Equal("AppleProfileNotFound", (await Fails(() => client.GetProfileAsync("0123456789ABCDEF0123456789ABCDEF"))).ErrorId);
        var device = f.Simulator.AddDevices(f.ServerName, 1)[0];
        var e = await Fails(() => client.AssignProfileAsync("0123456789ABCDEF0123456789ABCDEF", [device.SerialNumber]));
        Assert.Equal("AppleProfileNotFound", e.ErrorId);
        Assert.Equal("0123456789ABCDEF0123456789ABCDEF", e.Target);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task AssignAnswersPerDevice(bool usePut)
    {
        var devices = f.Simulator.AddDevices(f.ServerName, 4).Select(d => d.SerialNumber).ToList();
        f.Simulator.SetDeviceOutcome(f.ServerName, devices[2], "Failed");
        f.Simulator.SetDeviceOutcome(f.ServerName, devices[3], "Throttled", retryAfterSeconds: 90);
        var client = f.Client();
        var uuid = (await client.DefineProfileAsync(new AppleProfile { ProfileName = "P", Url = "https://mdm.example/enroll" })).ProfileUuid;
        var result = await client.AssignProfileAsync(uuid, [devices[0], devices[1], devices[2], devices[3], "UNKNOWN0001"], usePut);
        Assert.Equal(uuid, result.ProfileUuid);
        Assert.Equal(AppleDeviceStatus.Success, result.Devices[devices[0]]);
        Assert.Equal(AppleDeviceStatus.Success, result.Devices[devices[1]]);
        Assert.Equal(AppleDeviceStatus.Failed, result.Devices[devices[2]]);
        Assert.Equal(AppleDeviceStatus.Throttled, result.Devices[devices[3]]);
        Assert.Equal(AppleDeviceStatus.NotAccessible, result.Devices["UNKNOWN0001"]);
        Assert.Equal(90, result.RetryAfterSeconds);
        Assert.Equal(usePut ? "PUT" : "POST", f.Simulator.GetRequests("/profile/devices").Single().Method);

        var seen = f.Simulator.GetDevices(f.ServerName);
        Assert.Equal("assigned", seen.Single(d => d.SerialNumber == devices[0]).ProfileStatus);
        Assert.Equal(uuid, seen.Single(d => d.SerialNumber == devices[0]).ProfileUuid);
        Assert.Equal(f.Time.GetUtcNow(), seen.Single(d => d.SerialNumber == devices[0]).ProfileAssignTime);
        Assert.Equal("empty", seen.Single(d => d.SerialNumber == devices[2]).ProfileStatus);

        // once the injected answers are used up (until cleared), the retry succeeds
        f.Simulator.ClearFaults();
        var retry = await client.AssignProfileAsync(uuid, [devices[2], devices[3]]);
        Assert.All(retry.Devices.Values, s => Assert.Equal(AppleDeviceStatus.Success, s));
        Assert.Null(retry.RetryAfterSeconds);
    }

    [Fact]
    public async Task RemoveProfileAndStatusTransitions()
    {
        var serial = f.Simulator.AddDevices(f.ServerName, 1)[0].SerialNumber;
        var client = f.Client();
        var uuid = (await client.DefineProfileAsync(new AppleProfile { ProfileName = "P", Url = "https://mdm.example/enroll" })).ProfileUuid;
        Assert.Equal("empty", f.Simulator.GetDevices(f.ServerName)[0].ProfileStatus);
        await client.AssignProfileAsync(uuid, [serial]);
        Assert.Equal("assigned", f.Simulator.GetDevices(f.ServerName)[0].ProfileStatus);
        f.Time.Advance(TimeSpan.FromMinutes(5));
        var pushed = f.Simulator.ActivateDevice(f.ServerName, serial);
        Assert.Equal("pushed", pushed.ProfileStatus);
        Assert.Equal(f.Time.GetUtcNow(), pushed.ProfilePushTime);
        var details = await client.GetDeviceDetailsAsync([serial]);
        Assert.Equal("pushed", details.Devices[serial].ProfileStatus);

        var removed = await client.RemoveProfileAsync([serial, "UNKNOWN0001"]);
        Assert.Equal(AppleDeviceStatus.Success, removed.Devices[serial]);
        Assert.Equal(AppleDeviceStatus.NotAccessible, removed.Devices["UNKNOWN0001"]);
        Assert.Equal("removed", f.Simulator.GetDevices(f.ServerName)[0].ProfileStatus);
        Assert.Equal("DELETE", f.Simulator.GetRequests("/profile/devices").Last().Method);
    }

    [Fact]
    public async Task RemoveCanFailPerDevice()
    {
        var serial = f.Simulator.AddDevices(f.ServerName, 1)[0].SerialNumber;
        f.Simulator.SetDeviceOutcome(f.ServerName, serial, "Failed", count: 1);
        var client = f.Client();
        Assert.Equal(AppleDeviceStatus.Failed, (await client.RemoveProfileAsync([serial])).Devices[serial]);
        Assert.Equal(AppleDeviceStatus.Success, (await client.RemoveProfileAsync([serial])).Devices[serial]); // count used up
    }

    [Fact]
    public async Task AFullFetchOfThousandsOfDevicesStreamsPageByPage()
    {
        f.Simulator.AddDevices(f.ServerName, 2500);
        var client = f.Client();
        var total = 0;
        var pages = 0;
        string? cursor = null;
        AppleDevicePage page;
        do
        {
            page = await client.FetchDevicesAsync(cursor, 1000);
            total += page.Devices.Count;
            pages++;
            cursor = page.Cursor;
        }
        while (page.MoreToFollow);

        Assert.Equal(2500, total);
        Assert.Equal(3, pages);
        Assert.Contains(f.Host.Verbose, v => Regex.IsMatch(v, @"POST /server/devices → 200 \(1000 devices\)"));
    }
}

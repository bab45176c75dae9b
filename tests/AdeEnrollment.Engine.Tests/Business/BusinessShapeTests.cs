using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Tests.Business;

/// <summary>
/// Payload shapes Apple leaves open (attributes as a string or a list, undocumented keys, attributes sent or not,
/// released devices and deleted servers listed or not, …), each produced by a simulator switch, and what the client
/// makes of every variant (the table "Business API simulator" in docs/architecture.md lists them with their tests).
/// </summary>
public sealed class BusinessShapeTests
{
    [Theory]
    [InlineData("String")]
    [InlineData("Array")]
    [InlineData("BuiltInEthernet")]
    [InlineData("None")]
    public void Mac_addresses_are_read_whether_Apple_sends_strings_arrays_or_the_builtInEthernet_key_and_filter_by_any_separator(string shape)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.MacAddressShape = shape;
        var macs = fx.Simulator.AddOrgDevices(2, productFamily: "Mac");
        var phone = Assert.Single(fx.Simulator.AddOrgDevices(1, productFamily: "iPhone"));
        var read = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).ToDictionary(d => d.SerialNumber);
        Assert.Equal(3, read.Count);
        foreach (var sim in macs.Append(phone))
        {
            var d = read[sim.SerialNumber];
            if (shape == "None")
            {
                Assert.Empty(d.WiFiMacAddress);
                Assert.Empty(d.BluetoothMacAddress);
                Assert.Empty(d.EthernetMacAddress);
                continue;
            }

            Assert.Equal([sim.WiFiMacAddress!], d.WiFiMacAddress);
            Assert.Equal([sim.BluetoothMacAddress!], d.BluetoothMacAddress);
            Assert.Equal(sim.EthernetMacAddress, d.EthernetMacAddress);
        }

        Assert.Equal(shape == "None" ? 0 : 1, read[macs[0].SerialNumber].EthernetMacAddress.Count);
        Assert.Empty(read[phone.SerialNumber].EthernetMacAddress);

        // network access control lists write MACs in every style: lower case with '-', Cisco's dotted form, upper case with ':'
        var ethernet = macs[1].EthernetMacAddress[0].Replace(":", "", StringComparison.Ordinal).ToLowerInvariant();
        var dotted = string.Join('.', ethernet.Chunk(4).Select(c => new string(c)));
        var found = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(MacAddresses: [phone.WiFiMacAddress!.Replace(':', '-').ToLowerInvariant(), dotted])).Select(d => d.SerialNumber).ToList();
        Assert.Equal(shape == "None" ? [] : new[] { macs[1].SerialNumber, phone.SerialNumber }.Order(StringComparer.Ordinal), found.Order(StringComparer.Ordinal));
    }

    [Theory]
    [InlineData("Array")] // Apple's documented shape
    [InlineData("String")] // older answers: one value
    [InlineData("None")]
    public void Imei_meid_and_eid_are_read_as_Apple_sends_them_and_a_device_is_found_by_any_of_its_IMEIs_written_any_way(string shape)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.ImeiShape = shape;
        var phone = Assert.Single(fx.Simulator.AddOrgDevices(1, productFamily: "iPhone"));
        var mac = Assert.Single(fx.Simulator.AddOrgDevices(1, productFamily: "Mac"));
        var read = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).ToDictionary(d => d.SerialNumber);

        Assert.Equal(2, phone.Imei.Count); // a dual-SIM iPhone
        Assert.Equal(shape switch { "Array" => phone.Imei, "String" => [phone.Imei[0]], _ => [] }, read[phone.SerialNumber].Imei);
        Assert.Equal(shape == "None" ? [] : phone.Meid, read[phone.SerialNumber].Meid);
        Assert.Equal(shape == "None" ? null : phone.Eid, read[phone.SerialNumber].Eid);
        Assert.Equal((0, 0, null), (read[mac.SerialNumber].Imei.Count, read[mac.SerialNumber].Meid.Count, read[mac.SerialNumber].Eid));

        // carriers list IMEIs with spaces or dashes, and some inventories without the check digit
        var spaced = string.Join(' ', phone.Imei[0].Chunk(5).Select(c => new string(c)));
        var second = phone.Imei[1][..2] + "-" + phone.Imei[1][2..14];
        Assert.Equal(shape == "None" ? [] : [phone.SerialNumber], fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(Imeis: [spaced])).Select(d => d.SerialNumber));
        Assert.Equal(shape == "Array" ? [phone.SerialNumber] : [], fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(Imeis: [second])).Select(d => d.SerialNumber));
    }

    [Fact]
    public void Timestamps_with_milliseconds_as_Apples_live_answers_write_them_are_read_to_the_millisecond()
    {
        using var fx = new BusinessFixture();
        fx.Sim.Advance(TimeSpan.FromMilliseconds(1234.5));
        var sim = Assert.Single(fx.Simulator.AddOrgDevices(1));
        var read = Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [sim.SerialNumber])));
        var expected = sim.AddedToOrgDate.ToUniversalTime();
        expected = new DateTimeOffset(expected.Ticks - expected.Ticks % TimeSpan.TicksPerMillisecond, TimeSpan.Zero);
        Assert.NotEqual(0, expected.Millisecond);
        Assert.Equal(expected, read.AddedToOrgDate);
    }

    [Theory]
    [InlineData("35391811123456")] // 14 digits: taken
    [InlineData("3539181112345")]
    [InlineData("35391811123456789")]
    [InlineData("3539181112345X")]
    public void An_IMEI_filter_that_is_not_one_is_refused_before_anything_is_read(string imei)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.AddOrgDevices(1);
        if (imei.Length == 14 && imei.All(char.IsAsciiDigit))
        {
            Assert.Empty(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(Imeis: [imei])));
            return;
        }

        var ex = Assert.Throws<AdeException>(() => fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(Imeis: [imei])).ToList());
        Assert.Equal(("ArgumentInvalid", imei), (ex.ErrorId, ex.Target));
        Assert.Contains("-Imei", ex.Message, StringComparison.Ordinal);
        Assert.Contains("15 digits", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, fx.Requests("/v1/orgDevices"));
    }

    [Fact]
    public void A_MAC_address_filter_that_is_not_one_is_refused_before_anything_is_read()
    {
        using var fx = new BusinessFixture();
        fx.Simulator.AddOrgDevices(1);
        var ex = Assert.Throws<AdeException>(() => fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(MacAddresses: ["F0:18:98:12:34"])).ToList());
        Assert.Equal("ArgumentInvalid", ex.ErrorId);
        Assert.Equal(0, fx.Requests("/v1/orgDevices"));
    }

    [Theory]
    [InlineData(true, "API")]
    [InlineData(true, "SOMETHING_NEW")]
    [InlineData(false, "API")]
    public void Release_attributes_are_read_when_Apple_sends_them_and_without_them_the_stores_record_of_the_release_still_shows_the_device_released(bool attributes, string entityType)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.ListReleasedDevices = true;
        fx.Simulator.ReleaseAttributes = attributes;
        fx.Simulator.ReleaserEntityType = entityType;
        var kept = Assert.Single(fx.Simulator.AddOrgDevices(1));
        var gone = Assert.Single(fx.Simulator.AddOrgDevices(1));
        Assert.Equal("COMPLETED", Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Release, [gone.SerialNumber], null, wait: true)).Status);

        var one = Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [gone.SerialNumber])));
        var listed = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).ToDictionary(d => d.SerialNumber);
        foreach (var d in new[] { one, listed[gone.SerialNumber] })
        {
            // Apple's release date, or (Apple sends none) the store's record of the release this account made
            Assert.Equal("RELEASED", d.Status);
            Assert.NotNull(d.ReleasedFromOrgDate);
            Assert.Null(d.MdmServer);
            Assert.Equal(attributes ? fx.Account.ClientId : null, d.ReleaserId);
            Assert.Equal(attributes ? entityType : null, d.ReleaserEntityType);
        }

        Assert.Equal("UNASSIGNED", listed[kept.SerialNumber].Status);
        Assert.Null(listed[kept.SerialNumber].ReleasedFromOrgDate);
        Assert.Null(listed[kept.SerialNumber].ReleaserId);
        Assert.Equal([gone.SerialNumber], fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(Status: "RELEASED")).Select(d => d.SerialNumber));
    }

    [Theory]
    [InlineData(false)] // as Apple documents: the listing leaves the release date null, a device read by itself has it
    [InlineData(true)]
    public void A_listed_device_the_account_released_shows_released_even_when_the_listing_has_no_release_date_until_it_is_added_to_the_organisation_again(bool dateInList)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.ListReleasedDevices = true;
        fx.Simulator.ReleaseDateInList = dateInList;
        var devices = fx.Simulator.AddOrgDevices(2);
        var gone = devices[0].SerialNumber;
        var release = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Release, [gone], null, wait: true));

        var listed = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).ToDictionary(d => d.SerialNumber);
        var one = Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [gone])));
        Assert.Equal(("RELEASED", "RELEASED"), (listed[gone].Status, one.Status));
        Assert.NotNull(one.ReleasedFromOrgDate);
        Assert.Equal(dateInList ? one.ReleasedFromOrgDate : release.CompletedAt, listed[gone].ReleasedFromOrgDate);
        Assert.Equal("UNASSIGNED", listed[devices[1].SerialNumber].Status); // still the organisation's
        Assert.Equal([gone], fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(Status: "RELEASED")).Select(d => d.SerialNumber));

        // bought again: Apple lists it as the organisation's, added after the release the store recorded
        fx.Sim.Advance(TimeSpan.FromMinutes(5));
        fx.Simulator.AddOrgDevices(serialNumbers: [gone]);
        var back = Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()), d => d.SerialNumber == gone);
        Assert.Equal(("UNASSIGNED", null), (back.Status, back.ReleasedFromOrgDate));
        Assert.Empty(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(Status: "RELEASED")));

        // and it can be assigned again: the store's record of the release no longer holds it back
        var assigned = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [gone], null, server: EngineServer, wait: true));
        Assert.Equal(1, assigned.Succeeded);
        Assert.DoesNotContain(fx.Host.Warnings, w => w.Contains("released from the organisation", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Released_devices_show_as_released_when_Apple_lists_them_or_are_gone_and_one_the_store_saw_released_is_never_sent_again(bool listed)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.ListReleasedDevices = listed;
        var devices = fx.Simulator.AddOrgDevices(2);
        var gone = devices[0].SerialNumber;
        var other = devices[1].SerialNumber;
        Assert.Equal("COMPLETED", Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Release, [gone], null, wait: true)).Status);

        var all = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).ToDictionary(d => d.SerialNumber);
        Assert.Equal(listed, all.ContainsKey(gone));
        if (listed)
        {
            Assert.Equal("RELEASED", all[gone].Status);
            Assert.NotNull(all[gone].ReleasedFromOrgDate);
            Assert.Null(all[gone].MdmServer);
        }
        else
        {
            var missing = Assert.Throws<AdeException>(() => fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [gone])).ToList());
            Assert.Equal("BusinessDeviceNotFound", missing.ErrorId);
            // the store saw this account release it: the error says so instead of calling the device unknown
            Assert.Contains("it was released from it on", missing.Message, StringComparison.Ordinal);
        }

        // assign the released device (typed in lower case) with another: only the other is sent, the released one warns
        var posts = fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count(r => r.Method == "POST");
        var sent = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [gone.ToLowerInvariant(), other], null, server: EngineServer, wait: true));
        Assert.Equal(1, sent.DeviceCount);
        Assert.Equal([other], sent.Devices.Select(d => d.SerialNumber));
        Assert.Contains(fx.Host.Warnings, w => w.Contains(gone, StringComparison.Ordinal) && w.Contains("released", StringComparison.Ordinal));

        // only released devices: nothing is sent at all, for unassign and for a second release
        Assert.Empty(fx.Engine.Business.Send(OrgDeviceAction.Unassign, [gone], null, server: EngineServer));
        Assert.Empty(fx.Engine.Business.Send(OrgDeviceAction.Release, [gone], null));
        Assert.Equal(posts + 1, fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count(r => r.Method == "POST"));
        Assert.DoesNotContain(fx.Simulator.GetDevices(EngineServer), d => d.SerialNumber == gone);
    }

    [Fact]
    public void Several_released_devices_of_one_command_are_one_warning_naming_them_all()
    {
        using var fx = new BusinessFixture();
        var serials = fx.Simulator.AddOrgDevices(4).Select(d => d.SerialNumber).ToList();
        fx.Engine.Business.Send(OrgDeviceAction.Release, serials[..3], null, wait: true);
        fx.Host.Warnings.Clear();

        var sent = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: EngineServer));

        Assert.Equal(1, sent.DeviceCount);
        var warning = Assert.Single(fx.Host.Warnings);
        Assert.StartsWith("3 devices were released from the organisation", warning, StringComparison.Ordinal);
        Assert.All(serials[..3], s => Assert.Contains(s, warning, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_deleted_server_is_listed_as_deleted_or_gone_never_linked_to_a_token_and_nothing_is_ever_sent_to_it(bool listed)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.ListDeletedServers = listed;
        var device = Assert.Single(fx.Simulator.AddOrgDevices(1));
        var before = Assert.Single(fx.Engine.Business.GetMdmServers());
        Assert.Equal(fx.Sim.Token.Name, before.Token);
        fx.Simulator.DeleteMdmServer(EngineServer);

        var servers = fx.Engine.Business.GetMdmServers();
        if (listed)
        {
            var gone = Assert.Single(servers);
            Assert.Equal("DELETED", gone.Status);
            Assert.Null(gone.Token);
            Assert.Null(gone.TokenId);
            Assert.Null(gone.IdMatchesToken);
        }
        else
        {
            Assert.Empty(servers);
        }

        // the inventory still reads (a deleted server's device list is never asked for), filtered by the server too
        Assert.Equal([device.SerialNumber], fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).Select(d => d.SerialNumber));
        var expected = listed ? "BusinessServerDeleted" : "BusinessServerNotFound";
        // the server read before it was deleted, piped: said so (not an empty listing), and no inventory paged through for it
        var listings = fx.Simulator.GetRequests("/v1/orgDevices").Count;
        var piped = new List<AdeException>();
        Assert.Empty(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(MdmServerIds: [before.Id]), piped.Add));
        Assert.Equal(expected, Assert.Single(piped).ErrorId);
        Assert.Equal(listings, fx.Simulator.GetRequests("/v1/orgDevices").Count);
        Assert.Equal(expected, Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, [device.SerialNumber], null, server: EngineServer)).ErrorId);
        Assert.Equal(expected, Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Unassign, [device.SerialNumber], null, token: fx.Sim.Token)).ErrorId);
        Assert.DoesNotContain(fx.Simulator.GetRequests("/v1/orgDeviceActivities"), r => r.Method == "POST");
        Assert.DoesNotContain(fx.Simulator.GetRequests(), r => r.Path.EndsWith("/relationships/devices", StringComparison.Ordinal) && r.StatusCode != 200);
    }

    [Fact]
    public void An_iPod_and_a_product_family_Apple_adds_later_are_kept_as_sent_filterable_and_assignable()
    {
        using var fx = new BusinessFixture();
        Assert.Throws<AdeEnrollment.Simulator.AdeSimException>(() => fx.Simulator.AddOrgDevices(1, productFamily: "Holo"));
        fx.Simulator.ExtraProductFamilies = ["Holo"];
        var future = Assert.Single(fx.Simulator.AddOrgDevices(1, productFamily: "Holo"));
        var watch = Assert.Single(fx.Simulator.AddOrgDevices(1, productFamily: "Watch"));
        var ipod = Assert.Single(fx.Simulator.AddDevices(EngineServer, 1, deviceFamily: "iPod")); // on the DEP server from the start

        var read = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).ToDictionary(d => d.SerialNumber);
        Assert.Equal("Holo", read[future.SerialNumber].ProductFamily);
        Assert.Null(read[future.SerialNumber].Platform);
        Assert.Null(read[watch.SerialNumber].Platform);
        Assert.Equal("iPod", read[ipod.SerialNumber].ProductFamily);
        Assert.Equal(DevicePlatform.iOS, read[ipod.SerialNumber].Platform);
        Assert.Equal("ASSIGNED", read[ipod.SerialNumber].Status);
        Assert.Equal([future.SerialNumber], fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(ProductFamilies: ["HOLO"])).Select(d => d.SerialNumber));
        Assert.Equal([ipod.SerialNumber], fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(ProductFamilies: ["ipod"])).Select(d => d.SerialNumber));

        // a near miss of a known family, or a wildcard, is refused before anything is sent (the filter is exact)
        var sent = fx.Simulator.GetRequests("/v1/*").Count;
        foreach (var (given, meant) in new[] { ("Macs", "'Mac' is probably meant"), ("iPhones", "'iPhone' is probably meant"), ("wat", "'Watch' is probably meant"), ("i*", "without wildcards") })
        {
            var ex = AdeAssert.Throws("ArgumentInvalid", () => fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(ProductFamilies: [given])).ToList());
            Assert.Contains(meant, ex.Message, StringComparison.Ordinal);
        }

        Assert.Equal(sent, fx.Simulator.GetRequests("/v1/*").Count);
        Assert.Equal([watch.SerialNumber], fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(ProductFamilies: ["WATCH"])).Select(d => d.SerialNumber));
        // a serial no Apple device can have, typed without wildcards, is refused too
        Assert.Contains("8 to 20 letters and digits", AdeAssert.Throws("ArgumentInvalid", () => fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: ["NOPE"])).ToList()).Message, StringComparison.Ordinal);
        AdeAssert.Throws("ArgumentInvalid", () => fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: ["C02\u001b[2J123"])).ToList());

        // the unknown family assigns like any device and reaches the DEP server with its family as sent
        var done = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [future.SerialNumber], null, server: EngineServer, wait: true));
        Assert.Equal("COMPLETED_WITH_SUCCESS", done.SubStatus);
        Assert.Equal("Holo", Assert.Single(fx.Simulator.GetDevices(EngineServer), d => d.SerialNumber == future.SerialNumber).DeviceFamily);
    }

    [Fact]
    public void Serials_typed_in_lower_case_are_sent_upper_case_so_a_case_sensitive_Apple_finds_them()
    {
        using var fx = new BusinessFixture();
        fx.Simulator.CaseSensitiveSerials = true;
        var devices = fx.Simulator.AddOrgDevices(2);
        var lower = devices.Select(d => d.SerialNumber.ToLowerInvariant()).ToList();

        // the switch bites: Apple, case-sensitive, does not know a lower-case serial
        var raw = Assert.Throws<AdeException>(() => fx.Engine.Business.Client(null).Get("orgDevices/" + lower[0]).Dispose());
        Assert.Contains(" 404 ", raw.Message, StringComparison.Ordinal);

        Assert.Equal(devices.Select(d => d.SerialNumber).Order(StringComparer.Ordinal),
            fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [" " + lower[0] + " ", lower[1]])).Select(d => d.SerialNumber).Order(StringComparer.Ordinal));
        var done = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, lower, null, server: EngineServer, wait: true));
        Assert.Equal("COMPLETED_WITH_SUCCESS", done.SubStatus);
        Assert.Equal(devices.Select(d => d.SerialNumber).Order(StringComparer.Ordinal), done.Devices.Select(d => d.SerialNumber).Order(StringComparer.Ordinal));
        Assert.Single(fx.Simulator.GetRequests(), r => lower.Any(l => r.Path.Contains(l, StringComparison.Ordinal))); // only the raw probe above
        Assert.Equal(2, fx.Simulator.GetDevices(EngineServer).Count(d => devices.Any(o => o.SerialNumber == d.SerialNumber)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_activity_reads_the_same_whether_Apple_adds_activityType_updatedDateTime_and_deviceCount_or_not(bool extra)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.ActivityExtraAttributes = extra;
        var devices = fx.Simulator.AddOrgDevices(3);
        var sent = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, devices.Select(d => d.SerialNumber).ToList(), null, server: EngineServer));
        Assert.Equal("IN_PROGRESS", sent.Status);
        Assert.Equal(3, sent.DeviceCount);
        fx.Sim.Advance(TimeSpan.FromSeconds(11));
        var done = Assert.Single(fx.Engine.Business.GetActivities(sent.Id, refresh: true));
        Assert.Equal("Assign", done.Action);
        Assert.Equal(EngineServer, done.MdmServer);
        Assert.Equal(3, done.DeviceCount);
        Assert.Equal(3, done.Succeeded);
        Assert.Equal("COMPLETED_WITH_SUCCESS", done.SubStatus);
        Assert.NotNull(done.CompletedAt);
    }

    [Fact]
    public void Every_request_the_client_makes_passes_when_Apple_refuses_undocumented_field_names()
    {
        using var fx = new BusinessFixture();
        fx.Simulator.RejectUnknownFields = true;
        fx.Simulator.AddDevices(EngineServer, 1);
        var bought = fx.Simulator.AddOrgDevices(2);

        // the switch bites: an undocumented field (raw or encoded brackets) is a 400
        Assert.Contains(" 400 ", Assert.Throws<AdeException>(() => fx.Engine.Business.Client(null).Get("mdmServers?fields[mdmServers]=serverName,nickname").Dispose()).Message, StringComparison.Ordinal);
        Assert.Contains(" 400 ", Assert.Throws<AdeException>(() => fx.Engine.Business.Client(null).Get("orgDevices?fields%5BorgDevices%5D=releaserId").Dispose()).Message, StringComparison.Ordinal);
        var refused = fx.Simulator.GetRequests().Count(r => r.StatusCode == 400);
        Assert.Equal(2, refused);

        // every read and write path of the client
        Assert.Single(fx.Engine.Business.GetMdmServers());
        Assert.Equal(3, fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(IncludeAppleCare: true)).Count());
        Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(Status: "ASSIGNED", MdmServer: EngineServer)));
        Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [bought[0].SerialNumber], IncludeAppleCare: true)));
        var sent = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [bought[0].SerialNumber], null, server: EngineServer));
        fx.Sim.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal("COMPLETED", Assert.Single(fx.Engine.Business.GetActivities(sent.Id, refresh: true)).Status);
        Assert.Equal("COMPLETED", Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Unassign, [bought[0].SerialNumber], null, token: fx.Sim.Token, wait: true)).Status);
        Assert.Equal("COMPLETED", Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Release, [bought[1].SerialNumber], null, wait: true)).Status);
        Assert.Equal(refused, fx.Simulator.GetRequests().Count(r => r.StatusCode == 400));
        Assert.Contains(fx.Simulator.GetRequests(), r => r.Path == "/v1/orgDeviceActivities/" + sent.Id);
    }

    private const string EngineServer = Support.EngineSimFixture.Server;
}

using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Tests.Business;

/// <summary>
/// Behaviours Apple leaves open, each produced by a simulator switch, and what the client does with every variant
/// (the table "Business API simulator" in docs/architecture.md lists them all with their tests).
/// </summary>
public sealed class BusinessVariantTests
{
    [Theory]
    [InlineData("seconds")]
    [InlineData("date")]
    [InlineData("none")]
    public void A_429_holds_back_until_its_Retry_After_in_seconds_or_as_a_date_and_a_minute_without_one(string variant)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.RetryAfterAsHttpDate = variant == "date";
        fx.Simulator.OmitRetryAfter = variant == "none";
        fx.Engine.Business.GetMdmServers();
        fx.Simulator.BusinessGetsPerMinute = 1;
        fx.Sim.Advance(TimeSpan.FromSeconds(61));
        fx.Engine.Business.GetMdmServers(); // the simulator's one GET of this minute
        fx.Sim.Advance(TimeSpan.FromSeconds(50));
        Assert.Equal("BusinessThrottled", Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers()).ErrorId);
        Assert.Single(fx.Simulator.GetRequests("/v1/mdmServers"), r => r.StatusCode == 429);

        // Apple said 10 s (as seconds or as a date): the client waits exactly that; without a Retry-After it holds
        // back for a minute, refusing locally (nothing sent) meanwhile
        fx.Sim.Advance(TimeSpan.FromSeconds(11));
        if (variant == "none")
        {
            Assert.Equal("BusinessThrottled", Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers()).ErrorId);
            Assert.Single(fx.Simulator.GetRequests("/v1/mdmServers"), r => r.StatusCode == 429);
            fx.Sim.Advance(TimeSpan.FromSeconds(50));
        }

        Assert.NotEmpty(fx.Engine.Business.GetMdmServers());
        Assert.Single(fx.Simulator.GetRequests("/v1/mdmServers"), r => r.StatusCode == 429);
    }

    /// <summary>
    /// A Retry-After given as an HTTP date is measured against the engine's clock (the one Set-AdeSimClock moves), not
    /// the computer's: with the clock years behind or ahead of the computer's, Apple's 10 s are still 10 s.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(3650)]
    public void A_Retry_After_date_is_measured_against_the_engine_clock_however_far_it_was_moved(int daysMoved)
    {
        using var fx = new BusinessFixture();
        fx.Sim.Advance(TimeSpan.FromDays(daysMoved)); // the fixture's clock starts months before this computer's
        fx.Simulator.RetryAfterAsHttpDate = true;
        fx.Engine.Business.GetMdmServers();
        fx.Simulator.BusinessGetsPerMinute = 1;
        fx.Sim.Advance(TimeSpan.FromSeconds(61));
        fx.Engine.Business.GetMdmServers(); // the simulator's one GET of this minute
        fx.Sim.Advance(TimeSpan.FromSeconds(50));
        var e = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers());
        Assert.Equal("BusinessThrottled", e.ErrorId);
        var said = fx.Sim.Time.GetUtcNow() + TimeSpan.FromSeconds(10); // Apple's date: 10 s from its (the simulator's) now
        Assert.Contains(said.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        Assert.Equal(said, fx.Sim.Store.Read(s => s.Business.BlockedUntil(fx.Stored.Id, "GET")));
        fx.Sim.Advance(TimeSpan.FromSeconds(10));
        Assert.NotEmpty(fx.Engine.Business.GetMdmServers());
        Assert.Single(fx.Simulator.GetRequests("/v1/mdmServers"), r => r.StatusCode == 429);
    }

    [Fact]
    public void An_account_of_one_organisation_never_sees_another_organisations_devices_or_servers()
    {
        using var fx = new BusinessFixture();
        // a second organisation in the same simulator, with its own DEP server, bought devices and API account
        var request = fx.Engine.Tokens.NewRequest(true, null)!;
        fx.Simulator.NewServer("Fabrikam Macs", request.PublicKeyPem, out _, "Fabrikam Inc", "it@fabrikam.example");
        var fabrikamDevices = fx.Simulator.AddOrgDevices(3, productFamily: "Mac", orgName: "Fabrikam Inc");
        fx.Simulator.AddDevices("Fabrikam Macs", 2);
        var contosoDevices = fx.Simulator.AddOrgDevices(2, productFamily: "iPad");
        var other = fx.Simulator.NewBusinessAccount(out var pem, orgName: "Fabrikam Inc");
        Assert.Equal("Fabrikam Inc", other.OrgName);
        Assert.Equal("Contoso Ltd", fx.Account.OrgName);
        var keyPath = fx.Sim.Temp.File("fabrikam.pem");
        File.WriteAllText(keyPath, pem);
        fx.Engine.Business.Accounts.New(new NewBusinessAccountArgs(other.ClientId, other.KeyId, keyPath, other.TokenUri, other.ServiceUri));

        var contosoSeen = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(Account: fx.Account.ClientId)).Select(d => d.SerialNumber).ToHashSet();
        var fabrikamSeen = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(Account: other.ClientId)).Select(d => d.SerialNumber).ToHashSet();
        Assert.Equal(contosoDevices.Select(d => d.SerialNumber).ToHashSet(), contosoSeen);
        Assert.Equal(5, fabrikamSeen.Count);
        Assert.Superset(fabrikamDevices.Select(d => d.SerialNumber).ToHashSet(), fabrikamSeen);
        Assert.Empty(contosoSeen.Intersect(fabrikamSeen));
        Assert.Equal(["Contoso iPads"], fx.Engine.Business.GetMdmServers(fx.Account.ClientId).Select(s => s.Name));
        Assert.Equal(["Fabrikam Macs"], fx.Engine.Business.GetMdmServers(other.ClientId).Select(s => s.Name));

        // another organisation's device or server does not exist for an account: nothing is sent or changed
        var foreign = fabrikamDevices[0].SerialNumber;
        Assert.Equal("BusinessDeviceNotFound", Assert.Throws<AdeException>(
            () => fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(Account: fx.Account.ClientId, SerialNumbers: [foreign])).ToList()).ErrorId);
        Assert.Equal("BusinessServerNotFound", Assert.Throws<AdeException>(
            () => fx.Engine.Business.Send(OrgDeviceAction.Assign, [contosoDevices[0].SerialNumber], fx.Account.ClientId, server: "Fabrikam Macs")).ErrorId);
        Assert.Equal("BusinessRequestFailed", Assert.Throws<AdeException>(
            () => fx.Engine.Business.Send(OrgDeviceAction.Assign, [foreign], fx.Account.ClientId, server: "Contoso iPads")).ErrorId);
        Assert.Empty(fx.Simulator.GetDevices("Contoso iPads"));

        // within its own organisation the second account works end to end
        var done = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [foreign], other.ClientId, server: "Fabrikam Macs", wait: true));
        Assert.Equal("COMPLETED", done.Status);
        Assert.Contains(fx.Simulator.GetDevices("Fabrikam Macs"), d => d.SerialNumber == foreign);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void The_token_is_obtained_whether_Apple_requires_iss_in_the_assertion_or_not(bool required)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.RequireAssertionIssuer = required;
        fx.Simulator.ExpireBusinessTokens();
        Assert.NotEmpty(fx.Engine.Business.GetMdmServers());
        Assert.Contains(fx.Simulator.GetRequests("/auth/oauth2/token"), r => r.StatusCode == 200);
    }

    [Fact]
    public void Every_access_token_is_asked_with_a_new_assertion_so_an_Apple_that_takes_each_jti_once_accepts_them_all()
    {
        using var fx = new BusinessFixture();
        fx.Simulator.SingleUseAssertions = true;
        for (var i = 0; i < 3; i++)
        {
            fx.Simulator.ExpireBusinessTokens(); // Apple answers 401: the client asks for a new access token
            Assert.NotEmpty(fx.Engine.Business.GetMdmServers());
        }

        var issued = fx.Simulator.GetRequests("/auth/oauth2/token");
        Assert.True(issued.Count >= 3, "an access token per expiry");
        Assert.All(issued, r => Assert.Equal(200, r.StatusCode));
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Servers_read_the_same_with_either_default_attribute_set_and_with_ids_related_to_DEP_or_not(bool fullByDefault, bool unrelatedIds)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.AddDevices(EngineServer, 2);
        fx.Simulator.FullServerAttributesByDefault = fullByDefault;
        fx.Simulator.UnrelatedServerIds = unrelatedIds;
        var server = Assert.Single(fx.Engine.Business.GetMdmServers());
        Assert.Equal(EngineServer, server.Name);
        Assert.Equal(2, server.DeviceCount);
        Assert.Equal(fx.Sim.Token.Name, server.Token);
        Assert.Equal(!unrelatedIds, server.IdMatchesToken);
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void An_unassigned_device_reads_unassigned_whether_Apple_answers_null_or_404_and_pages_follow_nextCursor_with_or_without_limit_in_links(bool notFound, bool nextWithoutLimit)
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PageSize = 2 });
        fx.Simulator.UnassignedServerAsNotFound = notFound;
        fx.Simulator.NextLinkWithoutLimit = nextWithoutLimit;
        var bought = fx.Simulator.AddOrgDevices(5);
        fx.Simulator.AddDevices(EngineServer, 1);
        var all = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).ToList();
        Assert.Equal(6, all.Count);
        Assert.All(fx.Simulator.GetRequests("/v1/orgDevices").Where(r => r.StatusCode == 200), r => Assert.True(r.DeviceCount <= 2));
        var one = Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [bought[0].SerialNumber])));
        Assert.Equal("UNASSIGNED", one.Status);
        Assert.Null(one.MdmServer);
        // the server link is read only for a device Apple reports ASSIGNED: an unassigned one costs no GET of it
        Assert.Empty(fx.Simulator.GetRequests($"/v1/orgDevices/{bought[0].SerialNumber}/relationships/assignedServer"));
    }

    [Theory]
    [InlineData(404, null)] // Apple answers the link of a device on no server with 404
    [InlineData(200, "{\"data\":null,\"links\":{}}")] // with data: null
    [InlineData(200, "{\"links\":{}}")] // without data at all
    public void A_device_whose_server_link_names_no_server_reads_as_on_no_server_whatever_the_shape_of_Apples_answer(int status, string? body)
    {
        // Apple reports the device ASSIGNED but its link names no server (it was unassigned between the two reads)
        using var fx = new BusinessFixture();
        var serial = Assert.Single(fx.Simulator.AddDevices(EngineServer, 1)).SerialNumber;
        Assert.Equal(EngineServer, Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [serial]))).MdmServer);
        fx.Simulator.AddFault("/v1/orgDevices/*/relationships/assignedServer", status, body: body, count: 1);

        var device = Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [serial])));

        Assert.Equal(("ASSIGNED", null, null), (device.Status, device.MdmServer, device.MdmServerId));
        Assert.Contains(fx.Simulator.GetRequests($"/v1/orgDevices/{serial}/relationships/assignedServer"), r => r.StatusCode == status);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_unknown_serial_is_refused_whole_before_anything_moves_or_fails_alone_in_the_log(bool partial)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.PartialUnknownSerials = partial;
        var serial = fx.Simulator.AddOrgDevices(1)[0].SerialNumber;
        if (!partial)
        {
            Assert.Equal("BusinessRequestFailed", Assert.Throws<AdeException>(
                () => fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial, "C02ZZZZZZZZZ"], null, server: EngineServer)).ErrorId);
            Assert.Empty(fx.Simulator.GetDevices(EngineServer));
            return;
        }

        var activity = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial, "C02ZZZZZZZZZ"], null, server: EngineServer, wait: true));
        Assert.Equal("COMPLETED_WITH_ERROR", activity.SubStatus);
        Assert.Equal(1, activity.Failed);
        Assert.Contains(activity.Devices, d => d.SerialNumber == "C02ZZZZZZZZZ" && d.Status == "FAILED");
        Assert.Contains(activity.Devices, d => d.SerialNumber == serial && d.Status == "SUCCESS");
        Assert.Contains(fx.Simulator.GetDevices(EngineServer), d => d.SerialNumber == serial);
        Assert.Contains(fx.Host.Warnings, w => w.Contains("C02ZZZZZZZZZ", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("FAILED", "FAILED")]
    [InlineData("STOPPED", "STOPPED")]
    [InlineData("COMPLETED_WITH_FAILURE", "COMPLETED")]
    public void An_activity_that_ends_badly_warns_and_changes_nothing_whichever_end_state_Apple_picks(string outcome, string status)
    {
        using var fx = new BusinessFixture();
        var serial = fx.Simulator.AddOrgDevices(1)[0].SerialNumber;
        fx.Simulator.ForcedActivityOutcome = outcome;
        var activity = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial], null, server: EngineServer, wait: true));
        Assert.Equal(status, activity.Status);
        Assert.NotEmpty(fx.Host.Warnings);
        if (outcome != "COMPLETED_WITH_FAILURE")
        {
            Assert.Empty(fx.Simulator.GetDevices(EngineServer));
        }
        else
        {
            // Apple's log lists the device as changed (it moved): the warning says Apple contradicts itself, never
            // "1 of 1 devices were not changed" beside a result that counts it as succeeded
            Assert.Equal((1, 0), (activity.Succeeded, activity.Failed));
            Assert.DoesNotContain(fx.Host.Warnings, w => w.Contains("not changed", StringComparison.Ordinal));
            Assert.Contains(fx.Host.Warnings, w => w.Contains("its log lists every device as changed", StringComparison.Ordinal));
            Assert.Single(fx.Simulator.GetDevices(EngineServer));
        }
    }

    [Theory]
    [InlineData("FAILED", "LastSeen", " (PROCESSING)")]
    [InlineData("STOPPED", "LastSeen", " (PROCESSING)")]
    [InlineData("FAILED", "None", "")]
    [InlineData("STOPPED", "None", "")]
    [InlineData("FAILED", "Suggested", " (COMPLETED_WITH_FAILURE)")]
    public void A_failed_or_stopped_activity_warns_the_same_whatever_sub_status_Apple_pairs_with_it_or_none(string outcome, string pairing, string said)
    {
        using var fx = new BusinessFixture();
        var serial = fx.Simulator.AddOrgDevices(1)[0].SerialNumber;
        fx.Simulator.ForcedActivityOutcome = outcome;
        fx.Simulator.FailedSubStatus = pairing;
        var activity = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial], null, server: EngineServer, wait: true));
        Assert.Equal((outcome, said.Length == 0 ? null : said.Trim(' ', '(', ')')), (activity.Status, activity.SubStatus));
        var warning = Assert.Single(fx.Host.Warnings, w => w.Contains(activity.Id, StringComparison.Ordinal));
        Assert.Contains($"ended {outcome}{said}: 1 of 1 devices were not changed", warning, StringComparison.Ordinal);
        Assert.DoesNotContain("()", warning, StringComparison.Ordinal);
        Assert.Empty(fx.Simulator.GetDevices(EngineServer));
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Listings_read_the_same_when_paging_shows_another_limit_than_asked_and_servers_carry_device_linkages(bool otherLimit, bool linkage)
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PageSize = 3 });
        fx.Simulator.PagingLimitAsAsked = !otherLimit;
        fx.Simulator.ServerDevicesLinkage = linkage;
        var onServer = fx.Simulator.AddDevices(EngineServer, 12).Select(d => d.SerialNumber).ToHashSet();
        var bought = fx.Simulator.AddOrgDevices(4).Select(d => d.SerialNumber).ToHashSet();

        var server = Assert.Single(fx.Engine.Business.GetMdmServers(name: EngineServer));
        Assert.Equal(12, server.DeviceCount);
        var all = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).ToList();
        Assert.Equal(onServer.Concat(bought).Order(), all.Select(d => d.SerialNumber).Order());
        Assert.All(all, d => Assert.Equal(onServer.Contains(d.SerialNumber) ? EngineServer : null, d.MdmServer));

        // every page was asked with the client's own limit (3 devices each: 16 devices in 6 pages), from Apple's cursors
        var pages = fx.Simulator.GetRequests("/v1/orgDevices").Where(r => r.Method == "GET").ToList();
        Assert.Equal(6, pages.Count);
        Assert.All(pages, r => Assert.InRange(r.DeviceCount, 1, 3));
        Assert.All(fx.Simulator.GetRequests("/v1/mdmServers/*"), r => Assert.Equal(200, r.StatusCode));
    }

    [Fact]
    public void Piped_devices_read_on_the_target_server_are_left_out_with_a_warning_and_no_activity_is_spent_on_them()
    {
        using var fx = new BusinessFixture();
        var serials = fx.Simulator.AddOrgDevices(3).Select(d => d.SerialNumber).ToList();
        fx.Engine.Business.Send(OrgDeviceAction.Assign, serials.Take(2).ToList(), null, server: EngineServer, wait: true);
        var read = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: serials)).ToDictionary(d => d.SerialNumber, d => d.MdmServerId);
        var posts = fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count(r => r.Method == "POST");
        fx.Host.Warnings.Clear();

        var sent = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: EngineServer, wait: true, asRead: read));
        Assert.Equal([serials[2]], sent.Devices.Select(d => d.SerialNumber));
        var warning = Assert.Single(fx.Host.Warnings);
        Assert.Contains("2 devices already on MDM server", warning, StringComparison.Ordinal);
        Assert.Equal(posts + 1, fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count(r => r.Method == "POST"));

        // all of them there: no activity at all; named by serial alone, they are sent (Apple answers ALREADY_ASSIGNED)
        read = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: serials)).ToDictionary(d => d.SerialNumber, d => d.MdmServerId);
        Assert.Empty(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: EngineServer, asRead: read));
        Assert.Equal(posts + 1, fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count(r => r.Method == "POST"));
        Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials.Take(1).ToList(), null, server: EngineServer));

        // under -WhatIf nothing is sent, and the command gets one line saying what would have been
        fx.Host.ShouldProcessAnswer = false;
        string? whatIf = null;
        Assert.Empty(fx.Engine.Business.Send(OrgDeviceAction.Unassign, serials, null, server: EngineServer, declined: line => whatIf = line));
        Assert.Equal($"3 devices would be sent to Apple: Unassign from MDM server '{EngineServer}' at Apple (1 activity of the account's 100 an hour).", whatIf);
    }

    [Fact]
    public void An_activity_that_walks_through_every_documented_sub_status_is_waited_for_and_read_as_any_other()
    {
        using var fx = new BusinessFixture();
        fx.Simulator.ActivityProgress = "Steps";
        var serials = fx.Simulator.AddOrgDevices(2).Select(d => d.SerialNumber).ToList();
        var activity = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: EngineServer, wait: true));
        Assert.Equal(("COMPLETED", "COMPLETED_WITH_SUCCESS", 2), (activity.Status, activity.SubStatus, activity.Succeeded));
        Assert.Empty(fx.Host.Warnings);

        // the progress the wait showed: Apple's steps, in their order (polled every 3 s of a 10 s activity)
        string[] order = ["SUBMITTED", "PRE_PROCESSING", "PENDING", "PROCESSING", "POST_PROCESSING"];
        var seen = fx.Host.Progress.Where(p => p.Status.StartsWith("IN_PROGRESS ", StringComparison.Ordinal)).Select(p => p.Status["IN_PROGRESS ".Length..]).ToList();
        Assert.Equal(["SUBMITTED", "PENDING", "PROCESSING", "POST_PROCESSING"], seen);
        Assert.Equal(seen, seen.OrderBy(s => Array.IndexOf(order, s)));
        Assert.Equal(2, fx.Simulator.GetDevices(EngineServer).Count);
    }

    [Fact]
    public void An_activity_Apple_completes_without_a_log_is_no_silent_success_its_devices_read_unknown_and_a_warning_names_them()
    {
        using var fx = new BusinessFixture();
        var serials = fx.Simulator.AddOrgDevices(2).Select(d => d.SerialNumber).Order(StringComparer.Ordinal).ToList();
        fx.Simulator.ForcedActivityOutcome = "COMPLETED_POST_PROCESSING_FAILED";
        var activity = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: EngineServer, wait: true));
        Assert.Equal(("COMPLETED", "COMPLETED_POST_PROCESSING_FAILED"), (activity.Status, activity.SubStatus));
        Assert.Equal((0, 0, 2), (activity.Succeeded, activity.Failed, activity.Unknown));
        Assert.Equal(serials, activity.Devices.Select(d => d.SerialNumber).Order(StringComparer.Ordinal));
        Assert.All(activity.Devices, d => Assert.Equal(("UNKNOWN", "NO_LOG"), (d.Status, d.Detail)));
        var warning = Assert.Single(fx.Host.Warnings, w => w.Contains(activity.Id, StringComparison.Ordinal));
        Assert.Contains("Get-AdeOrgDevice -SerialNumber", warning, StringComparison.Ordinal);
        Assert.All(serials, s => Assert.Contains(s, warning, StringComparison.Ordinal));
        Assert.DoesNotContain("not changed", warning, StringComparison.Ordinal);

        // Apple did move them: the check the warning asks for is what tells
        Assert.Equal(serials, fx.Simulator.GetDevices(EngineServer).Select(d => d.SerialNumber).Order(StringComparer.Ordinal));
        var reads = fx.Simulator.GetRequests("/v1/orgDeviceActivities/" + activity.Id).Count;
        var again = Assert.Single(fx.Engine.Business.GetActivities(activity.Id, refresh: true));
        Assert.Equal((0, 0, 2), (again.Succeeded, again.Failed, again.Unknown));
        Assert.Equal(reads, fx.Simulator.GetRequests("/v1/orgDeviceActivities/" + activity.Id).Count); // Apple said no log will come: not asked again
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeEnrollment.Simulator.AdeSimException>(() => fx.Simulator.ForcedActivityOutcome = "SOMETHING").ErrorId);
    }

    [Fact]
    public void An_activity_Apple_fails_without_a_log_is_one_warning_of_unknown_outcome_and_a_refresh_asks_Apple_again_for_the_log()
    {
        using var fx = new BusinessFixture();
        var serials = fx.Simulator.AddOrgDevices(2).Select(d => d.SerialNumber).Order(StringComparer.Ordinal).ToList();
        fx.Simulator.ForcedActivityOutcome = "FAILED_WITHOUT_LOG";
        var activity = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: EngineServer, wait: true));
        Assert.Equal("FAILED", activity.Status);
        Assert.Equal((0, 0, 2), (activity.Succeeded, activity.Failed, activity.Unknown));
        Assert.All(activity.Devices, d => Assert.Equal(("UNKNOWN", "NO_LOG"), (d.Status, d.Detail)));
        // one warning: the outcome is unknown; not a second one claiming the devices were not changed
        var warning = Assert.Single(fx.Host.Warnings, w => w.Contains(activity.Id, StringComparison.Ordinal));
        Assert.Contains("may or may not have been changed", warning, StringComparison.Ordinal);
        Assert.Empty(fx.Simulator.GetDevices(EngineServer));

        // Apple did not say that no log will come: a refresh asks for it again
        var reads = fx.Simulator.GetRequests("/v1/orgDeviceActivities/" + activity.Id).Count;
        Assert.Equal(2, Assert.Single(fx.Engine.Business.GetActivities(activity.Id, refresh: true)).Unknown);
        Assert.Equal(reads + 1, fx.Simulator.GetRequests("/v1/orgDeviceActivities/" + activity.Id).Count);
    }

    [Fact]
    public void Apple_caps_an_activity_at_an_undocumented_size_the_client_sends_batches_of_its_own_size_within_the_cap()
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PostsPerHour = 100, MaxDevicesPerActivity = 3 });
        fx.Simulator.MaxDevicesPerActivity = 3;
        var serials = fx.Simulator.AddOrgDevices(7).Select(d => d.SerialNumber).ToList();
        var activities = fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: EngineServer, wait: true);
        Assert.Equal([3, 3, 1], activities.Select(a => a.DeviceCount));
        Assert.All(activities, a => Assert.Equal("COMPLETED_WITH_SUCCESS", a.SubStatus));
        Assert.Equal(7, fx.Simulator.GetDevices(EngineServer).Count);
        Assert.Null(Assert.Single(fx.Engine.Business.Accounts.Get()).DevicesPerActivity); // nothing was refused: nothing learned
    }

    [Theory]
    [InlineData("Entity422", new[] { 3, 3, 3, 1 }, 3)] // Apple's detail names the cap: one refused POST, then the cap
    [InlineData("Parameter400", new[] { 2, 2, 2, 2, 2 }, 2)] // no number: half the size
    [InlineData("TooLarge413", new[] { 2, 2, 2, 2, 2 }, 2)]
    public void An_activity_Apple_refuses_as_too_large_goes_again_smaller_and_the_account_keeps_the_size_Apple_took(string answer, int[] sizes, int learned)
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PostsPerHour = 100, MaxDevicesPerActivity = 4 });
        fx.Simulator.MaxDevicesPerActivity = 3;
        fx.Simulator.ActivityCapAnswer = answer;
        var serials = fx.Simulator.AddOrgDevices(10).Select(d => d.SerialNumber).ToList();
        var activities = fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: EngineServer, wait: true);

        Assert.Equal(sizes, activities.Select(a => a.DeviceCount));
        Assert.All(activities, a => Assert.Equal("COMPLETED_WITH_SUCCESS", a.SubStatus));
        Assert.Equal(10, fx.Simulator.GetDevices(EngineServer).Count);
        var posts = fx.Simulator.GetRequests("/v1/orgDeviceActivities").Where(r => r.Method == "POST").ToList();
        Assert.Equal(sizes.Length + 1, posts.Count); // one refusal
        Assert.Equal(learned, Assert.Single(fx.Engine.Business.Accounts.Get()).DevicesPerActivity);
        var warning = Assert.Single(fx.Host.Warnings, w => w.Contains("per activity", StringComparison.Ordinal));
        Assert.Contains($"refused a device activity of 4 devices and took one of {learned}", warning, StringComparison.Ordinal);
        Assert.Contains("Set-AdeBusinessAccount", warning, StringComparison.Ordinal);

        // the next command starts at the size Apple took: no POST spent on a refusal, no warning
        var more = fx.Simulator.AddOrgDevices(4).Select(d => d.SerialNumber).ToList();
        var next = fx.Engine.Business.Send(OrgDeviceAction.Assign, more, null, server: EngineServer);
        Assert.All(next, a => Assert.True(a.DeviceCount <= learned));
        Assert.Equal(posts.Count + next.Count, fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count(r => r.Method == "POST"));
        Assert.Single(fx.Host.Warnings, w => w.Contains("per activity", StringComparison.Ordinal));
    }

    [Fact]
    public void A_refusal_that_does_not_say_why_is_halved_within_the_command_but_not_kept_for_the_account()
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PostsPerHour = 100, MaxDevicesPerActivity = 4 });
        var serials = fx.Simulator.AddOrgDevices(4).Select(d => d.SerialNumber).ToList();
        fx.Simulator.AddFault("/v1/orgDeviceActivities", 422, count: 1, method: "POST"); // a passing refusal, no word of size
        var activities = fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: EngineServer);
        Assert.Equal([2, 2], activities.Select(a => a.DeviceCount));
        Assert.Null(Assert.Single(fx.Engine.Business.Accounts.Get()).DevicesPerActivity);
        var warning = Assert.Single(fx.Host.Warnings, w => w.Contains("without saying why", StringComparison.Ordinal));
        Assert.Contains($"refused a device activity of 4 devices without saying why and took one of 2 devices. If its cap on the devices of one activity is the cause, keep that size: Set-AdeBusinessAccount -ClientId '{fx.Stored.ClientId}' -DevicePerActivity 2", warning, StringComparison.Ordinal);
    }

    [Fact]
    public void A_refusal_that_is_not_about_size_ends_as_Apple_gave_it_after_three_halvings_without_a_number()
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PostsPerHour = 100, MaxDevicesPerActivity = 16 });
        var serials = fx.Simulator.AddOrgDevices(16).Select(d => d.SerialNumber).ToList();
        fx.Simulator.AddFault("/v1/orgDeviceActivities", 422, count: 10, method: "POST");
        var ex = Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: EngineServer));
        Assert.Equal("BusinessRequestFailed", ex.ErrorId);
        Assert.Contains("Apple refused activities of 16, 8, 4 and 2 devices without naming a cap; if the devices of one activity are the cause, set fewer: Set-AdeBusinessAccount -ClientId", ex.Message, StringComparison.Ordinal);
        // 16, 8, 4, 2: three halvings, then Apple's answer (the hour's budget is 10 activities by default: no more are spent)
        Assert.Equal(4, fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count(r => r.Method == "POST"));
        Assert.Equal([16, 8, 4, 2], fx.Host.Verbose.Where(v => v.StartsWith("Apple refused an activity of ", StringComparison.Ordinal))
            .Select(v => int.Parse(v["Apple refused an activity of ".Length..].Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture)).Append(2));
        Assert.Null(Assert.Single(fx.Engine.Business.Accounts.Get()).DevicesPerActivity);
        Assert.Empty(fx.Simulator.GetDevices(EngineServer));
        Assert.DoesNotContain(fx.Host.Warnings, w => w.Contains("per activity", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(422, null, null, "At most 500 devices per activity.", 1000, 0, 0, 500)]
    [InlineData(400, null, null, "Too many devices.", 1000, 0, 0, 500)]
    [InlineData(413, null, null, null, 7, 0, 0, 4)]
    [InlineData(422, "data.relationships.devices", null, "The list holds 1234 devices; the maximum is 1000.", 1000, 0, 0, 500)] // numbers at or above the size: halved
    [InlineData(422, null, null, "Invalid serial number C02XK1ABJGH5.", 1000, 0, 0, 500)] // a serial's digits are no cap
    [InlineData(400, null, null, "The request may carry up to 250 org devices.", 1000, 0, 0, 250)]
    [InlineData(422, null, "/data/relationships/devices/data", "Limit: 100", 1000, 0, 0, 100)]
    [InlineData(422, null, "/data/relationships/mdmServer/data/id", "Unknown server.", 1000, 0, 0, null)] // another body member
    [InlineData(422, null, null, "At most 500 devices per activity.", 1, 0, 0, null)] // one device: not a size
    [InlineData(409, null, null, "At most 500 devices per activity.", 1000, 0, 0, null)] // a conflict (unknown server or serial)
    [InlineData(400, "limit", null, null, 1000, 0, 0, null)] // another parameter
    [InlineData(429, null, null, null, 1000, 0, 0, null)]
    [InlineData(422, null, null, null, 500, 500, 0, null)] // Apple took as many in this command: not a size
    [InlineData(422, null, null, null, 125, 0, 3, null)] // three halvings without a number: reported as Apple gave it
    [InlineData(422, null, null, "At most 100 devices.", 125, 0, 3, 100)] // a named cap still counts
    [InlineData(413, null, null, null, 125, 0, 3, 63)] // a 413 is about size, however often
    public void What_counts_as_Apple_refusing_an_activity_as_too_large(int status, string? parameter, string? pointer, string? detail, int size, int taken, int blind, int? smaller)
    {
        var ex = Errors.ErrorCatalog.BusinessRequestFailed("BUSINESSAPI.x", "Apple Business", "POST /v1/orgDeviceActivities", status, "CODE", detail);
        ex.HttpStatus = status;
        ex.ErrorParameter = parameter;
        ex.ErrorPointer = pointer;
        ex.ErrorDetail = detail;
        var search = new BusinessService.ActivitySizeSearch();
        if (taken > 0)
        {
            search.Taken(taken);
        }

        for (var i = 0; i < blind; i++)
        {
            search.Refused(1000, capNamed: false, aboutSize: false);
        }

        Assert.Equal(smaller, BusinessService.SmallerActivity(ex, size, search));
    }

    [Fact]
    public void Apples_own_services_are_listed_with_their_type_and_the_Apple_Configurator_entry_is_refused_as_a_target_before_anything_is_sent()
    {
        using var fx = new BusinessFixture();
        var request = fx.Engine.Tokens.NewRequest(true, null)!;
        const string configurator = "Devices Added by Apple Configurator 2";
        const string builtIn = "Apple Business";
        fx.Simulator.NewServer(configurator, request.PublicKeyPem, out _, fx.Account.OrgName, "it@contoso.example");
        fx.Simulator.NewServer(builtIn, request.PublicKeyPem, out _, fx.Account.OrgName, "it@contoso.example");
        fx.Simulator.SetServer(configurator, null, "APPLE_CONFIGURATOR");
        fx.Simulator.SetServer(builtIn, null, "APPLE_MDM");
        var serials = fx.Simulator.AddOrgDevices(2).Select(d => d.SerialNumber).ToList();

        var types = fx.Engine.Business.GetMdmServers().ToDictionary(s => s.Name, s => s.ServerType);
        Assert.Equal(("APPLE_CONFIGURATOR", "APPLE_MDM", "MDM"), (types[configurator], types[builtIn], types[EngineServer]));

        // a device the account released: the bad target is refused before the released devices are looked at
        var gone = Assert.Single(fx.Simulator.AddOrgDevices(1)).SerialNumber;
        fx.Engine.Business.Send(OrgDeviceAction.Release, [gone], null, wait: true);
        var posts = fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count(r => r.Method == "POST");
        foreach (var action in new[] { OrgDeviceAction.Assign, OrgDeviceAction.Unassign })
        {
            var e = Assert.Throws<AdeException>(() => fx.Engine.Business.Send(action, [gone], null, server: configurator));
            Assert.Equal("ArgumentInvalid", e.ErrorId);
            e = Assert.Throws<AdeException>(() => fx.Engine.Business.Send(action, serials, null, server: configurator));
            Assert.Equal(("ArgumentInvalid", AdeErrorCategory.InvalidArgument), (e.ErrorId, e.Category));
            Assert.Contains("APPLE_CONFIGURATOR", e.Message, StringComparison.Ordinal);
            Assert.Contains("Assign the devices to an MDM server", e.Message, StringComparison.Ordinal);
        }

        Assert.Equal(posts, fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count(r => r.Method == "POST"));
        Assert.Empty(fx.Simulator.GetRequests("/v1/orgDevices/" + gone)); // not asked whether it was added again
        Assert.DoesNotContain(fx.Host.Warnings, w => w.Contains("released from the organisation", StringComparison.Ordinal));
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeException>(() => fx.Engine.Business.SetMdmServer(configurator, new MdmServerChanges(NewName: "Mine"))).ErrorId);
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeException>(() => fx.Engine.Business.RemoveMdmServer(builtIn)).ErrorId);

        // Apple's built-in management is a device management service: devices can go there
        var activity = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: builtIn, wait: true));
        Assert.Equal(2, activity.Succeeded);
        Assert.All(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: serials)), d => Assert.Equal(builtIn, d.MdmServer));
    }

    private const string EngineServer = Support.EngineSimFixture.Server;
}

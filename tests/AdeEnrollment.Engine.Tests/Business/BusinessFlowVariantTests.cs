using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Tokens;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Tests.Business;

/// <summary>
/// Flow and authentication behaviours Apple leaves open (cursor lifetime, DEP visibility lag, host and scope,
/// assertion clock skew, OAuth error codes, unassigning from the wrong server), each produced by a simulator switch,
/// and what the client does with every variant (rows of the table "Business API simulator" in docs/architecture.md).
/// </summary>
public sealed class BusinessFlowVariantTests
{
    private const string EngineServer = EngineSimFixture.Server;

    // ---- cursor expiry ------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void An_inventory_cursor_that_expires_mid_listing_restarts_the_listing_once_and_yields_no_device_twice(bool shuffled)
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PageSize = 2 });
        fx.Simulator.ShuffledOrder = shuffled;
        fx.Simulator.BusinessCursorLifetime = TimeSpan.FromSeconds(30);
        var bought = fx.Simulator.AddOrgDevices(5).Select(d => d.SerialNumber).ToList();
        var assigned = fx.Simulator.AddDevices(EngineServer, 1).Select(d => d.SerialNumber).ToList();

        var read = new List<AdeOrgDevice>();
        using (var e = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).GetEnumerator())
        {
            while (e.MoveNext())
            {
                read.Add(e.Current);
                if (read.Count == 2)
                {
                    fx.Sim.Advance(TimeSpan.FromSeconds(31)); // the consumer is slow: the next page's cursor has expired
                }
            }
        }

        Assert.Equal(bought.Concat(assigned).Order(), read.Select(d => d.SerialNumber).Order());
        Assert.Equal(6, read.Select(d => d.SerialNumber).Distinct().Count());
        Assert.Equal(EngineServer, Assert.Single(read, d => d.SerialNumber == assigned[0]).MdmServer);
        var refused = Assert.Single(fx.Simulator.GetRequests("/v1/orgDevices"), r => r.StatusCode == 400);
        Assert.Equal("PARAMETER_ERROR.INVALID", refused.ErrorCode);
        Assert.Contains(fx.Host.Verbose, v => v.Contains("again from its first page", StringComparison.Ordinal));
        Assert.Equal(0L, (long)RawSqlite.Scalar(fx.Sim.Store.Path, "SELECT COUNT(*) FROM business_device_server")!);
    }

    [Fact]
    public void A_cursor_that_expires_again_after_the_restart_is_BusinessCursorExpired_and_leaves_nothing_in_the_store()
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PageSize = 2 });
        fx.Simulator.BusinessCursorLifetime = TimeSpan.FromSeconds(30);
        fx.Simulator.AddOrgDevices(5);
        fx.Simulator.AddDevices(EngineServer, 1);

        var read = new List<string>();
        var ex = Assert.Throws<AdeException>(() =>
        {
            foreach (var d in fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()))
            {
                read.Add(d.SerialNumber);
                fx.Sim.Advance(TimeSpan.FromSeconds(20)); // every page takes longer than Apple keeps a cursor
            }
        });
        Assert.Equal("BusinessCursorExpired", ex.ErrorId);
        Assert.Equal(AdeErrorCategory.OperationTimeout, ex.Category);
        Assert.Contains("Run the command again", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, fx.Simulator.GetRequests("/v1/orgDevices").Count(r => r.StatusCode == 400));
        Assert.Equal(read.Count, read.Distinct().Count()); // nothing was yielded twice before the error
        Assert.Equal(0L, (long)RawSqlite.Scalar(fx.Sim.Store.Path, "SELECT COUNT(*) FROM business_device_server")!);
    }

    [Fact]
    public void A_server_listing_whose_cursor_expires_while_waiting_for_Apples_budget_is_read_again_and_lists_each_server_once()
    {
        // Apple allows three GETs a minute: the second listing's page 2 gets a 429 and waits a minute, past the
        // cursor's 45 s; the listing starts again from page 1 (Apple's budget is lifted during the wait) and succeeds
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PageSize = 1 });
        fx.Engine.Business.WaitForLimit = true;
        var request = fx.Engine.Tokens.NewRequest(true, null)!;
        fx.Simulator.NewServer("Contoso Macs", request.PublicKeyPem, out _, fx.Account.OrgName, "it@contoso.example");
        fx.Simulator.BusinessCursorLifetime = TimeSpan.FromSeconds(45);
        fx.Simulator.BusinessGetsPerMinute = 3;
        fx.OnDelay = _ => fx.Simulator.BusinessGetsPerMinute = null;
        Assert.Equal(2, fx.Engine.Business.GetMdmServers().Count);
        var servers = fx.Engine.Business.GetMdmServers();
        Assert.Equal(["Contoso iPads", "Contoso Macs"], servers.Select(s => s.Name).Order());
        Assert.Equal(2, servers.Select(s => s.Id).Distinct().Count());
        Assert.Single(fx.Simulator.GetRequests("/v1/mdmServers"), r => r.StatusCode == 429);
        Assert.Single(fx.Simulator.GetRequests("/v1/mdmServers"), r => r.StatusCode == 400);
    }

    // ---- lag between activity completion and the DEP sync --------------------------------------------------------------

    [Theory]
    [InlineData(0)]
    [InlineData(3600)]
    public void A_sync_that_does_not_show_yet_what_a_completed_activity_moved_says_so_and_a_later_sync_brings_it(int delaySeconds)
    {
        using var fx = new BusinessFixture();
        var serials = fx.Simulator.AddOrgDevices(3, productFamily: "iPad").Select(d => d.SerialNumber).ToList();
        Assert.Equal(0, fx.Engine.Sync.Sync("iPads")!.Added);
        fx.Simulator.DepVisibilityDelay = TimeSpan.FromSeconds(delaySeconds);
        var assign = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, token: fx.Sim.Token, wait: true));
        Assert.Equal(3, assign.Succeeded);

        fx.Sim.Advance(TimeSpan.FromMinutes(15));
        var first = fx.Engine.Sync.Sync("iPads")!;
        if (delaySeconds == 0)
        {
            Assert.Equal(3, first.Added);
            Assert.Equal(0, first.PendingFromActivities);
            Assert.DoesNotContain(fx.Host.Warnings, w => w.Contains("did not show in this sync yet", StringComparison.Ordinal));
            return;
        }

        Assert.Equal(0, first.Added);
        Assert.Equal(3, first.PendingFromActivities);
        var warning = Assert.Single(fx.Host.Warnings, w => w.Contains("did not show in this sync yet", StringComparison.Ordinal));
        Assert.Contains("3 devices", warning, StringComparison.Ordinal);
        Assert.Contains(assign.Id, warning, StringComparison.Ordinal);
        Assert.Contains("A later Sync-AdeDevice brings them", warning, StringComparison.Ordinal);

        fx.Sim.Advance(TimeSpan.FromMinutes(61));
        var later = fx.Engine.Sync.Sync("iPads")!;
        Assert.Equal(3, later.Added);
        Assert.Equal(0, later.PendingFromActivities);

        // the other way: an unassigned device stays in the sync until Apple shows it deleted
        Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Unassign, [serials[0]], null, token: fx.Sim.Token, wait: true));
        fx.Sim.Advance(TimeSpan.FromMinutes(15));
        var during = fx.Engine.Sync.Sync("iPads")!;
        Assert.Equal(0, during.Removed);
        Assert.Equal(1, during.PendingFromActivities);
        fx.Sim.Advance(TimeSpan.FromMinutes(61));
        var after = fx.Engine.Sync.Sync("iPads")!;
        Assert.Equal(1, after.Removed);
        Assert.Equal(0, after.PendingFromActivities);
    }

    [Theory]
    [InlineData("ClientId")]
    [InlineData("ServerAdmin")]
    [InlineData("Empty")]
    public void Whoever_Apple_names_as_the_assigner_of_an_API_assignment_the_device_is_synced_and_the_name_kept_as_given(string assignedBy)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.ApiAssignedBy = assignedBy;
        var serial = Assert.Single(fx.Simulator.AddOrgDevices(1, productFamily: "iPad")).SerialNumber;
        Assert.Equal(1, Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial], null, token: fx.Sim.Token, wait: true)).Succeeded);

        Assert.Equal(1, fx.Engine.Sync.Sync("iPads")!.Added);
        var device = fx.Engine.Devices.Get(new DeviceQuery(SerialNumber: serial)).Single();
        var expected = assignedBy switch { "ClientId" => fx.Account.ClientId, "ServerAdmin" => "it@contoso.example", _ => "" }; // ServerAdmin: the fixture's server admin
        Assert.Equal(expected, device.AssignedBy ?? "");
        Assert.Equal(AdeAbmState.Assigned, device.AbmState);
    }

    // ---- School token on the Business host and the other way round ---------------------------------------------------

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void School_and_Business_accounts_each_use_their_own_host_and_scope_whether_Apple_checks_the_host_or_not(bool strict)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.StrictApiHosts = strict;
        var school = fx.Simulator.NewBusinessAccount(out var pem, school: true);
        var keyPath = fx.Sim.Temp.File("school.pem");
        File.WriteAllText(keyPath, pem);
        var stored = fx.Engine.Business.Accounts.New(new NewBusinessAccountArgs(school.ClientId, school.KeyId, keyPath, school.TokenUri, school.ServiceUri))!;
        Assert.Equal("school.api", stored.Scope);
        Assert.Equal("business.api", fx.Stored.Scope);

        Assert.NotEmpty(fx.Engine.Business.GetMdmServers(school.ClientId));
        Assert.NotEmpty(fx.Engine.Business.GetMdmServers(fx.Account.ClientId));
        Assert.Contains(fx.Simulator.GetRequests("/school/v1/mdmServers"), r => r.StatusCode == 200);
        Assert.Contains(fx.Simulator.GetRequests("/v1/mdmServers"), r => r.StatusCode == 200);
        Assert.DoesNotContain(fx.Simulator.GetRequests(), r => r.StatusCode == 401);
    }

    [Fact]
    public void A_School_account_cannot_release_devices_and_nothing_is_sent_or_counted()
    {
        using var fx = new BusinessFixture();
        var school = fx.AddSchoolAccount();
        var serial = fx.Simulator.AddOrgDevices(1)[0].SerialNumber;
        var before = fx.Simulator.GetRequests().Count;

        var e = Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Release, [serial], school.ClientId));

        Assert.Equal((nameof(ErrorCatalog.BusinessReleaseNotInSchool), AdeErrorCategory.InvalidOperation), (e.ErrorId, e.Category));
        Assert.Contains("Apple School Manager", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, fx.Simulator.GetRequests().Count);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void A_School_account_stored_with_the_Business_host_is_refused_by_a_strict_Apple_after_one_renewal_without_leaking_secrets(bool strict)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.StrictApiHosts = strict;
        var school = fx.Simulator.NewBusinessAccount(out var pem, school: true);
        var keyPath = fx.Sim.Temp.File("school.pem");
        File.WriteAllText(keyPath, pem);
        // a test host may be anything: the simulator's Business host given explicitly for a School account
        fx.Engine.Business.Accounts.New(new NewBusinessAccountArgs(school.ClientId, school.KeyId, keyPath, school.TokenUri, fx.Account.ServiceUri));
        if (!strict)
        {
            Assert.NotEmpty(fx.Engine.Business.GetMdmServers(school.ClientId));
            return;
        }

        var ex = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers(school.ClientId));
        Assert.Equal("BusinessClientRejected", ex.ErrorId);
        Assert.Equal(AdeErrorCategory.AuthenticationError, ex.Category);
        Assert.Contains("api-school.apple.com", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, fx.Simulator.GetRequests("/v1/mdmServers").Count(r => r.StatusCode == 401)); // renewed once, not looped
        Assert.Equal(2, fx.Simulator.GetRequests("/auth/oauth2/token").Count(r => r.StatusCode == 200));
        Assert.DoesNotContain("sim-at-", ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", ex.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(fx.Host.AllText, t => t.Contains("sim-at-", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(true, "https://api-business.apple.com/v1/")]
    [InlineData(false, "https://api-school.apple.com/v1/")]
    public void An_account_given_Apples_host_of_the_other_kind_is_refused_when_stored(bool school, string serviceUri)
    {
        using var fx = new BusinessFixture();
        var account = fx.Simulator.NewBusinessAccount(out var pem, school: school);
        var keyPath = fx.Sim.Temp.File("other.pem");
        File.WriteAllText(keyPath, pem);
        var ex = Assert.Throws<AdeException>(() => fx.Engine.Business.Accounts.New(new NewBusinessAccountArgs(account.ClientId, account.KeyId, keyPath, null, new Uri(serviceUri))));
        Assert.Equal("ArgumentInvalid", ex.ErrorId);
        Assert.Contains("leave -ServiceUri out", ex.Message, StringComparison.Ordinal);
        Assert.Single(fx.Engine.Business.Accounts.Get()); // nothing stored
    }

    // ---- clock skew of the client assertion ------------------------------------------------------------------------

    [Theory]
    [InlineData(0, 0, true)]
    [InlineData(0, 45, true)]      // a strict Apple, the host clock 45 s fast: the back-dated iat is still in Apple's past
    [InlineData(0, 120, false)]    // beyond the client's one-minute margin: refused
    [InlineData(300, 120, true)]   // a tolerant Apple accepts what the margin does not cover
    public void The_assertion_is_accepted_by_a_strict_Apple_from_a_host_clock_slightly_ahead(int toleranceSeconds, int aheadSeconds, bool accepted)
    {
        using var fx = new BusinessFixture(engineAhead: TimeSpan.FromSeconds(aheadSeconds));
        fx.Simulator.AssertionClockSkew = TimeSpan.FromSeconds(toleranceSeconds);
        if (accepted)
        {
            Assert.NotEmpty(fx.Engine.Business.GetMdmServers());
            Assert.Contains(fx.Simulator.GetRequests("/auth/oauth2/token"), r => r.StatusCode == 200);
            return;
        }

        var ex = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers());
        Assert.Equal("BusinessClientRejected", ex.ErrorId);
        Assert.Contains("clock", ex.Message, StringComparison.Ordinal);
        Assert.Equal("invalid_client:iat_future", fx.Simulator.GetRequests("/auth/oauth2/token").Last().ErrorCode);
    }

    // ---- OAuth error codes ------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_revoked_key_and_a_clock_far_ahead_are_BusinessClientRejected_with_Apples_or_RFC_error_codes(bool rfc)
    {
        using var fx = new BusinessFixture(engineAhead: TimeSpan.FromMinutes(10));
        fx.Simulator.RfcOAuthErrors = rfc;
        var ahead = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers());
        Assert.Equal("BusinessClientRejected", ahead.ErrorId);
        // the RFC code (and its description) says what is wrong: the clock, not the key
        Assert.Contains(rfc ? "(invalid_grant: The client assertion was refused: iat_future.)" : "(invalid_client)", ahead.Message, StringComparison.Ordinal);
        Assert.Contains(rfc ? "clock is probably more than a minute off" : "key may have been revoked", ahead.Message, StringComparison.Ordinal);
        Assert.Equal((rfc ? "invalid_grant" : "invalid_client") + ":iat_future", fx.Simulator.GetRequests("/auth/oauth2/token").Last().ErrorCode);

        fx.Simulator.AssertionClockSkew = TimeSpan.FromHours(1);
        Assert.NotEmpty(fx.Engine.Business.GetMdmServers());
        fx.Simulator.RevokeBusinessAccount(fx.Account.ClientId);
        var revoked = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers());
        Assert.Equal("BusinessClientRejected", revoked.ErrorId);
        var last = fx.Simulator.GetRequests("/auth/oauth2/token").Last();
        Assert.Equal("invalid_client:revoked", last.ErrorCode);
        Assert.Equal(rfc ? 401 : 400, last.StatusCode);
    }

    [Theory]
    [InlineData(400, "invalid_client")]
    [InlineData(401, "invalid_client")]
    [InlineData(400, "invalid_grant")]
    [InlineData(400, "invalid_scope")]
    [InlineData(400, "unsupported_grant_type")]
    [InlineData(400, "invalid_request")]
    [InlineData(400, "unauthorized_client")]
    public void Every_OAuth_refusal_code_and_status_is_the_same_catalogued_BusinessClientRejected(int status, string code)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.AddFault("/auth/oauth2/token", status, "{\"error\":\"" + code + "\",\"error_description\":\"Said\\u001b[31m in red\"}", count: 1);
        var ex = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers());
        Assert.Equal("BusinessClientRejected", ex.ErrorId);
        Assert.Contains("(" + code + ": Said", ex.Message, StringComparison.Ordinal); // Apple's code and description, made safe
        Assert.DoesNotContain("\u001b", ex.Message, StringComparison.Ordinal);
        Assert.Equal(AdeErrorCategory.AuthenticationError, ex.Category);
        Assert.Empty(fx.Simulator.GetRequests("/v1/mdmServers"));
        Assert.NotEmpty(fx.Engine.Business.GetMdmServers()); // the fault was one answer: nothing was kept from it
    }

    [Theory]
    [InlineData(500, null, false)]
    [InlineData(503, 2, false)]
    [InlineData(null, null, true)]
    public void The_token_request_is_asked_again_after_a_5xx_or_a_broken_connection(int? status, int? retryAfter, bool drop)
    {
        // asking for a token changes nothing at Apple: one bad answer no longer failed the command while the same
        // answer to a read was repeated
        using var fx = new BusinessFixture();
        fx.Simulator.AddFault("/auth/oauth2/token", status, count: 1, retryAfterSeconds: retryAfter, dropConnection: drop);
        Assert.NotEmpty(fx.Engine.Business.GetMdmServers());
        Assert.Equal(2, fx.Simulator.GetRequests("/auth/oauth2/token").Count);
        Assert.Equal([TimeSpan.FromSeconds(retryAfter ?? 2)], fx.Waits);

        // three in a row end in the catalogued error, after two waits
        BusinessClient.ResetProcessState();
        fx.Simulator.AddFault("/auth/oauth2/token", status, count: 3, dropConnection: drop);
        Assert.Equal(drop ? "BusinessNetworkError" : "BusinessRequestFailed", Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers()).ErrorId);
        Assert.Equal(5, fx.Simulator.GetRequests("/auth/oauth2/token").Count);
    }

    [Fact]
    public void A_429_to_the_token_request_is_BusinessThrottled_and_waited_for_under_WaitForLimit()
    {
        using var fx = new BusinessFixture();
        fx.Simulator.AddFault("/auth/oauth2/token", 429, count: 1, retryAfterSeconds: 5);
        var e = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers());
        Assert.Equal("BusinessThrottled", e.ErrorId);
        Assert.Equal(AdeErrorCategory.LimitsExceeded, e.Category);
        Assert.Contains("(access token)", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("check the command's parameters", e.Message, StringComparison.Ordinal);
        Assert.Empty(fx.Simulator.GetRequests("/v1/mdmServers"));

        fx.Simulator.AddFault("/auth/oauth2/token", 429, count: 1, retryAfterSeconds: 5);
        fx.Engine.Business.WaitForLimit = true;
        Assert.NotEmpty(fx.Engine.Business.GetMdmServers());
        Assert.Contains(fx.Waits, w => w >= TimeSpan.FromSeconds(5));
    }

    // ---- unassigning from the wrong server, moving A to B ----------------------------------------------------------

    /// <summary>A second DEP server of the organisation with its token stored in the engine.</summary>
    private static AdeToken SecondToken(BusinessFixture fx, string server, string name)
    {
        var request = fx.Engine.Tokens.NewRequest(true, null)!;
        fx.Simulator.NewServer(server, request.PublicKeyPem, out var p7m, fx.Account.OrgName, "it@contoso.example");
        var file = fx.Sim.Temp.File(name + ".p7m");
        File.WriteAllText(file, p7m);
        return fx.Engine.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), file, "it@contoso.example", Name: name,
            EnrollmentUrl: "https://mdm.contoso.example/enroll", ServiceUri: fx.Simulator.Uri))!;
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Unassigning_a_device_from_a_server_it_is_not_on_reports_each_devices_outcome_whether_Apple_fails_it_or_stays_silent(bool silent)
    {
        using var fx = new BusinessFixture();
        var macs = SecondToken(fx, "Contoso Macs", "Macs");
        fx.Simulator.SilentUnassignElsewhere = silent;
        var serials = fx.Simulator.AddOrgDevices(2, productFamily: "iPad").Select(d => d.SerialNumber).ToList();
        Assert.Equal(2, Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, token: fx.Sim.Token, wait: true)).Succeeded);
        fx.Engine.Sync.Sync("iPads");
        fx.Engine.Sync.Sync("Macs");
        fx.Host.Warnings.Clear();

        var off = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Unassign, serials, null, token: macs, wait: true));
        // told beforehand: the last sync of Macs does not have them
        Assert.Contains(fx.Host.Warnings, w => w.Contains("2 devices of 2", StringComparison.Ordinal) && w.Contains("not on MDM server 'Contoso Macs'", StringComparison.Ordinal));
        Assert.Equal(2, off.Devices.Count);

        if (silent)
        {
            Assert.All(off.Devices, d => Assert.Equal("SUCCESS", d.Status));
            Assert.Equal("COMPLETED_WITH_SUCCESS", off.SubStatus);
        }
        else
        {
            Assert.All(off.Devices, d => Assert.Equal(("FAILED", "NOT_ASSIGNED_TO_SERVER"), (d.Status, d.Detail)));
            Assert.Equal(2, off.Failed);
            Assert.Contains(fx.Host.Warnings, w => w.Contains("2 devices of 2 not changed", StringComparison.Ordinal));
        }

        // either way nothing moved: still on iPads at Apple and in the next syncs
        Assert.Equal(serials.Order(), fx.Simulator.GetDevices(EngineServer).Select(d => d.SerialNumber).Order());
        fx.Sim.Advance(TimeSpan.FromMinutes(15));
        Assert.Equal(0, fx.Engine.Sync.Sync("iPads")!.Removed);
        Assert.Equal(0, fx.Engine.Sync.Sync("Macs")!.PendingFromActivities);

        // piped from Get-AdeOrgDevice, what Apple answered then decides, not the last sync: moved to Contoso Macs just
        // now (no sync of Macs has them yet), they are read there and nothing is warned of
        Assert.Equal(2, Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, token: macs, wait: true)).Succeeded);
        var read = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: serials)).ToList();
        fx.Host.Warnings.Clear();
        fx.Engine.Business.Send(OrgDeviceAction.Unassign, serials, null, token: macs, wait: true, asRead: read.ToDictionary(d => d.SerialNumber, d => d.MdmServerId));
        Assert.DoesNotContain(fx.Host.Warnings, w => w.Contains("not on MDM server", StringComparison.Ordinal));
    }

    [Fact]
    public void Assigning_a_device_from_server_A_to_B_is_deleted_in_As_next_sync_and_added_in_Bs()
    {
        using var fx = new BusinessFixture();
        var macs = SecondToken(fx, "Contoso Macs", "Macs");
        var serial = fx.Simulator.AddOrgDevices(1, productFamily: "iPad")[0].SerialNumber;
        Assert.Equal(1, Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial], null, token: fx.Sim.Token, wait: true)).Succeeded);
        Assert.Equal(1, fx.Engine.Sync.Sync("iPads")!.Added);
        Assert.Equal(0, fx.Engine.Sync.Sync("Macs")!.Added);

        var moved = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial], null, token: macs, wait: true));
        Assert.Equal(("SUCCESS", "ASSIGNED"), (moved.Devices[0].Status, moved.Devices[0].Detail));
        fx.Sim.Advance(TimeSpan.FromMinutes(15));
        var a = fx.Engine.Sync.Sync("iPads")!;
        var b = fx.Engine.Sync.Sync("Macs")!;
        Assert.Equal((0, 1), (a.Added, a.Removed));
        Assert.Equal((1, 0), (b.Added, b.Removed));
        Assert.Equal((0, 0), (a.PendingFromActivities, b.PendingFromActivities));
        Assert.True(Assert.Single(fx.Engine.Devices.Get(new DeviceQuery(TokenId: fx.Sim.Token.Id))).RemovedAt is not null);
        Assert.False(Assert.Single(fx.Engine.Devices.Get(new DeviceQuery(TokenId: macs.Id))).RemovedAt is not null);
    }
}

using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Simulator;

namespace AdeEnrollment.Engine.Tests.Business;

public sealed class BusinessApiTests
{
    private static JsonElement Part(string jwt, int index)
    {
        var s = jwt.Split('.')[index].Replace('-', '+').Replace('_', '/');
        return JsonDocument.Parse(Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='))).RootElement;
    }

    [Fact]
    public void Assertion_has_Apples_header_claims_and_a_raw_P1363_signature()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var now = new DateTimeOffset(2026, 5, 4, 8, 0, 0, TimeSpan.Zero);
        var jwt = ClientAssertion.Create(key, "BUSINESSAPI.c75c0a8a-a026-4dae-99aa-89ea1e1103e5", "e339d085-a821-438a-a527-d044edacf50a", now);
        var parts = jwt.Split('.');
        Assert.Equal(3, parts.Length);
        Assert.DoesNotContain('=', jwt);
        var header = Part(jwt, 0);
        Assert.Equal("ES256", header.GetProperty("alg").GetString());
        Assert.Equal("e339d085-a821-438a-a527-d044edacf50a", header.GetProperty("kid").GetString());
        var claims = Part(jwt, 1);
        Assert.Equal("BUSINESSAPI.c75c0a8a-a026-4dae-99aa-89ea1e1103e5", claims.GetProperty("iss").GetString());
        Assert.Equal(claims.GetProperty("iss").GetString(), claims.GetProperty("sub").GetString());
        Assert.Equal("https://account.apple.com/auth/oauth2/v2/token", claims.GetProperty("aud").GetString());
        Assert.Equal((now - ClientAssertion.IssuedAtMargin).ToUnixTimeSeconds(), claims.GetProperty("iat").GetInt64()); // back-dated against clock skew
        Assert.Equal(now.ToUnixTimeSeconds() + (long)ClientAssertion.DefaultLifetime.TotalSeconds, claims.GetProperty("exp").GetInt64());
        Assert.InRange(claims.GetProperty("exp").GetInt64() - claims.GetProperty("iat").GetInt64(), 1, 180L * 86400);
        Assert.True(Guid.TryParse(claims.GetProperty("jti").GetString(), out _));
        var s = parts[2].Replace('-', '+').Replace('_', '/');
        var signature = Convert.FromBase64String(s.PadRight(s.Length + ((4 - (s.Length % 4)) % 4), '='));
        Assert.Equal(64, signature.Length);
        Assert.True(key.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClientAssertion.Create(key, "BUSINESSAPI.x", "k", now, TimeSpan.FromDays(181)));
    }

    [Theory]
    [InlineData("sec1")]
    [InlineData("pkcs8")]
    [InlineData("sec1-labelled-pkcs8")]
    [InlineData("pkcs8-labelled-sec1")]
    [InlineData("with-parameters")]
    [InlineData("bom")]
    public void Key_is_read_in_every_PEM_flavour(string flavour)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var sec1 = Convert.ToBase64String(key.ExportECPrivateKey(), Base64FormattingOptions.InsertLineBreaks);
        var pkcs8 = Convert.ToBase64String(key.ExportPkcs8PrivateKey(), Base64FormattingOptions.InsertLineBreaks);
        var pem = flavour switch
        {
            "sec1" => $"-----BEGIN EC PRIVATE KEY-----\n{sec1}\n-----END EC PRIVATE KEY-----\n",
            "pkcs8" => $"-----BEGIN PRIVATE KEY-----\r\n{pkcs8}\r\n-----END PRIVATE KEY-----\r\n",
            "sec1-labelled-pkcs8" => $"-----BEGIN EC PRIVATE KEY-----\n{pkcs8}\n-----END EC PRIVATE KEY-----\n",
            "pkcs8-labelled-sec1" => $"-----BEGIN PRIVATE KEY-----\n{sec1}\n-----END PRIVATE KEY-----\n",
            "bom" => $"\uFEFF-----BEGIN EC PRIVATE KEY-----\r\n{sec1}\r\n-----END EC PRIVATE KEY-----\r\n",
            _ => $"-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n-----BEGIN EC PRIVATE KEY-----\n{sec1}\n-----END EC PRIVATE KEY-----\n",
        };
        using var read = BusinessKey.Import(pem, "key.pem");
        Assert.Equal(key.ExportParameters(false).Q.X, read.ExportParameters(false).Q.X);
    }

    [Fact]
    public void Key_of_another_curve_or_no_key_is_BusinessKeyInvalid()
    {
        using var p384 = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        Assert.Equal("BusinessKeyInvalid", Assert.Throws<AdeException>(() => BusinessKey.Import(p384.ExportECPrivateKeyPem(), "k.pem")).ErrorId);
        using var rsa = RSA.Create(2048);
        Assert.Equal("BusinessKeyInvalid", Assert.Throws<AdeException>(() => BusinessKey.Import(rsa.ExportPkcs8PrivateKeyPem(), "k.pem")).ErrorId);
        Assert.Equal("BusinessKeyInvalid", Assert.Throws<AdeException>(() => BusinessKey.Import("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----", "k.pem")).ErrorId);

        // two P-256 keys in one file: neither is guessed
        using var first = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var second = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var two = Assert.Throws<AdeException>(() => BusinessKey.Import(first.ExportECPrivateKeyPem() + "\n" + second.ExportPkcs8PrivateKeyPem(), "k.pem"));
        Assert.Equal("BusinessKeyInvalid", two.ErrorId);
        Assert.Contains("more than one private key", two.Message, StringComparison.Ordinal);
        using var one = BusinessKey.Import("-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n" + first.ExportECPrivateKeyPem(), "k.pem");
        Assert.NotNull(one);

        // a key encrypted with a password (PKCS#8, or OpenSSL's older header) is said to be that, not "no key"
        var encrypted = first.ExportEncryptedPkcs8PrivateKeyPem("secret-password", new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10_000));
        var legacy = "-----BEGIN EC PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-256-CBC,00112233445566778899AABBCCDDEEFF\n\nAAAA\n-----END EC PRIVATE KEY-----\n";
        foreach (var pem in new[] { encrypted, legacy })
        {
            var ex = Assert.Throws<AdeException>(() => BusinessKey.Import(pem, "k.pem"));
            Assert.Equal("BusinessKeyInvalid", ex.ErrorId);
            Assert.Contains("encrypted with a password", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("secret-password", ex.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Account_is_stored_with_its_key_encrypted_and_its_kind_from_the_prefix()
    {
        using var fx = new BusinessFixture();
        Assert.Equal("Business", fx.Stored.Kind);
        Assert.Equal("business.api", fx.Stored.Scope);
        var pem = File.ReadAllText(fx.KeyPath);
        using var key = BusinessKey.Import(pem, "k");
        var d = key.ExportParameters(true).D!;
        var db = File.ReadAllBytes(fx.Sim.Store.Path);
        Assert.Equal(-1, db.AsSpan().IndexOf(d));
        Assert.Equal(-1, db.AsSpan().IndexOf(key.ExportPkcs8PrivateKey()));
        Assert.Equal("BusinessAccountExists", Assert.Throws<AdeException>(() => fx.Engine.Business.Accounts.New(new NewBusinessAccountArgs(fx.Account.ClientId, fx.Account.KeyId, fx.KeyPath))).ErrorId);
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeException>(() => fx.Engine.Business.Accounts.New(new NewBusinessAccountArgs("CONTOSO.1234", fx.Account.KeyId, fx.KeyPath))).ErrorId);
        var other = "BUSINESSAPI." + Guid.NewGuid();
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeException>(() => fx.Engine.Business.Accounts.New(new NewBusinessAccountArgs(other, fx.Account.KeyId, fx.KeyPath, new Uri("https://account.example.com/auth/oauth2/token")))).ErrorId);
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeException>(() => fx.Engine.Business.Accounts.New(new NewBusinessAccountArgs(other, fx.Account.KeyId, fx.KeyPath, null, new Uri("http://api-business.apple.com/v1/")))).ErrorId);
        var userInfo = Assert.Throws<AdeException>(() => fx.Engine.Business.Accounts.New(new NewBusinessAccountArgs(other, fx.Account.KeyId, fx.KeyPath, null, new Uri("https://u:pw@api-business.apple.com/v1/"))));
        Assert.Equal(("ArgumentInvalid", "-ServiceUri 'https://api-business.apple.com/v1/' is not valid: give the address without a user name or password (the account signs in with its key)."), (userInfo.ErrorId, userInfo.Message));
        Assert.Equal("BusinessKeyInvalid", Assert.Throws<AdeException>(() => fx.Engine.Business.Accounts.New(new NewBusinessAccountArgs(other, fx.Account.KeyId, fx.Sim.Temp.Path))).ErrorId);
        var school = fx.Engine.Business.Accounts.New(new NewBusinessAccountArgs("SCHOOLAPI." + Guid.NewGuid(), Guid.NewGuid().ToString(), fx.KeyPath))!;
        Assert.Equal("School", school.Kind);
        Assert.Equal("school.api", school.Scope);
        Assert.True(fx.Engine.Business.Accounts.Remove(school));
        Assert.Single(fx.Engine.Business.Accounts.Get());
    }

    [Fact]
    public void Servers_are_linked_to_the_stored_token_by_name_then_id()
    {
        using var fx = new BusinessFixture();
        var server = Assert.Single(fx.Engine.Business.GetMdmServers());
        Assert.Equal("Contoso iPads", server.Name);
        Assert.Equal("iPads", server.Token);
        Assert.Equal(fx.Sim.Token.Id, server.TokenId);
        Assert.True(server.IdMatchesToken);
        Assert.Equal("ACTIVE", server.Status);
        fx.Simulator.UnrelatedServerIds = true;
        var unrelated = Assert.Single(fx.Engine.Business.GetMdmServers());
        Assert.Equal("iPads", unrelated.Token);
        Assert.False(unrelated.IdMatchesToken);
    }

    [Fact]
    public void Access_token_is_cached_and_renewed_once_after_401()
    {
        using var fx = new BusinessFixture();
        fx.Engine.Business.GetMdmServers();
        fx.Engine.Business.GetMdmServers();
        Assert.Equal(1, fx.Requests("/auth/oauth2/token"));
        fx.Simulator.ExpireBusinessTokens();
        fx.Engine.Business.GetMdmServers();
        Assert.Equal(2, fx.Requests("/auth/oauth2/token"));
        Assert.Contains(fx.Simulator.GetRequests("/v1/mdmServers"), r => r.StatusCode == 401);
    }

    [Fact]
    public void Access_token_is_renewed_before_it_expires()
    {
        using var fx = new BusinessFixture();
        fx.Engine.Business.GetMdmServers();
        fx.Sim.Advance(TimeSpan.FromMinutes(56));
        fx.Engine.Business.GetMdmServers();
        Assert.Equal(2, fx.Requests("/auth/oauth2/token"));
        Assert.DoesNotContain(fx.Simulator.GetRequests("/v1/mdmServers"), r => r.StatusCode == 401);
    }

    [Fact]
    public void A_short_lived_access_token_is_renewed_at_80_percent_of_its_lifetime_not_5_minutes_before_it_ends()
    {
        using var fx = new BusinessFixture();
        fx.Simulator.BusinessTokenLifetime = TimeSpan.FromMinutes(10);
        fx.Engine.Business.GetMdmServers();
        fx.Sim.Advance(TimeSpan.FromMinutes(7.5)); // 5 minutes before the end would already renew; 80 % (8 min) not yet
        fx.Engine.Business.GetMdmServers();
        Assert.Equal(1, fx.Requests("/auth/oauth2/token"));
        fx.Sim.Advance(TimeSpan.FromMinutes(1));
        fx.Engine.Business.GetMdmServers();
        Assert.Equal(2, fx.Requests("/auth/oauth2/token"));
        Assert.DoesNotContain(fx.Simulator.GetRequests("/v1/mdmServers"), r => r.StatusCode == 401);
    }

    [Fact]
    public void A_revoked_key_is_BusinessClientRejected_and_the_simulator_says_why()
    {
        using var fx = new BusinessFixture();
        fx.Simulator.RevokeBusinessAccount(fx.Account.ClientId);
        Assert.Equal("BusinessClientRejected", Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers()).ErrorId);
        Assert.Equal("invalid_client:revoked", fx.Simulator.GetRequests("/auth/oauth2/token").Last().ErrorCode);
    }

    [Fact]
    public void Inventory_streams_every_page_and_filters_by_order_family_and_status()
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PageSize = 3 });
        fx.Simulator.AddOrgDevices(5, orderNumber: "PO-1001", productFamily: "Mac");
        fx.Simulator.AddOrgDevices(4, orderNumber: "PO-2002", productFamily: "iPad");
        fx.Simulator.AddDevices("Contoso iPads", 2);
        var all = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).ToList();
        Assert.Equal(11, all.Count);
        Assert.Equal(11, all.Select(d => d.SerialNumber).Distinct().Count());
        Assert.True(fx.Simulator.GetRequests("/v1/orgDevices").Count >= 4); // 11 devices in pages of 3
        var order = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(OrderNumbers: ["PO-1*"])).ToList();
        Assert.Equal(5, order.Count);
        Assert.All(order, d => { Assert.Equal("Mac", d.ProductFamily); Assert.Equal("UNASSIGNED", d.Status); Assert.NotNull(d.OrderDate); Assert.Equal("RESELLER", d.PurchaseSourceType); });
        var assigned = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(Status: "ASSIGNED")).ToList();
        Assert.Equal(2, assigned.Count);
        Assert.All(assigned, d => Assert.Equal("Contoso iPads", d.MdmServer));
        Assert.Equal(2, fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(MdmServer: "iPads")).Count());
        // piped servers by id: their devices, and with -MdmServer too, those of the servers both name
        var ipads = fx.Engine.Business.GetMdmServers().Single(m => m.Name == "Contoso iPads").Id;
        // a piped server the organisation no longer has is an error of its own; the other servers are still listed
        var missing = new List<AdeException>();
        Assert.Equal(2, fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(MdmServerIds: [ipads, "no-such-server"]), missing.Add).Count());
        Assert.Equal("BusinessServerNotFound", Assert.Single(missing).ErrorId);
        Assert.Contains("no-such-server", missing[0].Message);
        Assert.Equal("BusinessServerNotFound", Assert.Throws<AdeException>(() => fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(MdmServerIds: ["no-such-server"])).ToList()).ErrorId);
        missing.Clear();
        Assert.Empty(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [order[0].SerialNumber], MdmServerIds: ["no-such-server"]), missing.Add));
        Assert.Single(missing);
        Assert.Empty(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(MdmServer: "Fabrikam*", MdmServerIds: [ipads])));
        Assert.Equal(2, fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(MdmServer: "Contoso*", MdmServerIds: [ipads])).Count());
        var one = Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [order[0].SerialNumber], IncludeAppleCare: true)));
        Assert.Equal("ACTIVE", Assert.Single(one.AppleCare).Status);
        // a device without any coverage: Apple answers an empty list, read as no coverage rather than an error
        var uncovered = Assert.Single(fx.Simulator.AddOrgDevices(1, appleCareStatus: "NONE"));
        Assert.Empty(Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [uncovered.SerialNumber], IncludeAppleCare: true))).AppleCare);
        Assert.Equal("BusinessDeviceNotFound", Assert.Throws<AdeException>(() => fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: ["ZZZZ99999999"])).ToList()).ErrorId);
    }

    [Fact]
    public void A_device_whose_AppleCare_Apple_cannot_find_is_listed_without_it_and_the_listing_goes_on()
    {
        using var fx = new BusinessFixture();
        var bought = fx.Simulator.AddOrgDevices(4, orderNumber: "PO-77").Select(d => d.SerialNumber).ToList();
        fx.Simulator.AddFault("/v1/orgDevices/{id}/appleCareCoverage", 404, count: 1, skip: 1);

        var listed = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(OrderNumbers: ["PO-77"], IncludeAppleCare: true)).ToList();

        Assert.Equal(bought.Order(StringComparer.Ordinal), listed.Select(d => d.SerialNumber).Order(StringComparer.Ordinal)); // all 4, not 1
        var without = Assert.Single(listed, d => d.AppleCare.Count == 0);
        Assert.Equal(3, listed.Count(d => d.AppleCare.Count > 0));
        Assert.Contains(fx.Host.Warnings, w => w.Contains(without.SerialNumber, StringComparison.Ordinal) && w.Contains("listed without coverage", StringComparison.Ordinal));
        // a failure of the service itself still ends the listing (every further device would fail the same way)
        fx.Simulator.AddFault("/v1/orgDevices/{id}/appleCareCoverage", 403, count: 1);
        Assert.Equal("BusinessAccessDenied", Assert.Throws<AdeException>(() => fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(OrderNumbers: ["PO-77"], IncludeAppleCare: true)).ToList()).ErrorId);
    }

    [Fact]
    public void Org_devices_bought_onto_a_server_are_there_without_an_activity_and_arrive_in_its_sync()
    {
        using var fx = new BusinessFixture();
        var on = fx.Simulator.AddOrgDevices(2, orderNumber: "PO-5", productFamily: "iPad", mdmServer: "contoso ipads").Select(d => d.SerialNumber).ToList();

        Assert.All(fx.Simulator.GetOrgDevices().Where(d => on.Contains(d.SerialNumber)), d => Assert.Equal("Contoso iPads", d.AssignedServer));
        Assert.Equal(on.Order(), fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(OrderNumbers: ["PO-5"], MdmServer: "Contoso iPads")).Select(d => d.SerialNumber).Order());
        Assert.Empty(fx.Engine.Business.GetActivities());
        Assert.Equal(2, fx.Engine.Sync.Sync("iPads")!.Added);
        Assert.Equal("ServerNotFound", Assert.Throws<AdeSimException>(() => fx.Simulator.AddOrgDevices(1, mdmServer: "Nowhere")).ErrorId);
    }

    [Fact]
    public void A_device_the_simulator_is_told_to_fail_is_FAILED_with_its_reason_and_stays_where_it_was()
    {
        using var fx = new BusinessFixture();
        var bought = fx.Simulator.AddOrgDevices(3, orderNumber: "PO-9", productFamily: "iPad").Select(d => d.SerialNumber).ToList();
        fx.Simulator.FailActivityDevices([bought[1].ToLowerInvariant()], "DEVICE_LOCKED");

        var activity = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, bought, null, token: fx.Sim.Token, wait: true));

        Assert.Equal(("COMPLETED", 2, 1), (activity.Status, activity.Succeeded, activity.Failed));
        var failed = Assert.Single(activity.Devices, d => d.Status != "SUCCESS");
        Assert.Equal((bought[1], "FAILED", "DEVICE_LOCKED"), (failed.SerialNumber, failed.Status, failed.Detail));
        Assert.Null(fx.Simulator.GetOrgDevices().Single(d => d.SerialNumber == bought[1]).AssignedServer); // not moved

        fx.Simulator.FailActivityDevices([]); // fails none again
        Assert.Equal(1, Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [bought[1]], null, token: fx.Sim.Token, wait: true)).Succeeded);
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeSimException>(() => fx.Simulator.FailActivityDevices(["X"], " ")).ErrorId);
    }

    [Fact]
    public void Order_assigned_to_the_tokens_server_arrives_in_the_next_sync_and_unassigned_leaves()
    {
        using var fx = new BusinessFixture();
        var bought = fx.Simulator.AddOrgDevices(3, orderNumber: "PO-7", productFamily: "iPad");
        fx.Simulator.AddOrgDevices(2, orderNumber: "PO-8");
        Assert.Equal(0, fx.Engine.Sync.Sync("iPads")!.Added);
        var serials = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(OrderNumbers: ["PO-7"])).Select(d => d.SerialNumber).ToList();
        var activity = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, token: fx.Sim.Token, wait: true));
        Assert.Equal("COMPLETED", activity.Status);
        Assert.Equal("COMPLETED_WITH_SUCCESS", activity.SubStatus);
        Assert.Equal(3, activity.Succeeded);
        Assert.Equal("iPads", activity.Token);
        Assert.Contains(fx.Host.Progress, p => p.Activity.Contains(activity.Id, StringComparison.Ordinal));
        Assert.Contains(fx.Waits, w => w == TimeSpan.FromSeconds(3)); // polled, not busy-looped
        fx.Sim.Advance(TimeSpan.FromMinutes(15));
        var sync = fx.Engine.Sync.Sync("iPads")!;
        Assert.Equal(3, sync.Added);
        Assert.Equal(bought.Select(b => b.SerialNumber).Order(), fx.Sim.EngineSerials());

        // the same again: Apple reports each device as failed (already there) and nothing changes
        var again = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, token: fx.Sim.Token, wait: true));
        Assert.Equal("COMPLETED_WITH_ERROR", again.SubStatus);
        Assert.Equal(3, again.Failed);
        Assert.All(again.Devices, d => Assert.Equal("ALREADY_ASSIGNED", d.Detail));
        Assert.Contains(fx.Host.Warnings, w => w.Contains("3 devices of 3 not changed", StringComparison.Ordinal));

        var off = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Unassign, [serials[0]], null, server: "Contoso iPads", wait: true));
        Assert.Equal(1, off.Succeeded);
        fx.Sim.Advance(TimeSpan.FromMinutes(15));
        Assert.Equal(1, fx.Engine.Sync.Sync("iPads")!.Removed);

        var stored = fx.Engine.Business.GetActivities();
        Assert.Equal(3, stored.Count);
        Assert.Equal(off.Id, stored[0].Id);
    }

    [Fact]
    public void An_activity_Apple_no_longer_has_does_not_stop_the_refresh_of_the_others_and_is_said_once()
    {
        using var fx = new BusinessFixture();
        var serials = fx.Simulator.AddOrgDevices(2).Select(d => d.SerialNumber).ToList();
        var gone = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Release, [serials[0]], null));
        var kept = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Release, [serials[1]], null));
        fx.Sim.Advance(TimeSpan.FromSeconds(11));
        fx.Simulator.AddFault("/v1/orgDeviceActivities/" + gone.Id, 404, "{\"errors\":[{\"status\":\"404\",\"code\":\"NOT_FOUND\"}]}");

        var refreshed = fx.Engine.Business.GetActivities(refresh: true).ToDictionary(a => a.Id);

        Assert.Equal(("IN_PROGRESS", "COMPLETED"), (refreshed[gone.Id].Status, refreshed[kept.Id].Status));
        var warning = Assert.Single(fx.Host.Warnings, w => w.Contains(gone.Id, StringComparison.Ordinal));
        Assert.Contains("Apple no longer has device activity", warning, StringComparison.Ordinal);
        // asked for by its Id alone, it is the error that says so (not a failed request whose parameters to check)
        var expired = Assert.Throws<AdeException>(() => fx.Engine.Business.GetActivities(gone.Id, refresh: true));
        Assert.Equal((nameof(ErrorCatalog.BusinessActivityExpired), AdeErrorCategory.ObjectNotFound), (expired.ErrorId, expired.Category));
        Assert.Contains("it stays as last read (IN_PROGRESS)", expired.Message, StringComparison.Ordinal);
        Assert.Equal(nameof(ErrorCatalog.BusinessActivityExpired), Assert.Throws<AdeException>(() => fx.Engine.Business.GetActivities(gone.Id, wait: true)).ErrorId);

        // Apple's 404 is kept: later refreshes neither ask for it again (a GET on every -Refresh, for ever) nor warn again
        Assert.Equal(BusinessService.ExpiredAtApple, refreshed[gone.Id].SubStatus);
        var asked = fx.Simulator.GetRequests("/v1/orgDeviceActivities/" + gone.Id).Count;
        var warned = fx.Host.Warnings.Count;
        fx.Sim.Advance(TimeSpan.FromDays(31));
        Assert.Equal(("IN_PROGRESS", BusinessService.ExpiredAtApple), fx.Engine.Business.GetActivities(refresh: true).Single(a => a.Id == gone.Id) is var again ? (again.Status, again.SubStatus) : default);
        Assert.Equal(nameof(ErrorCatalog.BusinessActivityExpired), Assert.Throws<AdeException>(() => fx.Engine.Business.GetActivities(gone.Id, refresh: true)).ErrorId);
        Assert.Equal(asked, fx.Simulator.GetRequests("/v1/orgDeviceActivities/" + gone.Id).Count);
        Assert.Equal(warned, fx.Host.Warnings.Count);
    }

    [Fact]
    public void Without_wait_the_activity_is_stored_in_progress_and_read_later()
    {
        using var fx = new BusinessFixture();
        var serial = fx.Simulator.AddOrgDevices(1)[0].SerialNumber;
        var activity = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Release, [serial], null));
        Assert.Equal("IN_PROGRESS", activity.Status);
        Assert.Equal("Release", activity.Action);
        Assert.Equal("IN_PROGRESS", Assert.Single(fx.Engine.Business.GetActivities(activity.Id)).Status);
        fx.Sim.Advance(TimeSpan.FromSeconds(11));
        var done = Assert.Single(fx.Engine.Business.GetActivities(activity.Id, refresh: true));
        Assert.Equal("COMPLETED", done.Status);
        Assert.Equal("RELEASED", Assert.Single(done.Devices).Detail);
        Assert.DoesNotContain(fx.Simulator.GetOrgDevices(), d => d.SerialNumber == serial);
        Assert.Equal("BusinessActivityNotFound", Assert.Throws<AdeException>(() => fx.Engine.Business.GetActivities("nope")).ErrorId);
    }

    [Fact]
    public void A_failed_activity_warns_and_an_unknown_serial_changes_nothing()
    {
        using var fx = new BusinessFixture();
        var serial = fx.Simulator.AddOrgDevices(1)[0].SerialNumber;
        var e = Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial, "C02ZZZZZZZZZ"], null, server: "Contoso iPads"));
        Assert.Equal("BusinessRequestFailed", e.ErrorId);
        Assert.Contains("409", e.Message, StringComparison.Ordinal);
        Assert.Empty(fx.Engine.Business.GetActivities());
        Assert.Equal("BusinessServerNotFound", Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial], null, server: "Nowhere")).ErrorId);
        fx.Simulator.ForcedActivityOutcome = "FAILED";
        var failed = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial], null, server: "Contoso iPads", wait: true));
        Assert.Equal("FAILED", failed.Status);
        Assert.Contains(fx.Host.Warnings, w => w.Contains("ended FAILED", StringComparison.Ordinal));
        Assert.Empty(fx.Simulator.GetDevices("Contoso iPads"));
    }

    [Fact]
    public void A_connection_that_breaks_while_Apple_answers_is_a_network_error_a_GET_is_retried_and_a_POST_says_to_check_the_devices()
    {
        using var fx = new BusinessFixture();

        // a GET whose answer breaks off once is asked again
        fx.Simulator.AddFault("/v1/mdmServers", null, count: 1, dropConnection: true);
        Assert.NotEmpty(fx.Engine.Business.GetMdmServers());
        Assert.Equal(2, fx.Simulator.GetRequests("/v1/mdmServers").Count);

        // a POST Apple carried out before the connection broke: not repeated, and the message says to check first
        var serial = fx.Simulator.AddOrgDevices(1)[0].SerialNumber;
        fx.Simulator.AddFault("/v1/orgDeviceActivities", null, count: 1, dropConnection: true, method: "POST", afterApplying: true);
        var broken = Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial], null, server: "Contoso iPads"));
        Assert.Equal(("BusinessNetworkError", AdeErrorCategory.ConnectionError), (broken.ErrorId, broken.Category));
        Assert.Contains("broke after POST /v1/orgDeviceActivities was sent", broken.Message, StringComparison.Ordinal);
        Assert.Contains("Apple may have created the activity", broken.Message, StringComparison.Ordinal);
        Assert.Single(fx.Simulator.GetRequests("/v1/orgDeviceActivities"), r => r.Method == "POST");
        fx.Sim.Advance(TimeSpan.FromSeconds(11));
        Assert.Equal("Contoso iPads", Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [serial]))).MdmServer);
    }

    [Fact]
    public void A_refusal_quotes_Apples_own_detail_made_safe_so_the_admin_sees_which_serial_it_refused()
    {
        using var fx = new BusinessFixture();
        var known = Assert.Single(fx.Simulator.AddOrgDevices(1)).SerialNumber;
        var refused = Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, [known, "ZZZZ00000000"], null, server: "Contoso iPads"));
        Assert.Equal(("BusinessRequestFailed", AdeErrorCategory.InvalidOperation), (refused.ErrorId, refused.Category));
        Assert.Contains("(ENTITY_ERROR.RELATIONSHIP.INVALID) to POST /v1/orgDeviceActivities for API account '" + fx.Stored.ClientId + "': \"An invalid device serial number was given: ZZZZ00000000\". Nothing was changed", refused.Message, StringComparison.Ordinal);

        // a hostile detail: terminal escapes neutralised, a long one cut short
        var hostile = "Bad \u001b[31mred\u001b[0m " + new string('x', 500);
        fx.Simulator.AddFault("/v1/mdmServers", 400, JsonSerializer.Serialize(new { errors = new[] { new { status = "400", code = "PARAMETER_ERROR.INVALID", detail = hostile, source = new { parameter = "fields[mdmServers]" } } } }), count: 1);
        var bad = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers());
        Assert.DoesNotContain('\u001b', bad.Message);
        Assert.Contains("Bad \ufffd[31mred", bad.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('x', 250), bad.Message, StringComparison.Ordinal);
        Assert.Contains("x…\"", bad.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_read_answered_503_waits_for_Apples_Retry_After_and_a_Retry_After_over_a_minute_is_not_waited_for()
    {
        using var fx = new BusinessFixture();
        fx.Simulator.AddFault("/v1/mdmServers", 503, count: 1, retryAfterSeconds: 30);
        Assert.NotEmpty(fx.Engine.Business.GetMdmServers());
        Assert.Contains(TimeSpan.FromSeconds(30), fx.Waits);
        Assert.Contains(fx.Host.Verbose, v => v.Contains("answered 503; asking again in 30 s", StringComparison.Ordinal));

        fx.Waits.Clear();
        var before = fx.Simulator.GetRequests("/v1/mdmServers").Count;
        fx.Simulator.AddFault("/v1/mdmServers", 503, count: 1, retryAfterSeconds: 120);
        var ex = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers());
        Assert.Equal("BusinessRequestFailed", ex.ErrorId);
        Assert.DoesNotContain(fx.Waits, w => w >= TimeSpan.FromSeconds(60));
        Assert.Equal(before + 1, fx.Simulator.GetRequests("/v1/mdmServers").Count); // not asked again
    }

    [Fact]
    public void Business_errors_name_the_service_and_the_request_say_what_to_do_and_show_no_empty_brackets()
    {
        using var fx = new BusinessFixture();
        var service = fx.Stored.ServiceUri.GetLeftPart(UriPartial.Path);
        Assert.StartsWith("http://127.0.0.1:", service, StringComparison.Ordinal);
        static void Clean(AdeException e)
        {
            Assert.DoesNotContain("()", e.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("  ", e.Message, StringComparison.Ordinal);
        }

        // a GET that keeps failing with 5xx (plain-text body: no error code)
        fx.Simulator.AddFault("/v1/mdmServers", 500, count: 3);
        var failed = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers());
        Assert.Equal(("BusinessRequestFailed", AdeErrorCategory.ResourceUnavailable), (failed.ErrorId, failed.Category));
        Assert.Contains($"Apple's service {service} answered 500 to GET /v1/mdmServers for API account '{fx.Stored.ClientId}'", failed.Message, StringComparison.Ordinal);
        Assert.Contains("try again later", failed.Message, StringComparison.Ordinal);
        Clean(failed);

        // 403 without an error code
        fx.Simulator.AddFault("/v1/mdmServers", 403, count: 1);
        var denied = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers());
        Assert.Equal(("BusinessAccessDenied", AdeErrorCategory.PermissionDenied), (denied.ErrorId, denied.Category));
        Assert.Contains($"Apple's service {service} denied API account '{fx.Stored.ClientId}' the request GET /v1/mdmServers (403)", denied.Message, StringComparison.Ordinal);
        Clean(denied);

        // 403 with Apple's JSON:API error code
        fx.Simulator.AddFault("/v1/mdmServers", 403, "{\"errors\":[{\"status\":\"403\",\"code\":\"FORBIDDEN_ERROR\"}]}", count: 1);
        Assert.Contains("GET /v1/mdmServers (403 FORBIDDEN_ERROR)", Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers()).Message, StringComparison.Ordinal);

        // 429: Apple's answer and the service; then the store's own budget check, which sends nothing
        fx.Simulator.AddFault("/v1/mdmServers", 429, count: 1, retryAfterSeconds: 30);
        var throttled = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers());
        Assert.Equal(("BusinessThrottled", AdeErrorCategory.LimitsExceeded), (throttled.ErrorId, throttled.Category));
        Assert.Contains($"API account '{fx.Stored.ClientId}' (GET) at {service} is used up: Apple answered 429 to GET /v1/mdmServers", throttled.Message, StringComparison.Ordinal);
        Clean(throttled);
        var held = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers());
        Assert.Contains($"(GET) at {service} is used up (nothing was sent)", held.Message, StringComparison.Ordinal);
        Assert.Contains("or add -WaitForLimit to wait", held.Message, StringComparison.Ordinal);
        Clean(held);
        fx.Sim.Advance(TimeSpan.FromSeconds(31));

        // -WaitForLimit given, and a wait longer than it takes: the message says why it did not wait
        fx.Engine.Business.WaitForLimit = true;
        fx.Simulator.AddFault("/v1/mdmServers", 429, count: 1, retryAfterSeconds: 7200);
        var tooLong = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers());
        Assert.Contains("-WaitForLimit waits up to 60 minutes", tooLong.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("add -WaitForLimit", tooLong.Message, StringComparison.Ordinal);
        fx.Engine.Business.WaitForLimit = false;
        fx.Sim.Advance(TimeSpan.FromHours(2) + TimeSpan.FromSeconds(1));

        // a POST that Apple carries out and then answers 5xx: Apple may have created the activity, so check before sending again
        var serial = fx.Simulator.AddOrgDevices(1)[0].SerialNumber;
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeEnrollment.Simulator.AdeSimException>(() => fx.Simulator.AddFault("/v1/*", null, latency: TimeSpan.FromSeconds(1), afterApplying: true)).ErrorId);
        fx.Simulator.AddFault("/v1/orgDeviceActivities", 503, count: 1, method: "POST", afterApplying: true);
        var post = Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial], null, server: "Contoso iPads"));
        Assert.Empty(fx.Engine.Business.GetActivities()); // no id came back: the store cannot know the activity
        Assert.Single(fx.Simulator.GetRequests("/v1/orgDeviceActivities"), r => r.Method == "POST" && r.StatusCode == 503 && r.Fault);
        fx.Sim.Advance(TimeSpan.FromSeconds(11));
        // the check the message asks for: Apple did create the activity and assigned the device
        Assert.Equal("Contoso iPads", Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [serial]))).MdmServer);
        Assert.Equal(("BusinessRequestFailed", AdeErrorCategory.ResourceUnavailable), (post.ErrorId, post.Category));
        Assert.Contains($"Apple's service {service} answered 503 to POST /v1/orgDeviceActivities", post.Message, StringComparison.Ordinal);
        Assert.Contains("Apple may have created the activity", post.Message, StringComparison.Ordinal);
        Assert.Contains("Get-AdeOrgDevice -SerialNumber", post.Message, StringComparison.Ordinal);
        Assert.Contains("Get-AdeOrgDeviceActivity", post.Message, StringComparison.Ordinal);
        Clean(post);

        // a 4xx POST changed nothing and says so
        var refused = Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, ["C02ZZZZZZZZZ"], null, server: "Contoso iPads"));
        Assert.Contains("Nothing was changed", refused.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("may have created", refused.Message, StringComparison.Ordinal);
        Clean(refused);
    }

    [Fact]
    public void Get_budget_is_enforced_before_sending_with_the_time_it_is_allowed()
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 2 });
        fx.Engine.Business.GetMdmServers();
        fx.Engine.Business.GetMdmServers();
        // -Verbose shows every request Apple answered and the budget it used
        Assert.Equal(2, fx.Host.Verbose.Count(v => v.StartsWith("Apple: GET /v1/mdmServers → 200 in ", StringComparison.Ordinal)));
        Assert.Contains(fx.Host.Verbose, v => v.Contains("(GET 2 of 2 this minute for API account", StringComparison.Ordinal));
        var before = fx.Simulator.GetRequests("/v1/*").Count;
        var e = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers());
        Assert.Equal("BusinessThrottled", e.ErrorId);
        Assert.Equal(AdeErrorCategory.LimitsExceeded, e.Category);
        Assert.Contains((fx.Sim.Time.GetUtcNow() + TimeSpan.FromMinutes(1)).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", System.Globalization.CultureInfo.InvariantCulture), e.Message, StringComparison.Ordinal);
        Assert.Equal(before, fx.Simulator.GetRequests("/v1/*").Count); // nothing was sent
        fx.Engine.Business.WaitForLimit = true;
        fx.Engine.Business.GetMdmServers();
        Assert.Contains(fx.Waits, w => w >= TimeSpan.FromMinutes(1) && w <= TimeSpan.FromMinutes(1) + TimeSpan.FromSeconds(1)); // the budget's minute, and a margin
    }

    [Fact]
    public void A_send_told_to_wait_paces_its_polls_to_the_GET_budget_instead_of_failing_after_Apple_accepted_the_activity()
    {
        // 3 GETs a minute (the servers' list, then polls every 3 s for an activity of 10 s): without -WaitForLimit the
        // wait once failed with BusinessThrottled on its fourth GET, the activity accepted and its end unknown
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 3, PostsPerHour = 100 });
        var serial = fx.Simulator.AddOrgDevices(1)[0].SerialNumber;
        Assert.False(fx.Engine.Business.WaitForLimit);
        var activity = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial], null, server: "Contoso iPads", wait: true));
        Assert.Equal(("COMPLETED", 1), (activity.Status, activity.Succeeded));
        Assert.Contains(fx.Waits, w => w > TimeSpan.FromSeconds(10)); // it waited for the budget
        Assert.False(fx.Engine.Business.WaitForLimit);
        // outside a wait, the budget is still a failure with its time
        Assert.Equal("BusinessThrottled", Assert.Throws<AdeException>(() => { for (var i = 0; i < 4; i++) fx.Engine.Business.GetMdmServers(); }).ErrorId);
    }

    [Fact]
    public void Twelve_serials_of_a_small_organisation_are_read_from_the_listing_when_one_by_one_would_not_fit_the_GET_budget()
    {
        // one by one: up to 2 GETs a serial, 24 for 12, beyond the default 20 a minute (it failed with BusinessThrottled);
        // the listing of this organisation is a few pages
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 20, PostsPerHour = 100 });
        var serials = fx.Simulator.AddOrgDevices(12).Select(d => d.SerialNumber).Reverse().ToList();
        fx.Engine.Business.Send(OrgDeviceAction.Assign, serials[..6], null, server: "Contoso iPads");
        fx.Sim.Advance(TimeSpan.FromSeconds(11));
        fx.Sim.Advance(TimeSpan.FromMinutes(1)); // a fresh budget
        var before = fx.Simulator.GetRequests("/v1/*").Count;

        var read = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: serials)).ToList();

        Assert.Equal(serials, read.Select(d => d.SerialNumber)); // in the order given
        Assert.Equal(6, read.Count(d => d.MdmServer == "Contoso iPads"));
        var sent = fx.Simulator.GetRequests("/v1/*").Skip(before).ToList();
        Assert.DoesNotContain(sent, r => r.Path.StartsWith("/v1/orgDevices/", StringComparison.Ordinal)); // not one by one
        Assert.InRange(sent.Count, 2, 12);

        // with room in the budget, a short list is still read one by one
        using var roomy = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 100, PostsPerHour = 100 });
        var two = roomy.Simulator.AddOrgDevices(2).Select(d => d.SerialNumber).ToList();
        Assert.Equal(two, roomy.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: two)).Select(d => d.SerialNumber));
        Assert.Equal(2, roomy.Simulator.GetRequests("/v1/orgDevices/*").Count);
    }

    [Fact]
    public void WaitForLimit_is_not_given_up_when_the_timer_fires_a_moment_before_the_allowed_time()
    {
        // Real timers may return a little early; the moments left were once counted as rounds, and the third one failed
        // with BusinessThrottled naming the very time it then was.
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 1, PostsPerHour = 100 });
        fx.Engine.Business.GetMdmServers();
        fx.Engine.Business.WaitForLimit = true;
        fx.WakeFactor = 0.99;
        fx.Engine.Business.GetMdmServers();
        Assert.True(fx.Waits.Count >= 2);
        Assert.Single(fx.Host.Verbose, v => v.StartsWith("Waiting ", StringComparison.Ordinal)); // one real wait, said once
    }

    [Fact]
    public void Post_budget_counts_the_posts_sent_in_the_last_hour()
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PostsPerHour = 1 });
        var serials = fx.Simulator.AddOrgDevices(2).Select(d => d.SerialNumber).ToList();
        fx.Engine.Business.Send(OrgDeviceAction.Assign, [serials[0]], null, server: "Contoso iPads");
        var posts = fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count;
        Assert.Equal("BusinessThrottled", Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, [serials[1]], null, server: "Contoso iPads")).ErrorId);
        Assert.Equal(posts, fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count);
        fx.Sim.Advance(TimeSpan.FromHours(1));
        Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [serials[1]], null, server: "Contoso iPads"));
    }

    [Fact]
    public void Wait_gives_up_after_ten_minutes_with_the_activity_named_once_and_returned()
    {
        using var fx = new BusinessFixture();
        fx.Simulator.ActivityDuration = TimeSpan.FromHours(2);
        var serial = fx.Simulator.AddOrgDevices(1)[0].SerialNumber;
        var ex = Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial], null, server: "Contoso iPads", wait: true));
        Assert.Equal(("BusinessActivityTimeout", AdeErrorCategory.OperationTimeout), (ex.ErrorId, ex.Category));
        var activity = Assert.Single(ex.Completed.Cast<AdeOrgDeviceActivity>());
        Assert.Equal("IN_PROGRESS", activity.Status);
        Assert.EndsWith($"follow it with Get-AdeOrgDeviceActivity -Id {activity.Id} -Wait. It is returned and stored.", ex.Message, StringComparison.Ordinal);
        Assert.Equal(2, ex.Message.Split(activity.Id).Length - 1); // named where it is said to be in progress, and in the command to follow it
    }

    [Fact]
    public void An_accounts_limits_change_in_place_0_returns_one_to_the_default_and_a_value_out_of_range_changes_nothing()
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PostsPerHour = 1 });
        var accounts = fx.Engine.Business.Accounts;
        var serials = fx.Simulator.AddOrgDevices(3).Select(d => d.SerialNumber).ToList();
        fx.Engine.Business.Send(OrgDeviceAction.Assign, [serials[0]], null, server: "Contoso iPads");

        // the account's own budget replaces the default at once: a second POST within the hour now goes
        var set = accounts.SetLimits(fx.Stored, new BusinessAccountLimits(PostsPerHour: 5, DevicesPerActivity: 1))!;
        Assert.Equal((null, 5, 1), (set.GetsPerMinute, set.PostsPerHour, set.DevicesPerActivity));
        Assert.Equal([1, 1], fx.Engine.Business.Send(OrgDeviceAction.Assign, serials[1..], null, server: "Contoso iPads").Select(a => a.DeviceCount));

        foreach (var (limits, parameter) in new[]
        {
            (new BusinessAccountLimits(GetsPerMinute: -1), "GetPerMinute"),
            (new BusinessAccountLimits(PostsPerHour: BusinessAccountService.MaxPostsPerHour + 1), "PostPerHour"),
            (new BusinessAccountLimits(DevicesPerActivity: 1001), "DevicePerActivity"),
        })
        {
            var ex = AdeAssert.Throws("ArgumentInvalid", () => accounts.SetLimits(fx.Stored, limits));
            Assert.StartsWith($"-{parameter} ", ex.Message, StringComparison.Ordinal);
        }

        var nothing = AdeAssert.Throws("ArgumentInvalid", () => accounts.SetLimits(fx.Stored, new BusinessAccountLimits()));
        Assert.Equal("-GetPerMinute, -PostPerHour or -DevicePerActivity is required here: say what to change (0 returns a value to its default).", nothing.Message);

        fx.Host.ShouldProcessAnswer = false; // -WhatIf
        Assert.Null(accounts.SetLimits(fx.Stored, new BusinessAccountLimits(PostsPerHour: 0)));
        Assert.Equal(5, Assert.Single(accounts.Get()).PostsPerHour);
        fx.Host.ShouldProcessAnswer = true;

        var reset = accounts.SetLimits(fx.Stored, new BusinessAccountLimits(PostsPerHour: 0, DevicesPerActivity: 0))!;
        Assert.Equal((null, null, null), (reset.GetsPerMinute, reset.PostsPerHour, reset.DevicesPerActivity));
        var refused = Assert.Throws<AdeException>(() => accounts.New(new NewBusinessAccountArgs("BUSINESSAPI.3f2b1c0e-1d2e-4f5a-9b8c-7d6e5f4a3b2c", fx.Account.KeyId, fx.KeyPath, DevicesPerActivity: -1)));
        Assert.Equal("-DevicePerActivity '-1' is not valid: give 1 to 1000 devices per activity, or 0 for the default (1000).", refused.Message);
        // New takes 0 as the default too
        var added = accounts.New(new NewBusinessAccountArgs("BUSINESSAPI.3f2b1c0e-1d2e-4f5a-9b8c-7d6e5f4a3b2c", fx.Account.KeyId, fx.KeyPath, PostsPerHour: 0, DevicesPerActivity: 0))!;
        Assert.Equal((null, null), (added.PostsPerHour, added.DevicesPerActivity));
    }

    [Fact]
    public void A_command_stopped_after_Apple_accepted_some_batches_returns_those_activities_and_names_the_devices_not_sent()
    {
        // batches of 2 and a budget of 2 POSTs: the third batch is refused before it is sent
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PostsPerHour = 2, MaxDevicesPerActivity = 2 });
        var serials = fx.Simulator.AddOrgDevices(5).Select(d => d.SerialNumber).ToList();
        var e = Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: "Contoso iPads"));
        Assert.Equal("BusinessThrottled", e.ErrorId);
        Assert.Equal(AdeErrorCategory.LimitsExceeded, e.Category);
        var accepted = e.Completed.Cast<AdeOrgDeviceActivity>().ToList();
        Assert.Equal(2, accepted.Count);
        Assert.Equal(4, accepted.Sum(a => a.DeviceCount));
        Assert.Equal(2, fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count(r => r.Method == "POST"));
        Assert.All(accepted, a => Assert.Contains(a.Id, e.Message, StringComparison.Ordinal));
        Assert.Contains("Do not run the whole command again, which would send those devices again: send only the other 1 device (" + serials[4] + ") again.", e.Message, StringComparison.Ordinal);
        // stored like any other activity, and they reach Apple's devices
        Assert.Equal(accepted.Select(a => a.Id).Order(), fx.Engine.Business.GetActivities(null).Select(a => a.Id).Order());
        fx.Sim.Advance(TimeSpan.FromMinutes(1));
        Assert.All(fx.Engine.Business.GetActivities(null, refresh: true), a => Assert.Equal((2, "COMPLETED_WITH_SUCCESS"), (a.Succeeded, a.SubStatus)));
    }

    [Fact]
    public void A_later_batch_Apple_accepts_without_a_readable_answer_is_reported_as_carried_out_and_only_the_devices_after_it_to_send_again()
    {
        // batches of 2: Apple carries out the second POST, then answers it 201 without data; the third is never sent
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PostsPerHour = 10, MaxDevicesPerActivity = 2 });
        var serials = fx.Simulator.AddOrgDevices(5).Select(d => d.SerialNumber).ToList();
        fx.Simulator.AddFault("/v1/orgDeviceActivities", 201, body: "{}", count: 1, method: "POST", afterApplying: true, skip: 1);
        var e = Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: "Contoso iPads"));
        Assert.Equal(("BusinessResponseInvalid", AdeErrorCategory.InvalidData), (e.ErrorId, e.Category));
        Assert.Equal(2, Assert.Single(e.Completed.Cast<AdeOrgDeviceActivity>()).DeviceCount);
        Assert.Equal(2, fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count(r => r.Method == "POST"));
        Assert.Contains("Apple accepted POST /v1/orgDeviceActivities, but its answer could not be read (no data). Apple created the activity", e.Message, StringComparison.Ordinal);
        Assert.Contains($"the next 2 devices ({serials[2]}, {serials[3]}) were in the request Apple accepted", e.Message, StringComparison.Ordinal);
        Assert.Contains($"send only the other 1 device ({serials[4]}) after them again.", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Try again", e.Message, StringComparison.Ordinal);

        // Apple did assign the second batch: only the first activity is stored (the second's id never came back)
        fx.Sim.Advance(TimeSpan.FromMinutes(1));
        var assigned = fx.Simulator.GetOrgDevices().Where(d => d.AssignedServer == "Contoso iPads").Select(d => d.SerialNumber).ToHashSet();
        Assert.Equal(serials.Take(4).Order(), assigned.Intersect(serials).Order());
        Assert.Single(fx.Engine.Business.GetActivities(null));

        // a single request: the same error alone, nothing accepted before it; an answer that is not JSON says the same
        var one = fx.Simulator.AddOrgDevices(1).Select(d => d.SerialNumber).ToList();
        fx.Simulator.AddFault("/v1/orgDeviceActivities", 201, body: "<html>", count: 1, method: "POST", afterApplying: true);
        var alone = Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, one, null, server: "Contoso iPads"));
        Assert.Empty(alone.Completed);
        Assert.Contains("(not JSON, at line 1, byte 1). Apple created the activity, but without its id it was not stored: do not send these devices again", alone.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_wait_that_fails_after_every_batch_was_accepted_returns_the_activities_and_says_to_follow_them_not_to_send_again()
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PostsPerHour = 10, MaxDevicesPerActivity = 2 });
        var serials = fx.Simulator.AddOrgDevices(4).Select(d => d.SerialNumber).ToList();
        fx.Simulator.AddFault("/v1/orgDeviceActivities/*", 403, count: 1, method: "GET");
        var e = Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: "Contoso iPads", wait: true));
        Assert.Equal("BusinessAccessDenied", e.ErrorId);
        var accepted = e.Completed.Cast<AdeOrgDeviceActivity>().ToList();
        Assert.Equal(2, accepted.Count);
        Assert.All(accepted, a => Assert.Equal("IN_PROGRESS", a.Status));
        Assert.Contains("Get-AdeOrgDeviceActivity -Id " + string.Join(",", accepted.Select(a => a.Id)) + " -Wait instead of running this command again.", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("the other", e.Message, StringComparison.Ordinal);
        // a single batch whose only request fails is the error alone: nothing was accepted
        var one = fx.Simulator.AddOrgDevices(1).Select(d => d.SerialNumber).ToList();
        fx.Simulator.AddFault("/v1/orgDeviceActivities", 500, count: 1, method: "POST");
        Assert.Empty(Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, one, null, server: "Contoso iPads")).Completed);
    }

    [Fact]
    public void Apple_429_gives_the_Retry_After_time_and_is_never_looped()
    {
        using var fx = new BusinessFixture();
        fx.Engine.Business.GetMdmServers();
        fx.Simulator.BusinessGetsPerMinute = 1;
        fx.Sim.Advance(TimeSpan.FromSeconds(61));
        fx.Engine.Business.GetMdmServers(); // uses the simulator's one GET of this minute
        var e = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers());
        Assert.Equal("BusinessThrottled", e.ErrorId);
        Assert.Single(fx.Simulator.GetRequests("/v1/mdmServers"), r => r.StatusCode == 429);
        // the next call is refused locally until Retry-After has passed
        Assert.Equal("BusinessThrottled", Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers()).ErrorId);
        Assert.Single(fx.Simulator.GetRequests("/v1/mdmServers"), r => r.StatusCode == 429);
        fx.Engine.Business.WaitForLimit = true;
        fx.Engine.Business.GetMdmServers();
        Assert.NotEmpty(fx.Waits);
    }

    [Fact]
    public void A_429_to_a_write_holds_back_writes_only()
    {
        using var fx = new BusinessFixture();
        var serials = fx.Simulator.AddOrgDevices(2).Select(d => d.SerialNumber).ToList();
        fx.Simulator.AddFault("/v1/orgDeviceActivities", 429, count: 1, method: "POST", retryAfterSeconds: 1800);
        Assert.Equal("BusinessThrottled", Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, [serials[0]], null, server: "Contoso iPads")).ErrorId);
        var posts = fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count;

        // reads go on: Apple's Retry-After was for writes (it stopped every inventory read for half an hour)
        Assert.NotEmpty(fx.Engine.Business.GetMdmServers());
        Assert.Null(fx.Sim.Store.Read(s => s.Business.BlockedUntil(fx.Stored.Id, "GET")));
        // the next write is refused locally until the Retry-After has passed, then goes
        var held = Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, [serials[1]], null, server: "Contoso iPads"));
        Assert.Equal("BusinessThrottled", held.ErrorId);
        Assert.Contains("(POST)", held.Message, StringComparison.Ordinal);
        Assert.Equal(posts, fx.Simulator.GetRequests("/v1/orgDeviceActivities").Count);
        fx.Sim.Advance(TimeSpan.FromMinutes(30));
        Assert.NotEmpty(fx.Engine.Business.Send(OrgDeviceAction.Assign, [serials[1]], null, server: "Contoso iPads"));
    }

    [Fact]
    public void Two_engines_on_one_store_share_the_get_budget()
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 2 });
        var other = fx.SecondEngine(new RecordingHost());
        fx.Engine.Business.GetMdmServers();
        other.Business.GetMdmServers();
        // the budget is counted in the store, not in this process
        Assert.Equal(2, fx.Sim.Store.Read(s => s.Business.Requests(fx.Stored.Id, "GET", fx.Sim.Time.GetUtcNow() - TimeSpan.FromMinutes(1))).Count);
        var before = fx.Simulator.GetRequests("/v1/*").Count;
        var e = Assert.Throws<AdeException>(() => other.Business.GetMdmServers());
        Assert.Equal("BusinessThrottled", e.ErrorId);
        Assert.Equal("BusinessThrottled", Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers()).ErrorId);
        Assert.Equal(before, fx.Simulator.GetRequests("/v1/*").Count);
        fx.Sim.Advance(TimeSpan.FromMinutes(1));
        other.Business.GetMdmServers();
    }

    [Fact]
    public void A_Retry_After_seen_by_one_engine_holds_back_the_other_until_it_passed()
    {
        using var fx = new BusinessFixture();
        var other = fx.SecondEngine(new RecordingHost());
        fx.Engine.Business.GetMdmServers();
        fx.Simulator.BusinessGetsPerMinute = 1;
        fx.Sim.Advance(TimeSpan.FromSeconds(61));
        fx.Engine.Business.GetMdmServers();
        var first = Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers());
        Assert.Equal("BusinessThrottled", first.ErrorId);
        Assert.True(fx.Sim.Store.Read(s => s.Business.BlockedUntil(fx.Stored.Id, "GET")) > fx.Sim.Time.GetUtcNow());
        var sent = fx.Simulator.GetRequests("/v1/*").Count;
        // the other engine never sends while Apple's Retry-After holds, and reports the same time
        var e = Assert.Throws<AdeException>(() => other.Business.GetMdmServers());
        Assert.Equal("BusinessThrottled", e.ErrorId);
        static string AllowedAt(AdeException x) => System.Text.RegularExpressions.Regex.Match(x.Message, @"\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ").Value;
        Assert.Equal(AllowedAt(first), AllowedAt(e));
        Assert.Contains("Apple answered 429", first.Message, StringComparison.Ordinal);
        Assert.Contains("(nothing was sent)", e.Message, StringComparison.Ordinal);
        Assert.Equal(sent, fx.Simulator.GetRequests("/v1/*").Count);
        Assert.Single(fx.Simulator.GetRequests("/v1/mdmServers"), r => r.StatusCode == 429);
        // with -WaitForLimit the other engine waits for that time instead (the simulator's minute has passed by then)
        other.Business.WaitForLimit = true;
        fx.Simulator.BusinessGetsPerMinute = null;
        other.Business.GetMdmServers();
        Assert.Single(fx.Simulator.GetRequests("/v1/mdmServers"), r => r.StatusCode == 429);
    }

    [Fact]
    public void The_serial_to_server_index_lives_in_the_store_for_one_read_only()
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PageSize = 2 });
        fx.Simulator.AddOrgDevices(3);
        fx.Simulator.AddDevices("Contoso iPads", 5);
        long Indexed() => (long)RawSqlite.Scalar(fx.Sim.Store.Path, "SELECT COUNT(*) FROM business_device_server")!;
        var seenDuringRead = new List<long>();
        var all = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).Select(d => { seenDuringRead.Add(Indexed()); return d; }).ToList();
        Assert.Equal(8, all.Count);
        Assert.Equal(5, all.Count(d => d.MdmServer == "Contoso iPads" && d.MdmServerId is not null));
        Assert.All(seenDuringRead, n => Assert.Equal(5, n));
        Assert.Equal(0, Indexed());
        // a read stopped early (Select-Object -First) drops its index too
        Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).Take(1));
        Assert.Equal(0, Indexed());
    }

    [Fact]
    public void An_accounts_own_budget_replaces_the_default_and_is_checked()
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000 });
        var sa = fx.Simulator.NewBusinessAccount(out var pem);
        var key = fx.Sim.Temp.File("second.pem");
        File.WriteAllText(key, pem);
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeException>(() => fx.Engine.Business.Accounts.New(
            new NewBusinessAccountArgs(sa.ClientId, sa.KeyId, key, sa.TokenUri, sa.ServiceUri, GetsPerMinute: -1))).ErrorId);
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeException>(() => fx.Engine.Business.Accounts.New(
            new NewBusinessAccountArgs(sa.ClientId, sa.KeyId, key, sa.TokenUri, sa.ServiceUri, PostsPerHour: 100_000))).ErrorId);
        Assert.Single(fx.Engine.Business.Accounts.Get()); // nothing stored
        var stored = fx.Engine.Business.Accounts.New(new NewBusinessAccountArgs(sa.ClientId, sa.KeyId, key, sa.TokenUri, sa.ServiceUri, GetsPerMinute: 1, PostsPerHour: 7))!;
        Assert.Equal(1, stored.GetsPerMinute);
        Assert.Equal(7, stored.PostsPerHour);
        fx.Engine.Business.GetMdmServers(sa.ClientId);
        Assert.Equal("BusinessThrottled", Assert.Throws<AdeException>(() => fx.Engine.Business.GetMdmServers(sa.ClientId)).ErrorId);
        fx.Engine.Business.GetMdmServers(fx.Stored.ClientId); // the other account keeps the engine's budget
    }

    [Theory]
    [InlineData(false, false)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(true, true)]
    public void Inventory_copes_with_shuffled_pages_and_with_or_without_a_paging_total(bool shuffled, bool total)
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PageSize = 3 });
        fx.Simulator.ShuffledOrder = shuffled;
        fx.Simulator.PagingTotal = total;
        var bought = fx.Simulator.AddOrgDevices(7).Select(d => d.SerialNumber).ToHashSet();
        var assigned = fx.Simulator.AddDevices("Contoso iPads", 5).Select(d => d.SerialNumber).ToHashSet();
        var all = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).ToList();
        Assert.Equal(12, all.Count);
        Assert.Equal(bought.Concat(assigned).Order(), all.Select(d => d.SerialNumber).Order());
        Assert.All(all.Where(d => assigned.Contains(d.SerialNumber)), d => Assert.Equal("Contoso iPads", d.MdmServer));
        Assert.All(all.Where(d => bought.Contains(d.SerialNumber)), d => Assert.Null(d.MdmServer));
        // the switch is visible on the wire: a shuffled listing is not in serial order; the total is there or not
        var body = fx.Simulator.GetRequests("/v1/orgDevices").Count;
        Assert.True(body >= 4);
        var sorted = all.Select(d => d.SerialNumber).SequenceEqual(all.Select(d => d.SerialNumber).Order(StringComparer.Ordinal));
        Assert.Equal(!shuffled, sorted);
    }

    private static byte[] MigrationBody(string type, string? serverId, DateTimeOffset? deadline, params string[] serials)
        => Encoding.UTF8.GetBytes(JsonSerializer.Serialize(new Dictionary<string, object?>
        {
            ["data"] = new Dictionary<string, object?>
            {
                ["type"] = "orgDeviceActivities",
                ["attributes"] = new Dictionary<string, object?>
                {
                    ["activityType"] = type,
                    ["activityTypeMetadata"] = deadline is { } d ? new Dictionary<string, string> { ["mdmMigrationDeadlineDateTime"] = d.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture) } : null,
                },
                ["relationships"] = new Dictionary<string, object?>
                {
                    ["mdmServer"] = serverId is null ? null : new { data = new { type = "mdmServers", id = serverId } },
                    ["devices"] = new { data = serials.Select(x => new { type = "orgDevices", id = x }).ToArray() },
                },
            },
        }));

    [Fact]
    public void Devices_in_an_MDM_migration_are_read_like_any_and_an_API_before_2_3_refuses_migrations_with_a_catalogued_error()
    {
        using var fx = new BusinessFixture();
        var serials = fx.Simulator.AddOrgDevices(2).Select(d => d.SerialNumber).ToArray();
        var server = fx.Engine.Business.ResolveServer("Contoso iPads", null);
        var client = fx.Engine.Business.Client(null);
        // another tool (or the portal) schedules a no-erase migration: the devices carry the 2.3 migration attributes
        client.Post("orgDeviceActivities", MigrationBody("ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE", server.Id, fx.Sim.Time.GetUtcNow().AddDays(30), serials)).Dispose();
        fx.Sim.Advance(TimeSpan.FromSeconds(11));
        Assert.All(fx.Simulator.GetOrgDevices().Where(d => serials.Contains(d.SerialNumber)), d => Assert.Equal("REQUESTED", d.MdmMigrationStatus));
        var read = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: serials)).ToList();
        Assert.Equal(2, read.Count);
        Assert.All(read, d => { Assert.Equal("ASSIGNED", d.Status); Assert.Equal("Contoso iPads", d.MdmServer); });
        Assert.Equal(2, fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(Status: "ASSIGNED")).Count(d => serials.Contains(d.SerialNumber)));
        // a cancel of a device not migrating fails that device in the log, not the request
        client.Post("orgDeviceActivities", MigrationBody("CANCEL_MDM_MIGRATION", null, null, serials[0])).Dispose();
        fx.Simulator.MigrationActivities = false;
        var e = Assert.Throws<AdeException>(() => client.Post("orgDeviceActivities", MigrationBody("CANCEL_MDM_MIGRATION", null, null, serials[1])));
        Assert.Equal("BusinessRequestFailed", e.ErrorId);
        Assert.Contains("400", e.Message, StringComparison.Ordinal);
    }
}

using AdeEnrollment.Engine.Files;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Tests.Business;

/// <summary>
/// New-AdeMdmServer, Set-AdeMdmServer and Remove-AdeMdmServer at the engine: the server is created for a token request's
/// certificate (and its token then read with that request), changed, and deleted; every rule Apple would refuse is
/// checked before anything is sent, and Apple's own refusals map onto the same catalogued errors.
/// </summary>
public sealed class BusinessServerWriteTests
{
    private const string Existing = Support.EngineSimFixture.Server;

    private static int Writes(BusinessFixture fx) => fx.Simulator.GetRequests("/v1/mdmServers").Count(r => r.Method != "GET")
        + fx.Simulator.GetRequests("/v1/mdmServers/*").Count(r => r.Method != "GET");

    [Fact]
    public void A_server_made_for_a_token_request_gets_a_token_that_the_same_request_reads()
    {
        using var fx = new BusinessFixture();
        var request = fx.Engine.Tokens.NewRequest(true, null)!;
        var server = fx.Engine.Business.NewMdmServer(new NewMdmServerArgs("  Contoso Intune EU ", Request: request.Id.ToString(), AllowRelease: true))!;
        Assert.Equal(("Contoso Intune EU", "ACTIVE", 0, true), (server.Name, server.Status, server.DeviceCount, server.AllowRelease));
        Assert.Empty(server.DefaultProductFamilies);
        Assert.Null(server.Token);

        // the portal's "Download Token": encrypted to the certificate Apple was given
        fx.Simulator.ExportServerToken("Contoso Intune EU", out var p7m);
        var file = fx.Sim.Temp.File("eu.p7m");
        File.WriteAllText(file, p7m);
        var token = fx.Engine.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), file, "it@contoso.example", Name: "EU", ServiceUri: fx.Simulator.Uri))!;
        Assert.Equal("Contoso Intune EU", token.ServerName);
        Assert.Equal("EU", Assert.Single(fx.Engine.Business.GetMdmServers(name: "Contoso Intune EU")).Token);

        // a used request makes no second server
        Assert.Equal("TokenRequestAlreadyUsed", Assert.Throws<AdeException>(() => fx.Engine.Business.NewMdmServer(new NewMdmServerArgs("Another", Request: request.Id.ToString()))).ErrorId);
    }

    [Fact]
    public void What_Apple_would_refuse_is_refused_before_anything_is_sent()
    {
        using var fx = new BusinessFixture();
        var request = fx.Engine.Tokens.NewRequest(true, null)!.Id.ToString();
        AdeException Refused(NewMdmServerArgs args) => Assert.Throws<AdeException>(() => fx.Engine.Business.NewMdmServer(args));

        var exists = Refused(new NewMdmServerArgs(Existing.ToUpperInvariant(), Request: request));
        Assert.Equal(("BusinessServerExists", AdeErrorCategory.ResourceExists), (exists.ErrorId, exists.Category));
        Assert.Contains($"'{Existing}'", exists.Message, StringComparison.Ordinal);
        Assert.Equal("ArgumentInvalid", Refused(new NewMdmServerArgs("", Request: request)).ErrorId);
        Assert.Equal("ArgumentInvalid", Refused(new NewMdmServerArgs("Lab*", Request: request)).ErrorId);
        Assert.Equal("ArgumentInvalid", Refused(new NewMdmServerArgs("Lab\u001b[31m", Request: request)).ErrorId);
        Assert.Equal("ArgumentInvalid", Refused(new NewMdmServerArgs(new string('x', 101), Request: request)).ErrorId);
        Assert.Equal("ArgumentInvalid", Refused(new NewMdmServerArgs("Lab")).ErrorId); // no certificate
        Assert.Equal("TokenRequestNotFound", Refused(new NewMdmServerArgs("Lab", Request: Guid.NewGuid().ToString())).ErrorId);

        // Apple takes only RSA certificates: an EC one is refused here, with what to do
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ecCertificate = new CertificateRequest("CN=Lab", ec, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var ecFile = fx.Sim.Temp.File("ec.pem");
        File.WriteAllText(ecFile, ecCertificate.ExportCertificatePem());
        Assert.Contains("RSA", Refused(new NewMdmServerArgs("Lab", CertificatePath: ecFile)).Message, StringComparison.Ordinal);
        var junk = fx.Sim.Temp.File("junk.cer");
        File.WriteAllText(junk, "not a certificate");
        Assert.Equal("ArgumentInvalid", Refused(new NewMdmServerArgs("Lab", CertificatePath: junk)).ErrorId);
        // read as every file a user names: a folder, a missing file, a device that never ends, a file far too large
        Assert.Contains("is a folder", Refused(new NewMdmServerArgs("Lab", CertificatePath: fx.Sim.Temp.Path)).Message, StringComparison.Ordinal);
        Assert.Contains("does not exist", Refused(new NewMdmServerArgs("Lab", CertificatePath: fx.Sim.Temp.File("missing.pem"))).Message, StringComparison.Ordinal);
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal("ArgumentInvalid", Refused(new NewMdmServerArgs("Lab", CertificatePath: "/dev/zero")).ErrorId);
        }

        var huge = fx.Sim.Temp.File("huge.pem");
        File.WriteAllBytes(huge, new byte[CertificateFile.MaxBytes + 1]);
        Assert.Contains("at most 64 KiB", Refused(new NewMdmServerArgs("Lab", CertificatePath: huge)).Message, StringComparison.Ordinal);

        Assert.Equal(0, Writes(fx));
        Assert.Single(fx.Engine.Business.GetMdmServers());
    }

    [Fact]
    public void A_certificate_file_makes_a_server_and_WhatIf_sends_nothing()
    {
        using var fx = new BusinessFixture();
        using var rsa = RSA.Create(2048);
        using var certificate = new CertificateRequest("CN=Jamf", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSelfSigned(fx.Sim.Time.GetUtcNow().AddDays(-1), fx.Sim.Time.GetUtcNow().AddYears(1));
        var der = fx.Sim.Temp.File("jamf.cer");
        File.WriteAllBytes(der, certificate.RawData);

        fx.Host.ShouldProcessAnswer = false;
        Assert.Null(fx.Engine.Business.NewMdmServer(new NewMdmServerArgs("Lab Jamf", CertificatePath: der)));
        Assert.Equal(0, Writes(fx));

        fx.Host.ShouldProcessAnswer = true;
        var server = fx.Engine.Business.NewMdmServer(new NewMdmServerArgs("Lab Jamf", CertificatePath: der))!;
        Assert.Equal((false, "MDM"), (server.AllowRelease, server.ServerType));
        Assert.Equal(1, Writes(fx));
    }

    [Theory]
    [InlineData(409)]
    [InlineData(400)]
    [InlineData(422)]
    public void Apple_refusing_what_another_admin_just_did_is_the_same_catalogued_error_whatever_status_Apple_uses(int status)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.ConflictStatus = status;
        var request = fx.Engine.Tokens.NewRequest(true, null)!.Id.ToString();
        using var rsa = RSA.Create(2048);
        var pem = new CertificateRequest("CN=Other", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(fx.Sim.Time.GetUtcNow().AddDays(-1), fx.Sim.Time.GetUtcNow().AddYears(1)).ExportCertificatePem();

        // another admin creates 'Lab' in the portal after the module's check and before its POST: Apple refuses it
        fx.Host.OnShouldProcess = _ => fx.Simulator.NewServer("Lab", pem, out _, fx.Account.OrgName);
        var exists = Assert.Throws<AdeException>(() => fx.Engine.Business.NewMdmServer(new NewMdmServerArgs("Lab", Request: request)));
        Assert.Equal(("BusinessServerExists", AdeErrorCategory.ResourceExists), (exists.ErrorId, exists.Category));
        Assert.Contains($"Apple refused the request (HTTP {status}) and changed nothing", exists.Message, StringComparison.Ordinal);

        // the same race for a rename
        fx.Host.OnShouldProcess = _ => fx.Simulator.NewServer("Lab 2", pem, out _, fx.Account.OrgName);
        Assert.Equal("BusinessServerExists", Assert.Throws<AdeException>(() => fx.Engine.Business.SetMdmServer("Lab", new MdmServerChanges(NewName: "lab 2"))).ErrorId);
        Assert.Equal("Lab", Assert.Single(fx.Engine.Business.GetMdmServers(name: "Lab")).Name);

        // and a device that lands on an empty server while it is being deleted
        fx.Host.OnShouldProcess = _ => fx.Simulator.AddDevices("Lab 2", 1);
        var hasDevices = Assert.Throws<AdeException>(() => fx.Engine.Business.RemoveMdmServer("Lab 2"));
        Assert.Equal(("BusinessServerHasDevices", AdeErrorCategory.InvalidOperation), (hasDevices.ErrorId, hasDevices.Category));
        Assert.Contains("still has 1 device assigned", hasDevices.Message, StringComparison.Ordinal);
        Assert.Single(fx.Engine.Business.GetMdmServers(name: "Lab 2"));
    }

    [Fact]
    public void A_refusal_that_Apples_state_does_not_explain_stands_as_Apples_and_a_5xx_says_to_check_first()
    {
        using var fx = new BusinessFixture();
        var request = fx.Engine.Tokens.NewRequest(true, null)!.Id.ToString();
        // a 409 with no server of that name at Apple is not "the name is taken": Apple's own words stand
        fx.Simulator.AddFault("/v1/mdmServers", 409, count: 1, method: "POST");
        var refused = Assert.Throws<AdeException>(() => fx.Engine.Business.NewMdmServer(new NewMdmServerArgs("Lab", Request: request)));
        Assert.Equal(("BusinessRequestFailed", 409), (refused.ErrorId, refused.HttpStatus));
        Assert.Empty(fx.Engine.Business.GetMdmServers(name: "Lab"));
        fx.Simulator.AddFault("/v1/mdmServers", 503, count: 1, method: "POST");
        var failed = Assert.Throws<AdeException>(() => fx.Engine.Business.NewMdmServer(new NewMdmServerArgs("Lab", Request: request)));
        Assert.Equal(("BusinessRequestFailed", AdeErrorCategory.ResourceUnavailable), (failed.ErrorId, failed.Category));
        Assert.Contains("check with Get-AdeMdmServer before running the command again", failed.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("activity", failed.Message, StringComparison.Ordinal);

        // a name held only outside the organisation's live servers (this simulator keeps server names unique across
        // organisations): Apple's refusal, with its detail, not a claim about the organisation
        using var rsa = RSA.Create(2048);
        var pem = new CertificateRequest("CN=Other", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(fx.Sim.Time.GetUtcNow().AddDays(-1), fx.Sim.Time.GetUtcNow().AddYears(1)).ExportCertificatePem();
        fx.Simulator.NewServer("Elsewhere", pem, out _, orgName: "Fabrikam");
        var elsewhere = Assert.Throws<AdeException>(() => fx.Engine.Business.NewMdmServer(new NewMdmServerArgs("Elsewhere", Request: request)));
        Assert.Equal(("BusinessRequestFailed", 409), (elsewhere.ErrorId, elsewhere.HttpStatus));
        Assert.Contains("another organization", elsewhere.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Both", false, 1, false)] // the empty list clears them: one PATCH
    [InlineData("Null", false, 2, false)] // Apple ignores the empty list: null is sent next and clears them
    [InlineData("None", false, 2, true)] // an Apple that clears with neither: a warning names the families it kept
    [InlineData("None", true, 2, true)] // an Apple that refuses null (an array in its schema): the first change stands
    public void Default_families_are_cleared_whether_Apple_takes_an_empty_list_or_null(string clearsWith, bool refusesNull, int patches, bool warned)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.ClearFamiliesWith = clearsWith;
        fx.Engine.Business.SetMdmServer(Existing, new MdmServerChanges(DefaultProductFamilies: ["IPAD"]));
        if (refusesNull)
        {
            fx.Simulator.AddFault("/v1/mdmServers/*", 422, count: 1, method: "PATCH", skip: 1); // the PATCH of null, after the empty list's
        }

        var before = Writes(fx);

        var cleared = fx.Engine.Business.SetMdmServer(Existing, new MdmServerChanges("Contoso iPads EU", DefaultProductFamilies: []))!;

        string[] kept = warned ? ["IPAD"] : [];
        Assert.Equal("Contoso iPads EU", cleared.Name);
        Assert.Equal(kept, cleared.DefaultProductFamilies);
        var atApple = Assert.Single(fx.Engine.Business.GetMdmServers(), s => s.Name == "Contoso iPads EU"); // Apple's state, read again: renamed
        Assert.Equal(kept, atApple.DefaultProductFamilies);
        Assert.Equal(before + patches, Writes(fx));
        var warning = fx.Host.Warnings.SingleOrDefault(w => w.Contains("Apple kept MDM server", StringComparison.Ordinal));
        Assert.Equal(warned, warning is not null);
        Assert.True(warning is null || warning.Contains("default server of new IPAD devices", StringComparison.Ordinal), warning);
    }

    [Theory]
    [InlineData(true)] // a family has one default server: Apple moves it
    [InlineData(false)] // Apple lets two servers name it
    public void Making_a_server_the_default_of_a_family_another_has_warns_and_shows_what_Apple_kept(bool exclusive)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.ExclusiveDefaultFamilies = exclusive;
        var request = fx.Engine.Tokens.NewRequest(true, null)!;
        fx.Simulator.NewServer("Contoso Macs", request.PublicKeyPem, out _, fx.Account.OrgName, "it@contoso.example");
        fx.Engine.Business.SetMdmServer(Existing, new MdmServerChanges(DefaultProductFamilies: ["IPAD", "IPHONE"]));

        var macs = fx.Engine.Business.SetMdmServer("Contoso Macs", new MdmServerChanges(DefaultProductFamilies: ["IPAD", "MAC"]))!;

        Assert.Equal(["IPAD", "MAC"], macs.DefaultProductFamilies.Order(StringComparer.Ordinal));
        var warning = Assert.Single(fx.Host.Warnings, w => w.Contains("by default until now", StringComparison.Ordinal));
        Assert.Contains($"New IPAD devices went to MDM server '{Existing}'", warning, StringComparison.Ordinal);
        var other = Assert.Single(fx.Engine.Business.GetMdmServers(), s => s.Name == Existing);
        Assert.Equal(exclusive ? ["IPHONE"] : ["IPAD", "IPHONE"], other.DefaultProductFamilies.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_server_is_renamed_and_made_the_default_of_families_and_its_token_stays_linked()
    {
        using var fx = new BusinessFixture();
        var changed = fx.Engine.Business.SetMdmServer(Existing, new MdmServerChanges("Contoso iPads EU", ["ipad", "iPhone", "IPAD"], AllowRelease: true))!;
        Assert.Equal("Contoso iPads EU", changed.Name);
        Assert.Equal(["IPAD", "IPHONE"], changed.DefaultProductFamilies.Order(StringComparer.Ordinal));
        Assert.True(changed.AllowRelease);
        Assert.Equal(fx.Sim.Token.Id, changed.TokenId); // by the server's id, the name having changed

        // only what is given changes; an empty list clears the families
        var cleared = fx.Engine.Business.SetMdmServer("Contoso iPads EU", new MdmServerChanges(DefaultProductFamilies: []))!;
        Assert.Equal(("Contoso iPads EU", true), (cleared.Name, cleared.AllowRelease));
        Assert.Empty(cleared.DefaultProductFamilies);

        var before = Writes(fx);
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeException>(() => fx.Engine.Business.SetMdmServer("Contoso iPads EU", new MdmServerChanges())).ErrorId);
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeException>(() => fx.Engine.Business.SetMdmServer("Contoso iPads EU", new MdmServerChanges(DefaultProductFamilies: ["Toaster"]))).ErrorId);
        Assert.Equal("BusinessServerNotFound", Assert.Throws<AdeException>(() => fx.Engine.Business.SetMdmServer(Existing, new MdmServerChanges(AllowRelease: false))).ErrorId);
        Assert.Equal(before, Writes(fx));
    }

    [Fact]
    public void A_rename_Apple_carries_out_but_answers_unreadably_says_it_was_made_and_the_stored_token_follows_the_new_name()
    {
        using var fx = new BusinessFixture();
        fx.Simulator.AddFault("/v1/mdmServers/*", 200, body: "{\"data\":[]}", count: 1, method: "PATCH", afterApplying: true);
        var e = Assert.Throws<AdeException>(() => fx.Engine.Business.SetMdmServer(Existing, new MdmServerChanges("Contoso iPads EU")));
        Assert.Equal("BusinessResponseInvalid", e.ErrorId);
        Assert.Contains("Apple accepted PATCH /v1/mdmServers/{id}, but its answer could not be read (an item that is not an object). The change to the MDM server was made: check it with Get-AdeMdmServer instead of running the command again.", e.Message, StringComparison.Ordinal);
        Assert.Equal("Contoso iPads EU", fx.Engine.Tokens.GetTokens().Single(t => t.Id == fx.Sim.Token.Id).ServerName);
        var server = Assert.Single(fx.Engine.Business.GetMdmServers(name: "Contoso iPads EU"));
        Assert.Equal(fx.Sim.Token.Id, server.TokenId);
    }

    public static TheoryData<string> Providers => ["SQLite", "PostgreSQL"];

    [Theory]
    [MemberData(nameof(Providers))]
    public void A_renamed_server_keeps_its_token_when_its_id_is_unrelated_to_DEP_and_a_new_server_of_the_old_name_does_not_take_it(string provider)
    {
        using var schema = provider == "PostgreSQL" ? new TestSupport.TestPostgresSchema() : null;
        using var fx = new BusinessFixture(postgres: schema);
        fx.Simulator.UnrelatedServerIds = true; // only the name links the token
        fx.Engine.Business.SetMdmServer(Existing, new MdmServerChanges(NewName: "Contoso iPads (old)"));
        var renamed = Assert.Single(fx.Engine.Business.GetMdmServers(name: "Contoso iPads (old)"));
        Assert.Equal(fx.Sim.Token.Id, renamed.TokenId);
        Assert.Equal("Contoso iPads (old)", fx.Engine.Tokens.GetTokens().Single(t => t.Id == fx.Sim.Token.Id).ServerName);
        Assert.Equal("BusinessServerHasToken", Assert.Throws<AdeException>(() => fx.Engine.Business.RemoveMdmServer("Contoso iPads (old)")).ErrorId);

        fx.Engine.Business.NewMdmServer(new NewMdmServerArgs(Existing, Request: fx.Engine.Tokens.NewRequest(true, null)!.Id.ToString()));
        Assert.Null(Assert.Single(fx.Engine.Business.GetMdmServers(name: Existing)).Token);
        Assert.Equal("Contoso iPads (old)", fx.Engine.Business.ServerOfToken(fx.Sim.Token, null).Name);
        fx.Engine.Business.RemoveMdmServer(Existing); // the new, empty one
    }

    [Fact]
    public void A_name_that_matches_several_servers_is_refused_naming_them()
    {
        using var fx = new BusinessFixture();
        fx.Sim.AddToken("Contoso Macs");
        var before = Writes(fx);
        var e = Assert.Throws<AdeException>(() => fx.Engine.Business.SetMdmServer("*Contoso*", new MdmServerChanges(AllowRelease: true)));
        Assert.Equal("ArgumentInvalid", e.ErrorId);
        Assert.Contains("matches 2 MDM servers", e.Message, StringComparison.Ordinal);
        Assert.Equal(before, Writes(fx));
    }

    [Fact]
    public void Taking_a_family_from_another_server_warns_and_a_taken_name_is_refused()
    {
        using var fx = new BusinessFixture();
        var other = fx.Sim.AddToken("Macs").ServerName!;
        fx.Engine.Business.SetMdmServer(other, new MdmServerChanges(DefaultProductFamilies: ["Mac"]));
        fx.Engine.Business.SetMdmServer(Existing, new MdmServerChanges(DefaultProductFamilies: ["Mac", "iPad"]));
        Assert.Contains(fx.Host.Warnings, w => w.Contains("MAC", StringComparison.Ordinal) && w.Contains($"'{other}'", StringComparison.Ordinal));

        var before = Writes(fx);
        Assert.Equal("BusinessServerExists", Assert.Throws<AdeException>(() => fx.Engine.Business.SetMdmServer(Existing, new MdmServerChanges(NewName: other.ToLowerInvariant()))).ErrorId);
        Assert.Equal(before, Writes(fx));
    }

    [Fact]
    public void A_server_is_deleted_only_without_devices_and_without_a_stored_token()
    {
        using var fx = new BusinessFixture();
        fx.Simulator.AddDevices(Existing, 2);
        var hasToken = Assert.Throws<AdeException>(() => fx.Engine.Business.RemoveMdmServer(Existing));
        Assert.Equal(("BusinessServerHasToken", AdeErrorCategory.InvalidOperation), (hasToken.ErrorId, hasToken.Category));
        Assert.Contains("Remove-AdeToken -Token 'iPads'", hasToken.Message, StringComparison.Ordinal);

        // a server with devices and no stored token: Apple would refuse, so nothing is sent
        var request = fx.Engine.Tokens.NewRequest(true, null)!.Id.ToString();
        fx.Engine.Business.NewMdmServer(new NewMdmServerArgs("Lab", Request: request));
        var serial = fx.Simulator.AddOrgDevices(1)[0].SerialNumber;
        fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial], null, server: "Lab", wait: true);
        var before = Writes(fx);
        var hasDevices = Assert.Throws<AdeException>(() => fx.Engine.Business.RemoveMdmServer("lab"));
        Assert.Equal(("BusinessServerHasDevices", AdeErrorCategory.InvalidOperation), (hasDevices.ErrorId, hasDevices.Category));
        Assert.Contains("1 device", hasDevices.Message, StringComparison.Ordinal);
        Assert.Equal(before, Writes(fx));

        // WhatIf deletes nothing; once empty, the server goes
        fx.Engine.Business.Send(OrgDeviceAction.Unassign, [serial], null, server: "Lab", wait: true);
        fx.Host.ShouldProcessAnswer = false;
        fx.Engine.Business.RemoveMdmServer("Lab");
        Assert.Equal(before, Writes(fx));
        fx.Host.ShouldProcessAnswer = true;
        fx.Engine.Business.RemoveMdmServer("Lab");
        Assert.Equal(before + 1, Writes(fx));
        Assert.Equal("BusinessServerNotFound", Assert.Throws<AdeException>(() => fx.Engine.Business.ResolveServer("Lab", null)).ErrorId);
    }

    [Fact]
    public void A_School_account_is_refused_before_anything_is_sent_as_Apple_School_Manager_offers_no_server_writes()
    {
        using var fx = new BusinessFixture();
        var school = fx.AddSchoolAccount();
        var request = fx.Engine.Tokens.NewRequest(true, null)!.Id.ToString();
        var refused = Assert.Throws<AdeException>(() => fx.Engine.Business.NewMdmServer(new NewMdmServerArgs("Lab", Request: request, Account: school.ClientId)));
        Assert.Equal(("ArgumentInvalid", AdeErrorCategory.InvalidArgument), (refused.ErrorId, refused.Category));
        Assert.Contains("Apple School Manager", refused.Message, StringComparison.Ordinal);
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeException>(() => fx.Engine.Business.SetMdmServer(Existing, new MdmServerChanges(AllowRelease: true), school.ClientId)).ErrorId);
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeException>(() => fx.Engine.Business.RemoveMdmServer(Existing, school.ClientId)).ErrorId);
        Assert.Empty(fx.Simulator.GetRequests("/school/v1/mdmServers*"));
        Assert.Equal(0, Writes(fx));
    }

    [Fact]
    public void The_writes_count_in_the_budget_of_activities()
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PostsPerHour = 2 });
        var request = fx.Engine.Tokens.NewRequest(true, null)!.Id.ToString();
        fx.Engine.Business.NewMdmServer(new NewMdmServerArgs("Lab", Request: request));
        fx.Engine.Business.SetMdmServer("Lab", new MdmServerChanges(AllowRelease: true));
        var before = Writes(fx);
        var throttled = Assert.Throws<AdeException>(() => fx.Engine.Business.RemoveMdmServer("Lab"));
        Assert.Equal("BusinessThrottled", throttled.ErrorId);
        Assert.Contains("(POST)", throttled.Message, StringComparison.Ordinal);
        Assert.Equal(before, Writes(fx));
    }
}

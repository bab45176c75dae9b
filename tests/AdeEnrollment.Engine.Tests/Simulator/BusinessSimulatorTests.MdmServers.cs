using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Tests.TestSupport;
using AdeEnrollment.Engine.Tokens;
using AdeEnrollment.Simulator;

namespace AdeEnrollment.Engine.Tests.Simulator;

/// <summary>
/// The device management service writes of the simulated Business API (POST, PATCH, DELETE /v1/mdmServers), the
/// default assignment of new org devices, and what they do on the DEP side (server name, token, sessions).
/// </summary>
public sealed partial class BusinessSimulatorTests
{
    private static X509Certificate2 RsaCertificate(RSA rsa, string subject = "CN=mdm")
        => new CertificateRequest(subject, rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));

    private static string Json(object value) => JsonSerializer.Serialize(value);

    private static string CreateBody(string name, string certificateData, bool? disown = null)
    {
        var attributes = new Dictionary<string, object> { ["serverName"] = name, ["serverCertificate"] = new { name = "mdm.cer", data = certificateData } };
        if (disown is { } d) attributes["enableMdmDisownFlag"] = d;
        return Json(new { data = new { type = "mdmServers", attributes } });
    }

    private static string PatchBody(string id, object attributes) => Json(new { data = new { type = "mdmServers", id, attributes } });

    private static string Code(JsonElement body) => body.GetProperty("errors")[0].GetProperty("code").GetString()!;

    private static string? Pointer(JsonElement body)
        => body.GetProperty("errors")[0].TryGetProperty("source", out var s) && s.TryGetProperty("pointer", out var p) ? p.GetString() : null;

    private static string IdOf(AdeSimServer server) => server.Uuid.Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();

    /// <summary>Creates a service over HTTP (201 checked); returns its id.</summary>
    private string Create(string token, string name, RSA rsa, bool? disown = null)
    {
        using var cert = RsaCertificate(rsa);
        var (status, body) = Api("POST", "v1/mdmServers", token, CreateBody(name, Convert.ToBase64String(cert.RawData), disown));
        Assert.Equal(HttpStatusCode.Created, status);
        return body.GetProperty("data").GetProperty("id").GetString()!;
    }

    private JsonElement Attributes(string token, string id)
    {
        var (status, body) = Api("GET", "v1/mdmServers/" + id, token);
        Assert.Equal(HttpStatusCode.OK, status);
        return body.GetProperty("data").GetProperty("attributes");
    }

    private static string[] Families(JsonElement attributes) => [.. attributes.GetProperty("defaultProductFamilies").EnumerateArray().Select(f => f.GetString()!)];

    /// <summary>The plaintext credentials of the server's next exported token, decrypted with the given key (as Export-AdeSimServerToken without -PublicKeyPath writes it).</summary>
    private ServerTokenContent ExportAndDecrypt(string server, X509Certificate2 certificate, RSA key)
    {
        sim.ExportServerToken(server, out var text);
        using var dir = new TempDirectory();
        var path = dir.File("token.p7m");
        File.WriteAllText(path, text);
        var plain = ServerTokenFile.Decrypt(path, ServerTokenFile.ReadEnvelope(path), certificate.ExportCertificatePem(), key.ExportPkcs8PrivateKey(), "the test");
        return ServerTokenFile.ParseContent(path, plain);
    }

    /// <summary>A DEP answer's text: its charset is Apple's "UTF8", which is no .NET encoding name.</summary>
    private static string DepText(HttpResponseMessage r) => System.Text.Encoding.UTF8.GetString(r.Content.ReadAsByteArrayAsync().GetAwaiter().GetResult());

    private HttpResponseMessage Dep(string path, string? session = null, string? authorization = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(sim.Uri, path));
        request.Headers.TryAddWithoutValidation("User-Agent", "SimTests/1.0");
        request.Headers.TryAddWithoutValidation("X-Server-Protocol-Version", "7");
        if (session is not null) request.Headers.TryAddWithoutValidation("X-ADM-Auth-Session", session);
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        return http.Send(request);
    }

    /// <summary>A DEP session from the token's credentials: its token, or null with the refusal when /session says no.</summary>
    private (string? Session, string Refusal) DepSession(string consumerKey, string consumerSecret, string accessToken, string accessSecret)
    {
        var parameters = new List<KeyValuePair<string, string>>
        {
            new("oauth_consumer_key", consumerKey),
            new("oauth_token", accessToken),
            new("oauth_signature_method", "HMAC-SHA1"),
            new("oauth_timestamp", time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
            new("oauth_nonce", OAuth1.NewNonce()),
            new("oauth_version", "1.0"),
        };
        parameters.Add(new("oauth_signature", OAuth1.Sign(OAuth1.BaseString("GET", new Uri(sim.Uri, "session"), parameters), consumerSecret, accessSecret)));
        using var r = Dep("session", authorization: OAuth1.AuthorizationHeader(parameters, "ADM"));
        var text = DepText(r);
        return r.StatusCode == HttpStatusCode.OK ? (JsonDocument.Parse(text).RootElement.GetProperty("auth_session_token").GetString(), "") : (null, text);
    }

    private string DepServerName(string session)
    {
        using var r = Dep("account", session);
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        return JsonDocument.Parse(DepText(r)).RootElement.GetProperty("server_name").GetString()!;
    }

    [Fact]
    public void Creating_a_service_answers_201_with_every_attribute_and_makes_a_DEP_server_whose_token_is_encrypted_to_the_certificate()
    {
        var token = AccessToken();
        using var rsa = RSA.Create(2048);
        using var cert = RsaCertificate(rsa);
        time.Advance(TimeSpan.FromMinutes(5)); // created "now", not at the simulator's start
        var (status, body) = Api("POST", "v1/mdmServers", token, CreateBody("Marketing MDM", Convert.ToBase64String(cert.RawData), disown: true));

        Assert.Equal(HttpStatusCode.Created, status);
        var data = body.GetProperty("data");
        var server = sim.GetServer("Marketing MDM"); // a real DEP server of the organisation
        var id = data.GetProperty("id").GetString()!;
        Assert.Equal(IdOf(server), id);
        Assert.Matches("^[0-9A-F]{32}$", id);
        Assert.Equal("mdmServers", data.GetProperty("type").GetString());
        var a = data.GetProperty("attributes");
        Assert.Equal("Marketing MDM", a.GetProperty("serverName").GetString());
        Assert.Equal("MDM", a.GetProperty("serverType").GetString());
        Assert.Equal("ACTIVE", a.GetProperty("status").GetString());
        Assert.Equal(0, a.GetProperty("deviceCount").GetInt32());
        Assert.True(a.GetProperty("enableMdmDisownFlag").GetBoolean());
        Assert.Empty(Families(a));
        Assert.Equal(time.GetUtcNow(), DateTimeOffset.Parse(a.GetProperty("createdDateTime").GetString()!, CultureInfo.InvariantCulture));
        Assert.Equal(time.GetUtcNow(), DateTimeOffset.Parse(a.GetProperty("updatedDateTime").GetString()!, CultureInfo.InvariantCulture));
        Assert.EndsWith("/v1/mdmServers/" + id, body.GetProperty("links").GetProperty("self").GetString(), StringComparison.Ordinal);
        Assert.Equal(server.OrgName, account.OrgName);

        // the listing and a single GET know it; enableMdmDisownFlag defaults to false when not sent
        Assert.Contains(Api("GET", "v1/mdmServers", token).Body.GetProperty("data").EnumerateArray(), s => s.GetProperty("id").GetString() == id);
        Assert.False(Attributes(token, Create(token, "Plain MDM", rsa)).GetProperty("enableMdmDisownFlag").GetBoolean());

        // the token download is encrypted to the uploaded certificate, and DEP knows the server by that name
        var content = ExportAndDecrypt("Marketing MDM", cert, rsa);
        Assert.Equal(sim.CredentialsOf("Marketing MDM").ConsumerKey, content.ConsumerKey);
        var (session, refusal) = DepSession(content.ConsumerKey, content.ConsumerSecret, content.AccessToken, content.AccessSecret);
        Assert.True(session is not null, refusal);
        Assert.Equal("Marketing MDM", DepServerName(session!));
        Assert.Contains(sim.GetRequests("/v1/mdmServers"), q => q.Method == "POST" && q.StatusCode == 201);
    }

    public static TheoryData<string, string> BadCreations => new()
    {
        { "json", "/data" },
        { "type", "/data/type" },
        { "no-name", "/data/attributes/serverName" },
        { "blank-name", "/data/attributes/serverName" },
        { "no-certificate", "/data/attributes/serverCertificate" },
        { "no-file-name", "/data/attributes/serverCertificate/name" },
        { "no-data", "/data/attributes/serverCertificate/data" },
        { "not-base64", "/data/attributes/serverCertificate/data" },
        { "not-a-certificate", "/data/attributes/serverCertificate/data" },
        { "pem-in-base64", "/data/attributes/serverCertificate/data" },
        { "ec-certificate", "/data/attributes/serverCertificate/data" },
        { "flag", "/data/attributes/enableMdmDisownFlag" },
    };

    [Theory]
    [MemberData(nameof(BadCreations))]
    public void Creating_a_service_refuses_a_bad_request_with_400_naming_the_attribute_and_creates_nothing(string fault, string pointer)
    {
        using var rsa = RSA.Create(2048);
        using var cert = RsaCertificate(rsa);
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ecCert = new CertificateRequest("CN=ec", ec, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var data = Convert.ToBase64String(cert.RawData);
        var body = fault switch
        {
            "json" => "{\"data\":{",
            "type" => CreateBody("X", data).Replace("\"mdmServers\"", "\"orgDevices\"", StringComparison.Ordinal),
            "no-name" => Json(new { data = new { type = "mdmServers", attributes = new { serverCertificate = new { name = "a.cer", data } } } }),
            "blank-name" => CreateBody("  ", data),
            "no-certificate" => Json(new { data = new { type = "mdmServers", attributes = new { serverName = "X" } } }),
            "no-file-name" => Json(new { data = new { type = "mdmServers", attributes = new { serverName = "X", serverCertificate = new { data } } } }),
            "no-data" => Json(new { data = new { type = "mdmServers", attributes = new { serverName = "X", serverCertificate = new { name = "a.cer" } } } }),
            "not-base64" => CreateBody("X", "not base64!"),
            "not-a-certificate" => CreateBody("X", Convert.ToBase64String(RandomNumberGenerator.GetBytes(300))),
            "pem-in-base64" => CreateBody("X", Convert.ToBase64String(System.Text.Encoding.ASCII.GetBytes(cert.ExportCertificatePem()))),
            "ec-certificate" => CreateBody("X", Convert.ToBase64String(ecCert.RawData)),
            "flag" => CreateBody("X", data).Replace("\"serverName\"", "\"enableMdmDisownFlag\":\"yes\",\"serverName\"", StringComparison.Ordinal),
            _ => throw new ArgumentOutOfRangeException(nameof(fault)),
        };

        var (status, answer) = Api("POST", "v1/mdmServers", body: body);

        Assert.Equal(HttpStatusCode.BadRequest, status);
        Assert.Equal("PARAMETER_ERROR.INVALID", Code(answer));
        Assert.Equal(pointer, Pointer(answer));
        Assert.Equal(0, sim.ServerCount);
    }

    [Fact]
    public void Creating_a_service_with_a_taken_name_is_409_and_the_School_host_refuses_every_write_with_403()
    {
        var token = AccessToken();
        using var rsa = RSA.Create(2048);
        var id = Create(token, "Intune", rsa);
        using var cert = RsaCertificate(rsa);
        var (status, body) = Api("POST", "v1/mdmServers", token, CreateBody("INTUNE", Convert.ToBase64String(cert.RawData)));
        Assert.Equal(HttpStatusCode.Conflict, status);
        Assert.Equal("ENTITY_ERROR.ATTRIBUTE.INVALID", Code(body));
        Assert.Equal("/data/attributes/serverName", Pointer(body));
        Assert.Equal(1, sim.ServerCount);

        // a read-only attribute on create is an entity error too
        var readOnly = CreateBody("Other", Convert.ToBase64String(cert.RawData)).Replace("\"serverName\"", "\"status\":\"ACTIVE\",\"serverName\"", StringComparison.Ordinal);
        Assert.Equal("/data/attributes/status", Pointer(Api("POST", "v1/mdmServers", token, readOnly).Body));

        sim.StrictApiHosts = false; // the same account on the School host
        foreach (var (method, path, json) in new[]
        {
            ("POST", "school/v1/mdmServers", CreateBody("School MDM", Convert.ToBase64String(cert.RawData))),
            ("PATCH", "school/v1/mdmServers/" + id, PatchBody(id, new { serverName = "Renamed" })),
            ("DELETE", "school/v1/mdmServers/" + id, null),
        })
        {
            var (s, b) = Api(method, path, token, json);
            Assert.Equal(HttpStatusCode.Forbidden, s);
            Assert.Equal("FORBIDDEN_ERROR", Code(b));
        }

        Assert.Equal("Intune", Assert.Single(sim.GetServers()).Name);
    }

    [Theory]
    [InlineData(409)]
    [InlineData(400)]
    [InlineData(422)]
    public void Refusals_Apples_state_explains_use_the_status_ConflictStatus_picks(int conflict)
    {
        sim.ConflictStatus = conflict;
        var token = AccessToken();
        using var rsa = RSA.Create(2048);
        using var cert = RsaCertificate(rsa);
        var id = Create(token, "Intune", rsa);
        sim.AddDevices("Intune", 1);
        var duplicate = Api("POST", "v1/mdmServers", token, CreateBody("INTUNE", Convert.ToBase64String(cert.RawData)));
        var withDevices = Api("DELETE", "v1/mdmServers/" + id, token);
        var otherId = Api("PATCH", "v1/mdmServers/" + id, token, PatchBody("0000", new { enableMdmDisownFlag = true }));
        Assert.All([duplicate, withDevices, otherId], r => Assert.Equal((HttpStatusCode)conflict, r.Status));
        Assert.Equal("/data/attributes/serverName", Pointer(duplicate.Body));
        Assert.Equal("ENTITY_ERROR", Code(withDevices.Body));
        Assert.Single(sim.GetDevices("Intune"));
    }

    [Fact]
    public void The_server_listing_may_carry_device_linkages_and_paging_may_show_Apples_default_limit_instead_of_the_one_asked()
    {
        var token = AccessToken();
        using var rsa = RSA.Create(2048);
        Create(token, "Intune", rsa);
        sim.AddDevices("Intune", 12);
        JsonElement Devices(JsonElement listing) => listing.GetProperty("data").EnumerateArray().Single(s => s.GetProperty("attributes").GetProperty("serverName").GetString() == "Intune").GetProperty("relationships").GetProperty("devices");

        var plain = Devices(Api("GET", "v1/mdmServers?limit=1000", token).Body);
        Assert.False(plain.TryGetProperty("data", out _));
        sim.ServerDevicesLinkage = true;
        var linked = Devices(Api("GET", "v1/mdmServers?limit=1000", token).Body);
        Assert.Equal(10, linked.GetProperty("data").GetArrayLength());
        Assert.Equal(10, linked.GetProperty("meta").GetProperty("paging").GetProperty("limit").GetInt32());
        Assert.True(linked.GetProperty("links").TryGetProperty("self", out _));

        Assert.Equal(2, Api("GET", "v1/mdmServers/" + IdOf(sim.GetServer("Intune")) + "/relationships/devices?limit=2", token).Body.GetProperty("meta").GetProperty("paging").GetProperty("limit").GetInt32());
        sim.PagingLimitAsAsked = false;
        var page = Api("GET", "v1/mdmServers/" + IdOf(sim.GetServer("Intune")) + "/relationships/devices?limit=2", token).Body;
        Assert.Equal((2, 100), (page.GetProperty("data").GetArrayLength(), page.GetProperty("meta").GetProperty("paging").GetProperty("limit").GetInt32()));
    }

    [Fact]
    public void Patch_changes_only_what_is_given_and_a_rename_is_the_DEP_server_name_with_devices_tokens_and_sessions_kept()
    {
        var token = AccessToken();
        using var rsa = RSA.Create(2048);
        using var cert = RsaCertificate(rsa);
        var id = Create(token, "Intune", rsa);
        sim.AddDevices("Intune", 2);
        var content = ExportAndDecrypt("Intune", cert, rsa);
        var (session, refusal) = DepSession(content.ConsumerKey, content.ConsumerSecret, content.AccessToken, content.AccessSecret);
        Assert.True(session is not null, refusal);
        var created = Attributes(token, id).GetProperty("updatedDateTime").GetString();

        // the flag alone: the name stays, updatedDateTime moves
        time.Advance(TimeSpan.FromMinutes(1));
        var (status, body) = Api("PATCH", "v1/mdmServers/" + id, token, PatchBody(id, new { enableMdmDisownFlag = true }));
        Assert.Equal(HttpStatusCode.OK, status);
        var a = body.GetProperty("data").GetProperty("attributes");
        Assert.Equal("Intune", a.GetProperty("serverName").GetString());
        Assert.True(a.GetProperty("enableMdmDisownFlag").GetBoolean());
        Assert.Equal(2, a.GetProperty("deviceCount").GetInt32());
        Assert.Equal(time.GetUtcNow(), DateTimeOffset.Parse(a.GetProperty("updatedDateTime").GetString()!, CultureInfo.InvariantCulture));
        Assert.Equal(created, a.GetProperty("createdDateTime").GetString());

        // nothing changed: updatedDateTime stays
        time.Advance(TimeSpan.FromMinutes(1));
        Assert.Equal(a.GetProperty("updatedDateTime").GetString(), Api("PATCH", "v1/mdmServers/" + id, token, PatchBody(id, new { enableMdmDisownFlag = true })).Body.GetProperty("data").GetProperty("attributes").GetProperty("updatedDateTime").GetString());

        // a rename: DEP /account says the new name in the open session, the token still opens sessions, the devices stay
        Assert.Equal(HttpStatusCode.OK, Api("PATCH", "v1/mdmServers/" + id.ToLowerInvariant(), token, PatchBody(id, new { serverName = "Intune EU" })).Status);
        Assert.Equal("Intune EU", DepServerName(session!));
        var (again, _) = DepSession(content.ConsumerKey, content.ConsumerSecret, content.AccessToken, content.AccessSecret);
        Assert.Equal("Intune EU", DepServerName(again!));
        Assert.Equal(2, sim.GetDevices("Intune EU").Count);
        Assert.All(sim.GetOrgDevices(), d => Assert.Equal("Intune EU", d.AssignedServer));
        Assert.Throws<AdeEnrollment.Simulator.AdeSimException>(() => sim.GetServer("Intune"));
        Assert.Equal("Intune EU", Attributes(token, id).GetProperty("serverName").GetString());
    }

    [Fact]
    public void Patch_replaces_the_certificate_the_next_token_is_encrypted_to()
    {
        var token = AccessToken();
        using var first = RSA.Create(2048);
        using var firstCert = RsaCertificate(first);
        using var second = RSA.Create(2048);
        using var secondCert = RsaCertificate(second, "CN=second");
        var id = Create(token, "Intune", first);

        var (status, _) = Api("PATCH", "v1/mdmServers/" + id, token, PatchBody(id, new { serverCertificate = new { name = "new.cer", data = Convert.ToBase64String(secondCert.RawData) } }));

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(sim.CredentialsOf("Intune").ConsumerKey, ExportAndDecrypt("Intune", secondCert, second).ConsumerKey);
        Assert.ThrowsAny<Exception>(() => ExportAndDecrypt("Intune", firstCert, first));
        using var ec = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ecCert = new CertificateRequest("CN=ec", ec, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        var refused = Api("PATCH", "v1/mdmServers/" + id, token, PatchBody(id, new { serverCertificate = new { name = "ec.cer", data = Convert.ToBase64String(ecCert.RawData) } }));
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("/data/attributes/serverCertificate/data", Pointer(refused.Body));
        Assert.Equal(sim.CredentialsOf("Intune").ConsumerKey, ExportAndDecrypt("Intune", secondCert, second).ConsumerKey);
    }

    [Fact]
    public void Patch_refuses_read_only_attributes_a_mismatched_id_a_taken_name_an_unknown_family_and_an_unknown_server()
    {
        var token = AccessToken();
        using var rsa = RSA.Create(2048);
        var id = Create(token, "Intune", rsa);
        Create(token, "Jamf", rsa);

        foreach (var field in new[] { "serverType", "status", "deviceCount", "createdDateTime", "updatedDateTime", "lastConnectedDateTime", "lastConnectedIp" })
        {
            var (s, b) = Api("PATCH", "v1/mdmServers/" + id, token, PatchBody(id, new Dictionary<string, object> { [field] = "x", ["serverName"] = "Changed" }));
            Assert.Equal(HttpStatusCode.Conflict, s);
            Assert.Equal("ENTITY_ERROR.ATTRIBUTE.INVALID", Code(b));
            Assert.Equal("/data/attributes/" + field, Pointer(b));
        }

        var other = "0123456789ABCDEF0123456789ABCDEF";
        var mismatch = Api("PATCH", "v1/mdmServers/" + id, token, PatchBody(other, new { serverName = "Changed" }));
        Assert.Equal(HttpStatusCode.Conflict, mismatch.Status);
        Assert.Equal("/data/id", Pointer(mismatch.Body));

        var taken = Api("PATCH", "v1/mdmServers/" + id, token, PatchBody(id, new { serverName = "jamf" }));
        Assert.Equal(HttpStatusCode.Conflict, taken.Status);
        Assert.Equal("/data/attributes/serverName", Pointer(taken.Body));

        var family = Api("PATCH", "v1/mdmServers/" + id, token, PatchBody(id, new { serverName = "Changed", defaultProductFamilies = new[] { "IPHONE", "TOASTER" } }));
        Assert.Equal(HttpStatusCode.BadRequest, family.Status);
        Assert.Equal("PARAMETER_ERROR.INVALID", Code(family.Body));

        var unknown = Api("PATCH", "v1/mdmServers/" + other, token, PatchBody(other, new { serverName = "Changed" }));
        Assert.Equal(HttpStatusCode.NotFound, unknown.Status);
        Assert.Equal("NOT_FOUND", Code(unknown.Body));

        // none of the refused requests changed anything
        Assert.Equal("Intune", Attributes(token, id).GetProperty("serverName").GetString());
        Assert.Empty(Families(Attributes(token, id)));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Default_families_are_one_services_at_a_time_or_shared_and_null_or_empty_clears_them(bool exclusive)
    {
        sim.ExclusiveDefaultFamilies = exclusive;
        var token = AccessToken();
        using var rsa = RSA.Create(2048);
        var a = Create(token, "A MDM", rsa);
        var b = Create(token, "B MDM", rsa);

        var (status, body) = Api("PATCH", "v1/mdmServers/" + a, token, PatchBody(a, new { defaultProductFamilies = new[] { "iphone", "Mac", "IPHONE" } }));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal(["IPHONE", "MAC"], Families(body.GetProperty("data").GetProperty("attributes")));
        Assert.Equal(HttpStatusCode.OK, Api("PATCH", "v1/mdmServers/" + b, token, PatchBody(b, new { defaultProductFamilies = new[] { "IPHONE", "APPLE_TV" } })).Status);

        Assert.Equal(exclusive ? new[] { "MAC" } : new[] { "IPHONE", "MAC" }, Families(Attributes(token, a)));
        Assert.Equal(["APPLE_TV", "IPHONE"], Families(Attributes(token, b)));

        // a new iPhone goes to the one default server, or to the first by name when both list the family
        var phone = Assert.Single(sim.AddOrgDevices(1, productFamily: "iPhone"));
        Assert.Equal(exclusive ? "B MDM" : "A MDM", phone.AssignedServer);

        Assert.Empty(Families(Api("PATCH", "v1/mdmServers/" + a, token, PatchBody(a, new { defaultProductFamilies = (string[]?)null })).Body.GetProperty("data").GetProperty("attributes")));
        Assert.Empty(Families(Api("PATCH", "v1/mdmServers/" + b, token, PatchBody(b, new { defaultProductFamilies = Array.Empty<string>() })).Body.GetProperty("data").GetProperty("attributes")));
        Assert.Equal("UNASSIGNED", Assert.Single(sim.AddOrgDevices(1, productFamily: "iPhone")).Status);
    }

    [Fact]
    public void A_new_org_device_of_a_default_family_is_assigned_to_that_server_without_an_activity_after_the_DEP_delay()
    {
        var token = AccessToken();
        using var rsa = RSA.Create(2048);
        var id = Create(token, "Tablets", rsa);
        Assert.Equal(HttpStatusCode.OK, Api("PATCH", "v1/mdmServers/" + id, token, PatchBody(id, new { defaultProductFamilies = new[] { "IPAD" } })).Status);

        var ipad = Assert.Single(sim.AddOrgDevices(1, productFamily: "iPad"));
        var mac = Assert.Single(sim.AddOrgDevices(1, productFamily: "Mac"));

        Assert.Equal("ASSIGNED", ipad.Status);
        Assert.Equal("Tablets", ipad.AssignedServer);
        Assert.Equal("UNASSIGNED", mac.Status);
        var dep = Assert.Single(sim.GetDevices("Tablets"));
        Assert.Equal((ipad.SerialNumber, "iPad"), (dep.SerialNumber, dep.DeviceFamily));
        Assert.Equal(1, Attributes(token, id).GetProperty("deviceCount").GetInt32());
        Assert.Equal(id, Api("GET", "v1/orgDevices/" + ipad.SerialNumber + "/relationships/assignedServer", token).Body.GetProperty("data").GetProperty("id").GetString());
        Assert.DoesNotContain(sim.GetRequests(), q => q.Path.StartsWith("/v1/orgDeviceActivities", StringComparison.Ordinal));

        // with a DEP visibility delay the device arrives on the DEP side only once it has passed
        sim.DepVisibilityDelay = TimeSpan.FromSeconds(30);
        var late = Assert.Single(sim.AddOrgDevices(1, productFamily: "iPad"));
        Assert.Equal("UNASSIGNED", late.Status);
        Assert.DoesNotContain(sim.GetDevices("Tablets"), d => d.SerialNumber == late.SerialNumber);
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal(2, Attributes(token, id).GetProperty("deviceCount").GetInt32()); // a request applies the due move
        Assert.Contains(sim.GetDevices("Tablets"), d => d.SerialNumber == late.SerialNumber);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Delete_is_204_refused_with_409_while_devices_are_on_it_and_afterwards_the_service_is_gone_or_listed_as_deleted(bool listDeleted)
    {
        sim.ListDeletedServers = listDeleted;
        var token = AccessToken();
        using var rsa = RSA.Create(2048);
        using var cert = RsaCertificate(rsa);
        var id = Create(token, "Intune", rsa);
        var device = Assert.Single(sim.AddDevices("Intune", 1));
        var content = ExportAndDecrypt("Intune", cert, rsa);
        var (session, _) = DepSession(content.ConsumerKey, content.ConsumerSecret, content.AccessToken, content.AccessSecret);

        var (busy, busyBody) = Api("DELETE", "v1/mdmServers/" + id, token);
        Assert.Equal(HttpStatusCode.Conflict, busy);
        Assert.Equal("ENTITY_ERROR", Code(busyBody));
        Assert.Contains("Unassign", busyBody.GetProperty("errors")[0].GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("ACTIVE", Attributes(token, id).GetProperty("status").GetString());

        sim.RemoveDevice("Intune", device.SerialNumber);
        using (var request = new HttpRequestMessage(HttpMethod.Delete, new Uri(sim.Uri, "v1/mdmServers/" + id)))
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
            using var r = http.Send(request);
            Assert.Equal(HttpStatusCode.NoContent, r.StatusCode);
            Assert.Empty(Text(r));
        }

        Assert.Equal(HttpStatusCode.NotFound, Api("DELETE", "v1/mdmServers/" + id, token).Status);
        Assert.Equal(HttpStatusCode.NotFound, Api("PATCH", "v1/mdmServers/" + id, token, PatchBody(id, new { serverName = "Back" })).Status);
        var listed = Api("GET", "v1/mdmServers?fields[mdmServers]=serverName,status", token).Body.GetProperty("data").EnumerateArray().ToList();
        if (listDeleted)
        {
            Assert.Equal("DELETED", Assert.Single(listed).GetProperty("attributes").GetProperty("status").GetString());
            Assert.Equal("DELETED", Attributes(token, id).GetProperty("status").GetString());
        }
        else
        {
            Assert.Empty(listed);
            Assert.Equal(HttpStatusCode.NotFound, Api("GET", "v1/mdmServers/" + id, token).Status);
        }

        // activities to it are refused, its DEP token and sessions no longer work, and its name stays taken
        var org = Assert.Single(sim.AddOrgDevices(1));
        var assign = "{\"data\":{\"type\":\"orgDeviceActivities\",\"attributes\":{\"activityType\":\"ASSIGN_DEVICES\"},\"relationships\":{\"mdmServer\":{\"data\":{\"type\":\"mdmServers\",\"id\":\"" + id
            + "\"}},\"devices\":{\"data\":[{\"type\":\"orgDevices\",\"id\":\"" + org.SerialNumber + "\"}]}}}}";
        Assert.Equal(HttpStatusCode.Conflict, Api("POST", "v1/orgDeviceActivities", token, assign).Status);
        using (var r = Dep("account", session))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, r.StatusCode);
        }

        Assert.Null(DepSession(content.ConsumerKey, content.ConsumerSecret, content.AccessToken, content.AccessSecret).Session);
        Assert.Equal(HttpStatusCode.Conflict, Api("POST", "v1/mdmServers", token, CreateBody("Intune", Convert.ToBase64String(cert.RawData))).Status);
        Assert.Equal(["POST", "DELETE", "DELETE", "DELETE", "PATCH", "POST"], sim.GetRequests("/v1/mdmServers*").Where(q => q.Method != "GET").Select(q => q.Method));
    }

    [Fact]
    public void A_service_is_not_deleted_while_devices_assigned_to_it_wait_for_the_DEP_visibility_delay()
    {
        var token = AccessToken();
        using var rsa = RSA.Create(2048);
        var id = Create(token, "Intune", rsa);
        sim.DepVisibilityDelay = TimeSpan.FromMinutes(5);
        var serial = Assert.Single(sim.AddOrgDevices(1)).SerialNumber;
        var assign = "{\"data\":{\"type\":\"orgDeviceActivities\",\"attributes\":{\"activityType\":\"ASSIGN_DEVICES\"},\"relationships\":{\"mdmServer\":{\"data\":{\"type\":\"mdmServers\",\"id\":\"" + id
            + "\"}},\"devices\":{\"data\":[{\"type\":\"orgDevices\",\"id\":\"" + serial + "\"}]}}}}";
        var activity = Api("POST", "v1/orgDeviceActivities", token, assign).Body.GetProperty("data").GetProperty("id").GetString();
        time.Advance(sim.ActivityDuration);
        Assert.Equal("COMPLETED", Api("GET", "v1/orgDeviceActivities/" + activity, token).Body.GetProperty("data").GetProperty("attributes").GetProperty("status").GetString());
        Assert.Empty(sim.GetDevices("Intune")); // the DEP side does not show it yet

        var (busy, body) = Api("DELETE", "v1/mdmServers/" + id, token);
        Assert.Equal(HttpStatusCode.Conflict, busy);
        Assert.Contains("(1 devices)", body.GetProperty("errors")[0].GetProperty("detail").GetString(), StringComparison.Ordinal);
        var portal = Assert.ThrowsAny<Exception>(() => sim.DeleteMdmServer("Intune"));
        Assert.Contains("1 devices are still on the server", portal.Message, StringComparison.Ordinal);

        time.Advance(TimeSpan.FromMinutes(5));
        Assert.Equal(HttpStatusCode.Conflict, Api("DELETE", "v1/mdmServers/" + id, token).Status);
        Assert.Equal(serial, Assert.Single(sim.GetDevices("Intune")).SerialNumber); // it arrived on a live server
    }

    [Fact]
    public void An_activity_still_running_when_its_service_is_deleted_fails_its_devices()
    {
        var token = AccessToken();
        using var rsa = RSA.Create(2048);
        var id = Create(token, "Intune", rsa);
        var serial = Assert.Single(sim.AddOrgDevices(1)).SerialNumber;
        var assign = "{\"data\":{\"type\":\"orgDeviceActivities\",\"attributes\":{\"activityType\":\"ASSIGN_DEVICES\"},\"relationships\":{\"mdmServer\":{\"data\":{\"type\":\"mdmServers\",\"id\":\"" + id
            + "\"}},\"devices\":{\"data\":[{\"type\":\"orgDevices\",\"id\":\"" + serial + "\"}]}}}}";
        var activity = Api("POST", "v1/orgDeviceActivities", token, assign).Body.GetProperty("data").GetProperty("id").GetString();
        Assert.Equal(HttpStatusCode.NoContent, Api("DELETE", "v1/mdmServers/" + id, token).Status);

        time.Advance(sim.ActivityDuration);
        var done = Api("GET", "v1/orgDeviceActivities/" + activity, token).Body.GetProperty("data").GetProperty("attributes");

        Assert.Equal("COMPLETED_WITH_ERROR", done.GetProperty("subStatus").GetString());
        Assert.Contains($"{serial},FAILED,MDM_SERVER_NOT_FOUND", Download(done.GetProperty("downloadUrl").GetString()!).Text, StringComparison.Ordinal);
        Assert.Equal("UNASSIGNED", Assert.Single(sim.GetOrgDevices()).Status);
    }

    [Fact]
    public void The_three_writes_spend_the_hourly_write_budget_with_activities()
    {
        var token = AccessToken();
        using var rsa = RSA.Create(2048);
        sim.BusinessPostsPerHour = 3;
        var id = Create(token, "Intune", rsa);
        Assert.Equal(HttpStatusCode.OK, Api("PATCH", "v1/mdmServers/" + id, token, PatchBody(id, new { enableMdmDisownFlag = true })).Status);
        Assert.Equal(HttpStatusCode.OK, Api("GET", "v1/mdmServers/" + id, token).Status); // reads spend the other budget

        Assert.Equal(HttpStatusCode.NoContent, Api("DELETE", "v1/mdmServers/" + id, token).Status);
        var (status, body) = Api("POST", "v1/orgDeviceActivities", token, "{}");

        Assert.Equal((HttpStatusCode)429, status);
        Assert.Equal("RATE_LIMIT_EXCEEDED", Code(body));
        Assert.Equal((HttpStatusCode)429, Api("PATCH", "v1/mdmServers/" + id, token, PatchBody(id, new { enableMdmDisownFlag = false })).Status);
        time.Advance(TimeSpan.FromHours(1));
        Assert.Equal(HttpStatusCode.BadRequest, Api("POST", "v1/orgDeviceActivities", body: "{}").Status); // a new access token: the old one expired with the hour
    }
}

using System.Globalization;
using System.Net;
using System.Text;
using System.Text.Json;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Simulator;
using Xunit;

namespace AdeEnrollment.Engine.Tests.Simulator;

/// <summary>The simulator rejects what Apple rejects: each validation rule, checked with raw HTTP.</summary>
public sealed class SimulatorRuleTests : IDisposable
{
    private readonly SimulatorFixture f = new();
    private readonly HttpClient http = new();

    public void Dispose()
    {
        http.Dispose();
        f.Dispose();
    }

    private sealed record Reply(int Status, string Body)
    {
        public JsonElement Json => JsonDocument.Parse(Body).RootElement;
    }

    private async Task<Reply> Send(string method, string path, string? body = null, string? session = null, string? userAgent = "SimTests/1.0",
        string? authorization = null, int? version = 10)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(f.Simulator.Uri, path));
        if (userAgent is not null) request.Headers.TryAddWithoutValidation("User-Agent", userAgent);
        if (version is not null) request.Headers.TryAddWithoutValidation("X-Server-Protocol-Version", version.Value.ToString(CultureInfo.InvariantCulture));
        if (session is not null) request.Headers.TryAddWithoutValidation("X-ADM-Auth-Session", session);
        if (authorization is not null) request.Headers.TryAddWithoutValidation("Authorization", authorization);
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var response = await http.SendAsync(request);
        return new Reply((int)response.StatusCode, Encoding.UTF8.GetString(await response.Content.ReadAsByteArrayAsync())); // "charset=UTF8" is Apple's spelling, not a .NET encoding name
    }

    /// <summary>A signed /session Authorization header; the parts can be spoiled one at a time.</summary>
    private string OAuthHeader(string? realm = "ADM", string? nonce = null, long? timestamp = null, string method = "HMAC-SHA1",
        string? consumerSecret = null, IEnumerable<KeyValuePair<string, string>>? extra = null, bool includeVersion = true, string? token = null)
    {
        var c = f.Credentials();
        var parameters = new List<KeyValuePair<string, string>>
        {
            new("oauth_consumer_key", c.ConsumerKey),
            new("oauth_token", token ?? c.AccessToken),
            new("oauth_signature_method", method),
            new("oauth_timestamp", (timestamp ?? f.Time.GetUtcNow().ToUnixTimeSeconds()).ToString(CultureInfo.InvariantCulture)),
            new("oauth_nonce", nonce ?? OAuth1.NewNonce()),
        };
        if (includeVersion) parameters.Add(new("oauth_version", "1.0"));
        parameters.AddRange(extra ?? []);
        var signature = OAuth1.Sign(OAuth1.BaseString("GET", new Uri(f.Simulator.Uri, "session"), parameters), consumerSecret ?? c.ConsumerSecret, c.AccessSecret);
        parameters.Add(new("oauth_signature", signature));
        return OAuth1.AuthorizationHeader(parameters, realm);
    }

    private async Task<string> NewSession()
    {
        var reply = await Send("GET", "session", authorization: OAuthHeader());
        Assert.Equal(200, reply.Status);
        return reply.Json.GetProperty("auth_session_token").GetString()!;
    }

    [Fact]
    public async Task UserAgentIsRequired()
    {
        Assert.Equal(new Reply(400, "USER_AGENT_MISSING"), await Send("GET", "session", userAgent: null, authorization: OAuthHeader()));
        Assert.Equal(new Reply(400, "USER_AGENT_MISSING"), await Send("GET", "account", userAgent: null));
        Assert.Equal(new Reply(400, "USER_AGENT_INVALID"), await Send("GET", "account", userAgent: "nanodep-godep/0"));
    }

    [Theory]
    [InlineData("ADM")]
    [InlineData(null)]
    public async Task SessionAcceptsASignatureWithOrWithoutRealm(string? realm)
    {
        var reply = await Send("GET", "session", authorization: OAuthHeader(realm));
        Assert.Equal(200, reply.Status);
        Assert.False(string.IsNullOrEmpty(reply.Json.GetProperty("auth_session_token").GetString()));
        Assert.Equal(200, (await Send("GET", "session", authorization: OAuthHeader(realm, includeVersion: false))).Status); // oauth_version is optional
    }

    [Fact]
    public async Task SessionRefusesBadOAuth()
    {
        var c = f.Credentials();
        Assert.Equal(new Reply(400, "oauth_problem=parameter_absent"), await Send("GET", "session"));
        Assert.Equal(new Reply(400, "oauth_problem=parameter_rejected"), await Send("GET", "session",
            authorization: OAuthHeader(extra: [new("oauth_nonce", "twice")])));
        Assert.Equal(new Reply(400, "oauth_problem=parameter_rejected"), await Send("GET", "session",
            authorization: OAuthHeader(extra: [new("oauth_callback", "oob")])));
        Assert.Equal(new Reply(400, "oauth_problem=signature_method_rejected"), await Send("GET", "session", authorization: OAuthHeader(method: "PLAINTEXT")));
        Assert.Equal(new Reply(400, "oauth_problem=parameter_absent"), await Send("GET", "session",
            authorization: $"OAuth oauth_consumer_key=\"{c.ConsumerKey}\", oauth_token=\"{c.AccessToken}\""));
        Assert.Equal(new Reply(401, "oauth_problem=signature_invalid"), await Send("GET", "session", authorization: OAuthHeader(consumerSecret: "CS_wrong")));
        Assert.Equal(new Reply(401, "oauth_problem=token_rejected"), await Send("GET", "session", authorization: OAuthHeader(token: "AT_unknown")));
        Assert.Equal(405, (await Send("POST", "session", "{}", authorization: OAuthHeader())).Status);
    }

    [Fact]
    public async Task SessionRefusesAReusedNonce()
    {
        Assert.Equal(200, (await Send("GET", "session", authorization: OAuthHeader(nonce: "n1"))).Status);
        Assert.Equal(new Reply(401, "oauth_problem=nonce_used"), await Send("GET", "session", authorization: OAuthHeader(nonce: "n1")));
    }

    [Theory]
    [InlineData(-301)]
    [InlineData(301)]
    public async Task SessionRefusesAClockSkewOfMoreThanFiveMinutes(int seconds)
    {
        var skewed = f.Time.GetUtcNow().ToUnixTimeSeconds() + seconds;
        Assert.Equal(new Reply(401, "oauth_problem=timestamp_refused"), await Send("GET", "session", authorization: OAuthHeader(timestamp: skewed)));
        Assert.Equal(200, (await Send("GET", "session", authorization: OAuthHeader(timestamp: skewed - Math.Sign(seconds) * 60))).Status);
    }

    [Fact]
    public async Task EndpointsNeedAValidSession()
    {
        Assert.Equal(new Reply(401, "UNAUTHORIZED"), await Send("GET", "account"));
        Assert.Equal(new Reply(401, "UNAUTHORIZED"), await Send("GET", "account", session: "made-up"));
        var session = await NewSession();
        Assert.Equal(200, (await Send("GET", "account", session: session)).Status);
        f.Time.Advance(f.Simulator.SessionLifetime + TimeSpan.FromSeconds(1));
        Assert.Equal(new Reply(401, "UNAUTHORIZED"), await Send("GET", "account", session: session));
    }

    [Fact]
    public async Task ANewTokenDownloadEndsTheOldTokenAndItsSessions()
    {
        var oldHeader = OAuthHeader();
        var session = await NewSession();
        var server = f.Simulator.ExportServerToken(f.ServerName, out var p7m);
        Assert.Equal(2, server.TokenVersion);
        Assert.StartsWith("Content-Type: application/pkcs7-mime", p7m, StringComparison.Ordinal);
        Assert.Equal(401, (await Send("GET", "account", session: session)).Status);
        Assert.Equal(new Reply(401, "oauth_problem=token_rejected"), await Send("GET", "session", authorization: oldHeader));
        Assert.Equal(200, (await Send("GET", "session", authorization: OAuthHeader())).Status);
        Assert.Equal(server.ConsumerKey, f.Simulator.GetServer(f.ServerName).ConsumerKey); // the MDM server keeps its consumer key
    }

    [Fact]
    public async Task UnknownPathsAndMethods()
    {
        var session = await NewSession();
        Assert.Equal(new Reply(404, "NOT_FOUND"), await Send("GET", "nothing-here", session: session));
        Assert.Equal(new Reply(405, "METHOD_NOT_ALLOWED"), await Send("GET", "server/devices", session: session));
        Assert.Equal(new Reply(405, "METHOD_NOT_ALLOWED"), await Send("PATCH", "profile/devices", "{}", session: session));
    }

    [Fact]
    public async Task MalformedBodies()
    {
        var session = await NewSession();
        Assert.Equal(new Reply(400, "MALFORMED_REQUEST_BODY"), await Send("POST", "server/devices", "{not json", session: session));
        Assert.Equal(new Reply(400, "MALFORMED_REQUEST_BODY"), await Send("POST", "server/devices", "[1]", session: session));
        Assert.Equal(new Reply(400, "MALFORMED_REQUEST_BODY"), await Send("POST", "server/devices", "{\"limit\":\"ten\"}", session: session));
        Assert.Equal(new Reply(400, "MALFORMED_REQUEST_BODY"), await Send("POST", "profile", "", session: session));
        Assert.Equal(new Reply(400, "FLAGS_INVALID"), await Send("POST", "profile", "{\"profile_name\":\"p\",\"url\":\"https://x.example\",\"is_supervised\":\"yes\"}", session: session));
        Assert.Equal(new Reply(400, "MALFORMED_REQUEST_BODY"), await Send("POST", "profile", "{\"profile_name\":\"p\",\"url\":\"https://x.example\",\"skip_setup_items\":\"Siri\"}", session: session));
    }

    [Fact]
    public async Task PageLimitDefaultsTo100AndIsCappedAt1000()
    {
        f.Simulator.AddDevices(f.ServerName, 1200);
        var session = await NewSession();
        Assert.Equal(100, (await Send("POST", "server/devices", "{}", session: session)).Json.GetProperty("devices").GetArrayLength());
        Assert.Equal(100, (await Send("POST", "server/devices", "", session: session)).Json.GetProperty("devices").GetArrayLength());
        Assert.Equal(1000, (await Send("POST", "server/devices", "{\"limit\":5000}", session: session)).Json.GetProperty("devices").GetArrayLength());
        Assert.Equal(7, (await Send("POST", "server/devices", "{\"limit\":7}", session: session)).Json.GetProperty("devices").GetArrayLength());
    }

    [Fact]
    public async Task SyncCursorRules()
    {
        var session = await NewSession();
        Assert.Equal(new Reply(400, "CURSOR_REQUIRED"), await Send("POST", "devices/sync", "{}", session: session));
        Assert.Equal(new Reply(400, "INVALID_CURSOR"), await Send("POST", "devices/sync", "{\"cursor\":\"MTY1NzE3MTU3Mi0w\"}", session: session));
        Assert.Equal(new Reply(400, "INVALID_CURSOR"), await Send("POST", "devices/sync", "{\"cursor\":42}", session: session));
        var cursor = (await Send("POST", "server/devices", "{}", session: session)).Json.GetProperty("cursor").GetString();
        var tampered = cursor![..^2] + (cursor[^2] == 'A' ? "B" : "A") + cursor[^1];
        Assert.Equal(new Reply(400, "INVALID_CURSOR"), await Send("POST", "devices/sync", $"{{\"cursor\":\"{tampered}\"}}", session: session));
        Assert.Equal(200, (await Send("POST", "devices/sync", $"{{\"cursor\":\"{cursor}\"}}", session: session)).Status);

        f.Time.Advance(AdeSimulator.CursorLifetime + TimeSpan.FromSeconds(1));
        session = await NewSession();
        Assert.Equal(new Reply(400, "EXPIRED_CURSOR"), await Send("POST", "devices/sync", $"{{\"cursor\":\"{cursor}\"}}", session: session));
    }

    [Fact]
    public async Task ErrorBodiesCanBeQuotedLikeDepsim()
    {
        f.Simulator.QuoteErrorBodies = true;
        var session = await NewSession();
        Assert.Equal(new Reply(400, "\"CURSOR_REQUIRED\""), await Send("POST", "devices/sync", "{}", session: session));
    }

    [Fact]
    public async Task DeviceListRules()
    {
        var session = await NewSession();
        var uuid = (await Send("POST", "profile", "{\"profile_name\":\"p\",\"url\":\"https://x.example\"}", session: session)).Json.GetProperty("profile_uuid").GetString();
        Assert.Matches("^[0-9A-F]{32}$", uuid);
        var many = JsonSerializer.Serialize(Enumerable.Range(0, 1001).Select(i => $"SN{i:D8}"));
        Assert.Equal(new Reply(400, "DEVICE_LIMIT_EXCEEDED"), await Send("PUT", "profile/devices", $"{{\"profile_uuid\":\"{uuid}\",\"devices\":{many}}}", session: session));
        Assert.Equal(new Reply(400, "DEVICE_LIMIT_EXCEEDED"), await Send("DELETE", "profile/devices", $"{{\"devices\":{many}}}", session: session));
        Assert.Equal(new Reply(400, "DEVICE_LIMIT_EXCEEDED"), await Send("POST", "devices", $"{{\"devices\":{many}}}", session: session));
        Assert.Equal(new Reply(400, "DEVICE_ID_REQUIRED"), await Send("POST", "profile/devices", $"{{\"profile_uuid\":\"{uuid}\",\"devices\":[]}}", session: session));
        Assert.Equal(new Reply(400, "DEVICE_ID_REQUIRED"), await Send("POST", "devices/disown", "{}", session: session));
        Assert.Equal(new Reply(400, "DEVICE_ID_REQUIRED"), await Send("DELETE", "profile/devices", "", session: session));
        Assert.Equal(new Reply(400, "PROFILE_UUID_REQUIRED"), await Send("POST", "profile/devices", "{\"devices\":[\"A\"]}", session: session));
        Assert.Equal(new Reply(400, "PROFILE_UUID_REQUIRED"), await Send("GET", "profile", session: session));
        Assert.Equal(new Reply(404, "PROFILE_NOT_FOUND"), await Send("GET", "profile?profile_uuid=FFFF", session: session));
        Assert.Equal(new Reply(404, "PROFILE_NOT_FOUND"), await Send("POST", "profile/devices", "{\"profile_uuid\":\"FFFF\",\"devices\":[\"A\"]}", session: session));
    }

    [Theory]
    [InlineData(8, "FAILED", false)]
    [InlineData(9, "THROTTLED", false)]
    [InlineData(10, "THROTTLED", true)]
    public async Task ThrottledNeedsProtocol9AndRetryAfterNeeds10(int version, string expected, bool retryAfter)
    {
        var serial = f.Simulator.AddDevices(f.ServerName, 1)[0].SerialNumber;
        f.Simulator.SetDeviceOutcome(f.ServerName, serial, "Throttled", retryAfterSeconds: 120);
        var session = await NewSession();
        var uuid = (await Send("POST", "profile", "{\"profile_name\":\"p\",\"url\":\"https://x.example\"}", session: session)).Json.GetProperty("profile_uuid").GetString();
        var reply = await Send("POST", "profile/devices", $"{{\"profile_uuid\":\"{uuid}\",\"devices\":[\"{serial}\"]}}", session: session, version: version);
        Assert.Equal(expected, reply.Json.GetProperty("devices").GetProperty(serial).GetString());
        Assert.Equal(retryAfter, reply.Json.TryGetProperty("retry_after_seconds", out var seconds));
        if (retryAfter) Assert.Equal(120, seconds.GetInt32());
    }

    [Theory]
    [InlineData(null, "iOS", false)]
    [InlineData(3, "iOS", true)]
    [InlineData(6, "iOS", true)]
    [InlineData(7, "iPadOS", true)]
    public async Task DeviceFieldsFollowTheProtocolVersion(int? version, string ipadOs, bool hasFamily)
    {
        var serial = f.Simulator.AddDevices(f.ServerName, 1, deviceFamily: "iPad")[0].SerialNumber;
        var session = await NewSession();
        var device = (await Send("POST", "server/devices", "{}", session: session, version: version)).Json.GetProperty("devices")[0];
        Assert.Equal(serial, device.GetProperty("serial_number").GetString());
        Assert.Equal(hasFamily, device.TryGetProperty("device_family", out _));
        if (hasFamily) Assert.Equal(ipadOs, device.GetProperty("os").GetString());
        var account = (await Send("GET", "account", session: session, version: version)).Json;
        Assert.Equal(version >= 3, account.TryGetProperty("org_type", out _));
    }

    [Fact]
    public async Task ProfileValidationAcceptsUnknownSkipKeysAndKeepsTheDefinition()
    {
        var session = await NewSession();
        var reply = await Send("POST", "profile", "{\"profile_name\":\"p\",\"url\":\"https://x.example\",\"skip_setup_items\":[\"BrandNewPane2031\"],\"anchor_certs\":[\"AAEC\"],\"devices\":[]}", session: session);
        Assert.Equal(200, reply.Status);
        var uuid = reply.Json.GetProperty("profile_uuid").GetString();
        var read = (await Send("GET", $"profile?profile_uuid={uuid}", session: session)).Json;
        Assert.Equal("BrandNewPane2031", read.GetProperty("skip_setup_items")[0].GetString());
        Assert.False(read.TryGetProperty("devices", out _));
        Assert.Equal(uuid, read.GetProperty("profile_uuid").GetString());
    }

    [Fact]
    public async Task SessionTokensRotateWhenAsked()
    {
        f.Simulator.RotateSessionEvery = 2;
        var session = await NewSession();
        Assert.Equal(200, (await Send("GET", "account", session: session)).Status);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(f.Simulator.Uri, "account"));
        request.Headers.TryAddWithoutValidation("User-Agent", "SimTests/1.0");
        request.Headers.TryAddWithoutValidation("X-ADM-Auth-Session", session);
        using var response = await http.SendAsync(request);
        var rotated = response.Headers.GetValues("X-ADM-Auth-Session").Single();
        Assert.NotEqual(session, rotated);
        Assert.Equal(401, (await Send("GET", "account", session: session)).Status);
        Assert.Equal(200, (await Send("GET", "account", session: rotated)).Status);
    }

    [Fact]
    public void DevicesAreRealisticAndSeeded()
    {
        using var other = new SimulatorFixture(seed: 42);
        var a = f.Simulator.AddDevices(f.ServerName, 50);
        var b = other.Simulator.AddDevices(other.ServerName, 50);
        Assert.Equal(a.Select(d => d.SerialNumber), b.Select(d => d.SerialNumber));
        Assert.Equal(a.Select(d => d.Description), b.Select(d => d.Description));
        Assert.All(a, d =>
        {
            Assert.Matches("^[B-DF-HJ-NP-TV-Z][0-9B-DF-HJ-NP-TV-Z]{9}$", d.SerialNumber);
            Assert.StartsWith(d.DeviceFamily, d.Model, StringComparison.Ordinal);
            Assert.Contains(d.Color, d.Description, StringComparison.Ordinal);
            Assert.Equal(d.DeviceFamily == "iPad" ? "iPadOS" : "iOS", d.Os);
            Assert.Equal("it.admin@contoso.example", d.DeviceAssignedBy);
        });
        Assert.Contains(a, d => d.DeviceFamily == "iPad");
        Assert.Contains(a, d => d.DeviceFamily == "iPhone");
        Assert.All(f.Simulator.AddDevices(f.ServerName, 10, deviceFamily: "iPad"), d => Assert.Equal("iPad", d.DeviceFamily));
    }

    [Fact]
    public void ASerialBelongsToOneServer()
    {
        f.Simulator.NewServer("Other", SimulatorFixture.CertificatePem, out _);
        f.Simulator.AddDevices(f.ServerName, serialNumbers: ["C02XK1JHJG5J"]);
        var e = Assert.Throws<AdeSimException>(() => f.Simulator.AddDevices("Other", serialNumbers: ["c02xk1jhjg5j"]));
        Assert.Equal("DeviceExists", e.ErrorId);
        Assert.Equal("ServerExists", Assert.Throws<AdeSimException>(() => f.Simulator.NewServer("other", SimulatorFixture.CertificatePem, out _)).ErrorId);
        Assert.Equal("ServerNotFound", Assert.Throws<AdeSimException>(() => f.Simulator.AddDevices("Nope", 1)).ErrorId);
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeSimException>(() => f.Simulator.AddDevices(f.ServerName, serialNumbers: ["bad serial!"])).ErrorId);
        Assert.Equal("CertificateInvalid", Assert.Throws<AdeSimException>(() => f.Simulator.NewServer("X", "not a pem", out _)).ErrorId);
        f.Simulator.RemoveDevice(f.ServerName, "C02XK1JHJG5J");
        f.Simulator.AddDevices("Other", serialNumbers: ["C02XK1JHJG5J"]); // released in ABM, then assigned elsewhere
        Assert.Equal("DeviceNotFound", Assert.Throws<AdeSimException>(() => f.Simulator.RemoveDevice(f.ServerName, "C02XK1JHJG5J")).ErrorId);
    }

    [Fact]
    public void AServerWithoutAnOrganisation_JoinsTheFirstServers()
    {
        Assert.Equal("Contoso Ltd", f.Simulator.NewServer("Second", SimulatorFixture.CertificatePem, out _).OrgName);
        Assert.Equal("Fabrikam", f.Simulator.NewServer("Third", SimulatorFixture.CertificatePem, out _, orgName: "Fabrikam").OrgName);
        using var alone = AdeSimulator.Start(seed: 1, time: f.Time);
        Assert.Equal(AdeSimulator.DefaultOrgName, alone.NewServer("First", SimulatorFixture.CertificatePem, out _).OrgName);
    }

    [Fact]
    public async Task TheRequestLogRecordsEachExchange()
    {
        f.Simulator.AddDevices(f.ServerName, 3);
        var session = await NewSession();
        await Send("POST", "server/devices", "{}", session: session);
        await Send("POST", "devices", "{\"devices\":[\"A1\",\"B2\"]}", session: session);
        var log = f.Simulator.GetRequests();
        Assert.Equal(["/session", "/server/devices", "/devices"], log.Select(r => r.Path));
        Assert.Equal([0, 3, 2], log.Select(r => r.DeviceCount));
        Assert.All(log.Skip(1), r => Assert.Equal("Contoso iPhones", r.Server));
        Assert.Single(f.Simulator.GetRequests("/server/*"));
        Assert.Equal(2, f.Simulator.GetRequests("*devices").Count);
    }

    [Fact]
    public async Task FaultsMatchByPathMethodAndCount()
    {
        var fault = f.Simulator.AddFault("/acc*", 503, count: 2, method: "GET");
        var session = await NewSession();
        Assert.Equal(new Reply(503, "SERVICE_UNAVAILABLE"), await Send("GET", "account", session: session));
        Assert.Equal(503, (await Send("GET", "account", session: session)).Status);
        Assert.Equal(200, (await Send("GET", "account", session: session)).Status);
        Assert.Equal(2, fault.Hits);
        Assert.Empty(f.Simulator.GetFaults());
        f.Simulator.AddFault("*", 500, "BOOM", method: "POST");
        Assert.Equal(new Reply(500, "BOOM"), await Send("POST", "server/devices", "{}", session: session));
        Assert.Equal(200, (await Send("GET", "account", session: session)).Status);
        Assert.Equal(1, f.Simulator.ClearFaults());
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeSimException>(() => f.Simulator.AddFault("/x", null)).ErrorId);
        Assert.Equal("ArgumentInvalid", Assert.Throws<AdeSimException>(() => f.Simulator.AddFault("/x", 700)).ErrorId);
    }

    [Theory]
    [InlineData("/sesion")]
    [InlineData("nonsense")]
    [InlineData("/v2/*")]
    [InlineData("/v1/orgDevices/ABC/nothing")]
    public void AFaultOnAnEndpointNoRequestCanReach_IsRefused_NamingTheEndpoints(string endpoint)
    {
        using var f = new EngineSimFixture();
        var error = Assert.Throws<AdeSimException>(() => f.Simulator.AddFault(endpoint, 500));
        Assert.Equal("ArgumentInvalid", error.ErrorId);
        Assert.Contains("/server/devices", error.Message, StringComparison.Ordinal);
        Assert.Contains("/v1/orgDevices/{id}", error.Message, StringComparison.Ordinal);
        Assert.Empty(f.Simulator.GetFaults());
    }

    [Theory]
    [InlineData("/session")]
    [InlineData("profile/devices")]
    [InlineData("/v1/mdmServers/ABC123")]
    [InlineData("/school/v1/orgDevices")]
    [InlineData("/v1/orgDevices/*/relationships/assignedServer")]
    [InlineData("/server/*")]
    [InlineData("*")]
    public void AFaultOnAnEndpointOrAPatternThatMatchesOne_IsTaken(string endpoint)
    {
        using var f = new EngineSimFixture();
        f.Simulator.AddFault(endpoint, 500);
        Assert.Single(f.Simulator.GetFaults());
    }

    [Fact]
    public void TheSimulatorListensOnLoopbackOnly()
    {
        Assert.True(f.Simulator.Uri.IsLoopback);
        Assert.Equal(OperatingSystem.IsWindows() ? "localhost" : "127.0.0.1", f.Simulator.Uri.Host);
        Assert.True(f.Simulator.Port > 0);
        using var fixedPort = AdeSimulator.Start(port: 0);
        Assert.NotEqual(f.Simulator.Port, fixedPort.Port);
        Assert.Equal("StartFailed", Assert.Throws<AdeSimException>(() => AdeSimulator.Start(port: f.Simulator.Port)).ErrorId);
    }

    [Fact]
    public void TheSimulatorClockMoves()
    {
        var clock = new SimulatorClock();
        var before = clock.GetUtcNow();
        var later = clock.Advance(TimeSpan.FromMinutes(15));
        Assert.InRange(later - before, TimeSpan.FromMinutes(15), TimeSpan.FromMinutes(16));
        var set = clock.SetNow(new DateTimeOffset(2030, 1, 1, 0, 0, 0, TimeSpan.Zero));
        Assert.Equal(2030, set.Year);
        clock.Reset();
        Assert.Equal(TimeSpan.Zero, clock.Offset);
    }

    [Theory]
    [InlineData("th-TH")] // Buddhist calendar: the expiry was written as 2570
    [InlineData("ar-SA")] // Hijri calendar: the token did not import
    public void A_server_token_is_written_as_Apple_writes_it_whatever_the_culture(string culture)
    {
        var saved = CultureInfo.CurrentCulture;
        EngineSimFixture f;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo(culture);
            f = new EngineSimFixture();
        }
        finally
        {
            CultureInfo.CurrentCulture = saved;
        }

        using (f)
        {
            Assert.InRange(f.Token.ExpiresAt, f.Time.GetUtcNow().AddDays(360), f.Time.GetUtcNow().AddDays(366));
        }
    }

    [Fact]
    public void SerialNumberMissing_Targets_TheRowItself_SoAScriptCanReportIt()
    {
        var row = new { Seriennummer = "C02X" };
        Assert.Same(row, Errors.ErrorCatalog.SerialNumberMissing("object", ["Seriennummer"], "SerialNumber", row).Target);
        Assert.Equal("hashtable", Errors.ErrorCatalog.SerialNumberMissing("hashtable", [], "SerialNumber").Target);
    }
}

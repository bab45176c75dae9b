using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AdeEnrollment.Simulator;
using Microsoft.Extensions.Time.Testing;

namespace AdeEnrollment.Engine.Tests.Simulator;

/// <summary>The simulator's Apple Business API checked with raw HTTP and hand-made assertions (not the engine's client).</summary>
public sealed partial class BusinessSimulatorTests : IDisposable
{
    private const string Audience = "https://account.apple.com/auth/oauth2/v2/token";
    private readonly FakeTimeProvider time = new(new DateTimeOffset(2026, 6, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly AdeSimulator sim;
    private readonly AdeSimBusinessAccount account;
    private readonly ECDsa key = ECDsa.Create();
    private readonly HttpClient http = new();

    public BusinessSimulatorTests()
    {
        sim = AdeSimulator.Start(seed: 3, time: time);
        account = sim.NewBusinessAccount(out var pem);
        key.ImportFromPem(pem);
    }

    public void Dispose()
    {
        sim.Dispose();
        http.Dispose();
        key.Dispose();
    }

    private static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private string Jwt(Action<Dictionary<string, object>>? claims = null, Action<Dictionary<string, object>>? header = null, bool der = false, ECDsa? signer = null)
    {
        var now = time.GetUtcNow().ToUnixTimeSeconds();
        var h = new Dictionary<string, object> { ["alg"] = "ES256", ["kid"] = account.KeyId };
        var c = new Dictionary<string, object> { ["iss"] = account.ClientId, ["sub"] = account.ClientId, ["aud"] = Audience, ["iat"] = now, ["exp"] = now + 900, ["jti"] = Guid.NewGuid().ToString() };
        header?.Invoke(h);
        claims?.Invoke(c);
        var input = B64(JsonSerializer.SerializeToUtf8Bytes(h)) + "." + B64(JsonSerializer.SerializeToUtf8Bytes(c));
        var sig = (signer ?? key).SignData(Encoding.ASCII.GetBytes(input), HashAlgorithmName.SHA256, der ? DSASignatureFormat.Rfc3279DerSequence : DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        return input + "." + B64(sig);
    }

    private HttpResponseMessage Token(string assertion, string path = "auth/oauth2/token", bool inQuery = false, string? scope = null)
    {
        var fields = new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = account.ClientId,
            ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ["client_assertion"] = assertion,
            ["scope"] = scope ?? "business.api",
        };
        var uri = new Uri(sim.Uri, path);
        if (inQuery)
        {
            var q = string.Join("&", fields.Select(f => f.Key + "=" + Uri.EscapeDataString(f.Value)));
            return http.PostAsync(uri + "?" + q, null).GetAwaiter().GetResult();
        }

        return http.PostAsync(uri, new FormUrlEncodedContent(fields)).GetAwaiter().GetResult();
    }

    private static string Text(HttpResponseMessage r) => r.Content.ReadAsStringAsync().GetAwaiter().GetResult();

    private (HttpStatusCode Status, string Text) Download(string url)
    {
        using var r = http.Send(new HttpRequestMessage(HttpMethod.Get, url));
        return (r.StatusCode, Text(r));
    }

    private string AccessToken()
    {
        using var r = Token(Jwt());
        Assert.Equal(HttpStatusCode.OK, r.StatusCode);
        using var doc = JsonDocument.Parse(r.Content.ReadAsStringAsync().GetAwaiter().GetResult());
        Assert.Equal("Bearer", doc.RootElement.GetProperty("token_type").GetString());
        Assert.Equal(3600, doc.RootElement.GetProperty("expires_in").GetInt32());
        return doc.RootElement.GetProperty("access_token").GetString()!;
    }

    private (HttpStatusCode Status, JsonElement Body) Api(string method, string path, string? token = null, string? body = null)
    {
        using var request = new HttpRequestMessage(new HttpMethod(method), new Uri(sim.Uri, path));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token ?? AccessToken());
        request.Headers.UserAgent.ParseAdd("test/1");
        if (body is not null) request.Content = new StringContent(body, Encoding.UTF8, "application/json");
        using var r = http.Send(request);
        var text = r.Content.ReadAsStringAsync().GetAwaiter().GetResult();
        return (r.StatusCode, text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone());
    }

    [Fact]
    public void ResetBusinessApi_puts_every_switch_and_budget_back_to_its_default()
    {
        sim.SingleUseAssertions = true;
        sim.MaxDevicesPerActivity = 2;
        sim.ActivityCapAnswer = "TooLarge413";
        sim.BusinessGetsPerMinute = 1;
        sim.ShuffledOrder = true;
        sim.ActivityDuration = TimeSpan.Zero;
        sim.ResetBusinessApi();

        using var fresh = AdeSimulator.Start(seed: 4, time: time);
        Assert.Equal((fresh.SingleUseAssertions, fresh.MaxDevicesPerActivity, fresh.ActivityCapAnswer, fresh.BusinessGetsPerMinute, fresh.ShuffledOrder, fresh.ActivityDuration),
            (sim.SingleUseAssertions, sim.MaxDevicesPerActivity, sim.ActivityCapAnswer, sim.BusinessGetsPerMinute, sim.ShuffledOrder, sim.ActivityDuration));
        var kept = Jwt();
        Assert.Equal(HttpStatusCode.OK, Token(kept).StatusCode);
        Assert.Equal(HttpStatusCode.OK, Token(kept).StatusCode); // single-use assertions are off again
    }

    [Fact]
    public void An_assertion_is_taken_again_unless_assertions_are_single_use_then_its_jti_is_refused_the_second_time()
    {
        var kept = Jwt();
        Assert.Equal(HttpStatusCode.OK, Token(kept).StatusCode);
        Assert.Equal(HttpStatusCode.OK, Token(kept).StatusCode); // Apple as observed: a kept assertion works again

        sim.SingleUseAssertions = true;
        var once = Jwt();
        Assert.Equal(HttpStatusCode.OK, Token(once).StatusCode);
        using var again = Token(once);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Contains("invalid_client", Text(again), StringComparison.Ordinal);
        Assert.EndsWith(":jti_reused", sim.GetRequests("/auth/oauth2/token")[^1].ErrorCode, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, Token(Jwt()).StatusCode); // a new jti is a new assertion
    }

    [Fact]
    public void Token_endpoint_accepts_a_correct_assertion_on_both_paths_in_body_or_query()
    {
        Assert.Equal(HttpStatusCode.OK, Token(Jwt()).StatusCode);
        Assert.Equal(HttpStatusCode.OK, Token(Jwt(), "auth/oauth2/v2/token").StatusCode);
        Assert.Equal(HttpStatusCode.OK, Token(Jwt(), inQuery: true).StatusCode);
        Assert.Equal(HttpStatusCode.OK, Token(Jwt(c => c["exp"] = (long)c["iat"] + (180L * 86400))).StatusCode);
        Assert.Equal(HttpStatusCode.OK, Token(Jwt(header: h => h["typ"] = "JWT")).StatusCode);
    }

    public static TheoryData<string> Refusals => new() { "der", "aud", "iss", "sub", "expired", "lifetime", "kid", "alg", "other-key", "scope", "jti" };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Token_endpoint_refuses_a_wrong_assertion_with_invalid_client(string fault)
    {
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var jwt = fault switch
        {
            "der" => Jwt(der: true),
            "aud" => Jwt(c => c["aud"] = "https://account.apple.com/auth/oauth2/token"),
            "iss" => Jwt(c => c["iss"] = "123456789"),
            "sub" => Jwt(c => c["sub"] = "BUSINESSAPI." + Guid.NewGuid()),
            "expired" => Jwt(c => { c["iat"] = (long)c["iat"] - 2000; c["exp"] = (long)c["iat"] + 900; }),
            "lifetime" => Jwt(c => c["exp"] = (long)c["iat"] + (180L * 86400) + 1),
            "kid" => Jwt(header: h => h["kid"] = Guid.NewGuid().ToString()),
            "alg" => Jwt(header: h => h["alg"] = "ES384"),
            "other-key" => Jwt(signer: other),
            "jti" => Jwt(c => c.Remove("jti")),
            _ => Jwt(),
        };
        using var r = Token(jwt, scope: fault == "scope" ? "school.api" : null);
        Assert.Equal(HttpStatusCode.BadRequest, r.StatusCode);
        Assert.Equal("{\"error\":\"invalid_client\"}", Text(r));
        Assert.StartsWith("invalid_client:", sim.GetRequests("/auth/oauth2/token").Last().ErrorCode);
    }

    [Theory]
    [InlineData("grant", 400, "unsupported_grant_type")]
    [InlineData("scope", 400, "invalid_scope")]
    [InlineData("assertion-type", 400, "invalid_request")]
    [InlineData("jti", 400, "invalid_request")]
    [InlineData("expired", 400, "invalid_grant")]
    [InlineData("aud", 400, "invalid_grant")]
    [InlineData("kid", 401, "invalid_client")]
    [InlineData("other-key", 401, "invalid_client")]
    public void With_RFC_error_codes_the_token_endpoint_names_the_kind_of_refusal(string fault, int status, string code)
    {
        sim.RfcOAuthErrors = true;
        using var other = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var jwt = fault switch
        {
            "jti" => Jwt(c => c.Remove("jti")),
            "expired" => Jwt(c => { c["iat"] = (long)c["iat"] - 2000; c["exp"] = (long)c["iat"] + 900; }),
            "aud" => Jwt(c => c["aud"] = "https://account.apple.com/auth/oauth2/token"),
            "kid" => Jwt(header: h => h["kid"] = Guid.NewGuid().ToString()),
            "other-key" => Jwt(signer: other),
            _ => Jwt(),
        };
        using var r = fault switch
        {
            "grant" or "assertion-type" => Raw(jwt, fault == "grant" ? "grant_type" : "client_assertion_type", "password"),
            _ => Token(jwt, scope: fault == "scope" ? "school.api" : null),
        };
        Assert.Equal(status, (int)r.StatusCode);
        var reason = sim.GetRequests("/auth/oauth2/token").Last().ErrorCode!;
        Assert.StartsWith(code + ":", reason);
        Assert.Equal("{\"error\":\"" + code + "\",\"error_description\":\"The client assertion was refused: " + reason[(code.Length + 1)..] + ".\"}", Text(r));
    }

    private HttpResponseMessage Raw(string assertion, string field, string value)
    {
        var fields = new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = account.ClientId,
            ["client_assertion_type"] = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ["client_assertion"] = assertion,
            ["scope"] = "business.api",
        };
        fields[field] = value;
        return http.PostAsync(new Uri(sim.Uri, "auth/oauth2/token"), new FormUrlEncodedContent(fields)).GetAwaiter().GetResult();
    }

    [Fact]
    public void A_limit_out_of_range_is_refused_naming_limit_or_clamped_and_undocumented_parameters_ignored_or_refused()
    {
        sim.AddOrgDevices(3);
        var token = AccessToken();
        static string? Parameter(JsonElement body) => body.GetProperty("errors")[0].TryGetProperty("source", out var s) ? s.GetProperty("parameter").GetString() : null;

        // Reject (the default): 400 PARAMETER_ERROR.INVALID naming limit, for any limit outside 1 to the maximum
        foreach (var bad in new[] { "1001", "0", "abc", "99999999999" })
        {
            var (status, body) = Api("GET", "v1/orgDevices?limit=" + bad, token);
            Assert.Equal(HttpStatusCode.BadRequest, status);
            Assert.Equal("PARAMETER_ERROR.INVALID", body.GetProperty("errors")[0].GetProperty("code").GetString());
            Assert.Equal("limit", Parameter(body));
        }

        sim.BusinessMaxLimit = 2;
        Assert.Equal(HttpStatusCode.BadRequest, Api("GET", "v1/mdmServers?limit=3", token).Status);
        Assert.Equal(2, Api("GET", "v1/orgDevices", token).Body.GetProperty("meta").GetProperty("paging").GetProperty("limit").GetInt32()); // default page at most the maximum

        // Clamp: a limit above the maximum answers at most the maximum; below 1 or no number is still refused
        sim.LimitOutOfRange = "Clamp";
        foreach (var big in new[] { "3", "1001", "99999999999" })
        {
            var (status, body) = Api("GET", "v1/orgDevices?limit=" + big, token);
            Assert.Equal(HttpStatusCode.OK, status);
            Assert.Equal(2, body.GetProperty("data").GetArrayLength());
            Assert.Equal(2, body.GetProperty("meta").GetProperty("paging").GetProperty("limit").GetInt32());
        }

        Assert.Equal("limit", Parameter(Api("GET", "v1/orgDevices?limit=0", token).Body));

        // undocumented query parameters: refused naming them by default (documented ones still pass), ignored under Ignore
        sim.BusinessMaxLimit = 1000;
        var serial = sim.GetOrgDevices()[0].SerialNumber;
        sim.UnknownQueryParameters = "Ignore";
        Assert.Equal(3, Api("GET", "v1/orgDevices?filter[serialNumber]=" + serial, token).Body.GetProperty("data").GetArrayLength());
        sim.UnknownQueryParameters = "Reject";
        var refused = Api("GET", "v1/orgDevices?filter%5BserialNumber%5D=" + serial, token);
        Assert.Equal(HttpStatusCode.BadRequest, refused.Status);
        Assert.Equal("filter[serialNumber]", Parameter(refused.Body));
        Assert.Equal("sort", Parameter(Api("GET", "v1/mdmServers?sort=serverName", token).Body));
        Assert.Equal(HttpStatusCode.OK, Api("GET", "v1/orgDevices?limit=2&fields[orgDevices]=serialNumber", token).Status);
        Assert.Equal(HttpStatusCode.OK, Api("GET", "v1/orgDevices/" + serial + "?fields%5BorgDevices%5D=status", token).Status);
    }

    [Fact]
    public void Api_needs_a_valid_bearer_token_that_expires()
    {
        Assert.Equal(HttpStatusCode.Unauthorized, Api("GET", "v1/mdmServers", "nope").Status);
        var token = AccessToken();
        Assert.Equal(HttpStatusCode.OK, Api("GET", "v1/mdmServers", token).Status);
        time.Advance(TimeSpan.FromHours(1));
        var (status, body) = Api("GET", "v1/mdmServers", token);
        Assert.Equal(HttpStatusCode.Unauthorized, status);
        Assert.Equal("NOT_AUTHORIZED", body.GetProperty("errors")[0].GetProperty("code").GetString());
    }

    [Fact]
    public void Org_devices_page_with_opaque_cursors_and_reject_bad_limits_and_cursors()
    {
        sim.AddOrgDevices(5);
        var token = AccessToken();
        var serials = new List<string>();
        string? cursor = null;
        var pages = 0;
        do
        {
            var (status, body) = Api("GET", "v1/orgDevices?limit=2" + (cursor is null ? "" : "&cursor=" + cursor), token);
            Assert.Equal(HttpStatusCode.OK, status);
            pages++;
            serials.AddRange(body.GetProperty("data").EnumerateArray().Select(d => d.GetProperty("id").GetString()!));
            var paging = body.GetProperty("meta").GetProperty("paging");
            cursor = paging.TryGetProperty("nextCursor", out var c) ? c.GetString() : null;
            Assert.Equal(cursor is not null, body.GetProperty("links").TryGetProperty("next", out _));
        }
        while (cursor is not null);
        Assert.Equal(3, pages);
        Assert.Equal(5, serials.Distinct().Count());
        Assert.Equal(HttpStatusCode.BadRequest, Api("GET", "v1/orgDevices?limit=1001", token).Status);
        Assert.Equal(HttpStatusCode.BadRequest, Api("GET", "v1/orgDevices?limit=0", token).Status);
        Assert.Equal(HttpStatusCode.BadRequest, Api("GET", "v1/orgDevices?cursor=garbage!", token).Status);
        var (_, one) = Api("GET", "v1/orgDevices/" + serials[0] + "?fields%5BorgDevices%5D=serialNumber,status", token);
        var attrs = one.GetProperty("data").GetProperty("attributes");
        Assert.Equal(2, attrs.EnumerateObject().Count());
        Assert.Equal(HttpStatusCode.NotFound, Api("GET", "v1/orgDevices/NOPE12345678", token).Status);
    }

    [Fact]
    public void Servers_are_the_DEP_servers_and_their_devices_relationship_is_GET_RELATIONSHIP_only()
    {
        using var rsa = RSA.Create(2048);
        var cert = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=t", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(time.GetUtcNow(), time.GetUtcNow().AddYears(1));
        var server = sim.NewServer("Intune", cert.ExportCertificatePem(), out _);
        sim.AddDevices("Intune", 2);
        var token = AccessToken();
        var (_, list) = Api("GET", "v1/mdmServers", token);
        var item = Assert.Single(list.GetProperty("data").EnumerateArray());
        Assert.Equal(server.Uuid.Replace("-", "", StringComparison.Ordinal).ToUpperInvariant(), item.GetProperty("id").GetString());
        Assert.False(item.GetProperty("attributes").TryGetProperty("deviceCount", out _)); // Apple's small default subset
        var (_, full) = Api("GET", "v1/mdmServers?fields[mdmServers]=serverName,deviceCount,status", token);
        Assert.Equal(2, full.GetProperty("data")[0].GetProperty("attributes").GetProperty("deviceCount").GetInt32());
        var id = item.GetProperty("id").GetString();
        var (status, body) = Api("GET", $"v1/mdmServers/{id}/devices", token);
        Assert.Equal(HttpStatusCode.Forbidden, status);
        Assert.Equal("FORBIDDEN_ERROR", body.GetProperty("errors")[0].GetProperty("code").GetString());
        Assert.Equal(2, Api("GET", $"v1/mdmServers/{id}/relationships/devices", token).Body.GetProperty("data").GetArrayLength());
    }

    [Fact]
    public void An_activity_completes_on_the_clock_and_shows_in_the_servers_DEP_sync()
    {
        sim.ActivityLogLinkLifetime = TimeSpan.FromSeconds(30);
        using var rsa = RSA.Create(2048);
        var cert = new System.Security.Cryptography.X509Certificates.CertificateRequest("CN=t", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
            .CreateSelfSigned(time.GetUtcNow(), time.GetUtcNow().AddYears(1));
        var server = sim.NewServer("Intune", cert.ExportCertificatePem(), out _);
        var serial = sim.AddOrgDevices(1, productFamily: "Mac")[0].SerialNumber;
        var token = AccessToken();
        var id = server.Uuid.Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();
        var body = "{\"data\":{\"type\":\"orgDeviceActivities\",\"attributes\":{\"activityType\":\"ASSIGN_DEVICES\"},\"relationships\":{\"mdmServer\":{\"data\":{\"type\":\"mdmServers\",\"id\":\"" + id
            + "\"}},\"devices\":{\"data\":[{\"type\":\"orgDevices\",\"id\":\"" + serial + "\"}]}}}}";
        var (created, doc) = Api("POST", "v1/orgDeviceActivities", token, body);
        Assert.Equal(HttpStatusCode.Created, created);
        var activity = doc.GetProperty("data").GetProperty("id").GetString();
        Assert.Equal("SUBMITTED", doc.GetProperty("data").GetProperty("attributes").GetProperty("subStatus").GetString());
        Assert.Empty(sim.GetDevices("Intune")); // not before it completes
        time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal("IN_PROGRESS", Api("GET", "v1/orgDeviceActivities/" + activity, token).Body.GetProperty("data").GetProperty("attributes").GetProperty("status").GetString());
        time.Advance(TimeSpan.FromSeconds(5));
        var done = Api("GET", "v1/orgDeviceActivities/" + activity, token).Body.GetProperty("data").GetProperty("attributes");
        Assert.Equal("COMPLETED_WITH_SUCCESS", done.GetProperty("subStatus").GetString());
        var csvUrl = done.GetProperty("downloadUrl").GetString()!;
        var (csvStatus, csv) = Download(csvUrl); // no bearer token
        Assert.Equal(HttpStatusCode.OK, csvStatus);
        Assert.Contains($"{serial},SUCCESS,", csv, StringComparison.Ordinal);
        var dep = Assert.Single(sim.GetDevices("Intune"));
        Assert.Equal(serial, dep.SerialNumber);
        Assert.Equal("Mac", dep.DeviceFamily);
        time.Advance(TimeSpan.FromSeconds(29));
        Assert.Equal(HttpStatusCode.OK, Download(csvUrl).Status);
        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(HttpStatusCode.Forbidden, Download(csvUrl).Status); // the link expired (its lifetime is a setting: 30 s here, Apple's example 60 s)

        // unknown server or serial: 409, nothing created
        Assert.Equal(HttpStatusCode.Conflict, Api("POST", "v1/orgDeviceActivities", token, body.Replace(id, "00000000000000000000000000000000", StringComparison.Ordinal)).Status);
        Assert.Equal(HttpStatusCode.Conflict, Api("POST", "v1/orgDeviceActivities", token, body.Replace(serial, "NOPE12345678", StringComparison.Ordinal)).Status);
        Assert.Equal(HttpStatusCode.BadRequest, Api("POST", "v1/orgDeviceActivities", token, body.Replace("ASSIGN_DEVICES", "MOVE", StringComparison.Ordinal)).Status);
    }

    [Fact]
    public void Budgets_answer_429_with_Retry_After()
    {
        var token = AccessToken();
        sim.BusinessGetsPerMinute = 2;
        Assert.Equal(HttpStatusCode.OK, Api("GET", "v1/mdmServers", token).Status);
        Assert.Equal(HttpStatusCode.OK, Api("GET", "v1/mdmServers", token).Status);
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(sim.Uri, "v1/mdmServers"));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
        using var r = http.Send(request);
        Assert.Equal((HttpStatusCode)429, r.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(60), r.Headers.RetryAfter!.Delta);
        time.Advance(TimeSpan.FromSeconds(60));
        Assert.Equal(HttpStatusCode.OK, Api("GET", "v1/mdmServers", token).Status);
    }
}

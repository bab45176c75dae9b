using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AdeEnrollment.Simulator.Business;
using AdeEnrollment.Simulator.Service;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator;

// Apple Business / School API of the simulated organisation: the OAuth token endpoint (client assertion verified),
// org devices, MDM servers (the DEP servers of this simulator), asynchronous device activities and their CSV log,
// request budgets with 429 + Retry-After. Completed activities show up in the DEP sync of the servers concerned.
public sealed partial class AdeSimulator
{
    public const string BusinessAudience = "https://account.apple.com/auth/oauth2/v2/token";
    private const string AssertionType = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
    private static readonly string[] ActivityTypes = ["ASSIGN_DEVICES", "UNASSIGN_DEVICES", "RELEASE_DEVICES"];
    private static readonly string[] MigrationTypes = ["ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE", "UPDATE_MDM_MIGRATION_DEADLINE", "CANCEL_MDM_MIGRATION"];
    private static readonly string[] OrgFamilies = ["iPhone", "iPad", "Mac", "AppleTV", "Watch", "Vision"];

    private readonly Dictionary<string, SimApiAccount> apiAccounts = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SimAccessToken> accessTokens = new(StringComparer.Ordinal);
    private readonly Dictionary<string, AdeSimOrgDevice> orgDevices = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, SimActivity> activities = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, SimBudget> budgets = new(StringComparer.Ordinal);
    private readonly byte[] downloadKey = RandomNumberGenerator.GetBytes(32);
    private int pendingActivities;

    // ---- switches for what Apple leaves open ------------------------------------------------------------------------

    /// <summary>Lifetime of an access token (Apple: 3600 s); shorten to test renewal.</summary>
    public TimeSpan BusinessTokenLifetime { get; set; } = TimeSpan.FromHours(1);

    /// <summary>How long an activity stays IN_PROGRESS on the simulator's clock (Apple: about 10 s).</summary>
    public TimeSpan ActivityDuration { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>GET requests allowed per account and minute (null: unlimited). Observed: about 20.</summary>
    public int? BusinessGetsPerMinute { get; set; }

    /// <summary>POST requests allowed per account and hour (null: unlimited). Observed: about 10.</summary>
    public int? BusinessPostsPerHour { get; set; }

    /// <summary>Require iss == client ID in the assertion (Apple's sample sends it; its claim table does not list it).</summary>
    public bool RequireAssertionIssuer { get; set; } = true;

    /// <summary>Unassigned device on /relationships/assignedServer: 404 instead of 200 with data null.</summary>
    public bool UnassignedServerAsNotFound { get; set; }

    /// <summary>links.next carries only the cursor (Apple's example) instead of cursor and limit.</summary>
    public bool NextLinkWithoutLimit { get; set; }

    /// <summary>Unknown serials in an activity fail in its log instead of refusing the request with 409.</summary>
    public bool PartialUnknownSerials { get; set; }

    /// <summary>GET /v1/mdmServers without fields[] returns every attribute instead of Apple's small default subset.</summary>
    public bool FullServerAttributesByDefault { get; set; }

    /// <summary>Business API server ids unrelated to the DEP server_uuid (the join must then go by name).</summary>
    public bool UnrelatedServerIds { get; set; }

    /// <summary>The three MDM migration activity types of API 2.3 are accepted (false: refused with 400, as before 2.3).</summary>
    public bool MigrationActivities { get; set; } = true;

    /// <summary>Collections are paged in a stable but shuffled order instead of by id (Apple documents no order).</summary>
    public bool ShuffledOrder { get; set; }

    /// <summary>meta.paging carries total, the size of the whole collection (in Apple's schema, never seen in its examples).</summary>
    public bool PagingTotal { get; set; }

    /// <summary>Send Retry-After as an HTTP date instead of seconds on 429.</summary>
    public bool RetryAfterAsHttpDate { get; set; }

    /// <summary>Largest number of devices in one activity (null: no cap; Apple documents none).</summary>
    public int? MaxDevicesPerActivity { get; set; }

    /// <summary>Makes the next completing activities end with this status (FAILED, STOPPED or COMPLETED_WITH_FAILURE); null: normal.</summary>
    public string? ForcedActivityOutcome { get; set; }

    // ---- portal side ------------------------------------------------------------------------------------------------

    /// <summary>Apple Business "create API account" + "generate private key": returns the account and the PEM of its key.</summary>
    public AdeSimBusinessAccount NewBusinessAccount(out string privateKeyPem, bool school = false, bool sec1 = true, string? keyPath = null)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        privateKeyPem = sec1 ? key.ExportECPrivateKeyPem() : key.ExportPkcs8PrivateKeyPem();
        var publicKey = ECDsa.Create(key.ExportParameters(false));
        var prefix = school ? "SCHOOLAPI." : "BUSINESSAPI.";
        lock (gate)
        {
            var account = new SimApiAccount
            {
                ClientId = prefix + Guid.NewGuid().ToString("D"),
                KeyId = Guid.NewGuid().ToString("D"),
                PublicKey = publicKey,
                Scope = school ? "school.api" : "business.api",
            };
            apiAccounts[account.ClientId] = account;
            return ToOutput(account, keyPath);
        }
    }

    /// <summary>Apple Business "revoke key": the account's assertions are refused from now on, and its access tokens stop working.</summary>
    public void RevokeBusinessAccount(string clientId)
    {
        lock (gate)
        {
            if (!apiAccounts.TryGetValue(clientId, out var account))
            {
                throw SimErrors.ArgumentInvalid("ClientId", clientId, "no API account with this client ID exists in the simulator.");
            }

            account.Revoked = true;
            foreach (var key in accessTokens.Where(t => t.Value.ClientId == clientId).Select(t => t.Key).ToList())
            {
                accessTokens.Remove(key);
            }
        }
    }

    /// <summary>Every access token stops working now (the next API call gets 401).</summary>
    public void ExpireBusinessTokens()
    {
        lock (gate) accessTokens.Clear();
    }

    private AdeSimBusinessAccount ToOutput(SimApiAccount a, string? keyPath) => new()
    {
        ClientId = a.ClientId,
        KeyId = a.KeyId,
        Scope = a.Scope,
        KeyPath = keyPath,
        TokenUri = new Uri(Uri, "auth/oauth2/token"),
        ServiceUri = new Uri(Uri, "v1/"),
    };

    /// <summary>
    /// Devices bought by the organisation and not yet on any MDM server (Apple Business inventory). Generated
    /// (<paramref name="count"/>) and/or named serials; all share the order number and date given.
    /// </summary>
    public IReadOnlyList<AdeSimOrgDevice> AddOrgDevices(int count = 0, IReadOnlyCollection<string>? serialNumbers = null, string? productFamily = null,
        string? orderNumber = null, DateTimeOffset? orderDate = null, string purchaseSourceType = "RESELLER", string? appleCareStatus = null)
    {
        if (count < 0)
        {
            throw SimErrors.ArgumentInvalid("Count", count.ToString(CultureInfo.InvariantCulture), "give zero or more devices.");
        }

        var family = productFamily is null ? null : OrgFamilies.FirstOrDefault(f => f.Equals(productFamily, StringComparison.OrdinalIgnoreCase))
            ?? throw SimErrors.ArgumentInvalid("ProductFamily", productFamily, "use iPhone, iPad, Mac, AppleTV, Watch or Vision.");
        lock (gate)
        {
            var now = Time.GetUtcNow();
            var serials = new List<string>();
            foreach (var serial in serialNumbers ?? [])
            {
                var s = serial.Trim().ToUpperInvariant();
                if (s.Length is < 8 or > 14 || !s.All(char.IsAsciiLetterOrDigit))
                {
                    throw SimErrors.ArgumentInvalid("SerialNumber", serial, "an Apple serial number is 8 to 14 letters and digits.");
                }

                if (orgDevices.ContainsKey(s) || serialOwners.ContainsKey(s))
                {
                    throw SimErrors.ArgumentInvalid("SerialNumber", s, "the organisation already owns this device.");
                }

                serials.Add(s);
            }

            for (var i = 0; i < count; i++)
            {
                serials.Add(generator.NewSerial(s => orgDevices.ContainsKey(s) || serialOwners.ContainsKey(s) || serials.Contains(s)));
            }

            var order = orderNumber ?? "PO" + generator.NewHex(4);
            var added = new List<AdeSimOrgDevice>(serials.Count);
            foreach (var serial in serials.Distinct(StringComparer.Ordinal))
            {
                var device = NewOrgDevice(serial, family ?? (generator.NextDouble() < 0.5 ? "iPhone" : "iPad"), order, orderDate ?? now.AddDays(-2), purchaseSourceType, appleCareStatus, now);
                orgDevices[serial] = device;
                added.Add(Decorate(device));
            }

            return added;
        }
    }

    private AdeSimOrgDevice NewOrgDevice(string serial, string family, string? order, DateTimeOffset? orderDate, string source, string? appleCare, DateTimeOffset now)
    {
        var (model, type, part) = family switch
        {
            "Mac" => ("MacBook Air (13-inch, M4)", "Mac16,12", "MW0W3LL/A"),
            "iPad" => ("iPad Air 11-inch (M2)", "iPad14,8", "MUWD3LL/A"),
            "AppleTV" => ("Apple TV 4K (3rd generation)", "AppleTV14,1", "MN893LL/A"),
            "Watch" => ("Apple Watch Series 10", "Watch7,8", "MWWE3LL/A"),
            "Vision" => ("Apple Vision Pro", "RealityDevice14,1", "MW8X3LL/A"),
            _ => ("iPhone 16 Pro", "iPhone17,1", "MYNF3LL/A"),
        };
        return new AdeSimOrgDevice
        {
            SerialNumber = serial,
            DeviceModel = model,
            ProductFamily = family,
            ProductType = type,
            DeviceCapacity = "256GB",
            PartNumber = part,
            OrderNumber = order,
            OrderDate = orderDate,
            PurchaseSourceType = source,
            PurchaseSourceId = source == "APPLE" ? "-2085650007946880" : "395E9D0",
            Color = "SILVER",
            AddedToOrgDate = now,
            UpdatedDate = now,
            AppleCareStatus = appleCare ?? "ACTIVE",
            AppleCareDescription = "Limited Warranty",
            AppleCareEndDate = now.AddYears(1),
        };
    }

    /// <summary>Every device the organisation owns (inventory plus the devices on DEP servers), by serial.</summary>
    public IReadOnlyList<AdeSimOrgDevice> GetOrgDevices()
    {
        lock (gate)
        {
            CompleteDueActivities();
            return [.. AllOrgSerials().Select(s => Decorate(OrgDevice(s)!))];
        }
    }

    private SortedSet<string> AllOrgSerials()
    {
        var all = new SortedSet<string>(orgDevices.Keys, StringComparer.Ordinal);
        all.UnionWith(serialOwners.Keys);
        return all;
    }

    /// <summary>The inventory record of an owned serial (a DEP device added through Add-AdeSimDevice gets one on first sight).</summary>
    private AdeSimOrgDevice? OrgDevice(string serial)
    {
        if (orgDevices.TryGetValue(serial, out var device))
        {
            return device;
        }

        if (!serialOwners.TryGetValue(serial, out var owner))
        {
            return null;
        }

        var dep = servers.First(s => s.Name == owner).Devices[serial];
        device = NewOrgDevice(dep.SerialNumber, dep.DeviceFamily, "PO-DEP", dep.DeviceAssignedDate.AddDays(-1), "APPLE", null, dep.DeviceAssignedDate) with { DeviceModel = dep.Model, Color = dep.Color };
        orgDevices[serial] = device;
        return device;
    }

    private AdeSimOrgDevice Decorate(AdeSimOrgDevice d)
        => serialOwners.TryGetValue(d.SerialNumber, out var owner) ? d with { Status = "ASSIGNED", AssignedServer = owner } : d with { Status = "UNASSIGNED", AssignedServer = null };

    /// <summary>The Business API id of a server: its DEP UUID (32 upper-case hex), or an unrelated id when <see cref="UnrelatedServerIds"/>.</summary>
    private string ServerId(ServerState s)
        => UnrelatedServerIds ? Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("abm:" + s.Uuid)).AsSpan(0, 16)) : s.Uuid.Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();

    private ServerState? ServerById(string id) => servers.FirstOrDefault(s => ServerId(s).Equals(id, StringComparison.OrdinalIgnoreCase));

    // ---- routing ----------------------------------------------------------------------------------------------------

    private static bool IsBusinessPath(string path)
        => path.StartsWith("/v1/", StringComparison.Ordinal) || path.StartsWith("/auth/oauth2/", StringComparison.Ordinal) || path.StartsWith("/abm-logs/", StringComparison.Ordinal);

    private Answer RouteBusiness(Exchange x)
    {
        if (x.Path is "/auth/oauth2/token" or "/auth/oauth2/v2/token")
        {
            return x.Method == "POST" ? IssueAccessToken(x) : ApiError(405, "METHOD_NOT_ALLOWED", "Use POST.");
        }

        if (x.Path.StartsWith("/abm-logs/", StringComparison.Ordinal))
        {
            return ActivityLog(x);
        }

        var bearer = x.Header("Authorization");
        if (bearer is null || !bearer.StartsWith("Bearer ", StringComparison.Ordinal)
            || !accessTokens.TryGetValue(bearer[7..].Trim(), out var token) || token.ExpiresAt <= Time.GetUtcNow()
            || !apiAccounts.TryGetValue(token.ClientId, out var account) || account.Revoked)
        {
            return ApiError(401, "NOT_AUTHORIZED", "The access token is missing, unknown or expired.");
        }

        if (Throttle(account, x.Method) is { } throttled)
        {
            return throttled;
        }

        var parts = x.Path.Split('/', StringSplitOptions.RemoveEmptyEntries); // v1, collection, id, ...
        var answer = (x.Method, parts.Length > 1 ? parts[1] : "", parts.Length) switch
        {
            ("GET", "orgDevices", 2) => ListOrgDevices(x),
            ("GET", "orgDevices", 3) => OneOrgDevice(x, parts[2]),
            ("GET", "orgDevices", 5) when parts[3] == "relationships" && parts[4] == "assignedServer" => AssignedServerLinkage(x, parts[2]),
            ("GET", "orgDevices", 4) when parts[3] == "assignedServer" => AssignedServer(x, parts[2]),
            ("GET", "orgDevices", 4) when parts[3] == "appleCareCoverage" => AppleCare(x, parts[2]),
            ("GET", "mdmServers", 2) => ListServers(x),
            ("GET", "mdmServers", 3) => OneServer(x, parts[2]),
            ("GET", "mdmServers", 5) when parts[3] == "relationships" && parts[4] == "devices" => ServerDevices(x, parts[2]),
            ("GET", "mdmServers", 4) when parts[3] == "devices" => ApiError(403, "FORBIDDEN_ERROR",
                "The relationship 'devices' does not allow 'GET_RELATED'. Allowed operation is: GET_RELATIONSHIP"),
            ("POST", "orgDeviceActivities", 2) => CreateActivity(x, account),
            ("GET", "orgDeviceActivities", 3) => GetActivity(x, parts[2], account),
            _ => ApiError(404, "NOT_FOUND", "The requested resource does not exist."),
        };
        return answer;
    }

    /// <summary>Completes every activity whose time has come (called before each request is routed).</summary>
    private void CompleteDueActivities()
    {
        if (pendingActivities == 0)
        {
            return;
        }

        var now = Time.GetUtcNow();
        foreach (var activity in activities.Values.Where(a => a.Status == "IN_PROGRESS" && now >= a.CreatedAt + ActivityDuration).OrderBy(a => a.CreatedAt).ToList())
        {
            Complete(activity, now);
        }
    }

    // ---- OAuth ------------------------------------------------------------------------------------------------------

    private Answer IssueAccessToken(Exchange x)
    {
        var form = System.Web.HttpUtility.ParseQueryString(Encoding.UTF8.GetString(x.Body));
        var query = System.Web.HttpUtility.ParseQueryString(x.Url.Query);
        string? P(string name) => form.Get(name) ?? query.Get(name);

        var reason = CheckAssertion(P("grant_type"), P("client_assertion_type"), P("client_id"), P("scope"), P("client_assertion"), out var account);
        if (reason is not null)
        {
            var refused = Json(w => w.WriteString("error", "invalid_client"), null);
            return new Answer { Status = 400, Body = refused.Body, ContentType = "application/json", ErrorCode = "invalid_client:" + reason };
        }

        var token = "sim-at-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(24));
        accessTokens[token] = new SimAccessToken(account!.ClientId, account.Scope, Time.GetUtcNow() + BusinessTokenLifetime);
        var ok = Json(w =>
        {
            w.WriteString("access_token", token);
            w.WriteString("token_type", "Bearer");
            w.WriteNumber("expires_in", (long)BusinessTokenLifetime.TotalSeconds);
            w.WriteString("scope", account.Scope);
        }, null);
        return new Answer { Body = ok.Body, ContentType = "application/json" };
    }

    /// <summary>Apple's checks of a client assertion; returns the reason of a refusal (logged, never sent) or null.</summary>
    private string? CheckAssertion(string? grant, string? assertionType, string? clientId, string? scope, string? assertion, out SimApiAccount? account)
    {
        account = null;
        if (grant != "client_credentials") return "grant_type";
        if (assertionType != AssertionType) return "client_assertion_type";
        if (clientId is null || !apiAccounts.TryGetValue(clientId, out account)) return "client_id";
        if (account.Revoked) return "revoked";
        if (scope != account.Scope) return "scope";
        var parts = assertion?.Split('.') ?? [];
        if (parts.Length != 3) return "format";
        JsonElement header, claims;
        byte[] signature;
        try
        {
            header = JsonDocument.Parse(Base64Url(parts[0])).RootElement;
            claims = JsonDocument.Parse(Base64Url(parts[1])).RootElement;
            signature = Base64Url(parts[2]);
        }
        catch (Exception ex) when (ex is FormatException or JsonException)
        {
            return "format";
        }

        if (Str(header, "alg") != "ES256") return "alg";
        if (Str(header, "kid") != account.KeyId) return "kid";
        if (signature.Length != 64) return "signature_encoding";
        if (!account.PublicKey.VerifyData(Encoding.ASCII.GetBytes(parts[0] + "." + parts[1]), signature, HashAlgorithmName.SHA256)) return "signature";
        if (Str(claims, "sub") != clientId) return "sub";
        if (RequireAssertionIssuer && Str(claims, "iss") != clientId) return "iss";
        if (Str(claims, "aud") != BusinessAudience) return "aud";
        if (Str(claims, "jti") is null) return "jti";
        if (!claims.TryGetProperty("iat", out var iatValue) || !iatValue.TryGetInt64(out var iat)
            || !claims.TryGetProperty("exp", out var expValue) || !expValue.TryGetInt64(out var exp)) return "iat_exp";
        var now = Time.GetUtcNow().ToUnixTimeSeconds();
        if (exp <= now) return "expired";
        if (exp - iat > 180L * 86400) return "lifetime";
        if (iat > now + (long)MaxClockSkew.TotalSeconds) return "iat_future";
        return null;

        static string? Str(JsonElement e, string name) => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
    }

    private static byte[] Base64Url(string s)
    {
        var b = s.Replace('-', '+').Replace('_', '/');
        if (b.Contains('=', StringComparison.Ordinal)) throw new FormatException("padding");
        return Convert.FromBase64String(b.PadRight(b.Length + ((4 - (b.Length % 4)) % 4), '='));
    }

    private Answer? Throttle(SimApiAccount account, string method)
    {
        var (limit, window) = method == "POST" ? (BusinessPostsPerHour, TimeSpan.FromHours(1)) : (BusinessGetsPerMinute, TimeSpan.FromMinutes(1));
        if (limit is not { } max)
        {
            return null;
        }

        var key = account.ClientId + "|" + (method == "POST" ? "POST" : "GET");
        if (!budgets.TryGetValue(key, out var budget))
        {
            budgets[key] = budget = new SimBudget();
        }

        var now = Time.GetUtcNow();
        while (budget.Times.Count > 0 && budget.Times.Peek() <= now - window)
        {
            budget.Times.Dequeue();
        }

        if (budget.Times.Count >= max)
        {
            var wait = Math.Max(1, (int)Math.Ceiling((budget.Times.Peek() + window - now).TotalSeconds));
            var answer = ApiError(429, "RATE_LIMIT_EXCEEDED", "The request rate limit has been reached.");
            answer.Headers.Add(new("Retry-After", RetryAfterAsHttpDate ? now.AddSeconds(wait).ToString("r", CultureInfo.InvariantCulture) : wait.ToString(CultureInfo.InvariantCulture)));
            return answer;
        }

        budget.Times.Enqueue(now);
        return null;
    }

    // ---- devices ----------------------------------------------------------------------------------------------------

    private Answer ListOrgDevices(Exchange x)
    {
        if (!TryPaging(x, out var limit, out var after, out var bad)) return bad!;
        var fields = Fields(x, "orgDevices");
        // the order of the whole listing is taken on its first page and kept for its cursors (a snapshot: devices
        // released meanwhile are skipped, devices added meanwhile appear in the next listing)
        if (after is null || orgListing is null || orgListingShuffled != ShuffledOrder)
        {
            orgListing = [.. AllOrgSerials().Select(OrderKey)];
            Array.Sort(orgListing, StringComparer.Ordinal);
            orgListingShuffled = ShuffledOrder;
        }

        var listing = orgListing;
        var start = after is null ? 0 : Array.BinarySearch(listing, after, StringComparer.Ordinal) is var i && i >= 0 ? i + 1 : ~i;
        var page = new List<AdeSimOrgDevice>(limit);
        string? lastKey = null;
        var more = false;
        for (var k = start; k < listing.Length; k++)
        {
            if (page.Count == limit)
            {
                more = true;
                break;
            }

            if (OrgDevice(IdOfKey(listing[k])) is { } device)
            {
                page.Add(Decorate(device));
                lastKey = listing[k];
            }
        }

        var answer = Json(w =>
        {
            w.WriteStartArray("data");
            foreach (var d in page) WriteOrgDevice(w, d, fields);
            w.WriteEndArray();
            WritePagingLinks(w, "v1/orgDevices", limit, more ? lastKey : null, listing.Length);
        }, null);
        answer.DeviceCount = page.Count;
        return Api(answer);
    }

    private string[]? orgListing;
    private bool orgListingShuffled;

    /// <summary>The key a collection is ordered and its cursor made by: the id, or (shuffled) a hash of it before the id.</summary>
    private string OrderKey(string id)
        => ShuffledOrder ? Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(id.ToUpperInvariant())).AsSpan(0, 4)) + ":" + id : id;

    private static string IdOfKey(string key) => key.IndexOf(':', StringComparison.Ordinal) is var i and >= 0 ? key[(i + 1)..] : key;

    private Answer OneOrgDevice(Exchange x, string serial)
    {
        var device = OrgDevice(serial);
        if (device is null) return ApiError(404, "NOT_FOUND", "There is no resource of type 'orgDevices' with id '" + serial + "'.");
        var fields = Fields(x, "orgDevices");
        return Api(Json(w =>
        {
            w.WritePropertyName("data");
            WriteOrgDevice(w, Decorate(device), fields);
            w.WriteStartObject("links");
            w.WriteString("self", Link("v1/orgDevices/" + device.SerialNumber));
            w.WriteEndObject();
        }, null));
    }

    private Answer AssignedServerLinkage(Exchange x, string serial)
    {
        if (OrgDevice(serial) is null) return ApiError(404, "NOT_FOUND", "Unknown device.");
        var server = serialOwners.TryGetValue(serial, out var owner) ? servers.First(s => s.Name == owner) : null;
        if (server is null && UnassignedServerAsNotFound) return ApiError(404, "NOT_FOUND", "The device is not assigned to a device management service.");
        return Api(Json(w =>
        {
            if (server is null)
            {
                w.WriteNull("data");
            }
            else
            {
                w.WriteStartObject("data");
                w.WriteString("type", "mdmServers");
                w.WriteString("id", ServerId(server));
                w.WriteEndObject();
            }

            w.WriteStartObject("links");
            w.WriteString("self", Link($"v1/orgDevices/{serial}/relationships/assignedServer"));
            w.WriteString("related", Link($"v1/orgDevices/{serial}/assignedServer"));
            w.WriteEndObject();
        }, null));
    }

    private Answer AssignedServer(Exchange x, string serial)
    {
        if (OrgDevice(serial) is null) return ApiError(404, "NOT_FOUND", "Unknown device.");
        if (!serialOwners.TryGetValue(serial, out var owner))
        {
            return UnassignedServerAsNotFound ? ApiError(404, "NOT_FOUND", "The device is not assigned.") : Api(Json(w => w.WriteNull("data"), null));
        }

        var server = servers.First(s => s.Name == owner);
        var fields = Fields(x, "mdmServers") ?? AllServerFields;
        return Api(Json(w => { w.WritePropertyName("data"); WriteServer(w, server, fields); }, null));
    }

    private Answer AppleCare(Exchange x, string serial)
    {
        var device = OrgDevice(serial);
        if (device is null) return ApiError(404, "NOT_FOUND", "Unknown device.");
        return Api(Json(w =>
        {
            w.WriteStartArray("data");
            if (device.AppleCareStatus is not null)
            {
                w.WriteStartObject();
                w.WriteString("type", "appleCareCoverage");
                w.WriteString("id", device.SerialNumber);
                w.WriteStartObject("attributes");
                w.WriteString("status", device.AppleCareStatus);
                w.WriteString("paymentType", "NONE");
                w.WriteString("description", device.AppleCareDescription);
                w.WriteString("startDateTime", IsoZ(device.AddedToOrgDate));
                if (device.AppleCareEndDate is { } end) w.WriteString("endDateTime", IsoZ(end));
                w.WriteBoolean("isRenewable", false);
                w.WriteBoolean("isCanceled", false);
                w.WriteNull("agreementNumber");
                w.WriteNull("contractCancelDateTime");
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartObject("links");
            w.WriteString("self", Link($"v1/orgDevices/{device.SerialNumber}/appleCareCoverage"));
            w.WriteEndObject();
            w.WriteStartObject("meta");
            w.WriteStartObject("paging");
            w.WriteNumber("limit", 100);
            w.WriteEndObject();
            w.WriteEndObject();
        }, null));
    }

    private void WriteOrgDevice(Utf8JsonWriter w, AdeSimOrgDevice d, HashSet<string>? fields)
    {
        bool F(string name) => fields is null || fields.Contains(name);
        w.WriteStartObject();
        w.WriteString("type", "orgDevices");
        w.WriteString("id", d.SerialNumber);
        w.WriteStartObject("attributes");
        if (F("serialNumber")) w.WriteString("serialNumber", d.SerialNumber);
        if (F("addedToOrgDateTime")) w.WriteString("addedToOrgDateTime", Iso(d.AddedToOrgDate));
        if (F("releasedFromOrgDateTime")) w.WriteNull("releasedFromOrgDateTime");
        if (F("updatedDateTime")) w.WriteString("updatedDateTime", Iso(d.UpdatedDate));
        if (F("deviceModel")) w.WriteString("deviceModel", d.DeviceModel);
        if (F("productFamily")) w.WriteString("productFamily", d.ProductFamily);
        if (F("productType") && d.ProductType is not null) w.WriteString("productType", d.ProductType);
        if (F("deviceCapacity") && d.DeviceCapacity is not null) w.WriteString("deviceCapacity", d.DeviceCapacity);
        if (F("partNumber") && d.PartNumber is not null) w.WriteString("partNumber", d.PartNumber);
        if (F("orderNumber") && d.OrderNumber is not null) w.WriteString("orderNumber", d.OrderNumber);
        if (F("color") && d.Color is not null) w.WriteString("color", d.Color);
        // API 2.3 attributes, not in the documented fields list: sent only while a migration is scheduled
        if (d.MdmMigrationStatus is not null && F("mdmMigrationStatus")) w.WriteString("mdmMigrationStatus", d.MdmMigrationStatus);
        if (d.MdmMigrationDeadline is { } due && F("mdmMigrationDeadlineDateTime")) w.WriteString("mdmMigrationDeadlineDateTime", IsoZ(due));
        if (F("status")) w.WriteString("status", d.Status);
        if (F("orderDateTime") && d.OrderDate is { } od) w.WriteString("orderDateTime", IsoZ(od));
        if (F("purchaseSourceId") && d.PurchaseSourceId is not null) w.WriteString("purchaseSourceId", d.PurchaseSourceId);
        if (F("purchaseSourceType") && d.PurchaseSourceType is not null) w.WriteString("purchaseSourceType", d.PurchaseSourceType);
        w.WriteEndObject();
        w.WriteStartObject("relationships");
        if (F("assignedServer"))
        {
            w.WriteStartObject("assignedServer");
            w.WriteStartObject("links");
            w.WriteString("self", Link($"v1/orgDevices/{d.SerialNumber}/relationships/assignedServer"));
            w.WriteString("related", Link($"v1/orgDevices/{d.SerialNumber}/assignedServer"));
            w.WriteEndObject();
            w.WriteEndObject();
        }

        if (F("appleCareCoverage"))
        {
            w.WriteStartObject("appleCareCoverage");
            w.WriteStartObject("links");
            w.WriteString("related", Link($"v1/orgDevices/{d.SerialNumber}/appleCareCoverage"));
            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteStartObject("links");
        w.WriteString("self", Link("v1/orgDevices/" + d.SerialNumber));
        w.WriteEndObject();
        w.WriteEndObject();
    }

    // ---- servers ----------------------------------------------------------------------------------------------------

    private static readonly HashSet<string> AllServerFields = new(StringComparer.Ordinal)
    {
        "serverName", "serverType", "createdDateTime", "updatedDateTime", "status", "deviceCount", "enableMdmDisownFlag",
        "defaultProductFamilies", "lastConnectedDateTime", "lastConnectedIp", "devices",
    };

    private static readonly HashSet<string> DefaultServerFields = new(StringComparer.Ordinal) { "serverName", "serverType", "createdDateTime", "updatedDateTime", "devices" };

    private Answer ListServers(Exchange x)
    {
        if (!TryPaging(x, out var limit, out var after, out var bad)) return bad!;
        var fields = Fields(x, "mdmServers") ?? (FullServerAttributesByDefault ? AllServerFields : DefaultServerFields);
        var ordered = servers.OrderBy(s => OrderKey(ServerId(s)), StringComparer.Ordinal).Where(s => after is null || string.CompareOrdinal(OrderKey(ServerId(s)), after) > 0).ToList();
        var page = ordered.Take(limit).ToList();
        var more = ordered.Count > limit;
        return Api(Json(w =>
        {
            w.WriteStartArray("data");
            foreach (var s in page) WriteServer(w, s, fields);
            w.WriteEndArray();
            WritePagingLinks(w, "v1/mdmServers", limit, more ? OrderKey(ServerId(page[^1])) : null, servers.Count);
        }, null));
    }

    private Answer OneServer(Exchange x, string id)
    {
        var server = ServerById(id);
        if (server is null) return ApiError(404, "NOT_FOUND", "There is no resource of type 'mdmServers' with id '" + id + "'.");
        var fields = Fields(x, "mdmServers") ?? AllServerFields;
        return Api(Json(w =>
        {
            w.WritePropertyName("data");
            WriteServer(w, server, fields);
            w.WriteStartObject("links");
            w.WriteString("self", Link("v1/mdmServers/" + ServerId(server)));
            w.WriteEndObject();
        }, null));
    }

    private Answer ServerDevices(Exchange x, string id)
    {
        var server = ServerById(id);
        if (server is null) return ApiError(404, "NOT_FOUND", "Unknown device management service.");
        if (!TryPaging(x, out var limit, out var after, out var bad)) return bad!;
        var serials = server.Devices.Keys.Select(OrderKey).Order(StringComparer.Ordinal).Where(s => after is null || string.CompareOrdinal(s, after) > 0).Take(limit + 1).ToList();
        var more = serials.Count > limit;
        if (more) serials.RemoveAt(limit);
        var lastKey = more ? serials[^1] : null;
        serials = serials.ConvertAll(IdOfKey);
        return Api(Json(w =>
        {
            w.WriteStartArray("data");
            foreach (var s in serials)
            {
                w.WriteStartObject();
                w.WriteString("type", "orgDevices");
                w.WriteString("id", s);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            WritePagingLinks(w, $"v1/mdmServers/{ServerId(server)}/relationships/devices", limit, lastKey, server.Devices.Count);
        }, null));
    }

    private void WriteServer(Utf8JsonWriter w, ServerState s, HashSet<string> fields)
    {
        var id = ServerId(s);
        w.WriteStartObject();
        w.WriteString("type", "mdmServers");
        w.WriteString("id", id);
        w.WriteStartObject("attributes");
        if (fields.Contains("serverName")) w.WriteString("serverName", s.Name);
        if (fields.Contains("serverType")) w.WriteString("serverType", "MDM");
        if (fields.Contains("createdDateTime")) w.WriteString("createdDateTime", Iso(StartedAt));
        if (fields.Contains("updatedDateTime")) w.WriteString("updatedDateTime", Iso(StartedAt));
        if (fields.Contains("status")) w.WriteString("status", "ACTIVE");
        if (fields.Contains("deviceCount")) w.WriteNumber("deviceCount", s.Devices.Count);
        if (fields.Contains("enableMdmDisownFlag")) w.WriteBoolean("enableMdmDisownFlag", false);
        if (fields.Contains("defaultProductFamilies"))
        {
            w.WriteStartArray("defaultProductFamilies");
            foreach (var family in s.Devices.Values.Select(d => d.DeviceFamily.ToUpperInvariant()).Distinct().Order(StringComparer.Ordinal)) w.WriteStringValue(family);
            w.WriteEndArray();
        }

        var lastCall = sessions.Values.Where(v => v.Server == s).Select(v => (DateTimeOffset?)(v.ExpiresAt - SessionLifetime)).Max();
        if (fields.Contains("lastConnectedDateTime") && lastCall is { } at) w.WriteString("lastConnectedDateTime", IsoZ(at));
        if (fields.Contains("lastConnectedIp") && lastCall is not null) w.WriteString("lastConnectedIp", "127.0.0.1");
        w.WriteEndObject();
        if (fields.Contains("devices"))
        {
            w.WriteStartObject("relationships");
            w.WriteStartObject("devices");
            w.WriteStartObject("links");
            w.WriteString("self", Link($"v1/mdmServers/{id}/relationships/devices"));
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteStartObject("links");
        w.WriteString("self", Link("v1/mdmServers/" + id));
        w.WriteEndObject();
        w.WriteEndObject();
    }

    // ---- activities -------------------------------------------------------------------------------------------------

    private Answer CreateActivity(Exchange x, SimApiAccount account)
    {
        JsonElement data;
        try
        {
            data = JsonDocument.Parse(x.Body).RootElement.GetProperty("data");
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return ApiError(400, "PARAMETER_ERROR.INVALID", "The request body is not a valid OrgDeviceActivityCreateRequest.");
        }

        string? type = null;
        if (data.ValueKind != JsonValueKind.Object || !data.TryGetProperty("type", out var t) || t.GetString() != "orgDeviceActivities"
            || !data.TryGetProperty("attributes", out var attrs) || !attrs.TryGetProperty("activityType", out var at) || at.ValueKind != JsonValueKind.String
            || !(ActivityTypes.Contains(type = at.GetString()) || (MigrationActivities && MigrationTypes.Contains(type))))
        {
            return ApiError(400, "PARAMETER_ERROR.INVALID", "data.type must be orgDeviceActivities and activityType one of "
                + string.Join(", ", MigrationActivities ? ActivityTypes.Concat(MigrationTypes) : ActivityTypes) + ".");
        }

        DateTimeOffset? deadline = null;
        if (type is "ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE" or "UPDATE_MDM_MIGRATION_DEADLINE")
        {
            if (!attrs.TryGetProperty("activityTypeMetadata", out var meta) || meta.ValueKind != JsonValueKind.Object
                || !meta.TryGetProperty("mdmMigrationDeadlineDateTime", out var dl) || dl.ValueKind != JsonValueKind.String
                || !DateTimeOffset.TryParse(dl.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return ApiError(400, "PARAMETER_ERROR.REQUIRED", type + " needs activityTypeMetadata.mdmMigrationDeadlineDateTime.");
            }

            var now = Time.GetUtcNow();
            if (parsed > now + TimeSpan.FromDays(90) || (type == "ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE" && parsed <= now))
            {
                return ApiError(409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "The migration deadline must be in the next 90 days.", "/data/attributes/activityTypeMetadata/mdmMigrationDeadlineDateTime");
            }

            deadline = parsed;
        }

        if (type == "RELEASE_DEVICES" && account.Scope == "school.api")
        {
            return ApiError(400, "PARAMETER_ERROR.INVALID", "RELEASE_DEVICES is not available in Apple School Manager.");
        }

        var serials = new List<string>();
        if (!data.TryGetProperty("relationships", out var rel) || rel.ValueKind != JsonValueKind.Object
            || !rel.TryGetProperty("devices", out var devs) || !devs.TryGetProperty("data", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
        {
            return ApiError(400, "PARAMETER_ERROR.REQUIRED", "relationships.devices.data must list at least one device.");
        }

        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("type", out var it) || it.GetString() != "orgDevices" || !item.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String)
            {
                return ApiError(400, "PARAMETER_ERROR.INVALID", "Every device is {\"type\":\"orgDevices\",\"id\":\"<serial>\"}.");
            }

            var s = id.GetString()!.Trim().ToUpperInvariant();
            if (!serials.Contains(s)) serials.Add(s);
        }

        if (MaxDevicesPerActivity is { } cap && serials.Count > cap)
        {
            return ApiError(422, "ENTITY_ERROR.ATTRIBUTE.INVALID", $"At most {cap} devices per activity.");
        }

        string? serverId = null;
        if (type is "ASSIGN_DEVICES" or "UNASSIGN_DEVICES" or "ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE")
        {
            if (!rel.TryGetProperty("mdmServer", out var ms) || !ms.TryGetProperty("data", out var msd) || msd.ValueKind != JsonValueKind.Object
                || !msd.TryGetProperty("id", out var msid) || msid.ValueKind != JsonValueKind.String)
            {
                return ApiError(400, "PARAMETER_ERROR.REQUIRED", type + " needs relationships.mdmServer.");
            }

            serverId = msid.GetString()!;
            if (ServerById(serverId) is null)
            {
                return ApiError(409, "ENTITY_ERROR.RELATIONSHIP.INVALID", "An invalid device management service ID was given.", "/data/relationships/mdmServer/data/id");
            }
        }

        var unknown = serials.Where(s => OrgDevice(s) is null).ToList();
        if (unknown.Count > 0 && !PartialUnknownSerials)
        {
            return ApiError(409, "ENTITY_ERROR.RELATIONSHIP.INVALID", "An invalid device serial number was given: " + unknown[0], "/data/relationships/devices/data");
        }

        var activity = new SimActivity
        {
            Id = Guid.NewGuid().ToString("D"),
            ClientId = account.ClientId,
            Type = type!,
            ServerId = serverId,
            Serials = serials,
            CreatedAt = Time.GetUtcNow(),
            Deadline = deadline,
        };
        activity.UnknownSerials.UnionWith(unknown);
        activities[activity.Id] = activity;
        pendingActivities++;
        var answer = Api(Json(w =>
        {
            w.WritePropertyName("data");
            WriteActivity(w, activity, null);
            w.WriteStartObject("links");
            w.WriteString("self", Link("v1/orgDeviceActivities"));
            w.WriteEndObject();
        }, null));
        answer.DeviceCount = serials.Count;
        return new Answer { Status = 201, Body = answer.Body, ContentType = answer.ContentType, DeviceCount = serials.Count };
    }

    private Answer GetActivity(Exchange x, string id, SimApiAccount account)
    {
        if (!activities.TryGetValue(id, out var activity) || activity.ClientId != account.ClientId || Time.GetUtcNow() - activity.CreatedAt > TimeSpan.FromDays(30))
        {
            return ApiError(404, "NOT_FOUND", "There is no resource of type 'orgDeviceActivities' with id '" + id + "'.");
        }

        var fields = Fields(x, "orgDeviceActivities");
        return Api(Json(w =>
        {
            w.WritePropertyName("data");
            WriteActivity(w, activity, fields);
            w.WriteStartObject("links");
            w.WriteString("self", Link("v1/orgDeviceActivities/" + activity.Id));
            w.WriteEndObject();
        }, null));
    }

    private void WriteActivity(Utf8JsonWriter w, SimActivity a, HashSet<string>? fields)
    {
        bool F(string name) => fields is null || fields.Contains(name);
        var now = Time.GetUtcNow();
        var sub = a.Status == "IN_PROGRESS" && now > a.CreatedAt ? "PROCESSING" : a.SubStatus;
        w.WriteStartObject();
        w.WriteString("type", "orgDeviceActivities");
        w.WriteString("id", a.Id);
        w.WriteStartObject("attributes");
        if (F("status")) w.WriteString("status", a.Status);
        if (F("subStatus")) w.WriteString("subStatus", sub);
        if (F("createdDateTime")) w.WriteString("createdDateTime", Iso(a.CreatedAt));
        if (a.CompletedAt is { } done)
        {
            if (F("completedDateTime")) w.WriteString("completedDateTime", Iso(done));
            if (F("downloadUrl") && a.SubStatus != "COMPLETED_POST_PROCESSING_FAILED") w.WriteString("downloadUrl", DownloadUrl(a, now));
        }

        w.WriteEndObject();
        w.WriteStartObject("links");
        w.WriteString("self", Link("v1/orgDeviceActivities/" + a.Id));
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private void Complete(SimActivity a, DateTimeOffset now)
    {
        pendingActivities--;
        a.CompletedAt = now;
        var forced = ForcedActivityOutcome;
        if (forced is "FAILED" or "STOPPED")
        {
            a.Status = forced;
            a.SubStatus = forced == "FAILED" ? "COMPLETED_WITH_FAILURE" : "STOPPING";
            foreach (var s in a.Serials) a.Results.Add((s, "FAILED", "ACTIVITY_" + forced));
            return;
        }

        var target = a.ServerId is null ? null : ServerById(a.ServerId);
        foreach (var serial in a.Serials)
        {
            if (a.UnknownSerials.Contains(serial) || OrgDevice(serial) is not { } org)
            {
                a.Results.Add((serial, "FAILED", "DEVICE_NOT_FOUND"));
                continue;
            }

            serialOwners.TryGetValue(serial, out var ownerName);
            var owner = ownerName is null ? null : servers.First(s => s.Name == ownerName);
            switch (a.Type)
            {
                case "UPDATE_MDM_MIGRATION_DEADLINE" or "CANCEL_MDM_MIGRATION" when org.MdmMigrationStatus is null:
                    a.Results.Add((serial, "FAILED", "NOT_MIGRATING"));
                    break;
                case "UPDATE_MDM_MIGRATION_DEADLINE":
                    orgDevices[serial] = org with { MdmMigrationDeadline = a.Deadline, UpdatedDate = now };
                    a.Results.Add((serial, "SUCCESS", "DEADLINE_UPDATED"));
                    break;
                case "CANCEL_MDM_MIGRATION":
                    orgDevices[serial] = org with { MdmMigrationStatus = null, MdmMigrationDeadline = null, UpdatedDate = now };
                    a.Results.Add((serial, "SUCCESS", "MIGRATION_CANCELED"));
                    break;
                case "ASSIGN_DEVICES" or "ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE" when owner == target:
                    a.Results.Add((serial, "FAILED", "ALREADY_ASSIGNED"));
                    break;
                case "ASSIGN_DEVICES" or "ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE":
                    if (owner is not null) Release(owner, owner.Devices[serial], now);
                    var dep = generator.NewDevice(target!.Name, serial, org.ProductFamily is "iPad" ? "iPad" : "iPhone", now, a.ClientId);
                    dep = org.ProductFamily is "iPhone" or "iPad" ? dep with { Model = org.DeviceModel } : dep with { Model = org.DeviceModel, DeviceFamily = org.ProductFamily, Os = org.ProductFamily == "Mac" ? "OSX" : org.ProductFamily == "AppleTV" ? "tvOS" : org.ProductFamily == "Vision" ? "visionOS" : "watchOS" };
                    target.Devices[serial] = dep;
                    serialOwners[serial] = target.Name;
                    target.Record(dep, "added", now);
                    orgDevices[serial] = a.Deadline is { } due
                        ? org with { UpdatedDate = now, MdmMigrationStatus = "REQUESTED", MdmMigrationDeadline = due }
                        : org with { UpdatedDate = now };
                    a.Results.Add((serial, "SUCCESS", "ASSIGNED"));
                    break;
                case "UNASSIGN_DEVICES" when owner is null || owner != target:
                    a.Results.Add((serial, "FAILED", "NOT_ASSIGNED_TO_SERVER"));
                    break;
                case "UNASSIGN_DEVICES":
                    Release(owner!, owner!.Devices[serial], now);
                    orgDevices[serial] = org with { UpdatedDate = now };
                    a.Results.Add((serial, "SUCCESS", "UNASSIGNED"));
                    break;
                default: // RELEASE_DEVICES
                    if (owner is not null) Release(owner, owner.Devices[serial], now);
                    orgDevices.Remove(serial);
                    a.Results.Add((serial, "SUCCESS", "RELEASED"));
                    break;
            }
        }

        var failed = a.Results.Count(r => r.Status != "SUCCESS");
        a.Status = "COMPLETED";
        a.SubStatus = forced == "COMPLETED_WITH_FAILURE" ? forced : failed == 0 ? "COMPLETED_WITH_SUCCESS" : "COMPLETED_WITH_ERROR";
    }

    private string DownloadUrl(SimActivity a, DateTimeOffset now)
    {
        var expires = now.AddSeconds(60).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = Convert.ToHexString(HMACSHA256.HashData(downloadKey, Encoding.UTF8.GetBytes(a.Id + "|" + expires)));
        return Link($"abm-logs/{a.Id}.csv?Expires={expires}&Signature={signature}");
    }

    /// <summary>The activity's CSV log: no bearer token, a signed URL that expires after 60 s (else 403).</summary>
    private Answer ActivityLog(Exchange x)
    {
        var id = x.Path["/abm-logs/".Length..].Replace(".csv", "", StringComparison.Ordinal);
        var expires = x.Query("Expires");
        var expected = Convert.ToHexString(HMACSHA256.HashData(downloadKey, Encoding.UTF8.GetBytes(id + "|" + expires)));
        if (!activities.TryGetValue(id, out var a) || a.CompletedAt is null || x.Query("Signature") != expected
            || !long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var e) || e < Time.GetUtcNow().ToUnixTimeSeconds())
        {
            return new Answer { Status = 403, Body = "<Error><Code>AccessDenied</Code></Error>"u8.ToArray(), ContentType = "application/xml", ErrorCode = "AccessDenied" };
        }

        var csv = new StringBuilder();
        csv.Append("Activity,").Append(a.Type).Append('\n');
        csv.Append("Activity ID,").Append(a.Id).Append("\n\n");
        csv.Append("serial_number,operation_status,operation_substatus\n");
        foreach (var (serial, status, sub) in a.Results)
        {
            csv.Append(serial).Append(',').Append(status).Append(',').Append(sub).Append('\n');
        }

        var answer = new Answer { Body = Encoding.UTF8.GetBytes(csv.ToString()), ContentType = "application/octet-stream" };
        answer.Headers.Add(new("Content-Disposition", $"attachment; filename=\"ABM-ActivityLog_{a.CompletedAt:MMM-d-yyyy_HH-mm-ss}.csv\""));
        return answer;
    }

    // ---- JSON:API helpers -------------------------------------------------------------------------------------------

    private string Link(string relative) => new Uri(Uri, relative).ToString();

    private static Answer Api(Answer a) => new() { Status = a.Status, Body = a.Body, ContentType = "application/json", DeviceCount = a.DeviceCount };

    private static Answer ApiError(int status, string code, string detail, string? pointer = null)
    {
        var body = Json(w =>
        {
            w.WriteStartArray("errors");
            w.WriteStartObject();
            w.WriteString("id", Guid.NewGuid().ToString("D"));
            w.WriteString("status", status.ToString(CultureInfo.InvariantCulture));
            w.WriteString("code", code);
            w.WriteString("title", code.Replace('_', ' ').ToLowerInvariant());
            w.WriteString("detail", detail);
            if (pointer is not null)
            {
                w.WriteStartObject("source");
                w.WriteString("pointer", pointer);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndArray();
        }, null);
        return new Answer { Status = status, Body = body.Body, ContentType = "application/json", ErrorCode = code };
    }

    /// <summary>fields[type] (brackets raw or percent-encoded), or null when absent.</summary>
    private static HashSet<string>? Fields(Exchange x, string type)
    {
        var value = x.Query($"fields[{type}]");
        return value is null ? null : new HashSet<string>(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.Ordinal);
    }

    private bool TryPaging(Exchange x, out int limit, out string? after, out Answer? bad)
    {
        limit = DefaultPageSize;
        after = null;
        bad = null;
        var text = x.Query("limit");
        if (text is not null && (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxPageSize))
        {
            bad = ApiError(400, "PARAMETER_ERROR.INVALID", "limit must be 1 to 1000.", null);
            return false;
        }

        var cursor = x.Query("cursor");
        if (cursor is not null)
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Base64Url(cursor));
                if (!decoded.StartsWith("after:", StringComparison.Ordinal)) throw new FormatException("cursor");
                after = decoded["after:".Length..];
            }
            catch (FormatException)
            {
                bad = ApiError(400, "PARAMETER_ERROR.INVALID", "The cursor is not valid.");
                return false;
            }
        }

        return true;
    }

    private void WritePagingLinks(Utf8JsonWriter w, string path, int limit, string? lastId, int total)
    {
        var cursor = lastId is null ? null : Convert.ToBase64String(Encoding.UTF8.GetBytes("after:" + lastId)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        w.WriteStartObject("links");
        w.WriteString("self", Link(path));
        if (cursor is not null) w.WriteString("next", Link(path + "?cursor=" + cursor + (NextLinkWithoutLimit ? "" : "&limit=" + limit.ToString(CultureInfo.InvariantCulture))));
        w.WriteEndObject();
        w.WriteStartObject("meta");
        w.WriteStartObject("paging");
        w.WriteNumber("limit", limit);
        if (cursor is not null) w.WriteString("nextCursor", cursor);
        if (PagingTotal) w.WriteNumber("total", total);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static string IsoZ(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
}

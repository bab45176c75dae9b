using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AdeEnrollment.Simulator.Service;

namespace AdeEnrollment.Simulator;

// Apple's side of the ADE web service: /session and the device and profile endpoints, with Apple's rules.
public sealed partial class AdeSimulator
{
    private static readonly HashSet<string> BlockedUserAgents = new(StringComparer.OrdinalIgnoreCase) { "nanodep-godep/0", "Go-http-client/1.1", "Go-http-client/2.0" };
    private static readonly HashSet<string> OAuthParameters = new(StringComparer.Ordinal)
    {
        "oauth_consumer_key", "oauth_token", "oauth_signature_method", "oauth_timestamp", "oauth_nonce", "oauth_version", "oauth_signature",
    };

    private static readonly string[] KnownPaths = ["/account", "/server/devices", "/devices/sync", "/devices", "/devices/disown", "/profile", "/profile/devices"];
    private static readonly Regex EmailPattern = new(@"^[^@\s]+@[^@\s]+\.[^@\s]+$", RegexOptions.CultureInvariant);
    private static readonly Regex LanguagePattern = new("^[A-Za-z]{2,3}$", RegexOptions.CultureInvariant);
    private static readonly Regex RegionPattern = new("^[A-Za-z]{2}$", RegexOptions.CultureInvariant);

    private Answer Route(Exchange x)
    {
        CompleteDueActivities(); // Apple Business activities complete on the simulator's clock (AdeSimulator.Business.cs)
        if (IsBusinessPath(x.Path))
        {
            return RouteBusiness(x);
        }

        var userAgent = x.Header("User-Agent");
        if (userAgent is null)
        {
            return Error(400, "USER_AGENT_MISSING");
        }

        if (string.IsNullOrWhiteSpace(userAgent) || BlockedUserAgents.Contains(userAgent.Trim()))
        {
            return Error(400, "USER_AGENT_INVALID");
        }

        if (x.Path == "/session")
        {
            return x.Method == "GET" ? Session(x) : Error(405, "METHOD_NOT_ALLOWED");
        }

        if (!KnownPaths.Contains(x.Path))
        {
            return Error(404, "NOT_FOUND");
        }

        var session = Authenticate(x, out var refused);
        if (session is null)
        {
            return refused!;
        }

        var server = session.Server;
        var answer = (x.Method, x.Path) switch
        {
            ("GET", "/account") => Account(server, x),
            ("POST", "/server/devices") => Fetch(server, x),
            ("POST", "/devices/sync") => Sync(server, x),
            ("POST", "/devices") => Details(server, x),
            ("POST", "/devices/disown") => Disown(server, x),
            ("POST", "/profile") => DefineProfile(server, x),
            ("GET", "/profile") => GetProfile(server, x),
            ("POST" or "PUT", "/profile/devices") => AssignProfile(server, x),
            ("DELETE", "/profile/devices") => RemoveProfile(server, x),
            _ => Error(405, "METHOD_NOT_ALLOWED"),
        };
        answer.Server = server.Name;
        if (RotateSessionEvery is { } every && every > 0 && ++session.Requests % every == 0)
        {
            var rotated = NewSessionToken();
            sessions.Remove(x.Header("X-ADM-Auth-Session")!);
            sessions[rotated] = new SessionState { Server = server, AccessToken = session.AccessToken, ExpiresAt = Time.GetUtcNow() + SessionLifetime };
            answer.Headers.Add(new("X-ADM-Auth-Session", rotated));
        }

        return answer;
    }

    // ---- authentication --------------------------------------------------------------------------------------------

    /// <summary>GET /session: OAuth 1.0a HMAC-SHA1, with or without realm (reference §2.1, §2.4).</summary>
    private Answer Session(Exchange x)
    {
        var parameters = OAuthVerifier.Parse(x.Header("Authorization"));
        if (parameters is null)
        {
            return Error(400, "oauth_problem=parameter_absent", quote: false);
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (name, value) in parameters)
        {
            if (name == "realm")
            {
                continue;
            }

            if (!OAuthParameters.Contains(name) || !values.TryAdd(name, value))
            {
                return Error(400, "oauth_problem=parameter_rejected", quote: false); // unsupported or duplicated
            }
        }

        foreach (var required in OAuthParameters.Where(p => p != "oauth_version"))
        {
            if (!values.ContainsKey(required))
            {
                return Error(400, "oauth_problem=parameter_absent", quote: false);
            }
        }

        if (values["oauth_signature_method"] != OAuthVerifier.SignatureMethod)
        {
            return Error(400, "oauth_problem=signature_method_rejected", quote: false);
        }

        if (values.TryGetValue("oauth_version", out var version) && version != OAuthVerifier.Version)
        {
            return Error(400, "oauth_problem=version_rejected", quote: false);
        }

        if (!serversByConsumerKey.TryGetValue(values["oauth_consumer_key"], out var server))
        {
            return Error(401, "oauth_problem=consumer_key_unknown", quote: false);
        }

        var now = Time.GetUtcNow();
        if (values["oauth_token"] != server.Credentials.AccessToken)
        {
            return Error(401, "oauth_problem=token_rejected", quote: false); // revoked, or replaced by a newer download
        }

        if (server.Credentials.AccessTokenExpiry <= now)
        {
            return Error(401, "oauth_problem=token_expired", quote: false);
        }

        var signed = parameters.Where(p => p.Key != "realm" && p.Key != "oauth_signature");
        var expected = OAuthVerifier.ExpectedSignature(x.Url, signed, server.Credentials.ConsumerSecret, server.Credentials.AccessSecret);
        if (!CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(values["oauth_signature"])))
        {
            return Error(401, "oauth_problem=signature_invalid", quote: false);
        }

        if (!long.TryParse(values["oauth_timestamp"], NumberStyles.None, CultureInfo.InvariantCulture, out var timestamp)
            || Math.Abs(now.ToUnixTimeSeconds() - timestamp) > MaxClockSkew.TotalSeconds)
        {
            return Error(401, "oauth_problem=timestamp_refused", quote: false);
        }

        var nonceKey = server.Credentials.ConsumerKey + "|" + values["oauth_nonce"];
        if (nonces.ContainsKey(nonceKey))
        {
            return Error(401, "oauth_problem=nonce_used", quote: false);
        }

        if (nonces.Count > 100_000)
        {
            foreach (var old in nonces.Where(n => n.Value < now - MaxClockSkew - MaxClockSkew).Select(n => n.Key).ToList())
            {
                nonces.Remove(old);
            }
        }

        nonces[nonceKey] = now;
        var token = NewSessionToken();
        sessions[token] = new SessionState { Server = server, AccessToken = server.Credentials.AccessToken, ExpiresAt = now + SessionLifetime };
        return Json(w => w.WriteString("auth_session_token", token), server);
    }

    private string NewSessionToken()
        => Time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + "O1O" + Convert.ToHexString(RandomNumberGenerator.GetBytes(32));

    private SessionState? Authenticate(Exchange x, out Answer? refused)
    {
        refused = null;
        var token = x.Header("X-ADM-Auth-Session");
        if (string.IsNullOrEmpty(token) || !sessions.TryGetValue(token, out var session))
        {
            refused = Error(401, "UNAUTHORIZED");
            return null;
        }

        if (session.ExpiresAt <= Time.GetUtcNow() || session.AccessToken != session.Server.Credentials.AccessToken)
        {
            sessions.Remove(token);
            refused = Error(401, "UNAUTHORIZED");
            return null;
        }

        return session;
    }

    // ---- account ---------------------------------------------------------------------------------------------------

    private Answer Account(ServerState server, Exchange x) => Json(w =>
    {
        w.WriteString("server_name", server.Name);
        w.WriteString("server_uuid", server.Uuid);
        w.WriteString("admin_id", server.AdminId);
        w.WriteString("facilitator_id", server.AdminId);
        w.WriteString("org_name", server.OrgName);
        w.WriteString("org_email", server.AdminId);
        w.WriteString("org_phone", "+1 555 0100");
        w.WriteString("org_address", "1 Example Way, Springfield");
        if (x.ProtocolVersion >= 3)
        {
            w.WriteString("org_id", "1" + server.Uuid[..7]);
            w.WriteString("org_id_hash", Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(server.OrgName))).ToLowerInvariant());
            w.WriteString("org_type", "org");
            w.WriteString("org_version", "v2");
            w.WriteStartArray("urls");
            foreach (var (uri, methods) in new[]
            {
                ("/session", new[] { "GET" }), ("/account", ["GET"]), ("/server/devices", ["POST"]), ("/devices/sync", ["POST"]),
                ("/devices", ["POST"]), ("/devices/disown", ["POST"]), ("/profile", ["POST", "GET"]), ("/profile/devices", ["DELETE", "POST", "PUT"]),
            })
            {
                w.WriteStartObject();
                w.WriteString("uri", uri);
                w.WriteStartArray("http_method");
                foreach (var m in methods) w.WriteStringValue(m);
                w.WriteEndArray();
                if (uri is "/server/devices" or "/devices/sync")
                {
                    w.WriteStartObject("limit");
                    w.WriteNumber("default", DefaultPageSize);
                    w.WriteNumber("maximum", MaxPageSize);
                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        }
    }, server);

    // ---- fetch and sync --------------------------------------------------------------------------------------------

    private Answer Fetch(ServerState server, Exchange x)
    {
        if (!TryParseBody(x, allowEmpty: true, out var root, out var bad) || !TryLimit(root, out var limit, out bad) || !TryCursor(root, out var cursorText, out bad))
        {
            return bad!;
        }

        var now = Time.GetUtcNow();
        AdeSimDevice[] snapshot;
        long snapshotId, position, sequence;
        if (string.IsNullOrEmpty(cursorText))
        {
            snapshot = [.. server.Devices.Values.OrderBy(d => d.DeviceAssignedDate).ThenBy(d => d.SerialNumber, StringComparer.Ordinal)];
            snapshotId = ++server.LastSnapshot;
            server.Snapshots[snapshotId] = snapshot;
            while (server.Snapshots.Count > ServerState.MaxSnapshots)
            {
                server.Snapshots.Remove(server.Snapshots.Keys.Min());
            }

            position = 0;
            sequence = server.LastSequence;
        }
        else
        {
            var cursor = Cursor.Decode(cursorText, cursorKey);
            if (cursor is null || cursor.Server != server.Uuid)
            {
                return Error(400, "INVALID_CURSOR");
            }

            if (cursor.Kind == 'S' || cursor.Position >= cursor.Count)
            {
                return Error(400, "EXHAUSTED_CURSOR");
            }

            if (!server.Snapshots.TryGetValue(cursor.Snapshot, out snapshot!))
            {
                return Error(400, "INVALID_CURSOR");
            }

            snapshotId = cursor.Snapshot;
            position = cursor.Position;
            sequence = cursor.Sequence;
        }

        var take = (int)Math.Min(limit, snapshot.Length - position);
        var next = new Cursor('F', server.Uuid, snapshotId, position + take, snapshot.Length, sequence, now).Encode(cursorKey);
        var version = x.ProtocolVersion;
        var answer = Json(w =>
        {
            w.WriteString("cursor", next);
            w.WriteBoolean("more_to_follow", position + take < snapshot.Length);
            w.WriteString("fetched_until", Iso(now));
            w.WriteStartArray("devices");
            for (var i = position; i < position + take; i++)
            {
                WriteDevice(w, snapshot[i], version, null);
            }

            w.WriteEndArray();
        }, server);
        answer.DeviceCount = take;
        return answer;
    }

    private Answer Sync(ServerState server, Exchange x)
    {
        if (!TryParseBody(x, allowEmpty: true, out var root, out var bad) || !TryLimit(root, out var limit, out bad) || !TryCursor(root, out var cursorText, out bad))
        {
            return bad!;
        }

        if (string.IsNullOrEmpty(cursorText))
        {
            return Error(400, "CURSOR_REQUIRED");
        }

        var cursor = Cursor.Decode(cursorText, cursorKey);
        if (cursor is null || cursor.Server != server.Uuid)
        {
            return Error(400, "INVALID_CURSOR");
        }

        var now = Time.GetUtcNow();
        if (now - cursor.IssuedAt > CursorLifetime)
        {
            return Error(400, "EXPIRED_CURSOR");
        }

        var first = server.FirstEventAfter(cursor.Sequence);
        var take = Math.Min(limit, server.Events.Count - first);
        var last = take > 0 ? server.Events[first + take - 1].Sequence : cursor.Sequence;
        var next = new Cursor('S', server.Uuid, 0, 0, 0, last, now).Encode(cursorKey);
        var version = x.ProtocolVersion;
        var answer = Json(w =>
        {
            w.WriteString("cursor", next);
            w.WriteBoolean("more_to_follow", first + take < server.Events.Count);
            w.WriteString("fetched_until", Iso(now));
            w.WriteStartArray("devices");
            for (var i = first; i < first + take; i++)
            {
                var e = server.Events[i];
                WriteDevice(w, e.Device, version, e);
            }

            w.WriteEndArray();
        }, server);
        answer.DeviceCount = take;
        return answer;
    }

    // ---- devices ---------------------------------------------------------------------------------------------------

    private Answer Details(ServerState server, Exchange x)
    {
        if (!TryDeviceList(x, out _, out var serials, out var bad))
        {
            return bad!;
        }

        var version = x.ProtocolVersion;
        var answer = Json(w =>
        {
            w.WriteStartObject("devices");
            foreach (var serial in serials)
            {
                w.WritePropertyName(serial);
                if (server.Devices.TryGetValue(serial, out var device))
                {
                    WriteDevice(w, device, version, null, "SUCCESS");
                }
                else
                {
                    w.WriteStartObject();
                    w.WriteString("serial_number", serial);
                    w.WriteString("response_status", "NOT_ACCESSIBLE");
                    w.WriteEndObject();
                }
            }

            w.WriteEndObject();
        }, server);
        answer.DeviceCount = serials.Count;
        return answer;
    }

    private Answer Disown(ServerState server, Exchange x)
    {
        if (!TryDeviceList(x, out _, out var serials, out var bad))
        {
            return bad!;
        }

        if (!server.AllowDeviceRelease)
        {
            return Error(403, "ACCESS_DENIED"); // the organisation does not let this MDM server release devices
        }

        var now = Time.GetUtcNow();
        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var serial in serials)
        {
            if (server.Devices.TryGetValue(serial, out var device))
            {
                Release(server, device, now);
                results[serial] = "SUCCESS";
            }
            else
            {
                results[serial] = "NOT_ACCESSIBLE";
            }
        }

        var answer = Json(w => WriteStatusMap(w, results), server);
        answer.DeviceCount = serials.Count;
        return answer;
    }

    // ---- profiles --------------------------------------------------------------------------------------------------

    private Answer DefineProfile(ServerState server, Exchange x)
    {
        if (!TryParseBody(x, allowEmpty: false, out var root, out var bad))
        {
            return bad!;
        }

        var problem = ValidateProfile(root);
        if (problem is not null)
        {
            return Error(400, problem);
        }

        var serials = new List<string>();
        if (root.TryGetProperty("devices", out var devices))
        {
            if (!TryStrings(devices, out serials))
            {
                return Error(400, "MALFORMED_REQUEST_BODY");
            }

            if (serials.Count > MaxDevicesPerRequest)
            {
                return Error(400, "DEVICE_LIMIT_EXCEEDED");
            }
        }

        var now = Time.GetUtcNow();
        var uuid = generator.NewUuid();
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name is not ("devices" or "profile_uuid"))
                {
                    property.WriteTo(w);
                }
            }

            w.WriteEndObject();
        }

        using (var definition = JsonDocument.Parse(buffer.WrittenMemory))
        {
            server.Profiles[uuid] = new SimProfile(uuid, definition.RootElement.Clone(), now);
        }

        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var serial in serials)
        {
            results[serial] = Assign(server, serial, uuid, x.ProtocolVersion, now, out _);
        }

        var answer = Json(w =>
        {
            w.WriteString("profile_uuid", uuid);
            WriteStatusMap(w, results);
        }, server);
        answer.DeviceCount = serials.Count;
        return answer;
    }

    /// <summary>Apple's profile field rules and their CONFIG_* / *_INVALID codes (reference §3.6). Unknown skip keys are accepted.</summary>
    private static string? ValidateProfile(JsonElement root)
    {
        static string? Text(JsonElement root, string name, out bool wrongType)
        {
            wrongType = false;
            if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind != JsonValueKind.String)
            {
                wrongType = true;
                return null;
            }

            return value.GetString();
        }

        static bool? Flag(JsonElement root, string name, out bool wrongType)
        {
            wrongType = false;
            if (!root.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
            {
                return null;
            }

            if (value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
            {
                wrongType = true;
                return null;
            }

            return value.GetBoolean();
        }

        static bool ValidUrl(string url)
            => url.Length <= 2000 && Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttps || uri.Scheme == Uri.UriSchemeHttp);

        var name = Text(root, "profile_name", out var bad);
        if (bad) return "CONFIG_NAME_INVALID";
        if (string.IsNullOrWhiteSpace(name)) return "CONFIG_NAME_REQUIRED";
        if (name.Length > 125) return "CONFIG_NAME_INVALID";

        var url = Text(root, "url", out bad);
        if (bad) return "CONFIG_URL_INVALID";
        if (string.IsNullOrWhiteSpace(url)) return "CONFIG_URL_REQUIRED";
        if (!ValidUrl(url)) return "CONFIG_URL_INVALID";
        var webUrl = Text(root, "configuration_web_url", out bad);
        if (bad || (webUrl is not null && !ValidUrl(webUrl))) return "CONFIG_URL_INVALID";

        bool? supervised = null, removable = null;
        foreach (var flag in new[] { "allow_pairing", "is_supervised", "is_mandatory", "is_mdm_removable", "is_multi_user", "await_device_configured", "auto_advance_setup", "is_return_to_service", "do_not_use_profile_from_backup" })
        {
            var value = Flag(root, flag, out bad);
            if (bad) return "FLAGS_INVALID";
            if (flag == "is_supervised") supervised = value;
            if (flag == "is_mdm_removable") removable = value;
        }

        if (removable == false && supervised != true) return "FLAGS_INVALID";

        var department = Text(root, "department", out bad);
        if (bad || department?.Length > 125) return "DEPARTMENT_INVALID";
        var phone = Text(root, "support_phone_number", out bad);
        if (bad || phone?.Length > 50) return "SUPPORT_PHONE_INVALID";
        var email = Text(root, "support_email_address", out bad);
        if (bad || (!string.IsNullOrEmpty(email) && (email.Length > 250 || !EmailPattern.IsMatch(email)))) return "SUPPORT_EMAIL_INVALID";
        var magic = Text(root, "org_magic", out bad);
        if (bad || magic?.Length > 256) return "MAGIC_INVALID";
        var language = Text(root, "language", out bad);
        if (bad || (!string.IsNullOrEmpty(language) && !LanguagePattern.IsMatch(language))) return "LOCALE_INVALID";
        var region = Text(root, "region", out bad);
        if (bad || (!string.IsNullOrEmpty(region) && !RegionPattern.IsMatch(region))) return "LOCALE_INVALID";

        foreach (var list in new[] { "skip_setup_items", "anchor_certs", "supervising_host_certs" })
        {
            if (root.TryGetProperty(list, out var items) && items.ValueKind != JsonValueKind.Null)
            {
                if (!TryStrings(items, out var values)) return "MALFORMED_REQUEST_BODY";
                if (list != "skip_setup_items" && values.Any(v => !IsBase64(v))) return "MALFORMED_REQUEST_BODY";
            }
        }

        return null;
    }

    private static bool IsBase64(string value)
    {
        var buffer = new byte[value.Length];
        return value.Length > 0 && Convert.TryFromBase64String(value, buffer, out _);
    }

    private Answer GetProfile(ServerState server, Exchange x)
    {
        var uuid = x.Query("profile_uuid");
        if (string.IsNullOrWhiteSpace(uuid))
        {
            return Error(400, "PROFILE_UUID_REQUIRED");
        }

        if (!server.Profiles.TryGetValue(uuid, out var profile))
        {
            return Error(404, "PROFILE_NOT_FOUND");
        }

        return Json(w =>
        {
            foreach (var property in profile.Definition.EnumerateObject())
            {
                property.WriteTo(w);
            }

            w.WriteString("profile_uuid", profile.Uuid);
        }, server);
    }

    private Answer AssignProfile(ServerState server, Exchange x)
    {
        if (!TryParseBody(x, allowEmpty: false, out var root, out var bad))
        {
            return bad!;
        }

        var uuid = root.TryGetProperty("profile_uuid", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
        if (string.IsNullOrWhiteSpace(uuid))
        {
            return Error(400, "PROFILE_UUID_REQUIRED");
        }

        if (!TryDeviceList(x, out _, out var serials, out bad, root))
        {
            return bad!;
        }

        if (!server.Profiles.ContainsKey(uuid))
        {
            return Error(404, "PROFILE_NOT_FOUND");
        }

        var now = Time.GetUtcNow();
        var version = x.ProtocolVersion;
        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        int? retryAfter = null;
        foreach (var serial in serials)
        {
            results[serial] = Assign(server, serial, uuid, version, now, out var wait);
            if (wait is { } seconds)
            {
                retryAfter = Math.Max(retryAfter ?? 0, seconds);
            }
        }

        var answer = Json(w =>
        {
            w.WriteString("profile_uuid", uuid);
            WriteStatusMap(w, results);
            if (retryAfter is { } seconds && version >= 10)
            {
                w.WriteNumber("retry_after_seconds", seconds);
            }
        }, server);
        answer.DeviceCount = serials.Count;
        return answer;
    }

    /// <summary>Assigns one device; THROTTLED exists from protocol 9 (older clients get FAILED).</summary>
    private string Assign(ServerState server, string serial, string uuid, int version, DateTimeOffset now, out int? retryAfterSeconds)
    {
        retryAfterSeconds = null;
        if (!server.Devices.TryGetValue(serial, out var device))
        {
            return "NOT_ACCESSIBLE";
        }

        if (TakeOutcome(server, serial) is { } outcome)
        {
            if (outcome.Status == "THROTTLED")
            {
                if (version < 9)
                {
                    return "FAILED";
                }

                retryAfterSeconds = outcome.RetryAfterSeconds ?? 60;
            }

            return outcome.Status;
        }

        var assigned = device with { ProfileUuid = uuid, ProfileStatus = "assigned", ProfileAssignTime = now, ProfilePushTime = null };
        server.Devices[serial] = assigned;
        server.Record(assigned, "modified", now);
        return "SUCCESS";
    }

    private static DeviceOutcome? TakeOutcome(ServerState server, string serial)
    {
        if (!server.Outcomes.TryGetValue(serial, out var outcome))
        {
            return null;
        }

        if (outcome.Remaining is { } remaining)
        {
            if (remaining <= 1)
            {
                server.Outcomes.Remove(serial);
            }
            else
            {
                outcome.Remaining = remaining - 1;
            }
        }

        return outcome;
    }

    private Answer RemoveProfile(ServerState server, Exchange x)
    {
        if (!TryDeviceList(x, out _, out var serials, out var bad))
        {
            return bad!;
        }

        var now = Time.GetUtcNow();
        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var serial in serials)
        {
            if (!server.Devices.TryGetValue(serial, out var device))
            {
                results[serial] = "NOT_ACCESSIBLE";
                continue;
            }

            if (TakeOutcome(server, serial) is { } outcome)
            {
                results[serial] = outcome.Status == "THROTTLED" ? "FAILED" : outcome.Status; // remove never throttles
                continue;
            }

            var removed = device with { ProfileUuid = null, ProfileStatus = "removed", ProfileAssignTime = null, ProfilePushTime = null };
            server.Devices[serial] = removed;
            server.Record(removed, "modified", now);
            results[serial] = "SUCCESS";
        }

        var answer = Json(w => WriteStatusMap(w, results), server);
        answer.DeviceCount = serials.Count;
        return answer;
    }

    // ---- request parsing -------------------------------------------------------------------------------------------

    private bool TryParseBody(Exchange x, bool allowEmpty, out JsonElement root, out Answer? bad)
    {
        bad = null;
        root = default;
        if (x.Body.Length == 0)
        {
            if (allowEmpty)
            {
                return true;
            }

            bad = Error(400, "MALFORMED_REQUEST_BODY");
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(x.Body);
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            bad = Error(400, "MALFORMED_REQUEST_BODY");
            return false;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            bad = Error(400, "MALFORMED_REQUEST_BODY");
            return false;
        }

        return true;
    }

    /// <summary>limit: default 100, at most 1000 (larger values are served as 1000).</summary>
    private bool TryLimit(JsonElement root, out int limit, out Answer? bad)
    {
        bad = null;
        limit = Math.Min(DefaultPageSize, PageSizeCap ?? MaxPageSize);
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("limit", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var requested) || requested < 0)
        {
            bad = Error(400, "MALFORMED_REQUEST_BODY");
            return false;
        }

        limit = Math.Min(requested == 0 ? DefaultPageSize : Math.Min(requested, MaxPageSize), PageSizeCap ?? MaxPageSize);
        return true;
    }

    private bool TryCursor(JsonElement root, out string? cursor, out Answer? bad)
    {
        bad = null;
        cursor = null;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("cursor", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            bad = Error(400, "INVALID_CURSOR");
            return false;
        }

        cursor = value.GetString();
        return true;
    }

    /// <summary>{"devices": [serial…]}: 1 to 1000 serial numbers.</summary>
    private bool TryDeviceList(Exchange x, out JsonElement root, out List<string> serials, out Answer? bad, JsonElement? parsed = null)
    {
        serials = [];
        root = default;
        bad = null;
        if (parsed is { } p)
        {
            root = p;
        }
        else if (!TryParseBody(x, allowEmpty: false, out root, out bad))
        {
            if (x.Body.Length == 0)
            {
                bad = Error(400, "DEVICE_ID_REQUIRED");
            }

            return false;
        }

        if (!root.TryGetProperty("devices", out var devices) || devices.ValueKind == JsonValueKind.Null)
        {
            bad = Error(400, "DEVICE_ID_REQUIRED");
            return false;
        }

        if (!TryStrings(devices, out serials))
        {
            bad = Error(400, "MALFORMED_REQUEST_BODY");
            return false;
        }

        if (serials.Count == 0)
        {
            bad = Error(400, "DEVICE_ID_REQUIRED");
            return false;
        }

        if (serials.Count > MaxDevicesPerRequest)
        {
            bad = Error(400, "DEVICE_LIMIT_EXCEEDED");
            return false;
        }

        return true;
    }

    private static bool TryStrings(JsonElement array, out List<string> values)
    {
        values = [];
        if (array.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            values.Add(item.GetString()!);
        }

        return true;
    }

    // ---- writing ---------------------------------------------------------------------------------------------------

    private static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    private static Answer Json(Action<Utf8JsonWriter> write, ServerState? server)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        return new Answer { Body = buffer.WrittenSpan.ToArray(), Server = server?.Name };
    }

    private static void WriteStatusMap(Utf8JsonWriter w, Dictionary<string, string> results)
    {
        w.WriteStartObject("devices");
        foreach (var (serial, status) in results)
        {
            w.WriteString(serial, status);
        }

        w.WriteEndObject();
    }

    /// <summary>A device in Apple's shape for the client's protocol version; a deleted sync entry carries little more than the serial.</summary>
    private static void WriteDevice(Utf8JsonWriter w, AdeSimDevice d, int version, SimEvent? e, string? responseStatus = null)
    {
        w.WriteStartObject();
        w.WriteString("serial_number", d.SerialNumber);
        if (e?.OpType != "deleted")
        {
            w.WriteString("model", d.Model);
            w.WriteString("description", d.Description);
            w.WriteString("color", d.Color);
            if (d.AssetTag is not null) w.WriteString("asset_tag", d.AssetTag);
            w.WriteString("profile_status", d.ProfileStatus);
            if (d.ProfileUuid is not null) w.WriteString("profile_uuid", d.ProfileUuid);
            if (d.ProfileAssignTime is { } assigned) w.WriteString("profile_assign_time", Iso(assigned));
            if (d.ProfilePushTime is { } pushed) w.WriteString("profile_push_time", Iso(pushed));
            w.WriteString("device_assigned_date", Iso(d.DeviceAssignedDate));
            w.WriteString("device_assigned_by", d.DeviceAssignedBy);
            if (version >= 2)
            {
                w.WriteString("os", d.Os == "iPadOS" && version < 7 ? "iOS" : d.Os);
                w.WriteString("device_family", d.DeviceFamily);
            }

            WriteDeviceActionFields(w, d, version);
        }

        if (e is not null)
        {
            w.WriteString("op_type", e.OpType);
            w.WriteString("op_date", Iso(e.OpDate));
        }

        if (responseStatus is not null)
        {
            w.WriteString("response_status", responseStatus);
        }

        w.WriteEndObject();
    }
}

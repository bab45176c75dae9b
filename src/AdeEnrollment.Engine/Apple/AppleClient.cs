using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Tokens;
using Polly;
using Polly.Retry;

namespace AdeEnrollment.Engine.Apple;

/// <summary>
/// Apple's ADE web service (reference/apple-dep-protocol.md §0–§4) for one server token.
/// <list type="bullet">
/// <item>Authenticates with OAuth 1.0a <c>GET /session</c>, sends <c>X-ADM-Auth-Session</c> on every other call and
/// adopts a session rotated through any response header.</item>
/// <item>On 401 (or 403 whose body says FORBIDDEN) re-authenticates once and replays the request; never loops.</item>
/// <item>Retries 429/503 after Retry-After (seconds or HTTP date), and other 5xx and network errors with jittered
/// exponential back-off (Polly), within <see cref="AppleClientOptions.MaxRetryAttempts"/> and
/// <see cref="AppleClientOptions.MaxTotalTime"/>; never retries other 4xx.</item>
/// <item>Classifies Apple's error bodies (plain text or JSON-quoted) into catalogued errors.</item>
/// <item>Reads pages as a stream with source-generated JSON: one page is held, never more.</item>
/// </list>
/// Secrets (consumer and access secrets, the session token) never appear in an exception, a verbose or debug line.
/// </summary>
internal sealed class AppleClient
{
    private const string JsonContentType = "application/json;charset=UTF8";
    private const int MaxErrorBodyBytes = 4096;

    private static readonly Lazy<HttpClient> SharedHttp = new(() => new HttpClient(new SocketsHttpHandler
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(30),
        AutomaticDecompression = DecompressionMethods.All,
    })
    {
        Timeout = Timeout.InfiniteTimeSpan,
    });

    private static readonly Regex CodePattern = new("[A-Z][A-Z0-9_]{2,63}", RegexOptions.CultureInvariant);

    private readonly Uri baseUri;
    private readonly ServerTokenContent credentials;
    private readonly TimeProvider time;
    private readonly IAdeHost host;
    private readonly HttpClient http;
    private readonly AppleClientOptions options;
    private readonly string sessionKey;

    internal AppleClient(Uri serviceUri, ServerTokenContent credentials, string tokenName, TimeProvider time, IAdeHost host,
        HttpMessageHandler? handler = null, AppleClientOptions? options = null)
    {
        var text = serviceUri.GetLeftPart(UriPartial.Path);
        baseUri = new Uri(text.EndsWith('/') ? text : text + "/");
        this.credentials = credentials;
        TokenName = tokenName;
        this.time = time;
        this.host = host;
        this.options = options ?? AppleClientOptions.Default;
        http = handler is null ? SharedHttp.Value : new HttpClient(handler, disposeHandler: false) { Timeout = Timeout.InfiniteTimeSpan };
        sessionKey = AppleSessionCache.KeyOf(baseUri, credentials.AccessToken);
    }

    /// <summary>"AdeEnrollment/&lt;version&gt;": distinct and product-specific, as Apple requires.</summary>
    public static string UserAgent { get; } = BuildUserAgent();

    /// <summary>The token this client speaks for, as named in errors.</summary>
    public string TokenName { get; }

    public Uri ServiceUri => baseUri;

    private static string BuildUserAgent()
    {
        var v = typeof(AppleClient).Assembly.GetName().Version ?? new Version(0, 0, 0);
        return string.Create(CultureInfo.InvariantCulture, $"AdeEnrollment/{v.Major}.{v.Minor}.{Math.Max(v.Build, 0)}");
    }

    // ---- endpoints -------------------------------------------------------------------------------------------------

    /// <summary><c>GET /account</c>: the MDM server and organisation behind the token.</summary>
    public Task<AppleAccount> GetAccountAsync(CancellationToken cancellationToken = default)
        => SendAsync(new Call<AppleAccount>(HttpMethod.Get, "account", null, AppleJsonContext.Default.AppleAccount), cancellationToken);

    /// <summary><c>POST /server/devices</c>: one page of every device assigned to the server (omit the cursor to start).</summary>
    public Task<AppleDevicePage> FetchDevicesAsync(string? cursor, int? limit = null, CancellationToken cancellationToken = default)
        => SendAsync(new Call<AppleDevicePage>(HttpMethod.Post, "server/devices",
            Json(new AppleFetchRequest { Cursor = string.IsNullOrEmpty(cursor) ? null : cursor, Limit = CheckLimit(limit) }, AppleJsonContext.Default.AppleFetchRequest),
            AppleJsonContext.Default.AppleDevicePage) { CountDevices = p => p.Devices.Count }, cancellationToken);

    /// <summary><c>POST /devices/sync</c>: one page of the changes since <paramref name="cursor"/>.</summary>
    public Task<AppleDevicePage> SyncDevicesAsync(string cursor, int? limit = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            throw ErrorCatalog.ArgumentInvalid("Cursor", "", "a delta sync needs the cursor of a previous fetch or sync.");
        }

        return SendAsync(new Call<AppleDevicePage>(HttpMethod.Post, "devices/sync",
            Json(new AppleFetchRequest { Cursor = cursor, Limit = CheckLimit(limit) }, AppleJsonContext.Default.AppleFetchRequest),
            AppleJsonContext.Default.AppleDevicePage) { CountDevices = p => p.Devices.Count }, cancellationToken);
    }

    /// <summary><c>POST /devices</c>: Apple's details of the given serial numbers (at most 1000).</summary>
    public Task<AppleDeviceDetailsResponse> GetDeviceDetailsAsync(IReadOnlyCollection<string> serialNumbers, CancellationToken cancellationToken = default)
        => SendAsync(new Call<AppleDeviceDetailsResponse>(HttpMethod.Post, "devices",
            Json(new AppleDeviceListRequest { Devices = CheckSerials(serialNumbers) }, AppleJsonContext.Default.AppleDeviceListRequest),
            AppleJsonContext.Default.AppleDeviceDetailsResponse), cancellationToken);

    /// <summary><c>POST /devices/disown</c>: permanently releases devices from the organisation.</summary>
    public Task<AppleDeviceStatusResponse> DisownDevicesAsync(IReadOnlyCollection<string> serialNumbers, CancellationToken cancellationToken = default)
        => SendAsync(new Call<AppleDeviceStatusResponse>(HttpMethod.Post, "devices/disown",
            Json(new AppleDeviceListRequest { Devices = CheckSerials(serialNumbers) }, AppleJsonContext.Default.AppleDeviceListRequest),
            AppleJsonContext.Default.AppleDeviceStatusResponse), cancellationToken);

    /// <summary><c>POST /profile</c>: defines a profile at Apple (optionally assigning it to devices) and returns its UUID.</summary>
    public Task<AppleDefineProfileResponse> DefineProfileAsync(AppleProfile profile, CancellationToken cancellationToken = default)
    {
        if (profile.Devices is { } devices)
        {
            CheckSerials(devices, allowEmpty: true);
        }

        return SendAsync(new Call<AppleDefineProfileResponse>(HttpMethod.Post, "profile",
            Json(profile, AppleJsonContext.Default.AppleProfile), AppleJsonContext.Default.AppleDefineProfileResponse), cancellationToken);
    }

    /// <summary><c>GET /profile?profile_uuid=</c>: the profile as Apple holds it.</summary>
    public Task<AppleProfile> GetProfileAsync(string profileUuid, CancellationToken cancellationToken = default)
        => SendAsync(new Call<AppleProfile>(HttpMethod.Get, "profile?profile_uuid=" + Uri.EscapeDataString(CheckUuid(profileUuid)), null,
            AppleJsonContext.Default.AppleProfile) { ProfileUuid = profileUuid }, cancellationToken);

    /// <summary>
    /// <c>POST /profile/devices</c> (or the legacy <c>PUT</c>): assigns a defined profile to at most 1000 devices. The
    /// answer has a status per serial (SUCCESS, NOT_ACCESSIBLE, FAILED, THROTTLED) and, when any is throttled,
    /// <c>retry_after_seconds</c>.
    /// </summary>
    public Task<AppleAssignProfileResponse> AssignProfileAsync(string profileUuid, IReadOnlyCollection<string> serialNumbers, bool usePut = false, CancellationToken cancellationToken = default)
        => SendAsync(new Call<AppleAssignProfileResponse>(usePut ? HttpMethod.Put : HttpMethod.Post, "profile/devices",
            Json(new AppleAssignProfileRequest { ProfileUuid = CheckUuid(profileUuid), Devices = CheckSerials(serialNumbers) }, AppleJsonContext.Default.AppleAssignProfileRequest),
            AppleJsonContext.Default.AppleAssignProfileResponse) { ProfileUuid = profileUuid }, cancellationToken);

    /// <summary><c>DELETE /profile/devices</c> with a JSON body: removes the profile assignment of at most 1000 devices.</summary>
    public Task<AppleDeviceStatusResponse> RemoveProfileAsync(IReadOnlyCollection<string> serialNumbers, string? profileUuid = null, CancellationToken cancellationToken = default)
        => SendAsync(new Call<AppleDeviceStatusResponse>(HttpMethod.Delete, "profile/devices",
            Json(new AppleRemoveProfileRequest { Devices = CheckSerials(serialNumbers), ProfileUuid = profileUuid }, AppleJsonContext.Default.AppleRemoveProfileRequest),
            AppleJsonContext.Default.AppleDeviceStatusResponse), cancellationToken);

    private static byte[] Json<T>(T value, JsonTypeInfo<T> type) => JsonSerializer.SerializeToUtf8Bytes(value, type);

    private static int? CheckLimit(int? limit)
    {
        if (limit is { } l && (l < 1 || l > AppleClientOptions.MaxDevicesPerRequest))
        {
            throw ErrorCatalog.ArgumentInvalid("Limit", l.ToString(CultureInfo.InvariantCulture), "Apple pages hold 1 to 1000 devices.");
        }

        return limit;
    }

    private static List<string> CheckSerials(IReadOnlyCollection<string> serialNumbers, bool allowEmpty = false)
    {
        if (serialNumbers.Count == 0 && !allowEmpty)
        {
            throw ErrorCatalog.ArgumentInvalid("SerialNumber", "", "give at least one serial number.");
        }

        if (serialNumbers.Count > AppleClientOptions.MaxDevicesPerRequest)
        {
            throw ErrorCatalog.ArgumentInvalid("SerialNumber", string.Create(CultureInfo.InvariantCulture, $"{serialNumbers.Count} serial numbers"),
                "Apple accepts at most 1000 serial numbers per request; send them in batches of 1000.");
        }

        return serialNumbers as List<string> ?? [.. serialNumbers];
    }

    private static string CheckUuid(string profileUuid)
    {
        if (string.IsNullOrWhiteSpace(profileUuid))
        {
            throw ErrorCatalog.ArgumentInvalid("ProfileUuid", profileUuid ?? "", "an Apple profile UUID is required.");
        }

        return profileUuid;
    }

    // ---- the request pipeline --------------------------------------------------------------------------------------

    private sealed record Call<T>(HttpMethod Method, string Path, byte[]? Body, JsonTypeInfo<T> ResponseType)
    {
        public string? ProfileUuid { get; init; }

        public Func<T, int>? CountDevices { get; init; }

        public string Endpoint => Method.Method + " /" + (Path.IndexOf('?') is var q and >= 0 ? Path[..q] : Path);
    }

    private async Task<T> SendAsync<T>(Call<T> call, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, host.Cancellation);
        var started = options.DelayTimeProvider.GetTimestamp();
        var pipeline = new ResiliencePipelineBuilder { TimeProvider = options.DelayTimeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(options.MaxRetryAttempts, 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                ShouldHandle = args => new ValueTask<bool>(options.MaxRetryAttempts > 0
                    && args.Outcome.Exception is AppleTransientException transient
                    && MayWait(transient, options.DelayTimeProvider.GetElapsedTime(started))),
                DelayGenerator = args => new ValueTask<TimeSpan?>(args.Outcome.Exception is AppleTransientException { RetryAfter: { } after } ? after : null),
                OnRetry = args =>
                {
                    if (args.Outcome.Exception is AppleTransientException transient)
                    {
                        host.WriteVerbose(string.Create(CultureInfo.InvariantCulture,
                            $"Apple: {call.Endpoint} {transient.Describe()}; retry {args.AttemptNumber + 1} of {options.MaxRetryAttempts} in {args.RetryDelay.TotalSeconds:0.#} s."));
                    }

                    return default;
                },
            })
            .Build();
        try
        {
            return await pipeline.ExecuteAsync(ct => new ValueTask<T>(AttemptAsync(call, ct)), linked.Token).ConfigureAwait(false);
        }
        catch (AppleTransientException transient)
        {
            throw ErrorCatalog.AppleServiceUnavailable(TokenName, $"{call.Endpoint} {transient.Describe()}.", transient.RetryAfter, transient);
        }
    }

    private bool MayWait(AppleTransientException transient, TimeSpan elapsed)
    {
        if (transient.RetryAfter is { } after)
        {
            return after <= options.MaxDelay && elapsed + after <= options.MaxTotalTime;
        }

        return elapsed < options.MaxTotalTime;
    }

    /// <summary>One attempt: a session (re-authenticating once when Apple rejects it), the request, the answer.</summary>
    private async Task<T> AttemptAsync<T>(Call<T> call, CancellationToken cancellationToken)
    {
        using var attempt = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        attempt.CancelAfter(options.AttemptTimeout);
        var ct = attempt.Token;
        try
        {
            var session = options.Sessions.Get(sessionKey);
            var fresh = false;
            if (session is null)
            {
                session = await CreateSessionAsync(call.Endpoint, ct).ConfigureAwait(false);
                fresh = true;
            }

            while (true)
            {
                var watch = Stopwatch.StartNew();
                using var request = new HttpRequestMessage(call.Method, new Uri(baseUri, call.Path));
                AddCommonHeaders(request);
                request.Headers.TryAddWithoutValidation("X-ADM-Auth-Session", session);
                if (call.Body is not null)
                {
                    request.Content = JsonContent(call.Body);
                }

                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
                session = AdoptRotatedSession(response, session);
                var status = (int)response.StatusCode;
                if (response.IsSuccessStatusCode)
                {
                    var result = await ReadJsonAsync(response, call.ResponseType, call.Endpoint, ct).ConfigureAwait(false);
                    host.WriteVerbose(string.Create(CultureInfo.InvariantCulture,
                        $"Apple: {call.Endpoint} → {status}{(call.CountDevices is null ? "" : $" ({call.CountDevices(result)} devices)")} in {watch.ElapsedMilliseconds} ms."));
                    return result;
                }

                var body = await ReadErrorBodyAsync(response, ct).ConfigureAwait(false);
                host.WriteVerbose(string.Create(CultureInfo.InvariantCulture, $"Apple: {call.Endpoint} → {status} {CodeOf(body, status)} in {watch.ElapsedMilliseconds} ms."));
                if (!fresh && IsSessionRejected(status, body))
                {
                    host.WriteVerbose($"Apple: the session of token '{TokenName}' is no longer valid; authenticating again.");
                    options.Sessions.Invalidate(sessionKey, session);
                    session = await CreateSessionAsync(call.Endpoint, ct).ConfigureAwait(false);
                    fresh = true;
                    continue;
                }

                if (IsTransient(status))
                {
                    throw new AppleTransientException(status, CodeOf(body, status), RetryAfterOf(response));
                }

                throw Classify(call.Endpoint, status, body, call.ProfileUuid);
            }
        }
        catch (OperationCanceledException ex) when (!cancellationToken.IsCancellationRequested)
        {
            throw new AppleTransientException($"timed out after {options.AttemptTimeout.TotalSeconds:0} s", ex);
        }
        catch (HttpRequestException ex)
        {
            throw new AppleTransientException("network error (" + (ex.HttpRequestError == HttpRequestError.Unknown ? ex.GetType().Name : ex.HttpRequestError.ToString()) + ")", ex);
        }
        catch (IOException ex)
        {
            throw new AppleTransientException("connection lost while reading the answer", ex);
        }
    }

    /// <summary>OAuth 1.0a <c>GET /session</c>; stores and returns the new session token.</summary>
    private async Task<string> CreateSessionAsync(string forEndpoint, CancellationToken ct)
    {
        var uri = new Uri(baseUri, "session");
        var parameters = new List<KeyValuePair<string, string>>
        {
            new("oauth_consumer_key", credentials.ConsumerKey),
            new("oauth_token", credentials.AccessToken),
            new("oauth_signature_method", OAuth1.SignatureMethod),
            new("oauth_timestamp", time.GetUtcNow().ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture)),
            new("oauth_nonce", OAuth1.NewNonce()),
            new("oauth_version", OAuth1.Version),
        };
        var signature = OAuth1.Sign(OAuth1.BaseString("GET", uri, parameters), credentials.ConsumerSecret, credentials.AccessSecret);
        parameters.Add(new("oauth_signature", signature));

        using var request = new HttpRequestMessage(HttpMethod.Get, uri);
        AddCommonHeaders(request);
        request.Headers.TryAddWithoutValidation("Authorization", OAuth1.AuthorizationHeader(parameters, realm: "ADM"));
        request.Content = JsonContent([]); // Apple's clients send the JSON content type on /session too
        var watch = Stopwatch.StartNew();
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        var status = (int)response.StatusCode;
        if (!response.IsSuccessStatusCode)
        {
            var body = await ReadErrorBodyAsync(response, ct).ConfigureAwait(false);
            host.WriteVerbose(string.Create(CultureInfo.InvariantCulture, $"Apple: GET /session → {status} {CodeOf(body, status)} in {watch.ElapsedMilliseconds} ms."));
            if (IsTransient(status))
            {
                throw new AppleTransientException(status, CodeOf(body, status), RetryAfterOf(response));
            }

            throw Classify("GET /session", status == 403 && Contains(body, "FORBIDDEN") ? 403 : status, body, null);
        }

        var answer = await ReadJsonAsync(response, AppleJsonContext.Default.AppleSessionResponse, "GET /session", ct).ConfigureAwait(false);
        if (string.IsNullOrWhiteSpace(answer.AuthSessionToken))
        {
            throw ErrorCatalog.AppleResponseInvalid(TokenName, "GET /session", "the session token is empty.");
        }

        host.WriteVerbose(string.Create(CultureInfo.InvariantCulture, $"Apple: GET /session → {status} (new session for token '{TokenName}', before {forEndpoint}) in {watch.ElapsedMilliseconds} ms."));
        options.Sessions.Set(sessionKey, answer.AuthSessionToken);
        return answer.AuthSessionToken;
    }

    private void AddCommonHeaders(HttpRequestMessage request)
    {
        request.Headers.TryAddWithoutValidation("User-Agent", UserAgent);
        request.Headers.TryAddWithoutValidation("X-Server-Protocol-Version", AppleClientOptions.ProtocolVersion.ToString(CultureInfo.InvariantCulture));
        request.Headers.TryAddWithoutValidation("Accept", JsonContentType);
    }

    private static ByteArrayContent JsonContent(byte[] body)
    {
        var content = new ByteArrayContent(body);
        content.Headers.Remove("Content-Type");
        content.Headers.TryAddWithoutValidation("Content-Type", JsonContentType); // exactly as Apple documents it
        return content;
    }

    private string AdoptRotatedSession(HttpResponseMessage response, string current)
    {
        if (response.Headers.TryGetValues("X-ADM-Auth-Session", out var values)
            && values.LastOrDefault() is { Length: > 0 } rotated && rotated != current)
        {
            host.WriteDebug($"Apple: the service rotated the session of token '{TokenName}'.");
            options.Sessions.Set(sessionKey, rotated);
            return rotated;
        }

        return current;
    }

    private async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, string endpoint, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        try
        {
            return await JsonSerializer.DeserializeAsync(stream, type, ct).ConfigureAwait(false)
                   ?? throw ErrorCatalog.AppleResponseInvalid(TokenName, endpoint, "the answer is empty (null).");
        }
        catch (JsonException ex)
        {
            throw ErrorCatalog.AppleResponseInvalid(TokenName, endpoint, "it is not the JSON Apple documents" + (ex.Path is null ? "." : $" (at {ex.Path})."), ex);
        }
    }

    private static async Task<string> ReadErrorBodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        await using var stream = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        var buffer = new byte[MaxErrorBodyBytes];
        var total = 0;
        int read;
        while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), ct).ConfigureAwait(false)) > 0)
        {
            total += read;
        }

        return Encoding.UTF8.GetString(buffer, 0, total);
    }

    private TimeSpan? RetryAfterOf(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }

        return null;
    }

    // ---- classification --------------------------------------------------------------------------------------------

    private static bool IsTransient(int status) => status == 429 || status >= 500;

    private static bool IsSessionRejected(int status, string body)
        => status == 401 || (status == 403 && Contains(body, "FORBIDDEN") && !Contains(body, "T_C_NOT_SIGNED") && !Contains(body, "TOKEN_REJECTED"));

    private static bool Contains(string body, string code) => body.Contains(code, StringComparison.OrdinalIgnoreCase);

    /// <summary>Apple's error code in a body written as plain text, JSON-quoted, or as {"code": …}; "HTTP n" otherwise.</summary>
    internal static string CodeOf(string body, int status)
    {
        var matches = CodePattern.Matches(body.ToUpperInvariant());
        // the last code-like word: "T_C_NOT_SIGNED", "\"INVALID_CURSOR\"", {"code":"…"}, "oauth_problem=token_rejected"
        var code = matches.LastOrDefault(m => m.Value.Contains('_') && m.Value != "OAUTH_PROBLEM")?.Value ?? matches.FirstOrDefault(m => m.Value != "CODE")?.Value;
        return code ?? string.Create(CultureInfo.InvariantCulture, $"HTTP {status}");
    }

    private AdeException Classify(string endpoint, int status, string body, string? profileUuid)
    {
        var code = CodeOf(body, status);
        if (Contains(body, "T_C_NOT_SIGNED"))
        {
            return ErrorCatalog.AppleTermsNotSigned(TokenName);
        }

        if (Contains(body, "TOKEN_REJECTED") || Contains(body, "TOKEN_EXPIRED") || status == 401)
        {
            return ErrorCatalog.AppleTokenRejected(TokenName, $"{status} {code}");
        }

        if (status == 403)
        {
            return ErrorCatalog.AppleAccessDenied(TokenName, code);
        }

        if (status == 400)
        {
            if (Contains(body, "EXPIRED_CURSOR")) return ErrorCatalog.AppleCursorExpired(TokenName);
            if (Contains(body, "INVALID_CURSOR")) return ErrorCatalog.AppleCursorInvalid(TokenName);
            if (Contains(body, "EXHAUSTED_CURSOR")) return ErrorCatalog.AppleCursorExhausted(TokenName);
        }

        if (status == 404 && profileUuid is not null)
        {
            return ErrorCatalog.AppleProfileNotFound(TokenName, profileUuid);
        }

        return ErrorCatalog.AppleRequestInvalid(TokenName, endpoint, status, code);
    }
}

/// <summary>A failure worth retrying (429, 5xx, network, attempt timeout); never leaves the client.</summary>
internal sealed class AppleTransientException : Exception
{
    public AppleTransientException(int status, string code, TimeSpan? retryAfter)
        : base(string.Create(CultureInfo.InvariantCulture, $"HTTP {status} {code}"))
    {
        Status = status;
        Code = code;
        RetryAfter = retryAfter;
    }

    public AppleTransientException(string reason, Exception inner)
        : base(reason, inner)
    {
        Code = reason;
    }

    public int? Status { get; }

    public string Code { get; }

    public TimeSpan? RetryAfter { get; }

    public string Describe() => Status is { } s
        ? string.Create(CultureInfo.InvariantCulture, $"answered {s} {(Code.StartsWith("HTTP", StringComparison.Ordinal) ? "" : Code)}").TrimEnd()
        : "failed: " + Code;
}

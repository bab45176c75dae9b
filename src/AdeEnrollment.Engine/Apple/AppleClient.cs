using AdeEnrollment.Engine.Rules;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.RegularExpressions;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
using Polly;
using Polly.Retry;

namespace AdeEnrollment.Engine.Apple;

/// <summary>
/// Apple's ADE web service (src/AdeEnrollment.Engine/Apple/README.md) for one server token.
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
        // Answers are decompressed by the client itself, within MaxResponseBytes/MaxDecodedBytes (OpenBodyAsync).
        AutomaticDecompression = DecompressionMethods.None,
        // A redirect would carry the session header and the body to wherever it points: never follow one.
        AllowAutoRedirect = false,
        UseCookies = false,
        MaxResponseHeadersLength = 64, // KiB
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
            AppleJsonContext.Default.AppleDevicePage) { CountDevices = p => p.Devices.Count, MaxDevices = limit ?? AppleClientOptions.MaxDevicesPerRequest }, cancellationToken);

    /// <summary><c>POST /devices/sync</c>: one page of the changes since <paramref name="cursor"/>.</summary>
    public Task<AppleDevicePage> SyncDevicesAsync(string cursor, int? limit = null, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(cursor))
        {
            throw ErrorCatalog.ArgumentInvalid("Cursor", "", "a delta sync needs the cursor of a previous fetch or sync.");
        }

        return SendAsync(new Call<AppleDevicePage>(HttpMethod.Post, "devices/sync",
            Json(new AppleFetchRequest { Cursor = cursor, Limit = CheckLimit(limit) }, AppleJsonContext.Default.AppleFetchRequest),
            AppleJsonContext.Default.AppleDevicePage) { CountDevices = p => p.Devices.Count, MaxDevices = limit ?? AppleClientOptions.MaxDevicesPerRequest }, cancellationToken);
    }

    /// <summary><c>POST /devices</c>: Apple's details of the given serial numbers (at most 1000).</summary>
    public Task<AppleDeviceDetailsResponse> GetDeviceDetailsAsync(IReadOnlyCollection<string> serialNumbers, CancellationToken cancellationToken = default)
        => SendAsync(new Call<AppleDeviceDetailsResponse>(HttpMethod.Post, "devices",
            Json(new AppleDeviceListRequest { Devices = CheckSerials(serialNumbers) }, AppleJsonContext.Default.AppleDeviceListRequest),
            AppleJsonContext.Default.AppleDeviceDetailsResponse), cancellationToken);

    /// <summary><c>POST /devices/disown</c>: permanently releases devices from the organisation.</summary>
    /// <remarks>With <paramref name="outlivesStop"/>, as <see cref="AssignProfileAsync"/>: cancelled only by <paramref name="cancellationToken"/>.</remarks>
    public Task<AppleDeviceStatusResponse> DisownDevicesAsync(IReadOnlyCollection<string> serialNumbers, CancellationToken cancellationToken = default, bool outlivesStop = false)
        => SendAsync(new Call<AppleDeviceStatusResponse>(HttpMethod.Post, "devices/disown",
            Json(new AppleDeviceListRequest { Devices = CheckSerials(serialNumbers) }, AppleJsonContext.Default.AppleDeviceListRequest),
            AppleJsonContext.Default.AppleDeviceStatusResponse)
        {
            OutlivesStop = outlivesStop, Sent = serialNumbers, Outcomes = r => r.Devices, OnAnswerAfterPossiblyDelivered = r => r.AfterPossiblyDeliveredAttempt = true,
        }, cancellationToken);

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
    /// <c>retry_after_seconds</c>. With <paramref name="outlivesStop"/>, the request is not cancelled when the operation
    /// is stopped, only by <paramref name="cancellationToken"/>: Apple carries out a request it received whether or not
    /// its answer is read, so a caller that records answers can still record this one.
    /// </summary>
    public Task<AppleAssignProfileResponse> AssignProfileAsync(string profileUuid, IReadOnlyCollection<string> serialNumbers, bool usePut = false, CancellationToken cancellationToken = default, bool outlivesStop = false)
        => SendAsync(new Call<AppleAssignProfileResponse>(usePut ? HttpMethod.Put : HttpMethod.Post, "profile/devices",
            Json(new AppleAssignProfileRequest { ProfileUuid = CheckUuid(profileUuid), Devices = CheckSerials(serialNumbers) }, AppleJsonContext.Default.AppleAssignProfileRequest),
            AppleJsonContext.Default.AppleAssignProfileResponse) { ProfileUuid = profileUuid, OutlivesStop = outlivesStop, Sent = serialNumbers, Outcomes = r => r.Devices }, cancellationToken);

    /// <summary>
    /// <c>DELETE /profile/devices</c> with a JSON body: removes the profile assignment of at most 1000 devices. With
    /// <paramref name="outlivesStop"/>, as <see cref="AssignProfileAsync"/>: cancelled only by <paramref name="cancellationToken"/>.
    /// </summary>
    public Task<AppleDeviceStatusResponse> RemoveProfileAsync(IReadOnlyCollection<string> serialNumbers, string? profileUuid = null, CancellationToken cancellationToken = default, bool outlivesStop = false)
        => SendAsync(new Call<AppleDeviceStatusResponse>(HttpMethod.Delete, "profile/devices",
            Json(new AppleRemoveProfileRequest { Devices = CheckSerials(serialNumbers), ProfileUuid = profileUuid }, AppleJsonContext.Default.AppleRemoveProfileRequest),
            AppleJsonContext.Default.AppleDeviceStatusResponse) { OutlivesStop = outlivesStop, Sent = serialNumbers, Outcomes = r => r.Devices }, cancellationToken);

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

        /// <summary>A page with more devices than this (the limit asked for) is refused.</summary>
        public int? MaxDevices { get; init; }

        /// <summary>Cancelled only by the caller's token, not when the operation is stopped (see AssignProfileAsync).</summary>
        public bool OutlivesStop { get; init; }

        /// <summary>The serials a per-device request sent, each of which Apple's answer (<see cref="Outcomes"/>) must give a status.</summary>
        public IReadOnlyCollection<string>? Sent { get; init; }

        public Func<T, IReadOnlyDictionary<string, string>?>? Outcomes { get; init; }

        /// <summary>Told of an answer that came after an attempt that may have reached Apple (see <see cref="RetryState.MayHaveBeenDelivered"/>).</summary>
        public Action<T>? OnAnswerAfterPossiblyDelivered { get; init; }

        public string Endpoint => Method.Method + " /" + (Path.IndexOf('?') is var q and >= 0 ? Path[..q] : Path);
    }

    /// <summary>What the shared retry pipeline needs to know of the call it runs (kept in its ResilienceContext).</summary>
    private sealed record RetryState(long Started, string Endpoint, IAdeHost Host, AppleClientOptions Options)
    {
        /// <summary>
        /// An attempt before the current one failed after its request may have reached Apple: the connection was lost
        /// or timed out once made, or Apple answered with a server error (5xx). Not after a connection that was never
        /// made (refused, timed out connecting), a throttling answer (429, not carried out) or a failure while the
        /// session was opened (the call itself was not sent).
        /// </summary>
        public bool MayHaveBeenDelivered { get; set; }
    }

    private static readonly ResiliencePropertyKey<RetryState> RetryStateKey = new("AdeEnrollment.Apple.Call");

    /// <summary>One retry pipeline per options (the production defaults: one per process), not one per request.</summary>
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<AppleClientOptions, ResiliencePipeline> Pipelines = new();

    private static ResiliencePipeline PipelineFor(AppleClientOptions options) => Pipelines.GetValue(options, static options =>
        new ResiliencePipelineBuilder { TimeProvider = options.DelayTimeProvider }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = Math.Max(options.MaxRetryAttempts, 1),
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.BaseDelay,
                MaxDelay = options.MaxDelay,
                ShouldHandle = args => new ValueTask<bool>(options.MaxRetryAttempts > 0
                    && args.Outcome.Exception is AppleTransientException transient
                    && MayWait(options, transient, options.DelayTimeProvider.GetElapsedTime(args.Context.Properties.GetValue(RetryStateKey, null!).Started))),
                DelayGenerator = args => new ValueTask<TimeSpan?>(args.Outcome.Exception is AppleTransientException { RetryAfter: { } after } ? after : null),
                OnRetry = args =>
                {
                    if (args.Outcome.Exception is AppleTransientException transient)
                    {
                        var state = args.Context.Properties.GetValue(RetryStateKey, null!);
                        state.MayHaveBeenDelivered |= transient.Path is null && transient.MayHaveArrived && transient.Kind != AppleTransientKind.Refused && transient.Status != 429;
                        state.Host.WriteVerbose(string.Create(CultureInfo.InvariantCulture,
                            $"Apple: {state.Endpoint} {transient.Describe()}; retry {args.AttemptNumber + 1} of {options.MaxRetryAttempts} in {args.RetryDelay.TotalSeconds:0.#} s."));
                    }

                    return default;
                },
            })
            .Build());

    private async Task<T> SendAsync<T>(Call<T> call, CancellationToken cancellationToken)
    {
        using var linked = call.OutlivesStop
            ? CancellationTokenSource.CreateLinkedTokenSource(cancellationToken)
            : CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, host.Cancellation);
        var context = ResilienceContextPool.Shared.Get(linked.Token);
        context.Properties.Set(RetryStateKey, new RetryState(options.DelayTimeProvider.GetTimestamp(), call.Endpoint, host, options));
        try
        {
            var result = await PipelineFor(options).ExecuteAsync(static (ctx, state) => new ValueTask<T>(state.Client.AttemptAsync(state.Call, ctx.CancellationToken)),
                context, (Client: this, Call: call)).ConfigureAwait(false);
            if (context.Properties.GetValue(RetryStateKey, null!).MayHaveBeenDelivered)
            {
                call.OnAnswerAfterPossiblyDelivered?.Invoke(result);
            }

            return result;
        }
        catch (AppleTransientException transient)
        {
            var uri = UriOf(transient.Path ?? call.Path);
            var endpoint = transient.Path is null ? call.Endpoint : "GET /" + transient.Path;
            throw transient.Kind switch
            {
                AppleTransientKind.Refused => ErrorCatalog.AppleConnectionRefused(TokenName, uri),
                AppleTransientKind.Timeout => ErrorCatalog.AppleTimeout(TokenName, uri, endpoint, options.AttemptTimeout),
                _ => ErrorCatalog.AppleServiceUnavailable(TokenName, $"{endpoint} {transient.Describe()}.", transient.RetryAfter, transient, uri),
            };
        }
        catch (AdeException ex) when (!ex.Message.Contains(baseUri.Authority, StringComparison.OrdinalIgnoreCase))
        {
            // Every Apple error names the address it contacted.
            throw ex.WithContacted(UriOf(call.Path));
        }
        finally
        {
            ResilienceContextPool.Shared.Return(context);
        }
    }

    /// <summary>The address of an endpoint, without its query (which could carry a profile UUID, never a secret, but is noise).</summary>
    private Uri UriOf(string path) => new(baseUri, path.IndexOf('?') is var q and >= 0 ? path[..q] : path);

    private static bool MayWait(AppleClientOptions options, AppleTransientException transient, TimeSpan elapsed)
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
        var inSession = false; // a time-out while the session is opened names /session, not the call it was opened for
        try
        {
            var session = options.Sessions.Get(sessionKey);
            var renewed = false;
            if (session is null)
            {
                inSession = true;
                session = await CreateSessionAsync(call.Endpoint, ct).ConfigureAwait(false);
                inSession = false;
            }

            while (true)
            {
                var watch = Stopwatch.StartNew();
                using var request = new HttpRequestMessage(call.Method, new Uri(baseUri, call.Path));
                AddCommonHeaders(request);
                SetHeader(request, "X-ADM-Auth-Session", session);
                if (call.Body is not null)
                {
                    request.Content = JsonContent(call.Body);
                }

                using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
                RefuseRedirect(response, call.Endpoint);
                session = AdoptRotatedSession(response, session);
                var status = (int)response.StatusCode;
                if (response.IsSuccessStatusCode)
                {
                    var result = await ReadJsonAsync(response, call.ResponseType, call.Endpoint, ct).ConfigureAwait(false);
                    CheckAnswer(result, call);
                    host.WriteVerbose(string.Create(CultureInfo.InvariantCulture,
                        $"Apple: {call.Endpoint} → {status}{(call.CountDevices is null ? "" : $" ({call.CountDevices(result)} devices)")} in {watch.ElapsedMilliseconds} ms."));
                    return result;
                }

                var body = await ReadErrorBodyAsync(response, ct).ConfigureAwait(false);
                host.WriteVerbose(string.Create(CultureInfo.InvariantCulture, $"Apple: {call.Endpoint} → {status} {CodeOf(body, status)} in {watch.ElapsedMilliseconds} ms."));
                // A refused session is renewed once, also one this call just opened (a scheduled run's first call has
                // nothing else, and Apple may refuse a session right after issuing it); a second refusal is the token's.
                if (!renewed && IsSessionRejected(status, body))
                {
                    renewed = true;
                    host.WriteVerbose($"Apple: the session of token '{TokenName}' is no longer valid; authenticating again.");
                    options.Sessions.Invalidate(sessionKey, session);
                    inSession = true;
                    session = await CreateSessionAsync(call.Endpoint, ct).ConfigureAwait(false);
                    inSession = false;
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
            throw new AppleTransientException(AppleTransientKind.Timeout, $"timed out after {options.AttemptTimeout.TotalSeconds:0} s", ex) { Path = inSession ? SessionPath : null };
        }
        catch (HttpRequestException ex)
        {
            throw Network(ex, call.Path);
        }
        catch (InvalidDataException ex)
        {
            // a compressed body that does not decompress
            throw ErrorCatalog.AppleResponseInvalid(TokenName, call.Endpoint, "its compressed body is damaged.", ex);
        }
        catch (IOException ex) when (ex is not AdeIOException)
        {
            throw new AppleTransientException(AppleTransientKind.Lost, "connection lost while reading the answer", ex);
        }
    }

    /// <summary>
    /// A failed HTTP exchange, told apart (Apple/README.md "Error mapping"): a name that does not resolve and a TLS
    /// failure are not retried (waiting does not fix them); a refused connection and a dropped one are.
    /// </summary>
    /// <param name="sessionPath">"session" when the exchange was the session opened for a call (errors name it), else null.</param>
    private Exception Network(HttpRequestException ex, string path, string? sessionPath = null)
    {
        var uri = UriOf(path);
        var socket = FindInner<SocketException>(ex);
        return ex.HttpRequestError switch
        {
            HttpRequestError.NameResolutionError => ErrorCatalog.AppleHostNotFound(TokenName, uri),
            _ when socket?.SocketErrorCode is SocketError.HostNotFound or SocketError.NoData or SocketError.TryAgain => ErrorCatalog.AppleHostNotFound(TokenName, uri),
            HttpRequestError.SecureConnectionError => ErrorCatalog.AppleTlsFailed(TokenName, uri, ex),
            _ when FindInner<AuthenticationException>(ex) is not null => ErrorCatalog.AppleTlsFailed(TokenName, uri, ex),
            _ when socket?.SocketErrorCode is SocketError.ConnectionRefused => new AppleTransientException(AppleTransientKind.Refused, "connection refused", ex) { Path = sessionPath },
            _ when socket?.SocketErrorCode is SocketError.TimedOut => new AppleTransientException(AppleTransientKind.Timeout, "connection timed out", ex) { Path = sessionPath, MayHaveArrived = false },
            _ => new AppleTransientException(AppleTransientKind.Lost, "network error (" + (ex.HttpRequestError == HttpRequestError.Unknown ? "connection failed" : ex.HttpRequestError.ToString()) + ")", ex)
            {
                Path = sessionPath, MayHaveArrived = ex.HttpRequestError != HttpRequestError.ConnectionError,
            },
        };
    }

    private static T? FindInner<T>(Exception? ex) where T : Exception
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is T found)
            {
                return found;
            }
        }

        return null;
    }

    /// <summary>A 3xx answer is refused: following it would send the session (and the body) to wherever it points.</summary>
    private void RefuseRedirect(HttpResponseMessage response, string endpoint)
    {
        var status = (int)response.StatusCode;
        if (status is >= 300 and < 400)
        {
            var location = response.Headers.Location;
            var target = location is null ? null : (location.IsAbsoluteUri ? location.GetLeftPart(UriPartial.Authority) : baseUri.GetLeftPart(UriPartial.Authority));
            throw ErrorCatalog.AppleRedirectRefused(TokenName, UriOf(endpoint[(endpoint.IndexOf('/') + 1)..]), endpoint, status, TextRules.Neutralise(target));
        }
    }

    /// <summary>
    /// Limits and neutralisation of every answer (AppleAnswerRules), no more devices than were asked for, and an outcome
    /// for every device a per-device request sent: a device Apple's answer leaves out has no outcome to record (Apple may
    /// or may not have acted on it), so such an answer is refused whole rather than read as a failure of those devices.
    /// </summary>
    private void CheckAnswer<T>(T result, Call<T> call)
    {
        if (AppleAnswerRules.Check(result!) is { } problem)
        {
            throw ErrorCatalog.AppleResponseInvalid(TokenName, call.Endpoint, problem);
        }

        if (call.MaxDevices is { } max && call.CountDevices is not null && call.CountDevices(result) is var n && n > max)
        {
            throw ErrorCatalog.AppleResponseTooLarge(TokenName, UriOf(call.Endpoint[(call.Endpoint.IndexOf('/') + 1)..]), call.Endpoint,
                string.Create(CultureInfo.InvariantCulture, $"the page holds {n:N0} devices, but at most {max:N0} were asked for."));
        }

        if (call.Sent is { } sent && call.Outcomes is not null)
        {
            var outcomes = call.Outcomes(result);
            // exactly as sent (the callers read the answer by the serial they sent)
            var missing = sent.Where(serial => outcomes is null || !outcomes.ContainsKey(serial)).ToList();
            if (missing.Count > 0)
            {
                throw ErrorCatalog.AppleResponseInvalid(TokenName, call.Endpoint, string.Create(CultureInfo.InvariantCulture,
                    $"it gives no outcome for {Counted.Of(missing.Count, "device")} of the {Counted.N(sent.Count)} sent ({Counted.FirstFew(missing, 3)}). Apple may or may not have acted on them, so nothing was recorded for this request's devices; the next Sync-AdeDevice brings their state."));
            }
        }
    }

    /// <summary>The one way a header is set: a value with a line break or another control character is never sent.</summary>
    private void SetHeader(HttpRequestMessage request, string name, string value)
    {
        if (!AppleAnswerRules.IsValidHeaderValue(value, int.MaxValue))
        {
            throw ErrorCatalog.AppleHeaderInvalid(TokenName, baseUri, name);
        }

        request.Headers.TryAddWithoutValidation(name, value);
    }

    /// <summary>OAuth 1.0a <c>GET /session</c>; stores and returns the new session token.</summary>
    private const string SessionPath = "session";

    private async Task<string> CreateSessionAsync(string forEndpoint, CancellationToken ct)
    {
        var uri = new Uri(baseUri, SessionPath);
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
        SetHeader(request, "Authorization", OAuth1.AuthorizationHeader(parameters, realm: "ADM"));
        request.Content = JsonContent([]); // Apple's clients send the JSON content type on /session too
        var watch = Stopwatch.StartNew();
        HttpResponseMessage sent;
        try
        {
            sent = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
        }
        catch (HttpRequestException ex)
        {
            throw Network(ex, SessionPath, SessionPath); // names /session, not the call it was opened for
        }

        using var response = sent;
        RefuseRedirect(response, "GET /session");
        var status = (int)response.StatusCode;
        if (!response.IsSuccessStatusCode)
        {
            var body = await ReadErrorBodyAsync(response, ct).ConfigureAwait(false);
            host.WriteVerbose(string.Create(CultureInfo.InvariantCulture, $"Apple: GET /session → {status} {CodeOf(body, status)} in {watch.ElapsedMilliseconds} ms."));
            if (IsTransient(status))
            {
                throw new AppleTransientException(status, CodeOf(body, status), RetryAfterOf(response)) { Path = SessionPath };
            }

            throw Classify("GET /session", status == 403 && Contains(body, "FORBIDDEN") ? 403 : status, body, null).WithContacted(uri); // names /session, not the call it was for
        }

        AppleSessionResponse answer;
        try
        {
            answer = await ReadJsonAsync(response, AppleJsonContext.Default.AppleSessionResponse, "GET /session", ct).ConfigureAwait(false);
        }
        catch (AdeException ex)
        {
            throw ex.WithContacted(uri); // an unreadable session answer names /session too
        }
        catch (IOException ex) when (ex is not AdeIOException)
        {
            throw new AppleTransientException(AppleTransientKind.Lost, "connection lost while reading the answer", ex) { Path = SessionPath };
        }

        if (string.IsNullOrWhiteSpace(answer.AuthSessionToken))
        {
            throw ErrorCatalog.AppleResponseInvalid(TokenName, "GET /session", "the session token is empty.");
        }

        if (!AppleAnswerRules.IsValidHeaderValue(answer.AuthSessionToken))
        {
            throw ErrorCatalog.AppleHeaderInvalid(TokenName, uri, "X-ADM-Auth-Session");
        }

        host.WriteVerbose(string.Create(CultureInfo.InvariantCulture, $"Apple: GET /session → {status} (new session for token '{TokenName}', before {forEndpoint}) in {watch.ElapsedMilliseconds} ms."));
        options.Sessions.Set(sessionKey, answer.AuthSessionToken);
        return answer.AuthSessionToken;
    }

    private void AddCommonHeaders(HttpRequestMessage request)
    {
        SetHeader(request, "User-Agent", UserAgent);
        SetHeader(request, "X-Server-Protocol-Version", AppleClientOptions.ProtocolVersion.ToString(CultureInfo.InvariantCulture));
        SetHeader(request, "Accept", JsonContentType);
        SetHeader(request, "Accept-Encoding", "gzip, deflate, br");
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
            if (!AppleAnswerRules.IsValidHeaderValue(rotated))
            {
                throw ErrorCatalog.AppleHeaderInvalid(TokenName, baseUri, "X-ADM-Auth-Session");
            }

            host.WriteDebug($"Apple: the service rotated the session of token '{TokenName}'.");
            options.Sessions.Set(sessionKey, rotated);
            return rotated;
        }

        return current;
    }

    /// <summary>
    /// The body of an answer as the JSON reader may see it: at most <see cref="AppleClientOptions.MaxResponseBytes"/>
    /// on the wire (a Content-Length over it is refused before reading), decompressed here (gzip, deflate, br), and
    /// at most <see cref="AppleClientOptions.MaxDecodedBytes"/> after that.
    /// </summary>
    private async Task<Stream> OpenBodyAsync(HttpResponseMessage response, string endpoint, CancellationToken ct)
    {
        var uri = UriOf(endpoint[(endpoint.IndexOf('/') + 1)..]);
        if (response.Content.Headers.ContentLength is { } length && length > options.MaxResponseBytes)
        {
            throw ErrorCatalog.AppleResponseTooLarge(TokenName, uri, endpoint,
                string.Create(CultureInfo.InvariantCulture, $"it announces {length:N0} bytes, more than the {options.MaxResponseBytes:N0} an answer may have."));
        }

        var raw = await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false);
        Stream wire = new BoundedStream(raw, options.MaxResponseBytes, () => new AdeIOException(ErrorCatalog.AppleResponseTooLarge(TokenName, uri, endpoint,
            string.Create(CultureInfo.InvariantCulture, $"it is longer than the {options.MaxResponseBytes:N0} bytes an answer may have."))));
        var encodings = response.Content.Headers.ContentEncoding;
        if (encodings.Count > 1)
        {
            await wire.DisposeAsync().ConfigureAwait(false);
            throw ErrorCatalog.AppleResponseInvalid(TokenName, endpoint, "it is compressed more than once.");
        }

        Stream decoded = (encodings.FirstOrDefault()?.ToLowerInvariant()) switch
        {
            null or "identity" => wire,
            "gzip" or "x-gzip" => new GZipStream(wire, CompressionMode.Decompress),
            "deflate" => new ZLibStream(wire, CompressionMode.Decompress),
            "br" => new BrotliStream(wire, CompressionMode.Decompress),
            _ => null!,
        };
        if (decoded is null)
        {
            await wire.DisposeAsync().ConfigureAwait(false);
            throw ErrorCatalog.AppleResponseInvalid(TokenName, endpoint, "it uses a compression this client did not ask for.");
        }

        return ReferenceEquals(decoded, wire) ? wire : new BoundedStream(decoded, options.MaxDecodedBytes, () => new AdeIOException(ErrorCatalog.AppleResponseTooLarge(TokenName, uri, endpoint,
            string.Create(CultureInfo.InvariantCulture, $"it decompresses to more than the {options.MaxDecodedBytes:N0} bytes an answer may have."))));
    }

    private async Task<T> ReadJsonAsync<T>(HttpResponseMessage response, JsonTypeInfo<T> type, string endpoint, CancellationToken ct)
    {
        await using var stream = await OpenBodyAsync(response, endpoint, ct).ConfigureAwait(false);
        try
        {
            return await JsonSerializer.DeserializeAsync(stream, type, ct).ConfigureAwait(false)
                   ?? throw ErrorCatalog.AppleResponseInvalid(TokenName, endpoint, "the answer is empty (null).");
        }
        catch (JsonException ex)
        {
            // the parser's own message quotes the answer (a session token, say): only where it failed is kept, not the exception
            throw ErrorCatalog.AppleResponseInvalid(TokenName, endpoint, "it is not the JSON Apple documents (" + JsonPosition(ex) + ").");
        }
        catch (AdeIOException ex)
        {
            throw ex.Error;
        }
    }

    /// <summary>Where a JSON answer stopped being readable (its path, line and byte), without any of its text (for a message, which the catalogue shows safely).</summary>
    internal static string JsonPosition(JsonException ex)
        => string.Create(CultureInfo.InvariantCulture, $"at {(ex.Path is null ? "" : ex.Path + ", ")}line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}");

    private async Task<string> ReadErrorBodyAsync(HttpResponseMessage response, CancellationToken ct)
    {
        var buffer = new byte[MaxErrorBodyBytes];
        var total = 0;
        try
        {
            await using var stream = await OpenBodyAsync(response, "error", ct).ConfigureAwait(false);
            int read;
            while (total < buffer.Length && (read = await stream.ReadAsync(buffer.AsMemory(total), ct).ConfigureAwait(false)) > 0)
            {
                total += read;
            }
        }
        catch (Exception ex) when (ex is AdeException or AdeIOException or InvalidDataException)
        {
            // only the first bytes of an error body are read; an unreadable one has no code
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
        var error = ClassifyAnswer(endpoint, status, body, profileUuid);
        error.Endpoint = endpoint;
        return error;
    }

    private AdeException ClassifyAnswer(string endpoint, int status, string body, string? profileUuid)
    {
        var code = CodeOf(body, status);
        if (Contains(body, "T_C_NOT_SIGNED"))
        {
            return ErrorCatalog.AppleTermsNotSigned(TokenName);
        }

        if (status == 401 && Contains(body, "timestamp_refused"))
        {
            // OAuth's problem report for a signature time too far from Apple's: this computer's clock, not the token
            return ErrorCatalog.AppleClockSkew(TokenName, time.GetUtcNow());
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

/// <summary>What kind of retryable failure: it decides the catalogued error when the retries are used up.</summary>
internal enum AppleTransientKind
{
    Status,
    Refused,
    Timeout,
    Lost,
}

/// <summary>A catalogued error raised while a stream is read: an IOException so the JSON reader lets it through unchanged.</summary>
internal sealed class AdeIOException(AdeException error) : IOException(error.Message, error)
{
    public AdeException Error { get; } = error;
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

    public AppleTransientException(AppleTransientKind kind, string reason, Exception inner)
        : base(reason, inner)
    {
        Kind = kind;
        Code = reason;
    }

    public AppleTransientKind Kind { get; } = AppleTransientKind.Status;

    /// <summary>False when the request cannot have reached Apple (the connection was never made).</summary>
    public bool MayHaveArrived { get; init; } = true;

    /// <summary>The path the failure concerned when it is not the call's own (the session opened for it): errors name it.</summary>
    public string? Path { get; init; }

    public int? Status { get; }

    public string Code { get; }

    public TimeSpan? RetryAfter { get; }

    public string Describe() => Status is { } s
        ? string.Create(CultureInfo.InvariantCulture, $"answered {s} {(Code.StartsWith("HTTP", StringComparison.Ordinal) ? "" : Code)}").TrimEnd()
        : "failed: " + Code;
}

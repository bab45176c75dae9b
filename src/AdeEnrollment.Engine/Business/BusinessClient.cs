using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;

namespace AdeEnrollment.Engine.Business;

/// <summary>How the Apple Business API client paces itself. The defaults are the budgets observed at Apple.</summary>
public sealed class BusinessClientOptions
{
    public static BusinessClientOptions Default { get; } = new();

    /// <summary>GET requests per account and minute (observed: about 20).</summary>
    public int GetsPerMinute { get; init; } = 20;

    /// <summary>POST requests (activities) per account and hour (observed: about 10). Counted in the store before each is sent, like the GETs.</summary>
    public int PostsPerHour { get; init; } = 10;

    /// <summary>Page size of collection reads (Apple's maximum).</summary>
    public int PageSize { get; init; } = 1000;

    /// <summary>At most this many devices go into one activity.</summary>
    public int MaxDevicesPerActivity { get; init; } = 1000;

    /// <summary>Between two polls of an activity under -Wait.</summary>
    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long -Wait waits for one activity.</summary>
    public TimeSpan WaitTimeout { get; init; } = TimeSpan.FromMinutes(10);

    /// <summary>The longest wait for a budget or Retry-After that -WaitForLimit accepts; longer is an error with the time.</summary>
    public TimeSpan MaxLimitWait { get; init; } = TimeSpan.FromMinutes(60);

    /// <summary>Largest answer read from Apple.</summary>
    public int MaxResponseBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>How waits are made (real time in production; tests move a fake clock instead).</summary>
    public Func<TimeSpan, CancellationToken, Task> Delay { get; init; } = EngineClock.Wait;

    /// <summary>Test seam: the handler under the HTTP client (null: the shared production handler).</summary>
    internal HttpMessageHandler? Handler { get; init; }
}

/// <summary>
/// Apple Business / School API for one stored account: the OAuth client-credentials exchange with a signed JWT
/// client assertion, the hourly access token cached per process (renewed before expiry and once after a 401), the
/// GET budget per minute, the POST budget per hour and the Retry-After of a 429 (all kept in the store, shared by every
/// process and host of the store; a request is counted before it is sent) enforced before sending (a catalogued error
/// with the time it is allowed again, or a wait when the caller asked for one), bounded answers and no redirects.
/// </summary>
internal sealed class BusinessClient
{
    private static readonly Lazy<HttpClient> SharedHttp = new(() => new HttpClient(new SocketsHttpHandler
    {
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(30),
    })
    {
        Timeout = TimeSpan.FromSeconds(100),
    });

    private static readonly ConcurrentDictionary<string, (string Token, DateTimeOffset Renew)> Tokens = new(StringComparer.Ordinal);

    private readonly AdeBusinessAccount account;
    private readonly BusinessAccountService accounts;
    private readonly TimeProvider time;
    private readonly IAdeHost host;
    private readonly BusinessClientOptions options;
    private readonly HttpClient http;

    public BusinessClient(AdeBusinessAccount account, BusinessAccountService accounts, TimeProvider time, IAdeHost host, BusinessClientOptions? options = null)
    {
        this.account = account;
        this.accounts = accounts;
        this.time = time;
        this.host = host;
        this.options = options ?? BusinessClientOptions.Default;
        http = this.options.Handler is { } handler ? new HttpClient(handler, disposeHandler: false) : SharedHttp.Value;
    }

    public AdeBusinessAccount Account => account;

    /// <summary>Where the client's requests are reported (and a per-device problem of a listing is warned of).</summary>
    public IAdeHost Host => host;

    public BusinessClientOptions Options => options;

    /// <summary>Whether to wait for the request budget or Retry-After instead of failing with the time (-WaitForLimit).</summary>
    public bool WaitForLimit { get; set; }

    private string CacheKey => account.TokenUri + "|" + account.ClientId + "|" + account.KeyId;

    /// <summary>Drops what this process holds for an account (its access token) after it was removed.</summary>
    public static void Forget(AdeBusinessAccount account)
    {
        foreach (var key in Tokens.Keys.Where(k => k.Contains("|" + account.ClientId + "|", StringComparison.Ordinal)))
        {
            Tokens.TryRemove(key, out _);
        }
    }

    public Uri Resolve(string relative) => new(account.ServiceUri, relative);

    /// <summary>The account's service address as an error message shows it (no query, no user info).</summary>
    private string Service => Rules.TextRules.ShownUri(account.ServiceUri);

    // ---- access token ---------------------------------------------------------------------------------------------

    private async Task<string> AccessTokenAsync(bool renew, CancellationToken ct)
    {
        var now = time.GetUtcNow();
        if (!renew && Tokens.TryGetValue(CacheKey, out var cached) && now < cached.Renew)
        {
            return cached.Token;
        }

        var body = await RequestAccessTokenAsync(ct).ConfigureAwait(false);
        try
        {
            using var doc = JsonDocument.Parse(body);
            var token = doc.RootElement.GetProperty("access_token").GetString();
            if (string.IsNullOrEmpty(token))
            {
                throw ErrorCatalog.BusinessResponseInvalid("the token endpoint", "no access_token");
            }

            // it becomes the Authorization header of every request: visible ASCII only, bounded
            if (!Apple.AppleAnswerRules.IsValidHeaderValue(token, MaxAccessTokenLength))
            {
                throw ErrorCatalog.BusinessResponseInvalid("the token endpoint", $"an access_token of {Counted.N(token.Length)} characters or with characters a request header cannot carry");
            }

            // Apple's tokens live an hour; a lifetime out of all proportion is read within 1 second to 1 day
            var lifetime = doc.RootElement.TryGetProperty("expires_in", out var e) && e.TryGetInt64(out var s) ? TimeSpan.FromSeconds(Math.Clamp(s, 1, 86_400)) : TimeSpan.FromHours(1);
            // renew 5 minutes before expiry (or at 80 % of a short lifetime)
            var margin = lifetime > TimeSpan.FromMinutes(25) ? TimeSpan.FromMinutes(5) : lifetime * 0.2;
            Tokens[CacheKey] = (token, now + lifetime - margin);
            return token;
        }
        catch (JsonException ex)
        {
            // the parser's message would quote the answer, which carries the access token: only the position is kept
            throw ErrorCatalog.BusinessResponseInvalid("the token endpoint", "not JSON, " + Apple.AppleClient.JsonPosition(ex));
        }
        catch (Exception ex) when (ex is KeyNotFoundException or InvalidOperationException)
        {
            throw ErrorCatalog.BusinessResponseInvalid("the token endpoint", "not the expected JSON (" + ex.GetType().Name + ")");
        }
    }

    /// <summary>
    /// The token request: asking for a token changes nothing at Apple, so it is repeated as a read is — twice after a
    /// broken connection or a 5xx (after the Retry-After a 503 asks for, within a minute). A 429 is BusinessThrottled,
    /// waited out under <see cref="WaitForLimit"/> as a request's is. Returns the body of Apple's 200.
    /// </summary>
    private async Task<byte[]> RequestAccessTokenAsync(CancellationToken ct)
    {
        var endpoint = "POST " + account.TokenUri.AbsolutePath;
        for (var attempt = 1; ; attempt++)
        {
            string assertion;
            using (var key = accounts.OpenKey(account))
            {
                assertion = ClientAssertion.Create(key, account.ClientId, account.KeyId, time.GetUtcNow()); // a new one each time: its id is never used twice
            }

            using var form = new FormUrlEncodedContent(
            [
                new("grant_type", "client_credentials"),
                new("client_id", account.ClientId),
                new("client_assertion_type", "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"),
                new("client_assertion", assertion),
                new("scope", account.Scope),
            ]);
            using var request = new HttpRequestMessage(HttpMethod.Post, account.TokenUri) { Content = form };
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            host.WriteVerbose($"Requesting an access token for API account '{account.ClientId}'.");
            byte[] body;
            HttpStatusCode status;
            TimeSpan? retryAfter;
            try
            {
                using var response = await SendRawAsync(request, endpoint, ct).ConfigureAwait(false);
                body = await ReadBoundedAsync(response, endpoint, false, ct).ConfigureAwait(false);
                (status, retryAfter) = (response.StatusCode, RetryAfter(response));
            }
            catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.BusinessNetworkError) && attempt < 3)
            {
                host.WriteVerbose($"Apple: {endpoint} could not be completed ({ex.InnerException?.GetType().Name}); asking again in {2 * attempt} s.");
                await options.Delay(TimeSpan.FromSeconds(2 * attempt), ct).ConfigureAwait(false);
                continue;
            }

            if (status is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized)
            {
                var (error, description) = OAuthError(body);
                throw ErrorCatalog.BusinessClientRejected(account.ClientId, oauthError: error, description: description);
            }

            if (status == HttpStatusCode.TooManyRequests)
            {
                var wait = retryAfter ?? TimeSpan.FromSeconds(60);
                if (!WaitForLimit || attempt >= 3 || wait > options.MaxLimitWait)
                {
                    throw ErrorCatalog.BusinessThrottled(account.ClientId, "access token", time.GetUtcNow() + wait, Rules.TextRules.ShownUri(account.TokenUri), endpoint, WaitForLimit ? options.MaxLimitWait : null);
                }

                host.WriteVerbose($"Waiting {Math.Ceiling(wait.TotalSeconds):0} s: Apple answered 429 to {endpoint}.");
                await options.Delay(wait + BudgetMargin, ct).ConfigureAwait(false);
                continue;
            }

            if ((int)status >= 500 && ServerBackOff(retryAfter, attempt) is { } backOff)
            {
                host.WriteVerbose(string.Create(CultureInfo.InvariantCulture, $"Apple: {endpoint} answered {(int)status}; asking again in {backOff.TotalSeconds:0.#} s."));
                await options.Delay(backOff, ct).ConfigureAwait(false);
                continue;
            }

            if ((int)status is < 200 or > 299)
            {
                throw ErrorCatalog.BusinessRequestFailed(account.ClientId, Rules.TextRules.ShownUri(account.TokenUri), "the token request (" + endpoint + ")", (int)status, ErrorFields(body).Code);
            }

            return body;
        }
    }

    /// <summary>The longest access token the client sends as a header (Apple's are well under 1,000 characters).</summary>
    private const int MaxAccessTokenLength = 4096;

    // ---- requests -------------------------------------------------------------------------------------------------

    /// <summary>GET of an API path (relative to the service URI): the parsed JSON. GETs are retried after 5xx/network errors twice.</summary>
    public JsonDocument Get(string relative) => SendAsync(HttpMethod.Get, Resolve(relative), null, host.Cancellation).GetAwaiter().GetResult()!;

    public JsonDocument Post(string relative, byte[] json) => SendAsync(HttpMethod.Post, Resolve(relative), json, host.Cancellation).GetAwaiter().GetResult()!;

    /// <summary>A write of another method (PATCH, DELETE): counted in the write budget, never repeated; null for an empty answer (204).</summary>
    public JsonDocument? Send(HttpMethod method, string relative, byte[]? json) => SendAsync(method, Resolve(relative), json, host.Cancellation).GetAwaiter().GetResult();

    private async Task<JsonDocument?> SendAsync(HttpMethod method, Uri url, byte[]? json, CancellationToken ct)
    {
        var endpoint = method.Method + " " + url.AbsolutePath;
        var renewed = false;
        for (var attempt = 1; ; attempt++)
        {
            var reserved = await EnforceBudgetAsync(method, ct).ConfigureAwait(false);
            string token;
            try
            {
                token = await AccessTokenAsync(false, ct).ConfigureAwait(false);
            }
            catch
            {
                Release(reserved); // the request itself was never sent
                throw;
            }

            using var request = new HttpRequestMessage(method, url);
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
            request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/json"));
            if (json is not null)
            {
                request.Content = new ByteArrayContent(json);
                request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
            }

            HttpResponseMessage response;
            try
            {
                response = await SendRawAsync(request, endpoint, ct).ConfigureAwait(false);
            }
            catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.BusinessNetworkError))
            {
                var sent = !NeverSent(ex);
                if (!sent)
                {
                    Release(reserved);
                }

                if (method != HttpMethod.Get || attempt >= 3)
                {
                    throw sent ? ErrorCatalog.BusinessNetworkError(endpoint, ex.InnerException!, afterSending: true) : ex;
                }

                await options.Delay(TimeSpan.FromSeconds(2 * attempt), ct).ConfigureAwait(false);
                continue;
            }

            using (response)
            {
                var status = (int)response.StatusCode;
                if (status == 401 && !renewed)
                {
                    renewed = true;
                    Tokens.TryRemove(CacheKey, out _);
                    host.WriteVerbose("Apple refused the access token (401); getting a new one and repeating the request once.");
                    continue;
                }

                if (status == 429)
                {
                    var wait = RetryAfter(response) ?? TimeSpan.FromSeconds(60);
                    var allowedAt = time.GetUtcNow() + wait;
                    Block(BudgetOf(method).Method, allowedAt);
                    if (!WaitForLimit || attempt >= 3 || wait > options.MaxLimitWait)
                    {
                        throw ErrorCatalog.BusinessThrottled(account.ClientId, method.Method, allowedAt, Service, endpoint, WaitForLimit ? options.MaxLimitWait : null);
                    }

                    continue; // EnforceBudgetAsync waits for the Retry-After time
                }

                if (status >= 500 && method == HttpMethod.Get && ServerBackOff(RetryAfter(response), attempt) is { } backOff)
                {
                    // a read is repeated: after the time a Retry-After asks (503), else a short back-off; a longer
                    // Retry-After is not waited for and ends in the error, which says to try again later
                    host.WriteVerbose(string.Create(CultureInfo.InvariantCulture, $"Apple: {endpoint} answered {status}; asking again in {backOff.TotalSeconds:0.#} s."));
                    await options.Delay(backOff, ct).ConfigureAwait(false);
                    continue;
                }

                // every request Apple answered, as the DEP client writes them, with the account's budget it used
                host.WriteVerbose(string.Create(CultureInfo.InvariantCulture,
                    $"Apple: {endpoint} → {status} in {(time.GetUtcNow() - reserved.At).TotalMilliseconds:0} ms ({reserved.Method} {reserved.Used} of {reserved.Budget} this {(reserved.Window >= TimeSpan.FromHours(1) ? "hour" : "minute")} for API account '{account.ClientId}')."));

                // a success to a write: Apple carried it out, so an answer that can't be read must not invite sending it again
                var acceptedWrite = method != HttpMethod.Get && response.IsSuccessStatusCode;
                byte[] body;
                try
                {
                    body = await ReadBoundedAsync(response, endpoint, acceptedWrite, ct).ConfigureAwait(false);
                }
                catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.BusinessNetworkError))
                {
                    // the connection broke while Apple answered: the request was carried out or not
                    if (method != HttpMethod.Get || attempt >= 3)
                    {
                        throw ErrorCatalog.BusinessNetworkError(endpoint, ex.InnerException!, afterSending: true);
                    }

                    await options.Delay(TimeSpan.FromSeconds(2 * attempt), ct).ConfigureAwait(false);
                    continue;
                }

                if (response.IsSuccessStatusCode)
                {
                    try
                    {
                        return body.Length == 0 ? null : JsonDocument.Parse(body);
                    }
                    catch (JsonException ex)
                    {
                        throw ErrorCatalog.BusinessResponseInvalid(endpoint, "not JSON, " + Apple.AppleClient.JsonPosition(ex), accepted: acceptedWrite);
                    }
                }

                var said = ErrorFields(body);
                var error = Classify(status, said.Code, said.Detail, endpoint, url);
                // for callers that tell answers apart (a 404, a page size Apple will not take): the status and the
                // source.parameter Apple named, beside the catalogued message
                error.HttpStatus = status;
                error.ErrorParameter = said.Parameter;
                error.ErrorPointer = said.Pointer;
                error.ErrorDetail = said.Detail;
                throw error;
            }
        }
    }

    /// <summary>
    /// An error answer as a catalogued error. A 401 reaches here only when a freshly issued token was refused too. A 400 to a page request that carries a cursor is an expired cursor: the
    /// client sends back only cursors Apple gave it, on the query Apple already accepted for the first page, so Apple
    /// refusing it means the cursor is no longer valid (Apple documents neither a lifetime nor the answer's code).
    /// </summary>
    private AdeException Classify(int status, string code, string? detail, string endpoint, Uri url) => status switch
    {
        400 when url.Query.Contains("cursor=", StringComparison.Ordinal) => ErrorCatalog.BusinessCursorExpired(endpoint),
        401 => ErrorCatalog.BusinessClientRejected(account.ClientId, endpoint), // only after the one renewal
        403 => ErrorCatalog.BusinessAccessDenied(account.ClientId, Service, endpoint, code),
        _ => ErrorCatalog.BusinessRequestFailed(account.ClientId, Service, endpoint, status, code, detail),
    };

    /// <summary>
    /// The token endpoint's refusal (RFC 6749: <c>error</c>, and <c>error_description</c> when Apple adds one): the code
    /// when it is one (letters and underscores), the description cut to 200 characters; (null, null) when the body says
    /// neither. The description is made safe by the error catalogue when shown.
    /// </summary>
    internal static (string? Error, string? Description) OAuthError(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
            {
                return (null, null);
            }

            var error = doc.RootElement.TryGetProperty("error", out var e) && e.ValueKind == JsonValueKind.String && e.GetString() is { Length: > 0 and <= 64 } code
                && code.All(c => char.IsAsciiLetterLower(c) || c == '_') ? code : null;
            var description = doc.RootElement.TryGetProperty("error_description", out var d) && d.ValueKind == JsonValueKind.String && d.GetString() is { Length: > 0 } text
                ? (text.Length > 200 ? text[..200] + "…" : text) : null;
            return (error, description);
        }
        catch (JsonException)
        {
            return (null, null);
        }
    }

    /// <summary>
    /// What a JSON:API error body says in its first error, read with one parse: the code ("" when there is none or it is
    /// not one), the request parameter or body member (JSON pointer) its source names (null when none), and its detail as Apple wrote it (it may say
    /// which serial or server it refused), cut to 200 characters (null when none); the message it goes into is shown
    /// safely by the error catalogue.
    /// </summary>
    internal static (string Code, string? Parameter, string? Pointer, string? Detail) ErrorFields(byte[] body)
    {
        try
        {
            using var doc = JsonDocument.Parse(body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("errors", out var errors)
                || errors.ValueKind != JsonValueKind.Array || errors.GetArrayLength() == 0 || errors[0].ValueKind != JsonValueKind.Object)
            {
                return ("", null, null, null);
            }

            var first = errors[0];
            string? Text(JsonElement parent, string name) => parent.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
            var code = Text(first, "code") ?? "";
            var hasSource = first.TryGetProperty("source", out var source) && source.ValueKind == JsonValueKind.Object;
            var parameter = hasSource ? Text(source, "parameter") : null;
            var pointer = hasSource ? Text(source, "pointer") : null;
            var detail = Text(first, "detail")?.Trim();
            static string? Name(string? text) => text is { Length: > 0 and <= 80 } && !Rules.TextRules.HasUnsafe(text) ? text : null;
            return (
                code.Length <= 80 && code.All(ch => char.IsAsciiLetterOrDigit(ch) || ch is '_' or '.') ? code : "",
                Name(parameter),
                Name(pointer),
                string.IsNullOrEmpty(detail) ? null : detail.Length > 200 ? detail[..200] + "…" : detail);
        }
        catch (JsonException)
        {
            return ("", null, null, null);
        }
    }

    /// <summary>The presigned CSV log of an activity: fetched without the bearer token.</summary>
    public string Download(Uri url)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, url);
        using var response = SendRawAsync(request, "GET activity log", host.Cancellation).GetAwaiter().GetResult();
        var body = ReadBoundedAsync(response, "activity log", false, host.Cancellation).GetAwaiter().GetResult();
        if (!response.IsSuccessStatusCode)
        {
            throw ErrorCatalog.BusinessRequestFailed(account.ClientId, Rules.TextRules.ShownUri(url), "the download of the activity log (GET)", (int)response.StatusCode, "");
        }

        return Encoding.UTF8.GetString(body);
    }

    private async Task<HttpResponseMessage> SendRawAsync(HttpRequestMessage request, string endpoint, CancellationToken ct)
    {
        request.Headers.UserAgent.ParseAdd(Apple.AppleClient.UserAgent);
        try
        {
            var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, ct).ConfigureAwait(false);
            if ((int)response.StatusCode is >= 300 and < 400)
            {
                response.Dispose();
                throw ErrorCatalog.BusinessResponseInvalid(endpoint, "a redirect, which the client does not follow");
            }

            return response;
        }
        catch (HttpRequestException ex)
        {
            throw ErrorCatalog.BusinessNetworkError(endpoint, ex);
        }
        catch (TaskCanceledException ex) when (!ct.IsCancellationRequested)
        {
            throw ErrorCatalog.BusinessNetworkError(endpoint, ex);
        }
    }

    /// <param name="acceptedWrite">The answer is a success to a write: an answer refused here was still carried out by Apple.</param>
    private async Task<byte[]> ReadBoundedAsync(HttpResponseMessage response, string endpoint, bool acceptedWrite, CancellationToken ct)
    {
        // the client asks for no compression: a compressed answer is refused unread (no decompression, so no bomb)
        if (response.Content.Headers.ContentEncoding.Count > 0)
        {
            throw ErrorCatalog.BusinessResponseInvalid(endpoint, "a compressed answer (Content-Encoding), which the client did not ask for", accepted: acceptedWrite);
        }

        var tooLarge = ErrorCatalog.BusinessResponseInvalid(endpoint, "the answer is larger than " + options.MaxResponseBytes + " bytes", accepted: acceptedWrite);
        if (response.Content.Headers.ContentLength is { } length && length > options.MaxResponseBytes)
        {
            throw tooLarge;
        }

        try
        {
            await using var stream = new Apple.BoundedStream(await response.Content.ReadAsStreamAsync(ct).ConfigureAwait(false), options.MaxResponseBytes, () => tooLarge);
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, ct).ConfigureAwait(false);
            return buffer.ToArray();
        }
        catch (Exception ex) when (ex is IOException or HttpRequestException || (ex is TaskCanceledException && !ct.IsCancellationRequested))
        {
            // the connection broke (or timed out) in the middle of the answer
            throw ErrorCatalog.BusinessNetworkError(endpoint, ex);
        }
    }

    /// <summary>
    /// Apple's Retry-After: seconds, or an HTTP date measured against the engine's clock (the clock every other time
    /// of the engine comes from), never the computer's. Less than a second counts as one second.
    /// </summary>
    /// <summary>The longest Retry-After of a 5xx answer that a read waits for before repeating (as the DEP client's).</summary>
    internal static readonly TimeSpan MaxServerRetryAfter = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long to wait before asking again after a 5xx (the read's and the token request's one rule): the Retry-After
    /// Apple gave, else a short back-off; null after the third attempt or when Apple asks for longer than a minute.
    /// </summary>
    private static TimeSpan? ServerBackOff(TimeSpan? retryAfter, int attempt)
        => attempt < 3 && (retryAfter ?? TimeSpan.FromSeconds(2 * attempt)) is var backOff && backOff <= MaxServerRetryAfter ? backOff : null;

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        var header = response.Headers.RetryAfter;
        if (header?.Delta is { } delta)
        {
            return delta < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : delta;
        }

        if (header?.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : wait;
        }

        return null;
    }

    // ---- budgets ----------------------------------------------------------------------------------------------------

    /// <summary>A request counted against its budget before it is sent (method as counted, and when).</summary>
    /// <summary>A request counted in the account's budget: its kind, when, and the count of its window with it (Used of Budget).</summary>
    private readonly record struct Reservation(string Method, DateTimeOffset At, int Used = 0, int Budget = 0, TimeSpan Window = default);

    /// <summary>
    /// The budget of a method: GETs per minute, and POSTs (device activities) per hour. The token endpoint is not
    /// counted (it is not sent through <see cref="SendAsync"/>).
    /// </summary>
    private (string Method, int Budget, TimeSpan Window) BudgetOf(HttpMethod method) => method == HttpMethod.Get
        ? ("GET", account.GetsPerMinute ?? options.GetsPerMinute, TimeSpan.FromMinutes(1))
        : ("POST", account.PostsPerHour ?? options.PostsPerHour, TimeSpan.FromHours(1));

    /// <summary>
    /// Before sending: the Retry-After time of an earlier 429 and the budget of the method (GETs per minute, POSTs per
    /// hour). Either counts the request (the reservation it returns) or fails with the time the request is allowed
    /// (BusinessThrottled), or, under <see cref="WaitForLimit"/>, waits for it.
    /// </summary>
    private async Task<Reservation> EnforceBudgetAsync(HttpMethod method, CancellationToken ct)
    {
        // Rounds count only real waits: a timer that fires a moment before the allowed time (the stored times are whole
        // milliseconds) gives a wait of less than a second, which is waited out again with its margin, not counted as
        // another process having taken the budget (that is what the limit of three rounds is for).
        for (int round = 0, moments = 0; ;)
        {
            var (allowedAt, reserved) = Reserve(method);
            if (reserved is { } taken)
            {
                return taken;
            }

            var wait = allowedAt - time.GetUtcNow();
            if (!WaitForLimit || wait > options.MaxLimitWait || round >= 3 || moments >= 10)
            {
                throw ErrorCatalog.BusinessThrottled(account.ClientId, BudgetOf(method).Method, allowedAt, Service, null, WaitForLimit ? options.MaxLimitWait : null);
            }

            if (wait >= TimeSpan.FromSeconds(1))
            {
                round++;
                host.WriteVerbose($"Waiting {Math.Ceiling(wait.TotalSeconds):0} s for Apple's request budget of API account '{account.ClientId}'.");
            }
            else
            {
                moments++;
            }

            await options.Delay((wait > TimeSpan.Zero ? wait : TimeSpan.Zero) + BudgetMargin, ct).ConfigureAwait(false);
        }
    }

    /// <summary>Waited beyond the time a request is allowed, so that the request is past its window when it is counted.</summary>
    private static readonly TimeSpan BudgetMargin = TimeSpan.FromMilliseconds(100);

    /// <summary>
    /// Checks the budget and counts the request in one write transaction of the store (writers of a store take turns:
    /// SQLite BEGIN IMMEDIATE, PostgreSQL the store's write lock), so two processes or hosts sharing the store can never
    /// both take the last request of a budget. Returns the reservation, or the time the request may go. A 429 seen by
    /// one process holds back the others (the Retry-After time is in the store too).
    /// </summary>
    private (DateTimeOffset AllowedAt, Reservation? Reserved) Reserve(HttpMethod method)
    {
        var now = time.GetUtcNow();
        var (name, budget, window) = BudgetOf(method);
        var windowStart = now - window;
        return accounts.Store.Write(s =>
        {
            if (s.Business.BlockedUntil(account.Id, name) is { } blocked && blocked > now)
            {
                return (blocked, (Reservation?)null);
            }

            s.Business.PruneRequests(account.Id, name, windowStart);
            var sent = s.Business.Requests(account.Id, name, windowStart);
            if (sent.Count >= budget)
            {
                return (sent[sent.Count - budget] + window, null);
            }

            s.Business.AddRequest(account.Id, name, now);
            return (now, new Reservation(name, now, sent.Count + 1, budget, window));
        });
    }

    /// <summary>
    /// Takes back a reservation whose request provably never reached Apple: getting the access token failed, or the
    /// connection to Apple could not be made. Once the request may have left (Apple answered anything, including an
    /// error or a 429, or the connection broke after it was made, or the caller stopped it while in flight) it stays
    /// counted for its whole window: Apple may have counted it, and counting too much only makes a script wait.
    /// </summary>
    private void Release(Reservation reserved)
    {
        try
        {
            accounts.Store.Write(s => s.Business.RemoveRequest(account.Id, reserved.Method, reserved.At));
        }
        catch (AdeException)
        {
            // the reservation stays counted (the safe side); the caller sees the error that stopped the request
        }
    }

    /// <summary>Whether a network error happened before the request was sent (name resolution, connecting, TLS).</summary>
    private static bool NeverSent(AdeException ex)
        => ex.InnerException is HttpRequestException { HttpRequestError: HttpRequestError.NameResolutionError or HttpRequestError.ConnectionError or HttpRequestError.SecureConnectionError };

    /// <summary>Records Apple's Retry-After for the method's budget in the store (a later block is never shortened).</summary>
    private void Block(string method, DateTimeOffset until)
        => accounts.Store.Write(s =>
        {
            if (s.Business.BlockedUntil(account.Id, method) is not { } current || current < until)
            {
                s.Business.SetBlockedUntil(account.Id, method, until);
            }

            return 0;
        });

    /// <summary>Test seam: forget every access token cached by this process (budgets and blocks are in the store).</summary>
    internal static void ResetProcessState() => Tokens.Clear();
}

using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;
using AdeEnrollment.Simulator.Abm;
using AdeEnrollment.Simulator.Service;

namespace AdeEnrollment.Simulator;

/// <summary>
/// A faithful local stand-in for Apple's ADE web service (docs/about_AdeEnrollment_Testing.md) plus the few Apple
/// Business Manager actions a test needs. Listens on 127.0.0.1 only, in this process (HttpListener, no ASP.NET).
/// All state sits behind one lock: the simulator favours being obviously right over being fast.
/// </summary>
public sealed partial class AdeSimulator : IDisposable
{
    public const int DefaultPageSize = 100;
    public const int MaxPageSize = 1000;
    public const int MaxDevicesPerRequest = 1000;
    public const int MaxLoggedRequests = 10_000;
    public static readonly TimeSpan CursorLifetime = TimeSpan.FromDays(7);

    private readonly object gate = new();
    private readonly HttpListener listener;
    private readonly CancellationTokenSource stopping = new();
    private readonly DeviceGenerator generator;
    private readonly byte[] cursorKey = RandomNumberGenerator.GetBytes(32);
    private readonly List<ServerState> servers = [];
    private readonly Dictionary<string, ServerState> serversByConsumerKey = new(StringComparer.Ordinal);
    private readonly Dictionary<string, SessionState> sessions = new(StringComparer.Ordinal);
    private readonly Dictionary<string, DateTimeOffset> nonces = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> serialOwners = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<AdeSimFault> faults = [];
    private readonly LinkedList<AdeSimRequest> requests = new();
    private int nextFaultId;
    private Task? loop;

    private AdeSimulator(HttpListener listener, int port, int seed, TimeProvider time)
    {
        this.listener = listener;
        Port = port;
        Seed = seed;
        Time = time;
        Uri = new Uri($"http://{LoopbackHost}:{port.ToString(CultureInfo.InvariantCulture)}/");
        generator = new DeviceGenerator(seed);
        StartedAt = time.GetUtcNow();
    }

    /// <summary>The base URI to give clients (New-AdeToken -ServiceUri).</summary>
    public Uri Uri { get; }

    public int Port { get; }

    /// <summary>The seed of the generated devices and UUIDs: the same seed gives the same devices.</summary>
    public int Seed { get; }

    public DateTimeOffset StartedAt { get; }

    public bool IsRunning => !stopping.IsCancellationRequested;

    /// <summary>The simulator's clock (sessions, cursors, timestamps, token expiry).</summary>
    public TimeProvider Time { get; }

    /// <summary>How long a session from /session is valid (Apple does not document it; clients must handle 401).</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromMinutes(3);

    /// <summary>The largest accepted difference between oauth_timestamp and the simulator's clock.</summary>
    public TimeSpan MaxClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>When set, every Nth request of a session gets a new session token in X-ADM-Auth-Session (the old one stops working).</summary>
    public int? RotateSessionEvery { get; set; }

    /// <summary>Write error bodies JSON-quoted ("INVALID_CURSOR") as the old depsim did, instead of Apple's plain text.</summary>
    public bool QuoteErrorBodies { get; set; }

    /// <summary>
    /// When set, device pages hold at most this many devices whatever the client asks (Apple may send fewer than
    /// asked). Tests use small pages to get many pages from few devices.
    /// </summary>
    public int? PageSizeCap
    {
        get => pageSizeCap;
        set => pageSizeCap = value is null or (>= 1 and <= MaxPageSize) ? value
            : throw SimErrors.ArgumentInvalid("PageSizeCap", value.Value.ToString(CultureInfo.InvariantCulture), "a page holds 1 to 1000 devices.");
    }

    private int? pageSizeCap;

    /// <summary>The largest request body accepted; a larger one is answered 413 without being read further.</summary>
    public const int MaxRequestBodyBytes = 1024 * 1024;

    public int ServerCount
    {
        get { lock (gate) return servers.Count; }
    }

    /// <summary>Starts a simulator on 127.0.0.1:<paramref name="port"/> (0 picks a free port).</summary>
    public static AdeSimulator Start(int port = 0, int? seed = null, TimeProvider? time = null)
    {
        if (port is < 0 or > 65535)
        {
            throw SimErrors.ArgumentInvalid("Port", port.ToString(CultureInfo.InvariantCulture), "a TCP port is 0 to 65535 (0 picks a free one).");
        }

        var actualSeed = seed ?? RandomNumberGenerator.GetInt32(int.MaxValue);
        Exception? last = null;
        for (var attempt = 0; attempt < (port == 0 ? 20 : 1); attempt++)
        {
            var candidate = port == 0 ? FreePort() : port;
            var listener = new HttpListener { IgnoreWriteExceptions = true };
            listener.Prefixes.Add($"http://{LoopbackHost}:{candidate.ToString(CultureInfo.InvariantCulture)}/");
            try
            {
                listener.Start();
            }
            catch (Exception ex) when (ex is HttpListenerException or SocketException or InvalidOperationException)
            {
                last = ex;
                listener.Close();
                continue;
            }

            var simulator = new AdeSimulator(listener, candidate, actualSeed, time ?? SimulatorClock.Instance);
            simulator.loop = Task.Run(simulator.AcceptLoopAsync);
            return simulator;
        }

        throw SimErrors.StartFailed(port, last!);
    }

    /// <summary>
    /// 127.0.0.1 (the managed HttpListener binds exactly that address). On Windows, http.sys lets a user without
    /// administrator rights listen only on "localhost", which is loopback-only as well.
    /// </summary>
    private static string LoopbackHost => OperatingSystem.IsWindows() ? "localhost" : "127.0.0.1";

    private static int FreePort()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        try
        {
            return ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        finally
        {
            probe.Stop();
        }
    }

    public void Stop()
    {
        if (stopping.IsCancellationRequested)
        {
            return;
        }

        stopping.Cancel();
        try
        {
            listener.Stop();
            listener.Close();
        }
        catch (ObjectDisposedException)
        {
        }

        try
        {
            loop?.Wait(TimeSpan.FromSeconds(5));
        }
        catch (AggregateException)
        {
        }
    }

    public void Dispose() => Stop();

    public override string ToString() => Uri.ToString();

    // ---- HTTP front ------------------------------------------------------------------------------------------------

    private async Task AcceptLoopAsync()
    {
        while (!stopping.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync().ConfigureAwait(false);
            }
            catch (Exception) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                continue;
            }

            _ = Task.Run(() => HandleAsync(context));
        }
    }

    /// <summary>An HTTP exchange as the handlers see it.</summary>
    internal sealed class Exchange
    {
        public required string Method { get; init; }

        public required string Path { get; init; }

        public required Uri Url { get; init; }

        public required Func<string, string?> Header { get; init; }

        public required byte[] Body { get; init; }

        public string? Query(string name)
            => System.Web.HttpUtility.ParseQueryString(Url.Query).Get(name);

        /// <summary>X-Server-Protocol-Version, 1 when absent or not a number.</summary>
        public int ProtocolVersion => int.TryParse(Header("X-Server-Protocol-Version"), NumberStyles.None, CultureInfo.InvariantCulture, out var v) ? v : 1;
    }

    /// <summary>What a handler answers.</summary>
    internal sealed class Answer
    {
        public int Status { get; init; } = 200;

        public byte[] Body { get; init; } = [];

        public string ContentType { get; init; } = "application/json;charset=UTF8";

        public List<KeyValuePair<string, string>> Headers { get; } = [];

        public string? ErrorCode { get; init; }

        public int DeviceCount { get; set; }

        public string? Server { get; set; }
    }

    private async Task HandleAsync(HttpListenerContext context)
    {
        var started = Stopwatch.GetTimestamp();
        var request = context.Request;
        var response = context.Response;
        var path = request.Url?.AbsolutePath ?? "/";
        var method = request.HttpMethod;
        Answer? answer = null;
        AdeSimFault? fault = null;
        try
        {
            var body = await ReadBodyAsync(request).ConfigureAwait(false);
            fault = body is null ? null : PickFault(method, path);
            if (body is null)
            {
                answer = Error(413, "REQUEST_ENTITY_TOO_LARGE", quote: false);
            }
            else if (fault is not null)
            {
                if (fault.Latency > TimeSpan.Zero)
                {
                    await Task.Delay(fault.Latency, stopping.Token).ConfigureAwait(false);
                }

                if (fault.DropConnection)
                {
                    Log(new AdeSimRequest { Time = Time.GetUtcNow(), Method = method, Path = path, StatusCode = 0, Fault = true, UserAgent = request.UserAgent, Duration = Stopwatch.GetElapsedTime(started) });
                    await DropAsync(response).ConfigureAwait(false);
                    return;
                }

                if (fault.StatusCode is { } status)
                {
                    answer = Error(status, fault.Body ?? DefaultBody(status), quote: false);
                    if (fault.RetryAfterSeconds is { } seconds)
                    {
                        answer.Headers.Add(new("Retry-After", fault.RetryAfterAsDate
                            ? Time.GetUtcNow().AddSeconds(seconds).ToString("r", CultureInfo.InvariantCulture)
                            : seconds.ToString(CultureInfo.InvariantCulture)));
                    }
                }
            }

            if (answer is null)
            {
                var exchange = new Exchange
                {
                    Method = method,
                    Path = path,
                    Url = request.Url!,
                    Header = name => request.Headers[name],
                    Body = body!,
                };
                lock (gate)
                {
                    answer = Route(exchange);
                }
            }
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            response.Abort();
            return;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            answer = Error(500, "INTERNAL_SERVER_ERROR", quote: false);
        }

        // logged before the answer leaves, so that a client that got it finds it in the log
        Log(new AdeSimRequest
        {
            Time = Time.GetUtcNow(),
            Method = method,
            Path = path,
            StatusCode = answer.Status,
            ErrorCode = answer.ErrorCode,
            DeviceCount = answer.DeviceCount,
            Server = answer.Server,
            UserAgent = request.UserAgent,
            ProtocolVersion = request.Headers["X-Server-Protocol-Version"],
            Fault = fault is not null,
            Duration = Stopwatch.GetElapsedTime(started),
        });

        try
        {
            response.StatusCode = answer.Status;
            response.ContentType = answer.ContentType;
            foreach (var (name, value) in answer.Headers)
            {
                response.Headers[name] = value;
            }

            response.ContentLength64 = answer.Body.Length;
            await response.OutputStream.WriteAsync(answer.Body, stopping.Token).ConfigureAwait(false);
            response.Close();
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException or OperationCanceledException)
        {
            // the client went away
        }

    }

    /// <summary>
    /// Cuts the connection in the middle of an answer: headers promising a body, a few bytes of it, then the socket is
    /// closed (HttpListener cannot close a connection without first sending headers).
    /// </summary>
    private static async Task DropAsync(HttpListenerResponse response)
    {
        try
        {
            response.StatusCode = 200;
            response.ContentType = "application/json;charset=UTF8";
            response.ContentLength64 = 64 * 1024;
            await response.OutputStream.WriteAsync("{\"dev"u8.ToArray()).ConfigureAwait(false);
            await response.OutputStream.FlushAsync().ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpListenerException or IOException or ObjectDisposedException)
        {
        }

        response.Abort();
    }

    /// <summary>The request body, or null when it is larger than <see cref="MaxRequestBodyBytes"/> (read no further).</summary>
    private static async Task<byte[]?> ReadBodyAsync(HttpListenerRequest request)
    {
        if (!request.HasEntityBody)
        {
            return [];
        }

        if (request.ContentLength64 > MaxRequestBodyBytes)
        {
            return null;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[64 * 1024];
        int read;
        while ((read = await request.InputStream.ReadAsync(chunk).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > MaxRequestBodyBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }

    private void Log(AdeSimRequest entry)
    {
        lock (gate)
        {
            requests.AddLast(entry);
            while (requests.Count > MaxLoggedRequests)
            {
                requests.RemoveFirst();
            }
        }
    }

    private static string DefaultBody(int status) => status switch
    {
        400 => "BAD_REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        429 => "TOO_MANY_REQUESTS",
        500 => "INTERNAL_SERVER_ERROR",
        502 => "BAD_GATEWAY",
        503 => "SERVICE_UNAVAILABLE",
        504 => "GATEWAY_TIMEOUT",
        _ => "ERROR",
    };

    /// <summary>An error answer: Apple's plain-text code (JSON-quoted when <see cref="QuoteErrorBodies"/>).</summary>
    private Answer Error(int status, string code, bool quote = true)
        => new()
        {
            Status = status,
            Body = Encoding.UTF8.GetBytes(quote && QuoteErrorBodies ? "\"" + code + "\"" : code),
            ContentType = "text/plain;charset=UTF8",
            ErrorCode = code,
        };

    // ---- faults ----------------------------------------------------------------------------------------------------

    /// <summary>Adds a fault; the first matching fault (in the order added) answers a request.</summary>
    public AdeSimFault AddFault(string endpoint, int? statusCode, string? body = null, int? count = null, int? retryAfterSeconds = null,
        TimeSpan latency = default, bool dropConnection = false, string? method = null, double share = 1, bool retryAfterAsDate = false)
    {
        if (statusCode is { } s && (s < 100 || s > 599))
        {
            throw SimErrors.ArgumentInvalid("StatusCode", s.ToString(CultureInfo.InvariantCulture), "an HTTP status is 100 to 599.");
        }

        if (statusCode is null && latency <= TimeSpan.Zero && !dropConnection)
        {
            throw SimErrors.ArgumentInvalid("StatusCode", "", "a fault answers with a status code, delays (-Latency) or drops the connection (-DropConnection).");
        }

        if (count is <= 0)
        {
            throw SimErrors.ArgumentInvalid("Count", count.Value.ToString(CultureInfo.InvariantCulture), "give a positive number of requests.");
        }

        if (share is <= 0 or > 1)
        {
            throw SimErrors.ArgumentInvalid("Share", share.ToString(CultureInfo.InvariantCulture), "a share of requests is more than 0 and at most 1.");
        }

        var normalised = endpoint == "*" || endpoint.StartsWith('/') ? endpoint : "/" + endpoint;
        lock (gate)
        {
            var fault = new AdeSimFault
            {
                Id = ++nextFaultId,
                Endpoint = normalised,
                Method = method?.ToUpperInvariant(),
                StatusCode = statusCode,
                Body = body,
                Remaining = count,
                Share = share,
                RetryAfterSeconds = retryAfterSeconds,
                RetryAfterAsDate = retryAfterAsDate,
                Latency = latency,
                DropConnection = dropConnection,
            };
            faults.Add(fault);
            return fault;
        }
    }

    public IReadOnlyList<AdeSimFault> GetFaults()
    {
        lock (gate) return [.. faults];
    }

    /// <summary>Removes every fault (endpoint and per-device); returns how many were removed.</summary>
    public int ClearFaults()
    {
        lock (gate)
        {
            var n = faults.Count + servers.Sum(s => s.Outcomes.Count);
            faults.Clear();
            foreach (var server in servers)
            {
                server.Outcomes.Clear();
            }

            return n;
        }
    }

    private AdeSimFault? PickFault(string method, string path)
    {
        lock (gate)
        {
            foreach (var fault in faults)
            {
                if (fault.Remaining is 0 || (fault.Method is not null && fault.Method != method) || !PathMatches(fault.Endpoint, path))
                {
                    continue;
                }

                if (fault.Share < 1 && generator.NextDouble() >= fault.Share)
                {
                    continue;
                }

                fault.Hits++;
                if (fault.Remaining is { } remaining)
                {
                    fault.Remaining = remaining - 1;
                }

                return fault;
            }

            faults.RemoveAll(f => f.Remaining is 0);
            return null;
        }
    }

    internal static bool PathMatches(string pattern, string path)
    {
        if (pattern == "*")
        {
            return true;
        }

        var regex = "^" + System.Text.RegularExpressions.Regex.Escape(pattern).Replace("\\*", ".*", StringComparison.Ordinal).Replace("\\?", ".", StringComparison.Ordinal) + "$";
        return System.Text.RegularExpressions.Regex.IsMatch(path, regex, System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant);
    }

    // ---- request log -----------------------------------------------------------------------------------------------

    /// <summary>The requests answered so far (the last 10,000), oldest first; <paramref name="path"/> may use wildcards.</summary>
    public IReadOnlyList<AdeSimRequest> GetRequests(string? path = null)
    {
        lock (gate)
        {
            return [.. requests.Where(r => path is null || PathMatches(path.StartsWith('/') || path == "*" ? path : "/" + path, r.Path))];
        }
    }

    public void ClearRequests()
    {
        lock (gate) requests.Clear();
    }
}

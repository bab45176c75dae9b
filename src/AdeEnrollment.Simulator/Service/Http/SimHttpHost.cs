using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using AdeEnrollment.Simulator.Service.Faults;

namespace AdeEnrollment.Simulator.Service.Http;

/// <summary>
/// The HTTP side of the simulator: an <see cref="HttpListener"/> on the loopback address, the accept loop, the body
/// size limit (413), the fault injector's verdict (status, latency, dropped connection), the request log and the
/// writing of answers. What a request means is the router's business (<see cref="Route"/>); this class knows no
/// endpoint and no org state.
/// </summary>
internal sealed class SimHttpHost : IDisposable
{
    /// <summary>The largest request body accepted; a larger one is answered 413 without being read further.</summary>
    public const int MaxRequestBodyBytes = 1024 * 1024;

    private readonly HttpListener listener;
    private readonly CancellationTokenSource stopping = new();
    private readonly Func<Exchange, Answer> route;
    private readonly FaultInjector faults;
    private readonly RequestLog log;
    private readonly TimeProvider time;
    private Task? loop;

    private SimHttpHost(HttpListener listener, int port, Func<Exchange, Answer> route, FaultInjector faults, RequestLog log, TimeProvider time)
    {
        this.listener = listener;
        this.route = route;
        this.faults = faults;
        this.log = log;
        this.time = time;
        Port = port;
        Uri = new Uri($"http://{LoopbackHost}:{port.ToString(CultureInfo.InvariantCulture)}/");
    }

    public Uri Uri { get; }

    public int Port { get; }

    public bool IsRunning => !stopping.IsCancellationRequested;

    /// <summary>Listens on 127.0.0.1:<paramref name="port"/> (0 picks a free port) and serves <paramref name="route"/>.</summary>
    public static SimHttpHost Start(int port, Func<Exchange, Answer> route, FaultInjector faults, RequestLog log, TimeProvider time)
    {
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

            var host = new SimHttpHost(listener, candidate, route, faults, log, time);
            host.loop = Task.Run(host.AcceptLoopAsync);
            return host;
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
            var body = await ReadBodyAsync(request.HasEntityBody, request.ContentLength64, request.InputStream, MaxRequestBodyBytes).ConfigureAwait(false);
            fault = body is null ? null : faults.Pick(method, path);
            Answer Route() => route(new Exchange
            {
                Method = method,
                Path = path,
                Url = request.Url!,
                Header = name => request.Headers[name],
                Body = body!,
            });
            if (body is null)
            {
                answer = Answers.Error(413, "REQUEST_ENTITY_TOO_LARGE");
            }
            else if (fault is not null)
            {
                if (fault.Latency > TimeSpan.Zero)
                {
                    await Task.Delay(fault.Latency, stopping.Token).ConfigureAwait(false);
                }

                if (fault.AfterApplying)
                {
                    _ = Route(); // carried out, its answer replaced by the fault's (the request log records the fault's)
                }

                if (fault.DropConnection)
                {
                    log.Add(new AdeSimRequest { Time = time.GetUtcNow(), Method = method, Path = path, StatusCode = 0, Fault = true, UserAgent = request.UserAgent, Duration = Stopwatch.GetElapsedTime(started) });
                    await DropAsync(response).ConfigureAwait(false);
                    return;
                }

                answer = FaultInjector.AnswerFor(fault, time.GetUtcNow());
            }

            answer ??= Route();
        }
        catch (OperationCanceledException) when (stopping.IsCancellationRequested)
        {
            response.Abort();
            return;
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            answer = Answers.Error(500, "INTERNAL_SERVER_ERROR");
        }

        // logged before the answer leaves, so that a client that got it finds it in the log
        log.Add(new AdeSimRequest
        {
            Time = time.GetUtcNow(),
            Method = method,
            Path = path,
            StatusCode = answer.Status,
            ErrorCode = answer.ErrorCode,
            DeviceCount = answer.DeviceCount,
            SerialNumbers = answer.SerialNumbers,
            ProfileUuid = answer.ProfileUuid,
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

    /// <summary>
    /// The request body, or null when it is larger than <paramref name="limit"/> bytes: a declared length over the
    /// limit is refused unread, a body without (or with a wrong) length is read no further than the limit.
    /// </summary>
    internal static async Task<byte[]?> ReadBodyAsync(bool hasBody, long contentLength, Stream input, int limit)
    {
        if (!hasBody)
        {
            return [];
        }

        if (contentLength > limit)
        {
            return null;
        }

        // The declared length sizes the buffer (a request is read once per call: no 64 KiB allocation per request).
        using var buffer = new MemoryStream(contentLength > 0 ? (int)contentLength : 0);
        var chunk = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = await input.ReadAsync(chunk).ConfigureAwait(false)) > 0)
            {
                if (buffer.Length + read > limit)
                {
                    return null;
                }

                buffer.Write(chunk, 0, read);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(chunk);
        }

        return buffer.ToArray();
    }
}

using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AdeEnrollment.Engine.Tests.Hostile;

/// <summary>A request as the hostile server saw it.</summary>
internal sealed record HostileRequest(string Method, string Path, IReadOnlyDictionary<string, string> Headers, string Body);

/// <summary>
/// An in-process HTTP/1.1 server on 127.0.0.1 written on a raw socket, so that it can answer what no well-behaved
/// server library would send: compression bombs, bodies longer or shorter than announced, slow bodies, header values
/// with control characters, redirects elsewhere. <see cref="Answer"/> decides each answer; it writes raw bytes.
/// One request per connection (Connection: close).
/// </summary>
internal sealed class HostileAppleServer : IDisposable
{
    private readonly TcpListener listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource stop = new();

    public HostileAppleServer()
    {
        listener.Start();
        Port = ((IPEndPoint)listener.LocalEndpoint).Port;
        Uri = new Uri($"http://127.0.0.1:{Port.ToString(CultureInfo.InvariantCulture)}/");
        _ = Task.Run(AcceptLoopAsync);
    }

    public int Port { get; }

    public Uri Uri { get; }

    public ConcurrentQueue<HostileRequest> Requests { get; } = new();

    /// <summary>Writes the answer to a request; return false to fall back to <see cref="AppleLike"/>.</summary>
    public Func<HostileRequest, Stream, Task<bool>>? Answer { get; set; }

    public string SessionToken { get; set; } = "GOOD-SESSION";

    public string ServerName { get; set; } = "Hostile MDM";

    /// <summary>The devices of a well-behaved full fetch (one page).</summary>
    public int Devices { get; set; } = 3;

    private async Task AcceptLoopAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(stop.Token).ConfigureAwait(false);
            }
            catch (Exception)
            {
                return;
            }

            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                var stream = client.GetStream();
                var request = await ReadRequestAsync(stream).ConfigureAwait(false);
                if (request is null)
                {
                    return;
                }

                Requests.Enqueue(request);
                if (Answer is not { } answer || !await answer(request, stream).ConfigureAwait(false))
                {
                    await AppleLike(request, stream).ConfigureAwait(false);
                }

                await stream.FlushAsync().ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or SocketException or ObjectDisposedException or OperationCanceledException)
            {
                // the client went away
            }
        }
    }

    private static async Task<HostileRequest?> ReadRequestAsync(NetworkStream stream)
    {
        var head = new List<byte>();
        var one = new byte[1];
        while (head.Count < 65536)
        {
            if (await stream.ReadAsync(one).ConfigureAwait(false) == 0)
            {
                return null;
            }

            head.Add(one[0]);
            if (head.Count == 1 && one[0] == 0x16)
            {
                // a TLS ClientHello on this plain-HTTP port: answer in plain text, as a real HTTP server does
                await stream.WriteAsync("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"u8.ToArray()).ConfigureAwait(false);
                return null;
            }

            if (head.Count >= 4 && head[^1] == '\n' && head[^2] == '\r' && head[^3] == '\n' && head[^4] == '\r')
            {
                break;
            }
        }

        var lines = Encoding.Latin1.GetString([.. head]).Split("\r\n");
        var parts = lines[0].Split(' ');
        var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var line in lines.Skip(1).Where(l => l.Length > 0))
        {
            var colon = line.IndexOf(':');
            headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
        }

        var length = headers.TryGetValue("Content-Length", out var l) ? int.Parse(l, CultureInfo.InvariantCulture) : 0;
        var body = new byte[length];
        var read = 0;
        while (read < length)
        {
            var n = await stream.ReadAsync(body.AsMemory(read)).ConfigureAwait(false);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return new HostileRequest(parts[0], parts[1], headers, Encoding.UTF8.GetString(body, 0, read));
    }

    /// <summary>A well-behaved answer: a session, an account, one page of <see cref="Devices"/> devices, an empty delta.</summary>
    public Task AppleLike(HostileRequest request, Stream stream) => request.Path switch
    {
        "/session" => Json(stream, $$"""{"auth_session_token":"{{SessionToken}}"}"""),
        "/account" => Json(stream, $$"""{"server_name":{{System.Text.Json.JsonSerializer.Serialize(ServerName)}},"server_uuid":"ABCDEF","org_name":"Hostile Org","admin_id":"admin@example.com"}"""),
        "/server/devices" => Json(stream, Page(Devices, "CURSOR-1", more: false)),
        "/devices/sync" => Json(stream, """{"cursor":"CURSOR-2","more_to_follow":false,"fetched_until":"2026-01-01T00:00:00Z","devices":[]}"""),
        _ => Raw(stream, "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nNOT_FOUND"),
    };

    public static string Device(string serial, string? description = null)
        => $$"""{"serial_number":"{{serial}}","model":"iPad","description":{{System.Text.Json.JsonSerializer.Serialize(description ?? "IPAD WI-FI 64GB")}},"color":"SPACE GRAY","os":"iPadOS","device_family":"iPad","profile_status":"empty","device_assigned_date":"2026-01-01T00:00:00Z","device_assigned_by":"admin@example.com","op_type":"added","op_date":"2026-01-01T00:00:00Z"}""";

    public static string Page(int devices, string cursor, bool more, int first = 0)
        => $$"""{"cursor":"{{cursor}}","more_to_follow":{{(more ? "true" : "false")}},"fetched_until":"2026-01-01T00:00:00Z","devices":[{{string.Join(",", Enumerable.Range(first, devices).Select(i => Device($"HOSTILE{i:D5}")))}}]}""";

    public static Task Json(Stream stream, string json, string? extraHeaders = null)
    {
        var body = Encoding.UTF8.GetBytes(json);
        return Raw(stream, $"HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF8\r\nContent-Length: {body.Length}\r\n{extraHeaders}Connection: close\r\n\r\n", body);
    }

    public static async Task Raw(Stream stream, string head, byte[]? body = null)
    {
        await stream.WriteAsync(Encoding.Latin1.GetBytes(head)).ConfigureAwait(false);
        if (body is not null)
        {
            await stream.WriteAsync(body).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        stop.Cancel();
        listener.Stop();
    }
}

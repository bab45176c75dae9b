using System.Diagnostics;
using System.IO.Compression;
using System.Net;
using System.Net.Sockets;
using System.Text;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Sync;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Tests.Hostile;

/// <summary>
/// A hostile Apple server (docs/security-apple.md): each answer Apple never sends is refused with its catalogued
/// error, and the store keeps its devices, its cursor and its token row exactly as they were.
/// </summary>
public sealed class HostileAppleTests : IDisposable
{
    private readonly HostileFixture f = new();

    public void Dispose() => f.Dispose();

    /// <summary>Serves <paramref name="answer"/> for the delta sync, syncs, and checks the error and the unchanged store.</summary>
    private AdeException RefusedDelta(string errorId, Func<Stream, Task> answer)
    {
        f.SyncOnceAndWait();
        var before = f.State();
        f.Server.Answer = async (request, stream) =>
        {
            if (request.Path != "/devices/sync")
            {
                return false;
            }

            await answer(stream);
            return true;
        };
        var ex = AdeAssert.Throws(errorId, () => f.Engine.Sync.Sync("Hostile"));
        Assert.Equal(before, f.State());
        var status = f.Engine.Sync.GetStatus(f.Token);
        Assert.Equal(AdeSyncStatus.Failed, status.LastStatus);
        Assert.Equal(errorId, status.History[0].ErrorId);
        Assert.True(status.NextSyncIsFull);
        Assert.False(status.InProgress);
        return ex;
    }

    private static byte[] Gzip(Action<Stream> write)
    {
        using var buffer = new MemoryStream();
        using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
        {
            write(gzip);
        }

        return buffer.ToArray();
    }

    [Fact]
    public void A_gzip_bomb_is_refused_after_the_decompressed_limit()
    {
        var bomb = Gzip(s =>
        {
            s.Write("""{"cursor":"X","more_to_follow":false,"devices":[],"pad":" """u8);
            var spaces = new byte[1024 * 1024];
            Array.Fill(spaces, (byte)' ');
            for (var i = 0; i < 64; i++)
            {
                s.Write(spaces); // 64 MiB of JSON in well under 1 MiB on the wire
            }

            s.Write("\"}"u8);
        });
        Assert.True(bomb.Length < 1024 * 1024);
        var ex = RefusedDelta("AppleResponseTooLarge", s => HostileAppleServer.Raw(s,
            $"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Encoding: gzip\r\nContent-Length: {bomb.Length}\r\nConnection: close\r\n\r\n", bomb));
        Assert.Contains("decompresses", ex.Message, StringComparison.Ordinal);
        Assert.Contains(f.Server.Uri.Authority, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_page_with_more_devices_than_asked_for_commits_nothing()
    {
        var ex = RefusedDelta("AppleResponseTooLarge", s => HostileAppleServer.Json(s, HostileAppleServer.Page(1001, "CURSOR-X", more: false, first: 100)));
        Assert.Contains("1,001 devices", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_announced_length_over_the_limit_is_refused_before_reading()
        => RefusedDelta("AppleResponseTooLarge", s => HostileAppleServer.Raw(s,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 104857600\r\nConnection: close\r\n\r\n{\"devices\":["));

    [Fact]
    public void An_unannounced_body_over_the_limit_is_cut_at_the_limit()
        => RefusedDelta("AppleResponseTooLarge", async s =>
        {
            await HostileAppleServer.Raw(s, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n{\"cursor\":\"X\",\"devices\":[],\"pad\":\"");
            var chunk = Encoding.ASCII.GetBytes(new string('a', 1024 * 1024));
            for (var i = 0; i < 20; i++)
            {
                await s.WriteAsync(chunk);
            }
        });

    [Fact]
    public void A_huge_description_is_refused()
    {
        var page = $$"""{"cursor":"C9","more_to_follow":false,"devices":[{{HostileAppleServer.Device("HUGE00001", new string('D', 100_000))}}]}""";
        var ex = RefusedDelta("AppleResponseInvalid", s => HostileAppleServer.Json(s, page));
        Assert.Contains("description", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Malformed_json_is_refused()
        => RefusedDelta("AppleResponseInvalid", s => HostileAppleServer.Json(s, """{"cursor":"C9","more_to_follow":false,"devices":[{"serial_number":"""));

    [Theory]
    [InlineData("""{"cursor":"C9","more_to_follow":"yes","devices":[]}""")]
    [InlineData("""{"cursor":9,"more_to_follow":false,"devices":[]}""")]
    [InlineData("""{"cursor":"C9","more_to_follow":false,"devices":{"serial_number":"A"}}""")]
    [InlineData("""{"cursor":"C9","more_to_follow":false,"devices":[null]}""")]
    [InlineData("""{"cursor":"C9","more_to_follow":false,"devices":[{"model":"iPad"}]}""")]
    [InlineData("""{"cursor":"C9","more_to_follow":false,"devices":[{"serial_number":"AB\u001b[2JCD"}]}""")]
    [InlineData("""{"cursor":"C\r\n9","more_to_follow":false,"devices":[]}""")]
    [InlineData("""[]""")]
    [InlineData("""null""")]
    public void Wrong_types_and_values_are_refused(string page)
        => RefusedDelta("AppleResponseInvalid", s => HostileAppleServer.Json(s, page));

    [Fact]
    public void A_truncated_body_is_retried_and_then_refused()
        => RefusedDelta("AppleServiceUnavailable", s => HostileAppleServer.Raw(s,
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n{\"cursor\":\"C9\",\"devices\":["));

    [Fact]
    public void A_redirect_to_another_host_is_never_followed()
    {
        using var elsewhere = new HostileAppleServer();
        var ex = RefusedDelta("AppleRedirectRefused", s => HostileAppleServer.Raw(s,
            $"HTTP/1.1 307 Temporary Redirect\r\nLocation: {elsewhere.Uri}steal\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"));
        Assert.Empty(elsewhere.Requests);
        Assert.Contains(elsewhere.Uri.Authority, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_session_token_with_a_line_break_never_becomes_a_header()
    {
        f.Server.SessionToken = "abc\\r\\nX-Injected: 1";
        var before = f.State();
        AdeAssert.Throws("AppleHeaderInvalid", () => f.Engine.Sync.Sync("Hostile"));
        Assert.DoesNotContain(f.Server.Requests, r => r.Headers.ContainsKey("X-Injected"));
        Assert.DoesNotContain(f.Server.Requests, r => r.Path != "/session");
        Assert.Equal(before.Replace("\n", ""), f.State().Replace("\n", ""));
    }

    [Fact]
    public void A_rotated_session_with_a_control_character_is_refused()
        => RefusedDelta("AppleHeaderInvalid", s => HostileAppleServer.Json(s, """{"cursor":"C9","more_to_follow":false,"devices":[]}""", "X-ADM-Auth-Session: ab\u0001cd\r\n"));

    [Fact]
    public void A_slow_body_is_bounded_by_the_attempt_timeout()
    {
        using var slow = new HostileFixture(attemptTimeout: TimeSpan.FromMilliseconds(700));
        slow.SyncOnceAndWait();
        var before = slow.State();
        slow.Server.Answer = async (request, stream) =>
        {
            if (request.Path != "/devices/sync")
            {
                return false;
            }

            await HostileAppleServer.Raw(stream, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n");
            for (var i = 0; i < 50; i++)
            {
                await stream.WriteAsync(" "u8.ToArray());
                await stream.FlushAsync();
                await Task.Delay(100);
            }

            return true;
        };
        var ex = AdeAssert.Throws("AppleTimeout", () => slow.Engine.Sync.Sync("Hostile"));
        Assert.Contains("/devices/sync", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, slow.State());
    }

    [Fact]
    public void An_endless_cursor_stops_at_the_page_bound_and_the_next_sync_is_full()
    {
        f.SyncOnceAndWait();
        f.Engine.Sync.MaxPagesPerSync = 25;
        var n = 0;
        f.Server.Answer = async (request, stream) =>
        {
            if (request.Path != "/devices/sync")
            {
                return false;
            }

            await HostileAppleServer.Json(stream, $$"""{"cursor":"ENDLESS-{{Interlocked.Increment(ref n)}}","more_to_follow":true,"devices":[]}""");
            return true;
        };
        var devices = f.Store.Count("device");
        AdeAssert.Throws("SyncPageLimitExceeded", () => f.Engine.Sync.Sync("Hostile"));
        Assert.Equal(26, n); // the page past the bound stops the run: nothing was asked ahead of it
        Assert.Equal(devices, f.Store.Count("device"));
        var status = f.Engine.Sync.GetStatus(f.Token);
        Assert.Equal("SyncPageLimitExceeded", status.History[0].ErrorId);
        Assert.True(status.NextSyncIsFull);
        Assert.False(status.InProgress);

        f.Server.Answer = null;
        f.Store.Time.Advance(TimeSpan.FromMinutes(16));
        var next = f.Engine.Sync.Sync("Hostile")!;
        Assert.Equal(AdeSyncKind.Full, next.Kind);
    }

    [Fact]
    public void An_endless_full_fetch_stops_at_the_page_bound_without_asking_past_it()
    {
        f.SyncOnceAndWait();
        f.Engine.Sync.MaxPagesPerSync = 25;
        var n = 0;
        f.Server.Answer = async (request, stream) =>
        {
            if (request.Path != "/server/devices")
            {
                return false;
            }

            await HostileAppleServer.Json(stream, $$"""{"cursor":"FETCH-{{Interlocked.Increment(ref n)}}","more_to_follow":true,"devices":[]}""");
            return true;
        };
        var devices = f.Store.Count("device");
        f.Store.Time.Advance(TimeSpan.FromDays(7) + TimeSpan.FromMinutes(1));
        AdeAssert.Throws("SyncPageLimitExceeded", () => f.Engine.Sync.Sync("Hostile", full: true));
        Assert.Equal(26, n); // the page past the bound stops the run: nothing was asked ahead of it
        Assert.Equal(devices, f.Store.Count("device"));
        Assert.Equal("SyncPageLimitExceeded", f.Engine.Sync.GetStatus(f.Token).History[0].ErrorId);
    }

    [Fact]
    public void A_sync_that_outlives_its_lease_commits_nothing_more_and_is_failed()
    {
        f.SyncOnceAndWait();
        var n = 0;
        f.Server.Answer = async (request, stream) =>
        {
            if (request.Path != "/devices/sync")
            {
                return false;
            }

            var k = Interlocked.Increment(ref n);
            // The next page is asked while the one before is written: its 4 minutes start once that one is committed,
            // so pages 1-3 are written at minutes 4, 8 and 12 however the threads are scheduled.
            var writing = Stopwatch.StartNew();
            while (k <= 4 && f.Store.Count("device") < 3 + (k - 1) && writing.Elapsed < TimeSpan.FromSeconds(30))
            {
                await Task.Delay(5);
            }

            f.Store.Time.Advance(TimeSpan.FromMinutes(4)); // each page takes Apple 4 minutes
            await HostileAppleServer.Json(stream, HostileAppleServer.Page(1, $"SLOW-{k}", more: true, first: 1000 + k));
            return true;
        };
        AdeAssert.Throws("SyncLeaseLost", () => f.Engine.Sync.Sync("Hostile"));
        // pages 1-3 within the 15 minutes, page 4 arrives after them and is not committed; page 5 may have been asked
        // ahead while page 4 was being written (it is dropped)
        Assert.InRange(n, 4, 5);
        Assert.Equal(3 + 3, f.Store.Count("device"));
        var status = f.Engine.Sync.GetStatus(f.Token);
        Assert.False(status.InProgress);
        Assert.True(status.NextSyncIsFull);
        Assert.Equal("SyncLeaseLost", status.History[0].ErrorId);
    }

    [Fact]
    public void Names_from_Apple_are_neutralised_before_they_are_stored()
    {
        f.Server.ServerName = "Evil\u001b]0;pwned\u0007\u001b[31m Server\u202E";
        var request = f.Store.SeedRequest();
        var file = f.Store.AbmTokenFile(request, f.Store.Credentials());
        var token = f.Engine.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), file, "admin@contoso.com", ServiceUri: f.Server.Uri))!;
        Assert.DoesNotContain(token.Name, char.IsControl);
        Assert.DoesNotContain('\u202E', token.Name);
        Assert.StartsWith("Evil\uFFFD]0;pwned", token.Name, StringComparison.Ordinal);
        Assert.DoesNotContain(token.ServerName ?? "", char.IsControl);
    }

    // ---- network failures, told apart and naming the address ------------------------------------------------------

    private AppleClient Client(Uri uri, AppleClientOptions? options = null)
        => new(uri, new ServerTokenContent("CK_a", "CS_b", "AT_c", "AS_d", DateTimeOffset.UtcNow.AddDays(30)), "Net", f.Store.Time, f.Host, null, options ?? f.Options);

    [Fact]
    public async Task An_unresolvable_name_is_AppleHostNotFound_without_retries()
    {
        var uri = new Uri("https://ade-enrollment-test.invalid/");
        var ex = await Assert.ThrowsAsync<AdeException>(() => Client(uri).GetAccountAsync());
        Assert.Equal("AppleHostNotFound", ex.ErrorId);
        Assert.Equal(AdeErrorCategory.ConnectionError, ex.Category);
        Assert.Contains("ade-enrollment-test.invalid", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("later", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.Empty(f.Delays.Delays);
    }

    [Fact]
    public async Task A_closed_port_is_AppleConnectionRefused_after_retries()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        var port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        var uri = new Uri($"http://127.0.0.1:{port}/");
        var ex = await Assert.ThrowsAsync<AdeException>(() => Client(uri).GetAccountAsync());
        Assert.Equal("AppleConnectionRefused", ex.ErrorId);
        Assert.Contains($"127.0.0.1:{port}/session", ex.Message, StringComparison.Ordinal); // the session the call opens first
        Assert.Single(f.Delays.Delays);
    }

    [Fact]
    public async Task A_plain_http_server_behind_https_is_AppleTlsFailed()
    {
        var uri = new Uri($"https://127.0.0.1:{f.Server.Port}/");
        var ex = await Assert.ThrowsAsync<AdeException>(() => Client(uri).GetAccountAsync());
        Assert.Equal("AppleTlsFailed", ex.ErrorId);
        Assert.Contains($"127.0.0.1:{f.Server.Port}", ex.Message, StringComparison.Ordinal);
        Assert.Empty(f.Delays.Delays);
    }

    [Fact]
    public async Task A_server_that_never_answers_is_AppleTimeout()
    {
        f.Server.Answer = async (_, _) =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5));
            return true;
        };
        var options = new AppleClientOptions { DelayTimeProvider = f.Delays, MaxRetryAttempts = 1, AttemptTimeout = TimeSpan.FromMilliseconds(300), Sessions = new AppleSessionCache() };
        var ex = await Assert.ThrowsAsync<AdeException>(() => Client(f.Server.Uri, options).GetAccountAsync());
        Assert.Equal("AppleTimeout", ex.ErrorId);
        Assert.Contains(f.Server.Uri.Authority, ex.Message, StringComparison.Ordinal);
        Assert.Single(f.Delays.Delays);
    }

    [Fact]
    public void Every_unexpected_exception_becomes_a_catalogued_error_without_its_type_name_as_id()
    {
        var error = ErrorCatalog.FromException(new InvalidOperationException("boom CS_secretvalue"), "Sync-AdeDevice");
        Assert.Equal("UnexpectedError", error.ErrorId);
        Assert.Contains("Sync-AdeDevice", error.Message, StringComparison.Ordinal);
        Assert.Contains("boom", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("secretvalue", error.Message, StringComparison.Ordinal);
        Assert.Equal("OperationStopped", ErrorCatalog.FromException(new TaskCanceledException(), "Sync-AdeDevice").ErrorId);
        var ade = ErrorCatalog.DeviceNotFound("X");
        Assert.Same(ade, ErrorCatalog.FromException(ade, "Get-AdeDevice"));
    }
}

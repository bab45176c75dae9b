using System.IO.Compression;
using System.Net;
using System.Text;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;

namespace AdeEnrollment.Engine.Tests.Business;

/// <summary>
/// Oversized and hostile answers of the Business API (the same bounds as the DEP client): a catalogued
/// BusinessResponseInvalid, and nothing of the answer reaches the store or the output.
/// </summary>
public sealed class BusinessHostileTests
{
    /// <summary>Passes requests to the simulator, except those a test answers itself.</summary>
    private sealed class Intercept : DelegatingHandler
    {
        public Intercept() : base(new SocketsHttpHandler { AllowAutoRedirect = false })
        {
        }

        public Func<HttpRequestMessage, HttpResponseMessage?>? Answer { get; set; }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
            => Answer?.Invoke(request) is { } hostile ? Task.FromResult(hostile) : base.SendAsync(request, cancellationToken);
    }

    private static (BusinessFixture Fx, Intercept Handler) Start(int pageSize = 1000)
    {
        var handler = new Intercept();
        return (new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PostsPerHour = 100, PageSize = pageSize, MaxResponseBytes = 64 * 1024, Handler = handler }), handler);
    }

    private static HttpResponseMessage Json(string json) => new(HttpStatusCode.OK) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    private static bool IsOrgDevices(HttpRequestMessage r) => r.RequestUri!.AbsolutePath == "/v1/orgDevices";

    private static string Device(string serial, string extra = "")
        => "{\"type\":\"orgDevices\",\"id\":\"" + serial + "\",\"attributes\":{\"serialNumber\":\"" + serial + "\",\"status\":\"UNASSIGNED\"" + extra + "}}";

    private static string Page(IEnumerable<string> items, string? cursor = null)
        => "{\"data\":[" + string.Join(",", items) + "],\"links\":{\"self\":\"x\"},\"meta\":{\"paging\":{\"limit\":1000" + (cursor is null ? "" : ",\"nextCursor\":\"" + cursor + "\"") + "}}}";

    private static void Refused(BusinessFixture fx, string because)
    {
        var e = Assert.Throws<AdeException>(() => fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).ToList());
        Assert.Equal("BusinessResponseInvalid", e.ErrorId);
        Assert.Equal(AdeErrorCategory.InvalidData, e.Category);
        Assert.Contains(because, e.Message, StringComparison.Ordinal);
        // nothing of the read stays in the store
        Assert.Equal(0L, (long)RawSqlite.Scalar(fx.Sim.Store.Path, "SELECT COUNT(*) FROM business_device_server")!);
    }

    [Theory]
    [InlineData("X\\r\\nInjected: yes")]
    [InlineData("X\\u001b[31m")]
    public void An_access_token_a_header_cannot_carry_is_refused_and_never_sent(string token)
    {
        var (fx, h) = Start();
        using (fx)
        {
            var sent = new List<string>();
            h.Answer = r =>
            {
                if (r.Headers.Authorization is { } auth) sent.Add(auth.Parameter ?? "");
                return r.RequestUri!.AbsolutePath == "/auth/oauth2/token" ? Json("{\"access_token\":\"" + token + "\",\"expires_in\":3600}") : null;
            };
            Refused(fx, "an access_token of");
            Assert.Empty(sent); // no request went out with it
        }
    }

    [Theory]
    [InlineData(999_999_999_999_999L)]
    [InlineData(-5L)]
    public void An_access_token_lifetime_out_of_all_proportion_is_read_within_a_day_not_an_unexpected_error(long seconds)
    {
        var (fx, _) = Start();
        using (fx)
        {
            // a token Apple does not know (answered 401, then renewed once) with an absurd lifetime: no overflow
            fx.Simulator.AddFault("/auth/oauth2/token", 200, "{\"access_token\":\"unknown-to-apple\",\"expires_in\":" + seconds + "}", count: 1);
            Assert.NotEmpty(fx.Engine.Business.GetMdmServers());
            Assert.Equal(2, fx.Simulator.GetRequests("/auth/oauth2/token").Count);
        }
    }

    [Fact]
    public void An_announced_length_over_the_limit_is_refused_before_reading()
    {
        var (fx, h) = Start();
        using (fx)
        {
            h.Answer = r => IsOrgDevices(r) ? Json(Page([]) + new string(' ', 70 * 1024)) : null;
            Refused(fx, "larger than 65536 bytes");
        }
    }

    [Fact]
    public void An_unannounced_body_over_the_limit_is_cut_at_the_limit()
    {
        var (fx, h) = Start();
        using (fx)
        {
            h.Answer = r =>
            {
                if (!IsOrgDevices(r)) return null;
                var endless = new StreamContent(new MemoryStream(Encoding.UTF8.GetBytes(Page([]) + new string(' ', 200 * 1024))));
                endless.Headers.ContentType = new("application/json");
                var m = new HttpResponseMessage(HttpStatusCode.OK) { Content = endless };
                m.Content.Headers.ContentLength = null;
                return m;
            };
            Refused(fx, "larger than 65536 bytes");
        }
    }

    [Fact]
    public void A_compressed_answer_is_refused_unread_so_a_gzip_bomb_never_expands()
    {
        var (fx, h) = Start();
        using (fx)
        {
            using var packed = new MemoryStream();
            using (var gz = new GZipStream(packed, CompressionLevel.SmallestSize, leaveOpen: true))
            {
                gz.Write(Encoding.UTF8.GetBytes("""{"data":[],"pad":" """));
                var spaces = new byte[1024 * 1024];
                Array.Fill(spaces, (byte)' ');
                for (var i = 0; i < 32; i++) gz.Write(spaces); // 32 MiB of JSON in a few KiB on the wire
                gz.Write("\"}"u8);
            }

            var bomb = packed.ToArray();
            Assert.True(bomb.Length < 64 * 1024);
            h.Answer = r =>
            {
                if (!IsOrgDevices(r)) return null;
                var c = new ByteArrayContent(bomb);
                c.Headers.ContentType = new("application/json");
                c.Headers.ContentEncoding.Add("gzip");
                return new HttpResponseMessage(HttpStatusCode.OK) { Content = c };
            };
            Refused(fx, "compressed answer");
        }
    }

    [Fact]
    public void A_page_with_more_items_than_asked_for_is_refused()
    {
        var (fx, h) = Start(pageSize: 3);
        using (fx)
        {
            h.Answer = r => IsOrgDevices(r) ? Json(Page(Enumerable.Range(0, 4).Select(i => Device($"C02HOSTILE0{i}")))) : null;
            Refused(fx, "4 items on a page, more than the 3 asked for");
        }
    }

    [Theory]
    [InlineData("{\"type\":\"orgDevices\",\"id\":null}")]
    [InlineData("{\"type\":\"orgDevices\",\"id\":\"\",\"attributes\":{}}")]
    [InlineData("{\"type\":\"orgDevices\"}")]
    public void An_item_without_an_id_is_refused_not_read_as_a_blank_device(string item)
    {
        var (fx, h) = Start();
        using (fx)
        {
            h.Answer = r => IsOrgDevices(r) ? Json(Page([Device("C02GOOD00001"), item])) : null;
            Refused(fx, "an item without an id");
        }
    }

    [Theory]
    [InlineData("serial")]
    [InlineData("serialControl")]
    [InlineData("text")]
    [InlineData("arrayText")]
    public void Ids_and_texts_over_their_length_or_with_control_characters_are_refused(string field)
    {
        var (fx, h) = Start();
        using (fx)
        {
            var item = field switch
            {
                "serial" => Device(new string('A', 65)),
                "serialControl" => Device("C02AB\\u0007CD1234"),
                "text" => Device("C02HOSTILE01", $",\"deviceModel\":\"{new string('x', 1025)}\""),
                _ => Device("C02HOSTILE01", $",\"imei\":[\"1\",\"{new string('9', 2000)}\"]"),
            };
            h.Answer = r => IsOrgDevices(r) ? Json(Page([Device("C02GOOD00001"), item])) : null;
            Refused(fx, "characters");
        }
    }

    [Fact]
    public void Control_characters_in_free_text_never_reach_the_output()
    {
        var (fx, h) = Start();
        using (fx)
        {
            h.Answer = r => IsOrgDevices(r) ? Json(Page([Device("C02GOOD00001", ",\"deviceModel\":\"iPad\\u001b[31m\\u202e\"")])) : null;
            var d = Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()));
            Assert.DoesNotContain(d.DeviceModel!, c => c == '\u001b' || c == '\u202e');
        }
    }

    [Fact]
    public void A_cursor_that_comes_back_is_a_loop_and_is_refused_after_two_pages()
    {
        var (fx, h) = Start();
        using (fx)
        {
            var served = 0;
            h.Answer = r =>
            {
                if (!IsOrgDevices(r)) return null;
                served++;
                return Json(Page([Device($"C02LOOP{served:00000}")], served % 2 == 0 ? "B" : "A"));
            };
            Refused(fx, "already read");
            Assert.Equal(3, served); // A, B, then A again: stopped there
        }
    }

    [Fact]
    public void An_oversized_cursor_is_refused()
    {
        var (fx, h) = Start();
        using (fx)
        {
            h.Answer = r => IsOrgDevices(r) ? Json(Page([Device("C02GOOD00001")], new string('c', 5000))) : null;
            Refused(fx, "cursor of 5,000 characters");
        }
    }

    [Fact]
    public void A_hostile_activity_answer_stores_nothing()
    {
        var (fx, h) = Start();
        using (fx)
        {
            var serial = fx.Simulator.AddOrgDevices(1)[0].SerialNumber;
            h.Answer = r => r.Method == HttpMethod.Post && r.RequestUri!.AbsolutePath == "/v1/orgDeviceActivities"
                ? new HttpResponseMessage(HttpStatusCode.Created) { Content = new StringContent("{\"data\":{\"type\":\"orgDeviceActivities\",\"id\":\"" + new string('1', 5000) + "\",\"attributes\":{\"status\":\"IN_PROGRESS\"}}}", Encoding.UTF8, "application/json") }
                : null;
            var e = Assert.Throws<AdeException>(() => fx.Engine.Business.Send(OrgDeviceAction.Assign, [serial], null, server: "Contoso iPads"));
            Assert.Equal("BusinessResponseInvalid", e.ErrorId);
            Assert.Empty(fx.Sim.Store.Read(s => s.Business.Activities()));
        }
    }
}

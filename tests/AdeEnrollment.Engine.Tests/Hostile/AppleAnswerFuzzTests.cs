using System.Globalization;
using System.IO.Compression;
using System.Net;
using System.Text;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Tests.Support;

namespace AdeEnrollment.Engine.Tests.Hostile;

/// <summary>
/// A mutation fuzzer over Apple's device pages (docs/security-apple.md): valid pages, mutated by seeded random edits
/// (byte flips, cuts, splices of JSON fragments, wrong types, control characters, deep nesting, compression), are
/// served to a whole sync. The only acceptable outcomes are success or a catalogued <see cref="AdeException"/>, never
/// another exception and never a hang; and nothing the store keeps breaks the answer rules. The number of cases comes
/// from <c>ADE_FUZZ_CASES</c> (default 1000; <c>build.ps1 Fuzz</c> runs many more); every case has a fixed seed, so a
/// failure names the seed that reproduces it.
/// </summary>
public sealed class AppleAnswerFuzzTests(Xunit.Abstractions.ITestOutputHelper output)
{
    private static readonly string[] Fragments =
    [
        "\"", "{", "}", "[", "]", ":", ",", "null", "true", "false", "0", "-1", "1e999", "-0.0", "18446744073709551616",
        "\"\\u0000\"", "\"\\u001b[31m\"", "\"\\r\\nX: y\"", "\"\\ud800\"", "\"\u202E\"", "{}", "[]", "\"\"",
        "\"serial_number\"", "\"devices\"", "\"cursor\"", "\"more_to_follow\"", "\"op_type\"", "\"deleted\"", "\"modified\"",
        "\"2026-13-45T99:99:99Z\"", "\"0001-01-01T00:00:00Z\"", "\"9999-12-31T23:59:59Z\"",
        new string('[', 200), new string('A', 5000), "\"" + new string('x', 70) + "\"",
    ];

    private static int Cases => int.TryParse(Environment.GetEnvironmentVariable("ADE_FUZZ_CASES"), NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n > 0 ? n : 1000;

    [Fact]
    public async Task Mutated_device_pages_end_in_success_or_a_catalogued_error()
    {
        using var store = new TestStore();
        store.AddToken("Fuzz");
        var handler = new FuzzAppleHandler();
        var host = new RecordingHost();
        var options = new AppleClientOptions { DelayTimeProvider = new InstantDelays(), MaxRetryAttempts = 1, Sessions = new AppleSessionCache(), AttemptTimeout = TimeSpan.FromSeconds(10) };
        var engine = new AdeEngine(store.Store, host, store.Time, new AppleClientFactory(store.Time, host, handler, options));
        engine.Sync.MaxPagesPerSync = 5;
        var outcomes = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var seed = 1; seed <= Cases; seed++)
        {
            var random = new Random(seed);
            handler.Next(Mutate(random, ValidPage(random)), random.Next(8) == 0 ? "gzip" : null);
            var run = Task.Run(() =>
            {
                try
                {
                    engine.Sync.Sync("Fuzz");
                    return "Succeeded";
                }
                catch (AdeException ex)
                {
                    return ex.ErrorId;
                }
            });
            Assert.True(await Task.WhenAny(run, Task.Delay(TimeSpan.FromSeconds(30))) == run, $"seed {seed}: the sync did not end (a hang)");
            string outcome;
            try
            {
                outcome = await run;
            }
            catch (Exception ex)
            {
                throw new Xunit.Sdk.XunitException($"seed {seed}: {ex.GetType().Name}: {ex.Message}\n{ex.StackTrace}");
            }

            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            Assert.False(outcome.Contains("Exception", StringComparison.Ordinal), $"seed {seed}: {outcome}");
            store.Time.Advance(TimeSpan.FromDays(8));
        }

        // What the store kept obeys the answer rules, whatever came in.
        Assert.Equal(0, store.Scalar<long>($"SELECT count(*) FROM device WHERE length(serial_number) > {AppleAnswerRules.MaxSerialLength} OR length(description) > {AppleAnswerRules.MaxTextLength} OR length(model) > {AppleAnswerRules.MaxTextLength}"));
        Assert.Equal(0, store.Scalar<long>("SELECT count(*) FROM device WHERE serial_number GLOB '*[' || char(1) || '-' || char(31) || ']*' OR description GLOB '*[' || char(1) || '-' || char(31) || ']*'"));
        Assert.True(outcomes.GetValueOrDefault("Succeeded") > 0, "some mutated pages are still valid");
        Assert.True(outcomes.GetValueOrDefault(nameof(ErrorCatalog.AppleResponseInvalid)) > 0, "mutations are refused: " + string.Join(", ", outcomes.Keys));
        output.WriteLine($"{Cases} cases: " + string.Join(", ", outcomes.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key} {o.Value}")));
        Assert.DoesNotContain(outcomes.Keys, k => k == nameof(ErrorCatalog.UnexpectedError));
    }

    private static string ValidPage(Random random)
    {
        var devices = Enumerable.Range(0, random.Next(0, 6)).Select(i =>
        {
            var op = random.Next(4) switch { 0 => "added", 1 => "modified", 2 => "deleted", _ => null };
            return $$"""{"serial_number":"FZ{{random.Next(100000):D6}}","model":"iPad Pro","description":"IPAD PRO 11 WI-FI","color":"SILVER","os":"iPadOS","device_family":"iPad","profile_status":"{{(random.Next(2) == 0 ? "empty" : "assigned")}}","device_assigned_date":"2026-01-0{{random.Next(1, 9)}}T10:00:00Z","device_assigned_by":"admin@example.com"{{(op is null ? "" : $",\"op_type\":\"{op}\",\"op_date\":\"2026-02-01T00:00:00Z\"")}}}""";
        });
        return $$"""{"cursor":"FZ{{random.Next():X}}","more_to_follow":{{(random.Next(5) == 0 ? "true" : "false")}},"fetched_until":"2026-02-01T00:00:00Z","devices":[{{string.Join(",", devices)}}]}""";
    }

    private static byte[] Mutate(Random random, string page)
    {
        var text = new StringBuilder(page);
        var edits = random.Next(1, 4);
        for (var e = 0; e < edits && text.Length > 0; e++)
        {
            var at = random.Next(text.Length);
            switch (random.Next(7))
            {
                case 0: // flip a character
                    text[at] = (char)(text[at] ^ (1 << random.Next(7)));
                    break;
                case 1: // cut a range
                    text.Remove(at, Math.Min(random.Next(1, 40), text.Length - at));
                    break;
                case 2: // splice in a JSON fragment
                    text.Insert(at, Fragments[random.Next(Fragments.Length)]);
                    break;
                case 3: // truncate
                    text.Length = at;
                    break;
                case 4: // duplicate a range
                    var length = Math.Min(random.Next(1, 200), text.Length - at);
                    text.Insert(at, text.ToString(at, length));
                    break;
                case 5: // replace a value after a colon with a fragment
                    var colon = text.ToString().IndexOf(':', at);
                    if (colon >= 0)
                    {
                        var end = colon + 1;
                        while (end < text.Length && text[end] is not (',' or '}' or ']'))
                        {
                            end++;
                        }

                        text.Remove(colon + 1, end - colon - 1).Insert(colon + 1, Fragments[random.Next(Fragments.Length)]);
                    }

                    break;
                default: // a control character inside a string
                    text.Insert(at, (char)random.Next(0, 32));
                    break;
            }
        }

        return Encoding.UTF8.GetBytes(text.ToString());
    }

    /// <summary>Serves the session, then the current mutated page once, then an empty last page.</summary>
    private sealed class FuzzAppleHandler : HttpMessageHandler
    {
        private byte[] page = [];
        private string? encoding;
        private bool served;

        public void Next(byte[] mutated, string? contentEncoding)
        {
            page = mutated;
            encoding = contentEncoding;
            served = false;
        }

        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            byte[] body;
            string? bodyEncoding = null;
            if (request.RequestUri!.AbsolutePath == "/session")
            {
                body = """{"auth_session_token":"FUZZ-SESSION"}"""u8.ToArray();
            }
            else if (!served)
            {
                served = true;
                body = page;
                if (encoding == "gzip")
                {
                    using var buffer = new MemoryStream();
                    using (var gzip = new GZipStream(buffer, CompressionLevel.Fastest, leaveOpen: true))
                    {
                        gzip.Write(page);
                    }

                    body = buffer.ToArray();
                    bodyEncoding = "gzip";
                }
            }
            else
            {
                body = """{"cursor":"END","more_to_follow":false,"devices":[]}"""u8.ToArray();
            }

            var content = new ByteArrayContent(body);
            content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
            if (bodyEncoding is not null)
            {
                content.Headers.ContentEncoding.Add(bodyEncoding);
            }

            return Task.FromResult(new HttpResponseMessage(HttpStatusCode.OK) { Content = content });
        }
    }
}

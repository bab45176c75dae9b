using System.Text;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Tokens;
using AdeEnrollment.Simulator.Abm;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Nist;

namespace AdeEnrollment.Engine.Tests.Fuzz;

/// <summary>
/// Mutation fuzzing of Apple server token files through the engine's New-AdeToken path. Valid files come from the
/// test producers (the simulator's ABM writer, BouncyCastle with OAEP, hand-made AES-GCM, and valid envelopes around
/// damaged content); each case mutates one of them (bit flips, truncation, insertion, splices, ASN.1 length
/// tampering, MIME header damage, damaged JSON inside a valid envelope). The only acceptable outcomes are success or
/// a catalogued AdeException; never another exception, a hang, or a changed store.
/// </summary>
public sealed class TokenFileFuzzTests : IDisposable
{
    private const int Seed = 20261130;
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(30); // a watchdog, not a timing assertion

    private readonly TestStore store = new();
    private readonly Xunit.Abstractions.ITestOutputHelper output;

    public TokenFileFuzzTests(Xunit.Abstractions.ITestOutputHelper output) => this.output = output;

    public void Dispose() => store.Dispose();

    private static readonly string[] Catalogued =
        ["TokenFileInvalid", "TokenDecryptionFailed", "TokenContentInvalid", "TokenExpired"];

    private List<(string Name, byte[] Bytes)> ValidFiles(AdeTokenRequest request)
    {
        var credentials = store.Credentials();
        var plain = TokenFiles.Plaintext(credentials);
        return
        [
            ("abm-aes256", Encoding.ASCII.GetBytes(ServerTokenWriter.Write(request.PublicKeyPem, credentials))),
            ("abm-3des", Encoding.ASCII.GetBytes(ServerTokenWriter.Write(request.PublicKeyPem, credentials, "DES_EDE3_CBC"))),
            ("bc-oaep256-lf", Encoding.ASCII.GetBytes(TokenFiles.ToSmime(TokenFiles.EnvelopedWithBouncyCastle(request.PublicKeyPem, plain, NistObjectIdentifiers.IdAes128Cbc, KeyTransport.RsaOaepSha256), TokenFiles.Lf))),
            ("gcm-der", TokenFiles.EnvelopedGcmByHand(request.PublicKeyPem, plain)),
            ("gcm-smime", Encoding.ASCII.GetBytes(TokenFiles.ToSmime(TokenFiles.EnvelopedGcmByHand(request.PublicKeyPem, plain)))),
        ];
    }

    /// <summary>A valid envelope for our key around damaged content: anyone with the public certificate can make one.</summary>
    private static byte[] HostileContent(Random r, AdeTokenRequest request, ServerTokenCredentials credentials)
    {
        var text = TokenFiles.InnerText(TokenFiles.Json(TokenFiles.Fields(credentials)));
        var bytes = Encoding.UTF8.GetBytes(text);
        var json = TokenFiles.Json(TokenFiles.Fields(credentials));
        byte[] content = r.Next(8) switch
        {
            0 => Mutator.FlipBits(r, bytes),
            1 => Mutator.Truncate(r, bytes),
            2 => Mutator.Insert(r, bytes),
            3 => Encoding.UTF8.GetBytes(TokenFiles.InnerText(new string('[', r.Next(60, 5000)) + json)),
            4 => Encoding.UTF8.GetBytes(TokenFiles.InnerText(json.Replace("\"CS_", "{\"CS_", StringComparison.Ordinal))),
            5 => Encoding.UTF8.GetBytes(TokenFiles.InnerText(json.Replace("Z\"", "+99:99\"", StringComparison.Ordinal))),
            6 => Encoding.UTF8.GetBytes("-----END MESSAGE-----" + text + "-----BEGIN MESSAGE-----"),
            _ => Encoding.UTF8.GetBytes(TokenFiles.InnerText(json.Replace("2", "\\u0000", StringComparison.Ordinal))),
        };
        return TokenFiles.EnvelopedGcmByHand(request.PublicKeyPem, content);
    }

    private static byte[] Mutate(Random r, byte[] valid)
    {
        var isText = valid[0] != 0x30;
        var text = isText ? Encoding.ASCII.GetString(valid) : null;
        var crlf = text?.Contains("\r\n\r\n", StringComparison.Ordinal) == true;
        var kind = r.Next(10);
        if (kind >= 7)
        {
            return crlf ? Encoding.UTF8.GetBytes(Mutator.MutateDerInside(text!, der => Mutator.TamperAsnValue(r, der))) : Mutator.TamperAsnValue(r, valid);
        }

        return kind switch
        {
            0 => Mutator.FlipBits(r, valid),
            1 => Mutator.Truncate(r, valid),
            2 => Mutator.Insert(r, valid),
            3 => Mutator.Splice(r, valid),
            4 when crlf => Encoding.UTF8.GetBytes(Mutator.MutateDerInside(text!, der => Mutator.TamperAsnLength(r, der))),
            4 => Mutator.TamperAsnLength(r, valid),
            5 when crlf => Encoding.UTF8.GetBytes(Mutator.DamageMime(r, text!)),
            5 => Mutator.FlipBits(r, valid),
            _ when crlf => Encoding.UTF8.GetBytes(Mutator.MutateDerInside(text!, der => Mutator.FlipBits(r, der))),
            _ => Mutator.Splice(r, valid),
        };
    }

    [Fact]
    public void MutatedTokenFiles_AreSuccessOrACataloguedError_AndNeverChangeTheStore()
    {
        var cases = Math.Max(50, Mutator.Cases(2000) * 3 / 4); // three quarters of the store/file fuzz budget
        var request = SmallKeyRequest(store);
        var valid = ValidFiles(request);
        var path = store.Temp.File("fuzz.p7m");
        store.Host.ShouldProcessAnswer = false; // everything up to the write, which -WhatIf skips: the store must not change
        var before = store.Snapshot();
        var outcomes = new SortedDictionary<string, int>(StringComparer.Ordinal);

        foreach (var (name, bytes) in valid)
        {
            File.WriteAllBytes(path, bytes);
            Assert.Null(store.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), path, "admin@contoso.com"))); // control: each valid file reads
        }

        for (var i = 0; i < cases; i++)
        {
            var r = new Random(HashCode.Combine(Seed, i));
            var (source, validBytes) = valid[r.Next(valid.Count)];
            var hostileContent = r.Next(10) == 0;
            var bytes = hostileContent ? HostileContent(r, request, store.Credentials()) : Mutate(r, validBytes);
            File.WriteAllBytes(path, bytes);
            var outcome = Run(() => store.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), path, "admin@contoso.com")),
                $"seed {Seed}, case {i} ({(hostileContent ? "hostile content" : source)})");
            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
            Assert.True(outcome == "success" || Catalogued.Contains(outcome), $"case {i}: unexpected catalogued error {outcome}");
            if (i % 200 == 0)
            {
                Assert.Equal(before, store.Snapshot());
            }
        }

        Assert.Equal(before, store.Snapshot());
        output.WriteLine($"{cases} cases: " + string.Join(", ", outcomes.Select(o => $"{o.Key} {o.Value}")));
        Assert.True(outcomes.Keys.Count(k => k != "success") >= 2, "the mutations reached more than one kind of failure: " + string.Join(", ", outcomes));
    }

    /// <summary>
    /// A pending request row as New-AdeTokenRequest writes it, but with an RSA-1024 key: the engine reads any RSA size,
    /// and a smaller key keeps the thousands of private-key operations of a fuzz run cheap.
    /// </summary>
    internal static AdeTokenRequest SmallKeyRequest(TestStore store)
    {
        var id = Guid.NewGuid();
        using var rsa = System.Security.Cryptography.RSA.Create(1024);
        var csr = new System.Security.Cryptography.X509Certificates.CertificateRequest($"CN=AdeEnrollment {id:N}", rsa,
            System.Security.Cryptography.HashAlgorithmName.SHA256, System.Security.Cryptography.RSASignaturePadding.Pkcs1);
        using var certificate = csr.CreateSelfSigned(store.Now.AddMinutes(-10), store.Now.AddDays(365));
        store.Execute(
            "INSERT INTO token_request (id, created_at, thumbprint, certificate_pem, private_key) VALUES ($id, $t, $tp, $pem, $key)",
            ("$id", id.ToString()), ("$t", store.Now.ToUnixTimeMilliseconds()), ("$tp", certificate.Thumbprint),
            ("$pem", certificate.ExportCertificatePem() + "\n"), ("$key", store.Store.Secrets.Protect(rsa.ExportPkcs8PrivateKey(), $"token_request:{id}:private_key")));
        return store.Tokens.GetRequests(id).Single();
    }

    /// <summary>Runs one case on a worker with a watchdog; returns "success" or the catalogued error ID.</summary>
    internal static string Run(Action action, string what)
    {
        var task = Task.Run(() =>
        {
            try
            {
                action();
                return "success";
            }
            catch (AdeException ex)
            {
                return ex.ErrorId;
            }
        });
        if (!((IAsyncResult)task).AsyncWaitHandle.WaitOne(HangLimit))
        {
            Assert.Fail($"{what}: no answer after {HangLimit.TotalSeconds} s (a hang)");
        }

        if (task.IsFaulted)
        {
            var ex = task.Exception!.InnerException!;
            Assert.Fail($"{what}: escaped the catalogue as {ex.GetType().FullName}: {ex.Message}\n{ex.StackTrace}");
        }

        return task.Result;
    }

    [Theory]
    [InlineData(1_000)]
    [InlineData(50_000)]
    public void DeeplyNestedAsn1_IsTokenFileInvalid_NotAStackOverflow(int depth)
    {
        var request = store.SeedRequest();
        var der = new byte[depth * 2];
        for (var i = 0; i < depth; i++)
        {
            der[2 * i] = 0x30;
            der[2 * i + 1] = 0x80; // indefinite-length SEQUENCE inside indefinite-length SEQUENCE ...
        }

        var path = store.WriteFile("nested.p7m", der);
        var before = store.Snapshot();

        var outcome = Run(() => store.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), path, "admin@contoso.com")), "nested ASN.1");

        Assert.Equal("TokenFileInvalid", outcome);
        Assert.Equal(before, store.Snapshot());
    }

    [Fact]
    public void OctetStringClaimingGigabytes_IsTokenFileInvalid()
    {
        var request = store.SeedRequest();
        var path = store.WriteFile("huge-length.p7m", [0x30, 0x84, 0x7F, 0xFF, 0xFF, 0xFF, 0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x03]);

        Assert.Equal("TokenFileInvalid", Run(() => store.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), path, "admin@contoso.com")), "huge length"));
    }
}

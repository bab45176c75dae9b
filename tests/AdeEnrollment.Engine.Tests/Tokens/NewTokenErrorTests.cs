using System.Text;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;
using AdeEnrollment.Simulator.Abm;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Nist;

namespace AdeEnrollment.Engine.Tests.Tokens;

/// <summary>Every bad input of New-AdeToken: the catalogued error, and a store left exactly as it was.</summary>
public sealed class NewTokenErrorTests : IDisposable
{
    private const string AppleId = "admin@contoso.com";
    private readonly TestStore store = new();

    public void Dispose() => store.Dispose();

    private static NewTokenArgs Args(AdeTokenRequest request, string path, string? name = null) => new(request.Id.ToString(), path, AppleId, name);

    /// <summary>Asserts that New-AdeToken fails with <paramref name="errorId"/> and changes no row of the store.</summary>
    private AdeException FailsUnchanged(string errorId, NewTokenArgs args)
    {
        var before = store.Snapshot();
        var tokens = store.Count("token");
        var requests = store.Count("token_request");

        var ex = AdeAssert.Throws(errorId, () => store.Tokens.NewToken(args));

        Assert.Equal(tokens, store.Count("token"));
        Assert.Equal(requests, store.Count("token_request"));
        Assert.Equal(before, store.Snapshot());
        return ex;
    }

    private void AssertPending(AdeTokenRequest request)
        => Assert.Equal(AdeTokenRequestStatus.Pending, store.Tokens.GetRequests(request.Id).Single().Status);

    /// <summary>A token file whose decrypted text is <paramref name="text"/> (BouncyCastle, AES-256-CBC, S/MIME).</summary>
    private string ContentFile(AdeTokenRequest request, string text)
        => store.WriteFile($"content-{Guid.NewGuid():N}.p7m", TokenFiles.ToSmime(
            TokenFiles.EnvelopedWithBouncyCastle(request.PublicKeyPem, Encoding.UTF8.GetBytes(text), NistObjectIdentifiers.IdAes256Cbc, KeyTransport.RsaPkcs1)));

    private string JsonFile(AdeTokenRequest request, Action<Dictionary<string, object?>> change)
    {
        var fields = TokenFiles.Fields(store.Credentials());
        change(fields);
        return ContentFile(request, TokenFiles.InnerText(TokenFiles.Json(fields)));
    }

    // ---- request ---------------------------------------------------------------------------------------------------

    [Fact]
    public void RequestAlreadyUsed_IsRefused()
    {
        var first = store.AddToken("Contoso");
        var second = store.AbmTokenFile(first.Request, store.Credentials());

        var ex = FailsUnchanged("TokenRequestAlreadyUsed", Args(first.Request, second, "Other"));

        Assert.Contains("'Contoso'", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Update-AdeToken", ex.Message, StringComparison.Ordinal);
        Assert.Equal(AdeErrorCategory.InvalidOperation, ex.Category);
    }

    [Theory]
    [InlineData("not-a-guid")]
    [InlineData("3f2504e0-4f89-11d3-9a0c-0305e82c3301")]
    public void RequestNotFound_IsRefused(string requestId)
    {
        store.SeedRequest();
        var file = store.WriteFile("x.p7m", "irrelevant");

        FailsUnchanged("TokenRequestNotFound", new NewTokenArgs(requestId, file, AppleId));
    }

    // ---- file: wrong key -------------------------------------------------------------------------------------------

    public static TheoryData<string> OtherKeyProducers() => ["abm-aes256-cbc", "abm-3des", "bc-oaep-sha256", "enveloped-gcm-by-hand", "openssl-cms-gcm"];

    [Theory]
    [MemberData(nameof(OtherKeyProducers))]
    public void FileEncryptedForAnotherKey_IsTokenDecryptionFailed(string producer)
    {
        var mine = store.SeedRequest(keyIndex: 0);
        var other = store.SeedRequest(keyIndex: 1);
        var credentials = store.Credentials();
        var plaintext = TokenFiles.Plaintext(credentials);
        var path = store.Temp.File(producer + ".p7m");
        switch (producer)
        {
            case "abm-aes256-cbc":
                File.WriteAllText(path, ServerTokenWriter.Write(other.PublicKeyPem, credentials));
                break;
            case "abm-3des":
                File.WriteAllText(path, ServerTokenWriter.Write(other.PublicKeyPem, credentials, "DES_EDE3_CBC"));
                break;
            case "bc-oaep-sha256":
                File.WriteAllText(path, TokenFiles.ToSmime(TokenFiles.EnvelopedWithBouncyCastle(other.PublicKeyPem, plaintext, NistObjectIdentifiers.IdAes256Cbc, KeyTransport.RsaOaepSha256)));
                break;
            case "enveloped-gcm-by-hand":
                File.WriteAllText(path, TokenFiles.ToSmime(TokenFiles.EnvelopedGcmByHand(other.PublicKeyPem, plaintext)));
                break;
            case "openssl-cms-gcm":
                var cert = store.WriteFile("other.pem", other.PublicKeyPem);
                var plain = store.WriteFile("plain.txt", plaintext);
                OpenSsl.Run("cms", "-encrypt", "-aes-256-gcm", "-in", plain, "-out", path, cert);
                break;
        }

        var ex = FailsUnchanged("TokenDecryptionFailed", Args(mine, path));

        Assert.Contains($"token request {mine.Id}", ex.Message, StringComparison.Ordinal);
        Assert.Contains("wrong request", ex.Message, StringComparison.Ordinal);
        Assert.Contains("another public key", ex.Message, StringComparison.Ordinal);
        AssertPending(mine);
        AssertPending(other);
    }

    // ---- file: not a token -----------------------------------------------------------------------------------------

    public static TheoryData<string> Truncations() =>
    [
        "smime-half", "smime-headers-only", "smime-headers-cut", "smime-last-line-missing", "smime-last-4-chars-missing",
        "der-half", "der-minus-1-byte", "der-first-10-bytes", "base64-half",
    ];

    [Theory]
    [MemberData(nameof(Truncations))]
    public void TruncatedFile_IsTokenFileInvalid(string cut)
    {
        var request = store.SeedRequest();
        var smime = ServerTokenWriter.Write(request.PublicKeyPem, store.Credentials());
        var der = TokenFiles.DerOf(smime);
        var headerEnd = smime.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        var lines = smime.TrimEnd().Split("\r\n");
        var base64 = Convert.ToBase64String(der);
        byte[] content = cut switch
        {
            "smime-half" => Encoding.ASCII.GetBytes(smime[..(smime.Length / 2)]),
            "smime-headers-only" => Encoding.ASCII.GetBytes(smime[..headerEnd]),
            "smime-headers-cut" => Encoding.ASCII.GetBytes(smime[..40]),
            "smime-last-line-missing" => Encoding.ASCII.GetBytes(string.Join("\r\n", lines[..^1]) + "\r\n"),
            "smime-last-4-chars-missing" => Encoding.ASCII.GetBytes(smime.TrimEnd()[..^4] + "\r\n"),
            "der-half" => der[..(der.Length / 2)],
            "der-minus-1-byte" => der[..^1],
            "der-first-10-bytes" => der[..10],
            "base64-half" => Encoding.ASCII.GetBytes(base64[..(base64.Length / 2 / 4 * 4)]),
            _ => throw new ArgumentOutOfRangeException(nameof(cut)),
        };
        var path = store.WriteFile("cut.p7m", content);

        FailsUnchanged("TokenFileInvalid", Args(request, path));
        AssertPending(request);
    }

    [Theory]
    [InlineData("invalid-characters")]
    [InlineData("not-base64-at-all")]
    [InlineData("padding-in-the-middle")]
    public void CorruptBase64_IsTokenFileInvalid(string corruption)
    {
        var request = store.SeedRequest();
        var smime = ServerTokenWriter.Write(request.PublicKeyPem, store.Credentials());
        var headerEnd = smime.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        var body = smime[headerEnd..];
        var corrupted = corruption switch
        {
            "invalid-characters" => smime[..headerEnd] + body[..50] + "*!%$" + body[54..],
            "not-base64-at-all" => smime[..headerEnd] + "This is not base64, it is an e-mail.\r\n",
            "padding-in-the-middle" => smime[..headerEnd] + body[..64] + "==" + body[64..],
            _ => throw new ArgumentOutOfRangeException(nameof(corruption)),
        };
        var path = store.WriteFile("corrupt.p7m", corrupted);

        FailsUnchanged("TokenFileInvalid", Args(request, path));
    }

    [Fact]
    public void CertificatePemInsteadOfTheP7m_IsTokenFileInvalidNamingThePem()
    {
        var request = store.SeedRequest();
        var path = store.WriteFile("upload.pem", request.PublicKeyPem);

        var ex = FailsUnchanged("TokenFileInvalid", Args(request, path));

        Assert.Contains("PEM", ex.Message, StringComparison.Ordinal);
        Assert.Contains("CERTIFICATE", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("-----BEGIN PRIVATE KEY-----\\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETKEYBODY\\n-----END PRIVATE KEY-----", "SECRETKEYBODY", "-----BEGIN PRIVATE KEY-----")]
    [InlineData("-----BEGIN MESSAGE-----{\"consumer_key\":\"CK_1\",\"consumer_secret\":\"CS_SECRET\",\"access_secret\":\"AS_SECRET\"}-----END MESSAGE-----", "CS_SECRET", "-----BEGIN MESSAGE-----")]
    [InlineData("-----BEGIN some label no tool writes, with the secret S3CRET after it", "S3CRET", null)]
    public void PemOnOneLine_IsTokenFileInvalidNamingOnlyItsLabel(string content, string secret, string? label)
    {
        // A key or a decrypted token saved on one line (literal \n, as .env files and CI secrets keep them): the first
        // line is the whole file, and the message may name its label but never the rest.
        var request = store.SeedRequest();
        var path = store.WriteFile("one-line.pem", content);

        var ex = FailsUnchanged("TokenFileInvalid", Args(request, path));

        Assert.DoesNotContain(secret, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, ex.Target?.ToString() ?? "", StringComparison.Ordinal);
        Assert.Contains(label ?? "a PEM file", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://svc:P4ssw0rd@proxy.corp.example/")]
    [InlineData("http://svc:P4ssw0rd@127.0.0.1:8080/")]
    [InlineData("ftp://svc:P4ssw0rd@files.example/")]
    public void ServiceUriWithAPassword_IsRefusedWithoutEchoingIt(string uri)
    {
        var request = store.SeedRequest();
        var path = store.WriteFile("token.p7m", ServerTokenWriter.Write(request.PublicKeyPem, store.Credentials()));

        var ex = FailsUnchanged("ArgumentInvalid", Args(request, path) with { ServiceUri = new Uri(uri), AllowNonAppleServiceUri = true });

        Assert.DoesNotContain("P4ssw0rd", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("P4ssw0rd", ex.Target?.ToString() ?? "", StringComparison.Ordinal);
    }

    [Fact]
    public void FileOver1MiB_IsTokenFileInvalidNamingTheLimit()
    {
        var request = store.SeedRequest();
        var content = ServerTokenWriter.Write(request.PublicKeyPem, store.Credentials());
        var padded = content + new string('\n', ServerTokenFile.MaxFileBytes + 1 - content.Length);
        var path = store.WriteFile("huge.p7m", padded);
        Assert.Equal(1024 * 1024 + 1, new FileInfo(path).Length);

        var ex = FailsUnchanged("TokenFileInvalid", Args(request, path));

        Assert.Contains("1,048,577 bytes", ex.Message, StringComparison.Ordinal);
        Assert.Contains("1,048,576", ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> NotTokens() => ["empty", "text", "certificate-der", "cms-data", "asn1-garbage", "sequence-garbage"];

    [Theory]
    [MemberData(nameof(NotTokens))]
    public void FileThatIsNotAToken_IsTokenFileInvalid(string kind)
    {
        var request = store.SeedRequest();
        var random = new Random(20250301);
        byte[] content = kind switch
        {
            "empty" => [],
            "text" => Encoding.UTF8.GetBytes("Hello,\nplease find the token attached.\n"),
            "certificate-der" => TokenFiles.ReadCertificate(request.PublicKeyPem).GetEncoded(),
            "cms-data" => new Org.BouncyCastle.Asn1.Cms.ContentInfo(Org.BouncyCastle.Asn1.Cms.CmsObjectIdentifiers.Data, new DerOctetString([1, 2, 3])).GetEncoded(),
            "asn1-garbage" => [0x30, .. RandomBytes(random, 300)],
            "sequence-garbage" => new DerSequence(DerInteger.ValueOf(7), new DerUtf8String("not a token")).GetEncoded(),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };
        var path = store.WriteFile(kind + ".p7m", content);

        FailsUnchanged("TokenFileInvalid", Args(request, path));
    }

    private static byte[] RandomBytes(Random random, int count)
    {
        var bytes = new byte[count];
        random.NextBytes(bytes);
        return bytes;
    }

    [Fact]
    public void MissingFile_IsTokenFileNotFound()
    {
        var request = store.SeedRequest();

        var ex = FailsUnchanged("TokenFileNotFound", Args(request, store.Temp.File("nowhere.p7m")));

        Assert.Contains(store.Temp.File("nowhere.p7m"), ex.Message, StringComparison.Ordinal);
    }

    // ---- content ---------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("consumer_key")]
    [InlineData("consumer_secret")]
    [InlineData("access_token")]
    [InlineData("access_secret")]
    [InlineData("access_token_expiry")]
    public void JsonFieldMissing_IsTokenContentInvalidNamingTheField(string field)
    {
        var request = store.SeedRequest();
        var path = JsonFile(request, f => f.Remove(field));

        var ex = FailsUnchanged("TokenContentInvalid", Args(request, path));

        Assert.Contains($"'{field}'", ex.Message, StringComparison.Ordinal);
        AssertPending(request);
    }

    [Theory]
    [InlineData("consumer_key", "")]
    [InlineData("consumer_secret", "   ")]
    [InlineData("access_token", null)]
    [InlineData("access_secret", 42)]
    public void JsonFieldEmptyOrNotAString_IsTokenContentInvalid(string field, object? value)
    {
        var request = store.SeedRequest();
        var path = JsonFile(request, f => f[field] = value);

        var ex = FailsUnchanged("TokenContentInvalid", Args(request, path));

        Assert.Contains($"'{field}'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("consumer_key", "CK_")]
    [InlineData("consumer_secret", "CS_")]
    [InlineData("access_token", "AT_")]
    [InlineData("access_secret", "AS_")]
    public void JsonFieldWithWrongPrefix_IsTokenContentInvalidWithoutEchoingTheValue(string field, string prefix)
    {
        var request = store.SeedRequest();
        var value = "XX_" + Guid.NewGuid().ToString("N");
        var path = JsonFile(request, f => f[field] = value);

        var ex = FailsUnchanged("TokenContentInvalid", Args(request, path));

        Assert.Contains($"'{field}'", ex.Message, StringComparison.Ordinal);
        Assert.Contains($"'{prefix}'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(value, ex.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> BadContents() => ["no-message-block", "no-end-marker", "end-before-begin", "not-json", "json-array", "expiry-not-a-date", "expiry-a-number"];

    [Theory]
    [MemberData(nameof(BadContents))]
    public void ContentNotAServerToken_IsTokenContentInvalid(string kind)
    {
        var request = store.SeedRequest();
        var json = TokenFiles.Json(TokenFiles.Fields(store.Credentials()));
        var path = kind switch
        {
            "no-message-block" => ContentFile(request, "Content-Type: text/plain\r\n\r\n" + json + "\r\n"),
            "no-end-marker" => ContentFile(request, "Content-Type: text/plain\r\n\r\n-----BEGIN MESSAGE-----\r\n" + json + "\r\n"),
            "end-before-begin" => ContentFile(request, "-----END MESSAGE-----\r\n" + json + "\r\n-----BEGIN MESSAGE-----\r\n"),
            "not-json" => ContentFile(request, TokenFiles.InnerText("consumer_key=CK_1&consumer_secret=CS_2")),
            "json-array" => ContentFile(request, TokenFiles.InnerText("[\"CK_1\", \"CS_2\"]")),
            "expiry-not-a-date" => JsonFile(request, f => f["access_token_expiry"] = "next Tuesday"),
            "expiry-a-number" => JsonFile(request, f => f["access_token_expiry"] = 1767225600),
            _ => throw new ArgumentOutOfRangeException(nameof(kind)),
        };

        var ex = FailsUnchanged("TokenContentInvalid", Args(request, path));
        if (kind.StartsWith("expiry-", StringComparison.Ordinal))
        {
            // a number where the date should be is a field that is not a date, not a missing one
            Assert.Contains("'access_token_expiry' is not an RFC 3339 date", ex.Message, StringComparison.Ordinal);
        }

        AssertPending(request);
    }

    // ---- expiry ----------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(-400 * 86400)]
    [InlineData(-1)]
    [InlineData(0)] // expiring this very second is expired
    public void ExpiredToken_IsTokenExpired(int secondsFromNow)
    {
        var request = store.SeedRequest();
        var path = store.AbmTokenFile(request, store.Credentials(TimeSpan.FromSeconds(secondsFromNow)));

        var ex = FailsUnchanged("TokenExpired", Args(request, path));

        Assert.Contains((store.Now + TimeSpan.FromSeconds(secondsFromNow)).ToString("u"), ex.Message, StringComparison.Ordinal);
        AssertPending(request);
    }

    [Fact]
    public void TokenExpiringInOneSecond_IsAcceptedAndWarnedAbout()
    {
        var request = store.SeedRequest();
        var path = store.AbmTokenFile(request, store.Credentials(TimeSpan.FromSeconds(1)));

        var token = store.Tokens.NewToken(Args(request, path))!;

        Assert.Equal(AdeTokenStatus.ExpiringSoon, token.Status);
        Assert.Contains(store.Host.Warnings, w => w.Contains("Update-AdeToken", StringComparison.Ordinal));
    }

    [Fact]
    public void ExpiryIsJudgedByTheInjectedClock()
    {
        var early = store.SeedRequest();
        var late = store.SeedRequest();
        var earlyFile = store.AbmTokenFile(early, store.Credentials(10));
        var lateFile = store.AbmTokenFile(late, store.Credentials(10));

        store.Time.Advance(TimeSpan.FromDays(10) - TimeSpan.FromSeconds(1));
        Assert.NotNull(store.Tokens.NewToken(Args(early, earlyFile, "Early")));

        store.Time.Advance(TimeSpan.FromSeconds(1));
        FailsUnchanged("TokenExpired", Args(late, lateFile, "Late"));
    }

    // ---- store rules -----------------------------------------------------------------------------------------------

    [Fact]
    public void SameConsumerKeyTwice_IsTokenAlreadyExistsSuggestingUpdate()
    {
        var first = store.AddToken("Contoso");
        var second = store.SeedRequest();
        var again = ServerTokenCredentials.CreateRandom(store.Now.AddDays(300)) with { ConsumerKey = first.Credentials.ConsumerKey };
        var path = store.AbmTokenFile(second, again);

        var ex = FailsUnchanged("TokenAlreadyExists", Args(second, path, "Contoso again"));

        Assert.Contains("'Contoso'", ex.Message, StringComparison.Ordinal);
        // the file is for the new request's key: renewing 'Contoso' with it fails (TokenDecryptionFailed), so the message
        // says to give the server Contoso's own key again first
        Assert.Contains("(Get-AdeTokenRequest -Id (Get-AdeToken -Name 'Contoso').RequestId).PublicKeyPem", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Update-AdeToken -Token 'Contoso'", ex.Message, StringComparison.Ordinal);
        AssertPending(second);
    }

    private void InsertTokens(int count)
    {
        using var connection = store.Store.OpenConnection();
        using var transaction = connection.BeginTransaction();
        var requestId = Guid.NewGuid().ToString();
        connection.Execute("INSERT INTO token_request (id, created_at, thumbprint, certificate_pem, private_key, token_id) VALUES ($id, 0, 'X', 'X', X'00', 'bulk')", ("$id", requestId));
        using var insert = connection.Command(
            """
            INSERT INTO token (id, name, apple_id, consumer_key_hash, credentials, expires_at, request_id, service_uri, created_at, modified_at)
            VALUES ($id, $name, 'bulk@contoso.com', $hash, X'00', $exp, $req, 'https://mdmenrollment.apple.com/', 0, 0)
            """,
            ("$id", ""), ("$name", ""), ("$hash", ""), ("$exp", store.Now.AddDays(100).ToUnixTimeMilliseconds()), ("$req", requestId));
        for (var i = 0; i < count; i++)
        {
            insert.Parameters["$id"].Value = Guid.NewGuid().ToString();
            insert.Parameters["$name"].Value = $"Bulk {i:D4}";
            insert.Parameters["$hash"].Value = $"HASH{i:D4}";
            insert.ExecuteNonQuery();
        }

        transaction.Commit();
    }

    [Fact]
    public void The2001stToken_IsTokenLimitReached()
    {
        InsertTokens(TokenService.MaxTokens);
        var request = store.SeedRequest();
        var path = store.AbmTokenFile(request, store.Credentials());

        var ex = FailsUnchanged("TokenLimitReached", Args(request, path));

        Assert.Equal(2000, TokenService.MaxTokens);
        Assert.Equal(2000, store.Count("token"));
        Assert.Contains("2000", ex.Message, StringComparison.Ordinal);
        AssertPending(request);
    }

    [Fact]
    public void The2000thToken_IsAccepted()
    {
        InsertTokens(TokenService.MaxTokens - 1);
        var request = store.SeedRequest();
        var path = store.AbmTokenFile(request, store.Credentials());

        Assert.NotNull(store.Tokens.NewToken(Args(request, path)));
        Assert.Equal(2000, store.Count("token"));
    }

    [Fact]
    public void ExplicitNameAlreadyTaken_IsTokenNameConflict()
    {
        store.AddToken("Contoso");
        var request = store.SeedRequest();
        var path = store.AbmTokenFile(request, store.Credentials());

        FailsUnchanged("TokenNameConflict", Args(request, path, "CONTOSO"));
        AssertPending(request);
    }

    // ---- arguments -------------------------------------------------------------------------------------------------

    [Theory]
    [InlineData("")]
    [InlineData("admin")]
    [InlineData("admin@")]
    [InlineData("@contoso.com")]
    [InlineData("admin@contoso")]
    [InlineData("ad min@contoso.com")]
    [InlineData("long")]
    public void BadAppleId_IsArgumentInvalid(string appleId)
    {
        var request = store.SeedRequest();
        var path = store.AbmTokenFile(request, store.Credentials());

        if (appleId == "long") appleId = new string('a', 250) + "@contoso.com"; // over the 254 characters of an email address
        var ex = FailsUnchanged("ArgumentInvalid", new NewTokenArgs(request.Id.ToString(), path, appleId));

        Assert.Contains("-AppleId", ex.Message, StringComparison.Ordinal);
        AssertPending(request);
    }

    [Theory]
    [InlineData("http://mdm.contoso.com/enroll")]
    [InlineData("mdm.contoso.com/enroll")]
    [InlineData("ftp://mdm.contoso.com/enroll")]
    [InlineData("not a url")]
    [InlineData("/enroll")]
    [InlineData("https://mdm.contoso.com:99999/enroll")]
    public void BadEnrollmentUrl_IsArgumentInvalid(string url)
    {
        var request = store.SeedRequest();
        var path = store.AbmTokenFile(request, store.Credentials());

        var ex = FailsUnchanged("ArgumentInvalid", new NewTokenArgs(request.Id.ToString(), path, AppleId, EnrollmentUrl: url));

        Assert.Contains("-EnrollmentUrl", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("file:", ex.Message, StringComparison.Ordinal); // a path is a relative address, not a file to the user
    }

    [Theory]
    [InlineData("http://mdmenrollment.example.com/")]
    [InlineData("ftp://127.0.0.1/")]
    [InlineData("relative/path")]
    public void BadServiceUri_IsArgumentInvalid(string uri)
    {
        var request = store.SeedRequest();
        var path = store.AbmTokenFile(request, store.Credentials());

        var ex = FailsUnchanged("ArgumentInvalid", new NewTokenArgs(request.Id.ToString(), path, AppleId, ServiceUri: new Uri(uri, UriKind.RelativeOrAbsolute)));

        Assert.Contains("-ServiceUri", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData(" Contoso")]
    [InlineData("Contoso ")]
    [InlineData("126")]
    public void BadName_IsArgumentInvalid(string name)
    {
        var request = store.SeedRequest();
        var path = store.AbmTokenFile(request, store.Credentials());
        if (name == "126")
        {
            name = new string('n', TokenService.MaxNameLength + 1);
        }

        FailsUnchanged("ArgumentInvalid", Args(request, path, name));
    }

    [Fact]
    public void BadScopeTag_IsArgumentInvalid()
    {
        var request = store.SeedRequest();
        var path = store.AbmTokenFile(request, store.Credentials());

        FailsUnchanged("ArgumentInvalid", new NewTokenArgs(request.Id.ToString(), path, AppleId, ScopeTags: ["EU", " "]));
        FailsUnchanged("ArgumentInvalid", new NewTokenArgs(request.Id.ToString(), path, AppleId, ScopeTags: [new string('t', 129)]));
    }
}

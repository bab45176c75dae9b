using System.Text;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Tokens;
using AdeEnrollment.Simulator.Abm;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Cms;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using ContentInfo = Org.BouncyCastle.Asn1.Cms.ContentInfo;

namespace AdeEnrollment.Engine.Tests.Tokens;

/// <summary>New-AdeToken reads the .p7m files that real producers emit, and stores exactly the credentials inside.</summary>
public sealed class NewTokenProducerTests : IDisposable
{
    private readonly TestStore store = new();

    public void Dispose() => store.Dispose();

    public static TheoryData<string> Producers() =>
    [
        "abm-aes256-cbc",
        "abm-aes128-cbc",
        "abm-3des",
        "abm-lf",
        "abm-raw-der",
        "abm-headerless-base64",
        "abm-headerless-base64-one-line",
        "bc-oaep-sha1",
        "bc-oaep-sha256",
        "bc-pkcs1-inner-lf",
        "enveloped-aes256-gcm-by-hand",
        "enveloped-aes128-gcm-by-hand",
        "openssl-cms-auth-enveloped-aes256-gcm",
        "openssl-cms-auth-enveloped-aes256-gcm-der",
        "openssl-smime-aes256-cbc",
    ];

    private string Produce(string producer, AdeTokenRequest request, ServerTokenCredentials credentials)
    {
        var pem = request.PublicKeyPem;
        var plaintext = TokenFiles.Plaintext(credentials);
        var name = producer + ".p7m";
        var file = store.Temp.File(name);
        switch (producer)
        {
            case "abm-aes256-cbc":
                return store.WriteFile(name, ServerTokenWriter.Write(pem, credentials, "AES256_CBC"));
            case "abm-aes128-cbc":
                return store.WriteFile(name, ServerTokenWriter.Write(pem, credentials, "AES128_CBC"));
            case "abm-3des":
                return store.WriteFile(name, ServerTokenWriter.Write(pem, credentials, "DES_EDE3_CBC"));
            case "abm-lf":
                var lf = ServerTokenWriter.Write(pem, credentials).Replace("\r\n", "\n", StringComparison.Ordinal);
                Assert.DoesNotContain('\r', lf);
                return store.WriteFile(name, lf);
            case "abm-raw-der":
                return store.WriteFile(name, TokenFiles.DerOf(ServerTokenWriter.Write(pem, credentials)));
            case "abm-headerless-base64":
                return store.WriteFile(name, TokenFiles.Base64Lines(TokenFiles.DerOf(ServerTokenWriter.Write(pem, credentials))));
            case "abm-headerless-base64-one-line":
                return store.WriteFile(name, Convert.ToBase64String(TokenFiles.DerOf(ServerTokenWriter.Write(pem, credentials))));
            case "bc-oaep-sha1":
                return store.WriteFile(name, TokenFiles.ToSmime(Oaep(TokenFiles.EnvelopedWithBouncyCastle(pem, plaintext, NistObjectIdentifiers.IdAes256Cbc, KeyTransport.RsaOaepSha1), "1.3.14.3.2.26")));
            case "bc-oaep-sha256":
                return store.WriteFile(name, TokenFiles.ToSmime(Oaep(TokenFiles.EnvelopedWithBouncyCastle(pem, plaintext, NistObjectIdentifiers.IdAes256Cbc, KeyTransport.RsaOaepSha256), NistObjectIdentifiers.IdSha256.Id)));
            case "bc-pkcs1-inner-lf":
                var lfText = TokenFiles.Plaintext(credentials, TokenFiles.Lf);
                return store.WriteFile(name, TokenFiles.ToSmime(TokenFiles.EnvelopedWithBouncyCastle(pem, lfText, NistObjectIdentifiers.IdAes128Cbc, KeyTransport.RsaPkcs1), TokenFiles.Lf));
            case "enveloped-aes256-gcm-by-hand":
                return store.WriteFile(name, TokenFiles.ToSmime(TokenFiles.EnvelopedGcmByHand(pem, plaintext, keyBytes: 32)));
            case "enveloped-aes128-gcm-by-hand":
                return store.WriteFile(name, TokenFiles.ToSmime(TokenFiles.EnvelopedGcmByHand(pem, plaintext, keyBytes: 16)));
            case "openssl-cms-auth-enveloped-aes256-gcm":
            case "openssl-cms-auth-enveloped-aes256-gcm-der":
            {
                var der = producer.EndsWith("-der", StringComparison.Ordinal);
                var (cert, plain) = OpenSslInputs(pem, plaintext);
                OpenSsl.Run("cms", "-encrypt", "-aes-256-gcm", "-in", plain, "-out", file, "-outform", der ? "DER" : "SMIME", cert);
                var bytes = File.ReadAllBytes(file);
                var contentInfo = ContentInfo.GetInstance(Asn1Object.FromByteArray(der ? bytes : TokenFiles.DerOf(Encoding.ASCII.GetString(bytes))));
                Assert.Equal(CmsObjectIdentifiers.AuthEnvelopedData, contentInfo.ContentType); // the producer really made AuthEnvelopedData
                return file;
            }

            case "openssl-smime-aes256-cbc":
            {
                var (cert, plain) = OpenSslInputs(pem, plaintext);
                OpenSsl.Run("smime", "-encrypt", "-binary", "-aes256", "-in", plain, "-out", file, cert);
                return file;
            }

            default:
                throw new ArgumentOutOfRangeException(nameof(producer));
        }
    }

    private (string Certificate, string Plaintext) OpenSslInputs(string pem, byte[] plaintext)
    {
        var certificate = store.WriteFile("request-" + Guid.NewGuid().ToString("N") + ".pem", pem);
        var plain = store.WriteFile("plain-" + Guid.NewGuid().ToString("N") + ".txt", plaintext);
        return (certificate, plain);
    }

    /// <summary>Checks that BouncyCastle really wrote RSAES-OAEP with the expected hash, and passes the DER on.</summary>
    private static byte[] Oaep(byte[] der, string hashOid)
    {
        var enveloped = EnvelopedData.GetInstance(ContentInfo.GetInstance(Asn1Object.FromByteArray(der)).Content);
        var recipient = (KeyTransRecipientInfo)RecipientInfo.GetInstance(enveloped.RecipientInfos[0]).Info;
        Assert.Equal(PkcsObjectIdentifiers.IdRsaesOaep, recipient.KeyEncryptionAlgorithm.Algorithm);
        var parameters = RsaesOaepParameters.GetInstance(recipient.KeyEncryptionAlgorithm.Parameters);
        Assert.Equal(hashOid, parameters.HashAlgorithm.Algorithm.Id);
        return der;
    }

    [Theory]
    [MemberData(nameof(Producers))]
    public void NewToken_ReadsTheFileAndStoresItsCredentials(string producer)
    {
        var request = store.SeedRequest();
        var credentials = store.Credentials(200);
        var path = Produce(producer, request, credentials);

        var token = store.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), path, "admin@contoso.com", "Contoso"))!;

        Assert.Equal("Contoso", token.Name);
        Assert.Equal("admin@contoso.com", token.AppleId);
        Assert.Equal(credentials.AccessTokenExpiry, token.ExpiresAt);
        Assert.Equal(200, token.DaysUntilExpiry);
        Assert.Equal(AdeTokenStatus.Active, token.Status);
        Assert.Equal(request.Id, token.RequestId);
        var stored = store.Tokens.GetCredentials(token.Id);
        Assert.Equal(credentials.ConsumerKey, stored.ConsumerKey);
        Assert.Equal(credentials.ConsumerSecret, stored.ConsumerSecret);
        Assert.Equal(credentials.AccessToken, stored.AccessToken);
        Assert.Equal(credentials.AccessSecret, stored.AccessSecret);
        Assert.Equal(credentials.AccessTokenExpiry, stored.AccessTokenExpiry);
        var used = store.Tokens.GetRequests(request.Id).Single();
        Assert.Equal(AdeTokenRequestStatus.Used, used.Status);
        Assert.Equal("Contoso", used.TokenName);
    }

    [Fact]
    public void NewToken_WithoutName_IsNamedAfterTheServerAppleReports()
    {
        store.Apple.ServerName = "Utrecht iPads";
        var request = store.NewRequest();
        var path = store.AbmTokenFile(request, store.Credentials(365), "Contoso MDM_Token_2025-03-01T12-00-00Z_smime.p7m");
        var token = store.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), path, "admin@contoso.com"))!;
        Assert.Equal("Utrecht iPads", token.Name);
        Assert.Equal("Utrecht iPads", token.ServerName);
    }

    [Fact]
    public void NewToken_WithARequestMadeByTheEngine_ReadsAnAbmFile()
    {
        var request = store.NewRequest();
        var credentials = store.Credentials(365);
        var path = store.AbmTokenFile(request, credentials, "Contoso MDM_Token_2025-03-01T12-00-00Z_smime.p7m");

        var token = store.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), path, "admin@contoso.com",
            EnrollmentUrl: "https://mdm.contoso.com/enroll", ScopeTags: ["EU", "Kiosks"]))!;

        Assert.Equal("Contoso MDM", token.Name);
        Assert.Equal("Example Org", token.OrgName);
        Assert.Equal("https://mdm.contoso.com/enroll", token.EnrollmentUrl);
        Assert.Equal(["EU", "Kiosks"], token.ScopeTags);
        Assert.Equal(TokenService.AppleServiceUri, token.ServiceUri);
        Assert.Equal(TestStore.Start, token.CreatedAt);
        Assert.Equal(credentials.AccessSecret, store.Tokens.GetCredentials(token.Id).AccessSecret);
        Assert.Equal(AdeTokenRequestStatus.Used, store.Tokens.GetRequests(request.Id).Single().Status);
    }

    [Fact]
    public void NewToken_ServiceUriOfASimulatorOnLoopback_IsKept()
    {
        var request = store.SeedRequest();
        var path = store.AbmTokenFile(request, store.Credentials());

        var token = store.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), path, "admin@contoso.com", ServiceUri: new Uri("http://127.0.0.1:5123/")))!;

        Assert.Equal(new Uri("http://127.0.0.1:5123/"), token.ServiceUri);
    }

    [Fact]
    public void NewToken_ShouldProcessDeclined_StoresNothing()
    {
        var request = store.SeedRequest();
        var path = store.AbmTokenFile(request, store.Credentials());
        var before = store.Snapshot();
        store.Host.ShouldProcessAnswer = false;

        var token = store.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), path, "admin@contoso.com"));

        Assert.Null(token);
        Assert.Equal(before, store.Snapshot());
    }

    [Fact]
    public void NewToken_FileOfExactly1MiB_IsRead()
    {
        // A valid token padded with trailing blank lines up to the 1 MiB limit: the limit is inclusive.
        var request = store.SeedRequest();
        var content = ServerTokenWriter.Write(request.PublicKeyPem, store.Credentials());
        var padded = content + new string('\n', ServerTokenFile.MaxFileBytes - Encoding.ASCII.GetByteCount(content));
        var path = store.WriteFile("big.p7m", padded);
        Assert.Equal(1024 * 1024, new FileInfo(path).Length);

        var token = store.Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), path, "admin@contoso.com"));

        Assert.NotNull(token);
    }
}

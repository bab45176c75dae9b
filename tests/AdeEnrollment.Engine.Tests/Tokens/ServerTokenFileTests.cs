using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Tokens;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Cms;

namespace AdeEnrollment.Engine.Tests.Tokens;

public sealed class ServerTokenFileTests
{
    private static (string Pem, byte[] Pkcs8) SmallKey()
    {
        // RSA-512 keeps the many private-key operations below cheap; the engine reads any RSA key size.
        using var rsa = RSA.Create(512);
        var request = new CertificateRequest("CN=AdeEnrollment test", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        return (certificate.ExportCertificatePem(), rsa.ExportPkcs8PrivateKey());
    }

    /// <summary>
    /// With RSA PKCS#1 v1.5 key transport, a wrong private key does not always fail at the key: BouncyCastle's CMS
    /// answers a bad padding with a random content key (a Bleichenbacher counter-measure), and about one time in
    /// 256 a random AES key also yields valid CBC padding, i.e. garbage "plaintext". The engine must say
    /// TokenDecryptionFailed every time, never TokenContentInvalid or success. To meet that one-in-256 case
    /// reliably, the file is addressed to 40 recipients (none of them us) and decrypted 60 times: 2,400 key
    /// unwraps with the wrong key.
    /// </summary>
    [Fact]
    public void Decrypt_WithAnotherKey_IsTokenDecryptionFailedEveryTime()
    {
        const int Recipients = 40, Attempts = 60;
        var recipient = SmallKey();
        var other = SmallKey();
        var generator = new CmsEnvelopedDataGenerator();
        var recipientCertificate = TokenFiles.ReadCertificate(recipient.Pem);
        for (var i = 0; i < Recipients; i++)
        {
            generator.AddKeyTransRecipient(recipientCertificate);
        }

        var der = generator.Generate(new CmsProcessableByteArray(Encoding.UTF8.GetBytes("-----BEGIN MESSAGE-----\n{}\n-----END MESSAGE-----\n")),
            NistObjectIdentifiers.IdAes256Cbc).GetEncoded();
        Assert.NotEmpty(ServerTokenFile.Decrypt("token.p7m", der, recipient.Pem, recipient.Pkcs8, "the recipient")); // the file itself is fine

        var outcomes = new Dictionary<string, int>();
        for (var i = 0; i < Attempts; i++)
        {
            string outcome;
            try
            {
                ServerTokenFile.Decrypt("token.p7m", der, other.Pem, other.Pkcs8, "token request X");
                outcome = "decrypted";
            }
            catch (AdeException ex)
            {
                outcome = ex.ErrorId;
            }

            outcomes[outcome] = outcomes.GetValueOrDefault(outcome) + 1;
        }

        Assert.Equal(new Dictionary<string, int> { ["TokenDecryptionFailed"] = Attempts }, outcomes);
    }

    [Theory]
    [InlineData("2026-01-01T00:00:00Z", "2026-01-01T00:00:00+00:00")]
    [InlineData("2026-01-01T02:00:00+02:00", "2026-01-01T00:00:00+00:00")]
    [InlineData("2026-01-01T00:00:00.250Z", "2026-01-01T00:00:00.250+00:00")]
    [InlineData("2026-01-01T00:00:00", "2026-01-01T00:00:00+00:00")] // no offset: UTC, as Apple means it
    public void ParseContent_ExpiryIsReadAsUtc(string expiry, string expected)
    {
        var json = $$"""{"consumer_key":"CK_1","consumer_secret":"CS_2","access_token":"AT_3","access_secret":"AS_4","access_token_expiry":"{{expiry}}","extra":"ignored"}""";

        var content = ServerTokenFile.ParseContent("t.p7m", Encoding.UTF8.GetBytes(TokenFiles.InnerText(json, TokenFiles.Lf)));

        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), content.AccessTokenExpiry);
        Assert.Equal(TimeSpan.Zero, content.AccessTokenExpiry.Offset);
        Assert.Equal(("CK_1", "CS_2", "AT_3", "AS_4"), (content.ConsumerKey, content.ConsumerSecret, content.AccessToken, content.AccessSecret));
    }
}

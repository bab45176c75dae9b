using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Cms;
using Org.BouncyCastle.X509;

namespace AdeEnrollment.Simulator.Abm;

/// <summary>The OAuth credentials Apple puts into a server token.</summary>
public sealed record ServerTokenCredentials(string ConsumerKey, string ConsumerSecret, string AccessToken, string AccessSecret, DateTimeOffset AccessTokenExpiry)
{
    /// <summary>New random credentials in Apple's shape (CK_/CS_/AT_/AS_ prefixes).</summary>
    public static ServerTokenCredentials CreateRandom(DateTimeOffset expiry)
    {
        static string R(string prefix, int bytes) => prefix + Convert.ToHexString(RandomNumberGenerator.GetBytes(bytes)).ToLowerInvariant();
        return new ServerTokenCredentials(R("CK_", 16), R("CS_", 20), R("AT_", 32), R("AS_", 20), expiry);
    }

    public override string ToString() => ConsumerKey; // never the secrets
}

/// <summary>
/// Writes a server token the way Apple Business Manager does: the JSON credentials inside
/// <c>-----BEGIN MESSAGE-----</c> markers after MIME headers, encrypted as CMS EnvelopedData to the uploaded
/// certificate, base64 under S/MIME headers (docs/New-AdeToken.md).
/// </summary>
public static class ServerTokenWriter
{
    public static string Write(string certificatePem, ServerTokenCredentials credentials, string contentCipher = "AES256_CBC")
    {
        X509Certificate certificate;
        try
        {
            certificate = new X509CertificateParser().ReadCertificate(Encoding.ASCII.GetBytes(certificatePem))
                          ?? throw new ArgumentException("The file holds no PEM certificate.");
        }
        catch (Exception ex) when (ex is not ArgumentException)
        {
            throw new ArgumentException("The file is not a PEM certificate (-----BEGIN CERTIFICATE-----).", ex);
        }

        var inner = Message(credentials);

        var generator = new CmsEnvelopedDataGenerator();
        generator.AddKeyTransRecipient(certificate);
        var oid = contentCipher switch
        {
            "AES128_CBC" => NistObjectIdentifiers.IdAes128Cbc,
            "AES256_CBC" => NistObjectIdentifiers.IdAes256Cbc,
            "DES_EDE3_CBC" => PkcsObjectIdentifiers.DesEde3Cbc,
            _ => throw new ArgumentOutOfRangeException(nameof(contentCipher)),
        };
        var enveloped = generator.Generate(new CmsProcessableByteArray(Encoding.UTF8.GetBytes(inner)), oid);
        var base64 = Convert.ToBase64String(enveloped.GetEncoded(), Base64FormattingOptions.InsertLineBreaks);
        return "Content-Type: application/pkcs7-mime; name=\"smime.p7m\"; smime-type=enveloped-data\r\n"
               + "Content-Transfer-Encoding: base64\r\n"
               + "Content-Disposition: attachment; filename=\"smime.p7m\"\r\n"
               + "Content-Description: S/MIME Encrypted Message\r\n"
               + "\r\n"
               + base64 + "\r\n";
    }

    /// <summary>
    /// The text Apple encrypts: MIME headers, then the credentials JSON between the MESSAGE markers. Tests use it to
    /// make the token with another producer (for example <c>openssl smime -encrypt</c>).
    /// </summary>
    public static string Message(ServerTokenCredentials credentials)
    {
        var json = JsonSerializer.Serialize(new Dictionary<string, string>
        {
            ["consumer_key"] = credentials.ConsumerKey,
            ["consumer_secret"] = credentials.ConsumerSecret,
            ["access_token"] = credentials.AccessToken,
            ["access_secret"] = credentials.AccessSecret,
            ["access_token_expiry"] = credentials.AccessTokenExpiry.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture),
        });
        return "Content-Type: text/plain;charset=UTF-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n-----BEGIN MESSAGE-----\r\n" + json + "\r\n-----END MESSAGE-----\r\n";
    }
}

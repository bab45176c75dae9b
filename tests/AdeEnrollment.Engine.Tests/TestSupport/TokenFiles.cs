using System.Globalization;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json;
using AdeEnrollment.Simulator.Abm;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Cms;
using Org.BouncyCastle.Asn1.Nist;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Cms;
using Org.BouncyCastle.Crypto.Operators;
using BcCertificate = Org.BouncyCastle.X509.X509Certificate;
using ContentInfo = Org.BouncyCastle.Asn1.Cms.ContentInfo;
using IssuerAndSerialNumber = Org.BouncyCastle.Asn1.Cms.IssuerAndSerialNumber;

namespace AdeEnrollment.Engine.Tests.TestSupport;

public enum KeyTransport
{
    RsaPkcs1,
    RsaOaepSha1,
    RsaOaepSha256,
}

/// <summary>
/// Test-side producers of Apple server tokens (.p7m), independent of the engine's reader: the decrypted text Apple
/// puts in a token, CMS EnvelopedData made with BouncyCastle's generator or assembled by hand (AES-GCM), and the
/// S/MIME / base64 / DER wrappings real files come in.
/// </summary>
public static class TokenFiles
{
    public const string Crlf = "\r\n";
    public const string Lf = "\n";

    /// <summary>The JSON fields of a token, as Apple writes them; callers may remove or change fields.</summary>
    public static Dictionary<string, object?> Fields(ServerTokenCredentials c) => new()
    {
        ["consumer_key"] = c.ConsumerKey,
        ["consumer_secret"] = c.ConsumerSecret,
        ["access_token"] = c.AccessToken,
        ["access_secret"] = c.AccessSecret,
        ["access_token_expiry"] = c.AccessTokenExpiry.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
    };

    public static string Json(IDictionary<string, object?> fields) => JsonSerializer.Serialize(fields);

    /// <summary>The decrypted content of a token: MIME headers, blank line, the JSON between MESSAGE markers.</summary>
    public static string InnerText(string json, string newline = Crlf)
        => $"Content-Type: text/plain;charset=UTF-8{newline}Content-Transfer-Encoding: 7bit{newline}{newline}"
           + $"-----BEGIN MESSAGE-----{newline}{json}{newline}-----END MESSAGE-----{newline}";

    public static byte[] Plaintext(ServerTokenCredentials c, string newline = Crlf)
        => Encoding.UTF8.GetBytes(InnerText(Json(Fields(c)), newline));

    public static BcCertificate ReadCertificate(string pem)
        => new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(Encoding.ASCII.GetBytes(pem));

    /// <summary>CMS EnvelopedData made by BouncyCastle's generator, with the given key transport and content cipher.</summary>
    public static byte[] EnvelopedWithBouncyCastle(string certificatePem, byte[] plaintext, DerObjectIdentifier contentCipher, KeyTransport transport)
    {
        var certificate = ReadCertificate(certificatePem);
        var generator = new CmsEnvelopedDataGenerator();
        switch (transport)
        {
            case KeyTransport.RsaPkcs1:
                generator.AddKeyTransRecipient(certificate);
                break;
            case KeyTransport.RsaOaepSha1:
                // RSAES-OAEP-params with every field at its default: SHA-1, MGF1-SHA-1, empty label.
                generator.AddRecipientInfoGenerator(new KeyTransRecipientInfoGenerator(certificate,
                    new Asn1KeyWrapper(PkcsObjectIdentifiers.IdRsaesOaep, new RsaesOaepParameters(), certificate)));
                break;
            case KeyTransport.RsaOaepSha256:
                var sha256 = new AlgorithmIdentifier(NistObjectIdentifiers.IdSha256, DerNull.Instance);
                var parameters = new RsaesOaepParameters(sha256, new AlgorithmIdentifier(PkcsObjectIdentifiers.IdMgf1, sha256));
                generator.AddRecipientInfoGenerator(new KeyTransRecipientInfoGenerator(certificate,
                    new Asn1KeyWrapper(PkcsObjectIdentifiers.IdRsaesOaep, parameters, certificate)));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(transport));
        }

        return generator.Generate(new CmsProcessableByteArray(plaintext), contentCipher).GetEncoded();
    }

    /// <summary>
    /// EnvelopedData whose content is AES-GCM, assembled by hand the way smallstep/pkcs7 writes it: GCMParameters
    /// (nonce, tag length) as the algorithm parameters and the tag appended to the ciphertext; RSA PKCS#1 v1.5 key
    /// transport to the certificate's issuer and serial number.
    /// </summary>
    public static byte[] EnvelopedGcmByHand(string certificatePem, byte[] plaintext, int keyBytes = 32, int tagBytes = 16)
    {
        var certificate = ReadCertificate(certificatePem);
        using var dotnetCertificate = X509Certificate2.CreateFromPem(certificatePem);
        using var rsa = dotnetCertificate.GetRSAPublicKey()!;
        var cek = RandomNumberGenerator.GetBytes(keyBytes);
        var nonce = RandomNumberGenerator.GetBytes(12);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[tagBytes];
        using (var gcm = new AesGcm(cek, tagBytes))
        {
            gcm.Encrypt(nonce, plaintext, ciphertext, tag);
        }

        var recipient = new KeyTransRecipientInfo(
            new RecipientIdentifier(new IssuerAndSerialNumber(certificate.IssuerDN, certificate.SerialNumber)),
            new AlgorithmIdentifier(PkcsObjectIdentifiers.RsaEncryption, DerNull.Instance),
            new DerOctetString(rsa.Encrypt(cek, RSAEncryptionPadding.Pkcs1)));
        var algorithm = keyBytes switch
        {
            16 => NistObjectIdentifiers.IdAes128Gcm,
            24 => NistObjectIdentifiers.IdAes192Gcm,
            _ => NistObjectIdentifiers.IdAes256Gcm,
        };
        var content = new EncryptedContentInfo(
            CmsObjectIdentifiers.Data,
            new AlgorithmIdentifier(algorithm, new GcmParameters(nonce, tagBytes)),
            new DerOctetString([.. ciphertext, .. tag]));
        var enveloped = new EnvelopedData(null, new DerSet(new RecipientInfo(recipient)), content, (Asn1Set?)null);
        return new ContentInfo(CmsObjectIdentifiers.EnvelopedData, enveloped).GetEncoded(Asn1Encodable.Der);
    }

    /// <summary>An S/MIME entity as Apple (and openssl smime) write it: headers, blank line, base64 in lines.</summary>
    public static string ToSmime(byte[] der, string newline = Crlf, string smimeType = "enveloped-data")
        => $"Content-Type: application/pkcs7-mime; name=\"smime.p7m\"; smime-type={smimeType}{newline}"
           + $"Content-Transfer-Encoding: base64{newline}"
           + $"Content-Disposition: attachment; filename=\"smime.p7m\"{newline}"
           + newline
           + Base64Lines(der, newline);

    /// <summary>Base64 in 64-character lines, each ended by <paramref name="newline"/>.</summary>
    public static string Base64Lines(byte[] der, string newline = Crlf)
    {
        var base64 = Convert.ToBase64String(der);
        var sb = new StringBuilder();
        for (var i = 0; i < base64.Length; i += 64)
        {
            sb.Append(base64, i, Math.Min(64, base64.Length - i)).Append(newline);
        }

        return sb.ToString();
    }

    /// <summary>The DER inside an S/MIME entity (the base64 after the header block).</summary>
    public static byte[] DerOf(string smime)
    {
        var normalised = smime.Replace("\r\n", "\n", StringComparison.Ordinal);
        var body = normalised[(normalised.IndexOf("\n\n", StringComparison.Ordinal) + 2)..];
        return Convert.FromBase64String(string.Concat(body.Where(c => !char.IsWhiteSpace(c))));
    }
}

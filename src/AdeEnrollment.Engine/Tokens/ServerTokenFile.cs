using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using System.Text.Json;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Files;
using Org.BouncyCastle.Asn1;
using Org.BouncyCastle.Asn1.Cms;
using Org.BouncyCastle.Asn1.Pkcs;
using Org.BouncyCastle.Asn1.X509;
using Org.BouncyCastle.Cms;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Encodings;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Security;
using BcCertificate = Org.BouncyCastle.X509.X509Certificate;
using ContentInfo = Org.BouncyCastle.Asn1.Cms.ContentInfo;
using IssuerAndSerialNumber = Org.BouncyCastle.Asn1.Cms.IssuerAndSerialNumber;

namespace AdeEnrollment.Engine.Tokens;

/// <summary>
/// Reads Apple's server token: an S/MIME entity (RFC 822 headers, blank line, base64 of a CMS EnvelopedData —
/// or AuthEnvelopedData when an AES-GCM producer such as <c>openssl cms</c> made it) whose plaintext is MIME
/// headers plus <c>-----BEGIN MESSAGE-----</c> JSON <c>-----END MESSAGE-----</c>
/// (docs/New-AdeToken.md).
/// </summary>
internal static partial class ServerTokenFile
{
    public const int MaxFileBytes = 1024 * 1024;
    private const string BeginMessage = "-----BEGIN MESSAGE-----";
    private const string EndMessage = "-----END MESSAGE-----";

    /// <summary>Reads and unwraps the file to the DER bytes of its CMS ContentInfo.</summary>
    public static byte[] ReadEnvelope(string path)
    {
        var bytes = InputFile.ReadAllBytes(path, MaxFileBytes, new InputFileErrors(
            () => ErrorCatalog.TokenFileNotFound(path),
            (reason, inner) => ErrorCatalog.TokenFileInvalid(path, reason, inner),
            FormattableString.Invariant($"a server token is a few kilobytes (at most {MaxFileBytes:N0} bytes are read).")));
        if (bytes.Length == 0)
        {
            throw ErrorCatalog.TokenFileInvalid(path, "the file is empty.");
        }

        try
        {
            return Unwrap(path, bytes);
        }
        catch (Exception ex) when (IsParserFailure(ex))
        {
            throw ErrorCatalog.TokenFileInvalid(path, "it is not an S/MIME or DER encrypted message (the file is damaged or of another kind).", ex);
        }
    }

    /// <summary>
    /// True for any exception a parser can raise on hostile bytes (BouncyCastle's own types, ArgumentException,
    /// IndexOutOfRange, NullReference, InvalidCast, Overflow, …): the boundary of every reader of an untrusted file
    /// turns them into its catalogued error, so that no crafted file escapes the catalogue. Catalogued errors,
    /// cancellation and out-of-memory are left alone.
    /// </summary>
    internal static bool IsParserFailure(Exception ex)
        => ex is not (AdeException or OperationCanceledException or OutOfMemoryException);

    [GeneratedRegex("^-----BEGIN [A-Z0-9 ]{1,40}-----", RegexOptions.CultureInvariant)]
    private static partial Regex PemLabel();

    private static byte[] Unwrap(string path, byte[] bytes)
    {
        if (bytes[0] == 0x30)
        {
            return bytes; // raw DER, as some tools save it
        }

        var text = Encoding.UTF8.GetString(bytes);
        if (text.TrimStart().StartsWith("-----BEGIN", StringComparison.Ordinal))
        {
            // Only the PEM label is named: the rest of the first line may be the whole key or token (a file saved on one line).
            var label = PemLabel().Match(text.TrimStart());
            var what = label.Success ? $"a PEM file ({label.Value})" : "a PEM file";
            throw ErrorCatalog.TokenFileInvalid(path, $"it is {what} — that is the certificate you upload to Apple, not the token Apple gives back.");
        }

        var body = SkipMimeHeaders(text);
        var base64 = new StringBuilder(body.Length);
        foreach (var c in body)
        {
            if (!char.IsWhiteSpace(c))
            {
                base64.Append(c);
            }
        }

        try
        {
            var der = Convert.FromBase64String(base64.ToString());
            if (der.Length == 0)
            {
                throw new FormatException();
            }

            return der;
        }
        catch (FormatException ex)
        {
            throw ErrorCatalog.TokenFileInvalid(path, "its body is not base64 text (the file is truncated, damaged or of another kind).", ex);
        }
    }

    /// <summary>Skips an RFC 822 header block (CRLF or LF) when the text starts with one.</summary>
    private static string SkipMimeHeaders(string text)
    {
        if (!System.Text.RegularExpressions.Regex.IsMatch(text, @"\A[A-Za-z0-9-]+:"))
        {
            return text;
        }

        var normalised = text.Replace("\r\n", "\n", StringComparison.Ordinal);
        var blank = normalised.IndexOf("\n\n", StringComparison.Ordinal);
        return blank < 0 ? string.Empty : normalised[(blank + 2)..];
    }

    /// <summary>Decrypts the envelope with the request's certificate and private key; returns the plaintext.</summary>
    public static byte[] Decrypt(string path, byte[] der, string certificatePem, byte[] pkcs8PrivateKey, string keyOwner)
    {
        try
        {
            return DecryptCore(path, der, certificatePem, pkcs8PrivateKey, keyOwner);
        }
        catch (Exception ex) when (IsParserFailure(ex))
        {
            throw ErrorCatalog.TokenFileInvalid(path, "its encrypted content is malformed (the file is truncated, damaged or was crafted).", ex);
        }
    }

    private static byte[] DecryptCore(string path, byte[] der, string certificatePem, byte[] pkcs8PrivateKey, string keyOwner)
    {
        ContentInfo contentInfo;
        try
        {
            contentInfo = ContentInfo.GetInstance(Asn1Object.FromByteArray(der));
        }
        catch (Exception ex) when (ex is IOException or ArgumentException or InvalidCastException or InvalidOperationException)
        {
            throw ErrorCatalog.TokenFileInvalid(path, "its content is not a CMS message (the file is truncated or damaged).", ex);
        }

        var certificate = new Org.BouncyCastle.X509.X509CertificateParser().ReadCertificate(Encoding.ASCII.GetBytes(certificatePem));
        var privateKey = PrivateKeyFactory.CreateKey(pkcs8PrivateKey);
        var type = contentInfo.ContentType;
        if (type.Equals(CmsObjectIdentifiers.EnvelopedData))
        {
            return DecryptEnveloped(path, contentInfo, certificate, privateKey, keyOwner);
        }

        if (type.Equals(CmsObjectIdentifiers.AuthEnvelopedData))
        {
            return DecryptAuthEnveloped(path, contentInfo, certificate, privateKey, keyOwner);
        }

        throw ErrorCatalog.TokenFileInvalid(path, $"it is a CMS message of type {type.Id}, not an encrypted (enveloped) message.");
    }

    private static byte[] DecryptEnveloped(string path, ContentInfo contentInfo, BcCertificate certificate, AsymmetricKeyParameter privateKey, string keyOwner)
    {
        CmsEnvelopedData enveloped;
        try
        {
            enveloped = new CmsEnvelopedData(contentInfo);
        }
        catch (Exception ex) when (ex is CmsException or ArgumentException or InvalidCastException or IOException)
        {
            throw ErrorCatalog.TokenFileInvalid(path, "its encrypted content is damaged.", ex);
        }

        var encryptionAlgorithm = EnvelopedData.GetInstance(contentInfo.Content).EncryptedContentInfo.ContentEncryptionAlgorithm.Algorithm;
        if (IsGcm(encryptionAlgorithm))
        {
            // AES-GCM inside EnvelopedData (as smallstep/pkcs7 writes it): the tag is appended to the ciphertext.
            var envelopedData = EnvelopedData.GetInstance(contentInfo.Content);
            var eci = envelopedData.EncryptedContentInfo;
            var cek = UnwrapKey(path, envelopedData.RecipientInfos, certificate, privateKey, keyOwner);
            var all = eci.EncryptedContent.GetOctets();
            return DecryptGcm(path, eci.ContentEncryptionAlgorithm, cek, all[..^GcmTagLength(eci.ContentEncryptionAlgorithm)], all[^GcmTagLength(eci.ContentEncryptionAlgorithm)..], null);
        }

        // BouncyCastle answers a wrong key under RSA PKCS#1 v1.5 with a random content key (a Bleichenbacher
        // counter-measure), which about one time in 256 "decrypts" CBC content to garbage. Unwrap strictly first,
        // so that a file made for another key is always reported as such.
        CryptographicOperations.ZeroMemory(UnwrapKey(path, EnvelopedData.GetInstance(contentInfo.Content).RecipientInfos, certificate, privateKey, keyOwner));
        var recipients = FindRecipients(enveloped.GetRecipientInfos(), certificate);
        foreach (var recipient in recipients)
        {
            try
            {
                return recipient.GetContent(privateKey);
            }
            catch (Exception ex) when (ex is CmsException or InvalidCipherTextException or ArgumentException or CryptographicException or DataLengthException)
            {
                // try the next recipient; report below
            }
        }

        throw ErrorCatalog.TokenDecryptionFailed(path, keyOwner);
    }

    /// <summary>Recipients addressed to our certificate first (issuer + serial or key identifier), then the others.</summary>
    private static IEnumerable<RecipientInformation> FindRecipients(RecipientInformationStore store, BcCertificate certificate)
    {
        var all = store.GetRecipients().ToList();
        var ours = all.Where(r => r.RecipientID.Match(certificate)).ToList();
        return ours.Concat(all.Except(ours).OfType<KeyTransRecipientInformation>());
    }

    private static byte[] DecryptAuthEnveloped(string path, ContentInfo contentInfo, BcCertificate certificate, AsymmetricKeyParameter privateKey, string keyOwner)
    {
        AuthEnvelopedData data;
        try
        {
            data = AuthEnvelopedData.GetInstance(contentInfo.Content);
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidCastException or InvalidOperationException)
        {
            throw ErrorCatalog.TokenFileInvalid(path, "its encrypted content is damaged.", ex);
        }

        var eci = data.AuthEncryptedContentInfo;
        if (!IsGcm(eci.ContentEncryptionAlgorithm.Algorithm))
        {
            throw ErrorCatalog.TokenFileInvalid(path, $"its content cipher {eci.ContentEncryptionAlgorithm.Algorithm.Id} is not supported (AES-GCM is).");
        }

        var cek = UnwrapKey(path, data.RecipientInfos, certificate, privateKey, keyOwner);
        var aad = data.AuthAttrs?.GetDerEncoded();
        return DecryptGcm(path, eci.ContentEncryptionAlgorithm, cek, eci.EncryptedContent.GetOctets(), data.Mac.GetOctets(), aad);
    }

    private static bool IsGcm(DerObjectIdentifier oid)
        => oid.Id is "2.16.840.1.101.3.4.1.6" or "2.16.840.1.101.3.4.1.26" or "2.16.840.1.101.3.4.1.46";

    private static int GcmTagLength(AlgorithmIdentifier algorithm) => GcmParameters.GetInstance(algorithm.Parameters).IcvLen;

    private static byte[] DecryptGcm(string path, AlgorithmIdentifier algorithm, byte[] key, byte[] ciphertext, byte[] tag, byte[]? aad)
    {
        var parameters = GcmParameters.GetInstance(algorithm.Parameters);
        var plaintext = new byte[ciphertext.Length];
        try
        {
            using var gcm = new AesGcm(key, tag.Length);
            gcm.Decrypt(parameters.GetNonce(), ciphertext, tag, plaintext, aad);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException)
        {
            throw ErrorCatalog.TokenFileInvalid(path, "its encrypted content does not authenticate (the file was altered or truncated).", ex);
        }

        return plaintext;
    }

    /// <summary>Unwraps the content-encryption key from a key-transport recipient (RSA PKCS#1 v1.5 or OAEP).</summary>
    private static byte[] UnwrapKey(string path, Asn1Set recipientInfos, BcCertificate certificate, AsymmetricKeyParameter privateKey, string keyOwner)
    {
        var candidates = new List<KeyTransRecipientInfo>();
        foreach (var element in recipientInfos)
        {
            var info = RecipientInfo.GetInstance(element).Info;
            if (info is KeyTransRecipientInfo ktri)
            {
                var rid = ktri.RecipientIdentifier.ID;
                var matches = rid is IssuerAndSerialNumber ias
                    && ias.Issuer.Equivalent(certificate.IssuerDN)
                    && ias.SerialNumber.Value.Equals(certificate.SerialNumber);
                candidates.Insert(matches ? 0 : candidates.Count, ktri);
            }
        }

        foreach (var ktri in candidates)
        {
            try
            {
                IAsymmetricBlockCipher cipher = ktri.KeyEncryptionAlgorithm.Algorithm.Equals(PkcsObjectIdentifiers.IdRsaesOaep)
                    ? OaepFor(ktri.KeyEncryptionAlgorithm)
                    : new Pkcs1Encoding(new RsaBlindedEngine());
                cipher.Init(false, privateKey);
                var encrypted = ktri.EncryptedKey.GetOctets();
                return cipher.ProcessBlock(encrypted, 0, encrypted.Length);
            }
            catch (Exception ex) when (ex is InvalidCipherTextException or DataLengthException or ArgumentException)
            {
                // not ours
            }
        }

        throw ErrorCatalog.TokenDecryptionFailed(path, keyOwner);
    }

    private static OaepEncoding OaepFor(AlgorithmIdentifier algorithm)
    {
        var parameters = RsaesOaepParameters.GetInstance(algorithm.Parameters ?? new DerSequence());
        var digest = DigestUtilities.GetDigest(parameters.HashAlgorithm.Algorithm);
        var mgfDigest = DigestUtilities.GetDigest(AlgorithmIdentifier.GetInstance(parameters.MaskGenAlgorithm.Parameters).Algorithm);
        var label = Asn1OctetString.GetInstance(parameters.PSourceAlgorithm.Parameters).GetOctets();
        return new OaepEncoding(new RsaBlindedEngine(), digest, mgfDigest, label);
    }

    /// <summary>Parses the decrypted MIME text into the token's credentials.</summary>
    public static ServerTokenContent ParseContent(string path, byte[] plaintext)
    {
        // Anyone holding the request's public certificate can encrypt any content for it: the content is hostile too.
        try
        {
            return ParseContentCore(path, plaintext);
        }
        catch (Exception ex) when (IsParserFailure(ex))
        {
            throw ErrorCatalog.TokenContentInvalid(path, "the content could not be read (" + ex.GetType().Name + ").");
        }
    }

    private static ServerTokenContent ParseContentCore(string path, byte[] plaintext)
    {
        var text = Encoding.UTF8.GetString(plaintext).Replace("\r\n", "\n", StringComparison.Ordinal);
        var begin = text.IndexOf(BeginMessage, StringComparison.Ordinal);
        var end = text.IndexOf(EndMessage, StringComparison.Ordinal);
        if (begin < 0 || end < begin)
        {
            throw ErrorCatalog.TokenContentInvalid(path, "the -----BEGIN MESSAGE----- / -----END MESSAGE----- block is missing.");
        }

        var json = text[(begin + BeginMessage.Length)..end].Trim();
        JsonElement root;
        try
        {
            using var document = JsonDocument.Parse(json);
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            throw ErrorCatalog.TokenContentInvalid(path, "the message is not JSON.");
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            throw ErrorCatalog.TokenContentInvalid(path, "the message is not a JSON object.");
        }

        string Field(string name, string prefix)
        {
            if (!root.TryGetProperty(name, out var value) || value.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(value.GetString()))
            {
                throw ErrorCatalog.TokenContentInvalid(path, $"the field '{name}' is missing or empty.");
            }

            var s = value.GetString()!;
            if (!s.StartsWith(prefix, StringComparison.Ordinal))
            {
                throw ErrorCatalog.TokenContentInvalid(path, $"the field '{name}' does not start with '{prefix}'.");
            }

            return s;
        }

        var consumerKey = Field("consumer_key", "CK_");
        var consumerSecret = Field("consumer_secret", "CS_");
        var accessToken = Field("access_token", "AT_");
        var accessSecret = Field("access_secret", "AS_");
        if (!root.TryGetProperty("access_token_expiry", out var expiryValue) || expiryValue.ValueKind != JsonValueKind.String)
        {
            throw ErrorCatalog.TokenContentInvalid(path, expiryValue.ValueKind is JsonValueKind.Undefined or JsonValueKind.Null
                ? "the field 'access_token_expiry' is missing."
                : "the field 'access_token_expiry' is not an RFC 3339 date and time (it is not even text).");
        }

        if (!DateTimeOffset.TryParse(expiryValue.GetString(), System.Globalization.CultureInfo.InvariantCulture,
                System.Globalization.DateTimeStyles.AssumeUniversal, out var expiry))
        {
            throw ErrorCatalog.TokenContentInvalid(path, "the field 'access_token_expiry' is not an RFC 3339 date and time.");
        }

        return new ServerTokenContent(consumerKey, consumerSecret, accessToken, accessSecret, expiry.ToUniversalTime());
    }
}

using System.Security.Cryptography;
using AdeEnrollment.Engine.Errors;

namespace AdeEnrollment.Engine.Business;

/// <summary>
/// Reads an API account's private key: an EC P-256 key as SEC1 ("EC PRIVATE KEY") or PKCS#8 ("PRIVATE KEY") PEM,
/// also when the label does not match the content and with or without an "EC PARAMETERS" block in front.
/// </summary>
internal static class BusinessKey
{
    public const int MaxPemBytes = 16 * 1024;

    public static ECDsa Import(string pem, string source)
    {
        var body = ExtractBase64(pem, source);
        byte[] der;
        try
        {
            der = Convert.FromBase64String(body);
        }
        catch (FormatException)
        {
            throw ErrorCatalog.BusinessKeyInvalid(source, "the PEM body is not Base64");
        }

        var key = ECDsa.Create();
        try
        {
            try
            {
                key.ImportPkcs8PrivateKey(der, out _);
            }
            catch (CryptographicException)
            {
                key.ImportECPrivateKey(der, out _);
            }

            var parameters = key.ExportParameters(false);
            if (parameters.Curve.Oid?.Value != ECCurve.NamedCurves.nistP256.Oid.Value && parameters.Curve.Oid?.FriendlyName is not ("nistP256" or "ECDSA_P256"))
            {
                throw ErrorCatalog.BusinessKeyInvalid(source, "the key is not on curve P-256");
            }

            return key;
        }
        catch (CryptographicException)
        {
            key.Dispose();
            throw ErrorCatalog.BusinessKeyInvalid(source, "it holds no EC private key");
        }
        catch
        {
            key.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The Base64 body of the one PRIVATE KEY block (any label ending in "PRIVATE KEY"); EC PARAMETERS blocks are
    /// skipped. A file with two private keys is refused: which one Apple registered is not for the module to guess, and
    /// the wrong one would only show as every token request refused.
    /// </summary>
    private static string ExtractBase64(string pem, string source)
    {
        // a byte order mark in front (an editor's "UTF-8 with BOM") is not part of the PEM
        var lines = pem.TrimStart('\uFEFF').Replace("\r", "", StringComparison.Ordinal).Split('\n');
        var inside = false;
        string? found = null;
        var body = new System.Text.StringBuilder();
        foreach (var raw in lines)
        {
            var line = raw.Trim();
            if (line.StartsWith("-----BEGIN ", StringComparison.Ordinal) && line.EndsWith("PRIVATE KEY-----", StringComparison.Ordinal))
            {
                if (found is not null)
                {
                    throw ErrorCatalog.BusinessKeyInvalid(source, "it holds more than one private key; keep only the key of this API account (the one downloaded with it from Apple Business Manager)");
                }

                inside = true;
                if (line.Contains("ENCRYPTED", StringComparison.Ordinal))
                {
                    throw Encrypted(source);
                }

                continue;
            }

            if (inside && line.StartsWith("Proc-Type:", StringComparison.Ordinal) && line.Contains("ENCRYPTED", StringComparison.Ordinal))
            {
                throw Encrypted(source);
            }

            if (inside && line.StartsWith("-----END ", StringComparison.Ordinal))
            {
                found = body.ToString();
                inside = false;
                continue;
            }

            if (inside && line.Length > 0 && !line.Contains(':', StringComparison.Ordinal))
            {
                body.Append(line);
            }
        }

        return found ?? throw ErrorCatalog.BusinessKeyInvalid(source, "it holds no -----BEGIN … PRIVATE KEY----- block");

        static AdeException Encrypted(string source) => ErrorCatalog.BusinessKeyInvalid(source,
            "the private key is encrypted with a password; give the key as Apple Business Manager downloads it (not encrypted), which the store then keeps encrypted");
    }
}

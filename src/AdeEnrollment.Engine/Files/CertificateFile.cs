using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AdeEnrollment.Engine.Errors;

namespace AdeEnrollment.Engine.Files;

/// <summary>Reads a certificate file a user names (DER or PEM) through <see cref="InputFile"/>.</summary>
public static class CertificateFile
{
    public const int MaxBytes = 64 * 1024;

    /// <summary>The certificate's DER as base64; a missing, special, oversized or unreadable file is ProfileSettingInvalid.</summary>
    public static string ReadAsBase64Der(string parameter, string fullPath, string shownPath)
        => Convert.ToBase64String(ReadDer(fullPath, "give the .cer file Apple Configurator exports, DER or PEM.",
            reason => ErrorCatalog.ProfileSettingInvalid(parameter, shownPath, reason)));

    /// <summary>
    /// The DER of the certificate in a file (DER or PEM), read as every input file is; each failure is
    /// <paramref name="error"/> with a reason that ends with <paramref name="give"/> (what to give instead).
    /// </summary>
    internal static byte[] ReadDer(string fullPath, string give, Func<string, AdeException> error)
    {
        var bytes = InputFile.ReadAllBytes(fullPath, MaxBytes, new InputFileErrors(
            () => error("the file does not exist."),
            (reason, _) => error(reason + " " + char.ToUpperInvariant(give[0]) + give[1..]),
            "a certificate is a few kilobytes (at most 64 KiB are read)."));
        try
        {
            var text = Encoding.ASCII.GetString(bytes);
            using var certificate = text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)
                ? X509Certificate2.CreateFromPem(text)
                : X509CertificateLoader.LoadCertificate(bytes);
            return certificate.RawData;
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException or FormatException)
        {
            throw error("the file cannot be read as an X.509 certificate (" + give.TrimEnd('.') + ").");
        }
    }
}

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
    {
        const string Rule = "the file cannot be read as an X.509 certificate (give the .cer file Apple Configurator exports, DER or PEM).";
        const string Give = "Give the .cer file Apple Configurator exports, DER or PEM.";
        var bytes = InputFile.ReadAllBytes(fullPath, MaxBytes, new InputFileErrors(
            () => ErrorCatalog.ProfileSettingInvalid(parameter, shownPath, "the file does not exist."),
            (reason, _) => ErrorCatalog.ProfileSettingInvalid(parameter, shownPath, reason + " " + Give),
            "a certificate is a few kilobytes (at most 64 KiB are read)."));
        try
        {
            var text = Encoding.ASCII.GetString(bytes);
            using var certificate = text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal)
                ? X509Certificate2.CreateFromPem(text)
                : X509CertificateLoader.LoadCertificate(bytes);
            return Convert.ToBase64String(certificate.RawData);
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException or FormatException)
        {
            throw ErrorCatalog.ProfileSettingInvalid(parameter, shownPath, Rule);
        }
    }
}

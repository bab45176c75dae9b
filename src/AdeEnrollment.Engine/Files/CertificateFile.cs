using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AdeEnrollment.Engine.Errors;

namespace AdeEnrollment.Engine.Files;

/// <summary>Reads a certificate file a user names (DER or PEM) through <see cref="InputFile"/>.</summary>
public static class CertificateFile
{
    public const int MaxBytes = 64 * 1024;

    /// <summary>
    /// The DER (as base64) of every certificate in the file: a PEM file may hold a chain of several, a DER file holds
    /// one. A missing, special, oversized or unreadable file is ProfileSettingInvalid.
    /// </summary>
    public static IReadOnlyList<string> ReadAllAsBase64Der(string parameter, string fullPath, string shownPath)
        => [.. ReadAll(fullPath, "give the .cer file Apple Configurator exports, DER or PEM.",
            reason => ErrorCatalog.ProfileSettingInvalid(parameter, shownPath, reason)).Select(Convert.ToBase64String)];

    /// <summary>
    /// The DER of the one certificate in a file (DER or PEM), read as every input file is; each failure is
    /// <paramref name="error"/> with a reason that ends with <paramref name="give"/> (what to give instead), a PEM
    /// file with several certificates too.
    /// </summary>
    internal static byte[] ReadDer(string fullPath, string give, Func<string, AdeException> error)
    {
        var all = ReadAll(fullPath, give, error);
        return all.Count == 1
            ? all[0]
            : throw error($"the file holds {all.Count} certificates, not one ({give.TrimEnd('.')}).");
    }

    private static List<byte[]> ReadAll(string fullPath, string give, Func<string, AdeException> error)
    {
        var bytes = InputFile.ReadAllBytes(fullPath, MaxBytes, new InputFileErrors(
            () => error("the file does not exist."),
            (reason, _) => error(reason + " " + char.ToUpperInvariant(give[0]) + give[1..]),
            "a certificate is a few kilobytes (at most 64 KiB are read)."));
        try
        {
            var text = Encoding.ASCII.GetString(bytes);
            if (!text.Contains("-----BEGIN CERTIFICATE-----", StringComparison.Ordinal))
            {
                using var one = X509CertificateLoader.LoadCertificate(bytes);
                return [one.RawData];
            }

            var chain = new X509Certificate2Collection();
            try
            {
                chain.ImportFromPem(text);
                return chain.Count > 0 ? [.. chain.Select(c => c.RawData)] : throw new CryptographicException("no certificate");
            }
            finally
            {
                foreach (var c in chain) c.Dispose();
            }
        }
        catch (Exception ex) when (ex is CryptographicException or ArgumentException or FormatException)
        {
            throw error("the file cannot be read as an X.509 certificate (" + give.TrimEnd('.') + ").");
        }
    }
}

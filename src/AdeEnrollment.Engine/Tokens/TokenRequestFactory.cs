using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AdeEnrollment.Engine.Tokens;

/// <summary>
/// Step 1 of Apple's token flow: an RSA-2048 key pair and a self-signed certificate (PEM <c>CERTIFICATE</c>) to
/// upload to Apple Business Manager (docs/New-AdeTokenRequest.md).
/// </summary>
internal static class TokenRequestFactory
{
    public static readonly TimeSpan CertificateLifetime = TimeSpan.FromDays(365);

    public sealed record Generated(string CertificatePem, byte[] Pkcs8PrivateKey, string Thumbprint, DateTimeOffset NotAfter);

    public static Generated Create(Guid requestId, DateTimeOffset now)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest(
            new X500DistinguishedName($"CN=AdeEnrollment {requestId:N}"),
            rsa,
            HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyEncipherment | X509KeyUsageFlags.DigitalSignature, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));

        var notBefore = now.AddMinutes(-10);
        var notAfter = now.Add(CertificateLifetime);
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] &= 0x7F; // positive
        using var certificate = request.Create(request.SubjectName, X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1), notBefore, notAfter, serial);
        return new Generated(
            certificate.ExportCertificatePem() + "\n",
            rsa.ExportPkcs8PrivateKey(),
            certificate.Thumbprint,
            notAfter);
    }
}

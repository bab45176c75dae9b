using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Tests.Tokens;

/// <summary>New-AdeTokenRequest through the engine (these tests generate real RSA-2048 keys).</summary>
public sealed class TokenRequestTests : IDisposable
{
    private readonly TestStore store = new();

    public void Dispose() => store.Dispose();

    private byte[] StoredPrivateKey(AdeTokenRequest request)
    {
        var blob = store.Scalar<byte[]>("SELECT private_key FROM token_request WHERE id = $id", ("$id", request.Id.ToString()))!;
        return store.Store.Secrets.Unprotect(blob, $"token_request:{request.Id}:private_key");
    }

    [Fact]
    public void NewRequest_WithoutConsent_IsConsentRequiredAndNothingIsStoredOrWritten()
    {
        var outFile = store.Temp.File("request.pem");

        var ex = AdeAssert.Throws("ConsentRequired", () => store.Tokens.NewRequest(acceptDataSharing: false, outFile));

        Assert.Contains("-AcceptDataSharing", ex.Message, StringComparison.Ordinal);
        Assert.Equal(0, store.Count("token_request"));
        Assert.False(File.Exists(outFile));
        Assert.Empty(store.Host.ShouldProcessCalls);
    }

    [Fact]
    public void NewRequest_MakesASelfSignedRsa2048CertificatePemWithMatchingThumbprint()
    {
        var request = store.Tokens.NewRequest(true, null)!;

        var pem = request.PublicKeyPem;
        Assert.StartsWith("-----BEGIN CERTIFICATE-----", pem, StringComparison.Ordinal);
        Assert.Equal(["CERTIFICATE"], PemLabels(pem).ToArray());
        Assert.DoesNotContain("PRIVATE", pem, StringComparison.Ordinal);
        using var certificate = X509Certificate2.CreateFromPem(pem);
        using var publicKey = certificate.GetRSAPublicKey();
        Assert.NotNull(publicKey);
        Assert.Equal(2048, publicKey.KeySize);
        Assert.Equal(certificate.SubjectName.RawData, certificate.IssuerName.RawData);
        var bc = TokenFiles.ReadCertificate(pem);
        bc.Verify(bc.GetPublicKey()); // self-signed: its own key verifies its signature (throws otherwise)
        Assert.Equal(Convert.ToHexString(SHA1.HashData(certificate.RawData)), request.Thumbprint);
        Assert.Equal(certificate.Thumbprint, request.Thumbprint);
        var usage = certificate.Extensions.OfType<X509KeyUsageExtension>().Single();
        Assert.True(usage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyEncipherment));
        Assert.Equal(TestStore.Start, request.CreatedAt);
        Assert.Equal(TestStore.Start.AddDays(365), request.CertificateExpiresAt);
        Assert.Equal(AdeTokenRequestStatus.Pending, request.Status);
        Assert.Null(request.TokenName);
        Assert.Null(request.OutFile);
    }

    [Fact]
    public void NewRequest_StoresThePrivateKeyOfTheCertificateAndListsTheRequest()
    {
        var request = store.Tokens.NewRequest(true, null)!;

        using var certificate = X509Certificate2.CreateFromPem(request.PublicKeyPem);
        using var rsa = RSA.Create();
        rsa.ImportPkcs8PrivateKey(StoredPrivateKey(request), out _);
        using var publicKey = certificate.GetRSAPublicKey()!;
        Assert.Equal(publicKey.ExportParameters(false).Modulus, rsa.ExportParameters(false).Modulus);

        var listed = Assert.Single(store.Tokens.GetRequests());
        Assert.Equal(request.Id, listed.Id);
        Assert.Equal(request.Thumbprint, listed.Thumbprint);
        Assert.Equal(request.PublicKeyPem, listed.PublicKeyPem);
        Assert.Equal(request.CreatedAt, listed.CreatedAt);
        Assert.Equal(request.CertificateExpiresAt, listed.CertificateExpiresAt);
        Assert.Equal(AdeTokenRequestStatus.Pending, listed.Status);
        Assert.Single(store.Tokens.GetRequests(pendingOnly: true));
        Assert.Single(store.Tokens.GetRequests(request.Id));
        Assert.Empty(store.Tokens.GetRequests(Guid.NewGuid()));
    }

    [Fact]
    public void NewRequest_OutFile_WritesTheCertificatePemAndReportsItsFullPath()
    {
        var relative = Path.GetRelativePath(Environment.CurrentDirectory, Path.Combine(store.Temp.Path, "upload", "contoso.pem"));

        var request = store.Tokens.NewRequest(true, relative)!;

        var full = Path.Combine(store.Temp.Path, "upload", "contoso.pem");
        Assert.Equal(full, request.OutFile);
        Assert.Equal(request.PublicKeyPem, File.ReadAllText(full));
        Assert.Contains(store.Host.Verbose, v => v.Contains(full, StringComparison.Ordinal));
    }

    [Fact]
    public void NewRequest_ShouldProcessDeclined_StoresNothingAndWritesNoFile()
    {
        store.Host.ShouldProcessAnswer = false;
        var outFile = store.Temp.File("request.pem");

        var request = store.Tokens.NewRequest(true, outFile);

        Assert.Null(request);
        Assert.Equal(0, store.Count("token_request"));
        Assert.False(File.Exists(outFile));
        Assert.Single(store.Host.ShouldProcessCalls);
    }

    [Fact]
    public void NewRequest_PrivateKeyIsNotInTheStoreFilesInClear()
    {
        var request = store.Tokens.NewRequest(true, store.Temp.File("request.pem"))!;
        var pkcs8 = StoredPrivateKey(request);
        using var rsa = RSA.Create();
        rsa.ImportPkcs8PrivateKey(pkcs8, out _);
        var pkcs1 = rsa.ExportRSAPrivateKey();
        var parameters = rsa.ExportParameters(true);
        var pem = PemEncoding.WriteString("PRIVATE KEY", pkcs8);
        var pemLines = pem.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.StartsWith("-----", StringComparison.Ordinal)).ToList();

        var bytes = store.StoreFileBytes();

        // Control: the search does see what the store holds in clear (the public certificate, the thumbprint).
        Assert.True(FileBytes.ContainsText(bytes, request.Thumbprint), "the byte search must find the (public) thumbprint");
        Assert.True(FileBytes.ContainsText(bytes, request.PublicKeyPem.Split('\n')[1]), "the byte search must find the (public) certificate PEM");

        Assert.False(FileBytes.Contains(bytes, pkcs8), "PKCS#8 DER of the private key is in the store file in clear");
        Assert.False(FileBytes.Contains(bytes, pkcs1), "PKCS#1 DER of the private key is in the store file in clear");
        Assert.False(FileBytes.Contains(bytes, parameters.D!), "the private exponent is in the store file in clear");
        Assert.False(FileBytes.Contains(bytes, parameters.P!), "a prime of the private key is in the store file in clear");
        Assert.False(FileBytes.ContainsText(bytes, Convert.ToBase64String(pkcs8)), "the PEM body of the private key is in the store file");
        Assert.All(pemLines.Take(pemLines.Count - 1), line => Assert.False(FileBytes.ContainsText(bytes, line), "a PEM line of the private key is in the store file"));
        Assert.False(FileBytes.ContainsText(bytes, "PRIVATE KEY"));
    }

    private static IEnumerable<string> PemLabels(string pem)
    {
        foreach (var line in pem.Split('\n'))
        {
            if (line.StartsWith("-----BEGIN ", StringComparison.Ordinal))
            {
                yield return line["-----BEGIN ".Length..].TrimEnd('-', '\r');
            }
        }
    }
}

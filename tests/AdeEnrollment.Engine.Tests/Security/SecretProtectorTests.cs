using System.Security.Cryptography;
using System.Text;
using AdeEnrollment.Engine.Security;

namespace AdeEnrollment.Engine.Tests.Security;

public sealed class SecretProtectorTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("CS_0123456789abcdef");

    [Fact]
    public void ProtectThenUnprotect_WithTheSamePurpose_ReturnsThePlaintext()
    {
        var protector = new SecretProtector(RandomNumberGenerator.GetBytes(32));

        var blob = protector.Protect(Secret, "token:1:credentials");

        Assert.Equal(Secret, protector.Unprotect(blob, "token:1:credentials"));
        Assert.Equal(1 + 12 + 16 + Secret.Length, blob.Length); // version | nonce | tag | ciphertext
        Assert.Equal(1, blob[0]);
        Assert.False(FileBytes.Contains(blob, Secret), "the blob must not hold the plaintext");
    }

    [Fact]
    public void Unprotect_WithAnotherPurpose_Fails()
    {
        var protector = new SecretProtector(RandomNumberGenerator.GetBytes(32));
        var blob = protector.Protect(Secret, "token:1:credentials");

        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(blob, "token:2:credentials"));
        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(blob, "token_request:1:private_key"));
    }

    [Fact]
    public void Unprotect_WithAnotherKey_Fails()
    {
        var blob = new SecretProtector(RandomNumberGenerator.GetBytes(32)).Protect(Secret, "p");

        Assert.ThrowsAny<CryptographicException>(() => new SecretProtector(RandomNumberGenerator.GetBytes(32)).Unprotect(blob, "p"));
    }

    [Theory]
    [InlineData(0)]   // format version
    [InlineData(5)]   // nonce
    [InlineData(20)]  // tag
    [InlineData(-1)]  // last ciphertext byte
    public void Unprotect_AlteredBlob_Fails(int index)
    {
        var protector = new SecretProtector(RandomNumberGenerator.GetBytes(32));
        var blob = protector.Protect(Secret, "p");
        blob[index < 0 ? blob.Length + index : index] ^= 0x01;

        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(blob, "p"));
    }

    [Fact]
    public void Unprotect_TooShortBlob_Fails()
    {
        var protector = new SecretProtector(RandomNumberGenerator.GetBytes(32));

        Assert.ThrowsAny<CryptographicException>(() => protector.Unprotect(new byte[28], "p"));
    }

    [Fact]
    public void Protect_UsesAFreshNonceEachTime()
    {
        var protector = new SecretProtector(RandomNumberGenerator.GetBytes(32));

        var a = protector.Protect(Secret, "p");
        var b = protector.Protect(Secret, "p");

        Assert.NotEqual(a[1..13], b[1..13]);
        Assert.NotEqual(a, b);
    }

    [Theory]
    [InlineData(16)]
    [InlineData(31)]
    [InlineData(33)]
    public void Constructor_RequiresA256BitKey(int length)
    {
        Assert.Throws<ArgumentException>(() => new SecretProtector(new byte[length]));
    }

    [Fact]
    public void StoreSecrets_AreBoundToTheirRow_ACredentialBlobCopiedToAnotherTokenDoesNotOpen()
    {
        using var store = new TestStore();
        var a = store.AddToken("A");
        var b = store.AddToken("B");
        var blobA = store.Scalar<byte[]>("SELECT credentials FROM token WHERE id = $id", ("$id", a.Token.Id.ToString()))!;

        store.Execute("UPDATE token SET credentials = $c WHERE id = $id", ("$c", blobA), ("$id", b.Token.Id.ToString()));

        var ex = AdeAssert.Throws("StoreSecretUnreadable", () => store.Tokens.GetCredentials(b.Token.Id)); // catalogued, naming B
        Assert.IsAssignableFrom<CryptographicException>(ex.InnerException);
        Assert.Contains("token 'B'", ex.Message, StringComparison.Ordinal);
        Assert.Equal(a.Credentials.ConsumerSecret, store.Tokens.GetCredentials(a.Token.Id).ConsumerSecret);
    }

    [Fact]
    public void StoreSecrets_PrivateKeyBlobUnderAnotherPurposeDoesNotOpen()
    {
        using var store = new TestStore();
        var request = store.SeedRequest();
        var blob = store.Scalar<byte[]>("SELECT private_key FROM token_request")!;

        Assert.NotNull(store.Store.Secrets.Unprotect(blob, $"token_request:{request.Id}:private_key"));
        Assert.ThrowsAny<CryptographicException>(() => store.Store.Secrets.Unprotect(blob, $"token_request:{Guid.NewGuid()}:private_key"));
        Assert.ThrowsAny<CryptographicException>(() => store.Store.Secrets.Unprotect(blob, $"token:{request.Id}:credentials"));
    }
}

using System.Security.Cryptography;
using System.Text;

namespace AdeEnrollment.Engine.Security;

/// <summary>
/// AES-256-GCM for secrets at rest. Layout: version(1) | nonce(12) | tag(16) | ciphertext. The associated data
/// binds a ciphertext to the row and column it belongs to, so a secret copied onto another row does not decrypt.
/// </summary>
internal sealed class SecretProtector
{
    private const byte FormatVersion = 1;
    private const int NonceSize = 12;
    private const int TagSize = 16;
    private readonly byte[] key;

    public SecretProtector(byte[] key)
    {
        if (key.Length != 32)
        {
            throw new ArgumentException("An AES-256 key is 32 bytes.", nameof(key));
        }

        this.key = key;
    }

    public byte[] Protect(ReadOnlySpan<byte> plaintext, string purpose)
    {
        var output = new byte[1 + NonceSize + TagSize + plaintext.Length];
        output[0] = FormatVersion;
        var nonce = output.AsSpan(1, NonceSize);
        RandomNumberGenerator.Fill(nonce);
        using var gcm = new AesGcm(key, TagSize);
        gcm.Encrypt(nonce, plaintext, output.AsSpan(1 + NonceSize + TagSize), output.AsSpan(1 + NonceSize, TagSize), Encoding.UTF8.GetBytes(purpose));
        return output;
    }

    /// <summary>Decrypts; throws <see cref="CryptographicException"/> when the key or the purpose is wrong.</summary>
    public byte[] Unprotect(ReadOnlySpan<byte> data, string purpose)
    {
        if (data.Length < 1 + NonceSize + TagSize || data[0] != FormatVersion)
        {
            throw new CryptographicException("Unknown secret format.");
        }

        var plaintext = new byte[data.Length - 1 - NonceSize - TagSize];
        using var gcm = new AesGcm(key, TagSize);
        gcm.Decrypt(data.Slice(1, NonceSize), data[(1 + NonceSize + TagSize)..], data.Slice(1 + NonceSize, TagSize), plaintext, Encoding.UTF8.GetBytes(purpose));
        return plaintext;
    }
}

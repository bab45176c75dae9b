using System.Security.Cryptography;

namespace AdeEnrollment.Engine.Tests.TestSupport;

/// <summary>
/// A few RSA-2048 keys made once per test run. Generating an RSA-2048 key takes most of a second on a small
/// machine, so the tests that are not about requests seed request rows with these keys instead of generating one
/// per test (see <see cref="TestStore.SeedRequest"/>); the request tests themselves go through the engine.
/// </summary>
public static class KeyPool
{
    public const int Size = 4;

    private static readonly Lazy<byte[][]> Keys = new(() =>
    {
        var keys = new byte[Size][];
        Parallel.For(0, Size, i =>
        {
            using var rsa = RSA.Create(2048);
            keys[i] = rsa.ExportPkcs8PrivateKey();
        });
        return keys;
    });

    public static byte[] Pkcs8(int index) => (byte[])Keys.Value[index % Size].Clone();
}

using System.Text;
using AdeEnrollment.Engine.Security;
using AdeEnrollment.Engine.Storage;
using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Tests.Storage;

/// <summary>One passphrase store shared by the tests of this class: PBKDF2 runs 600,000 iterations per derivation.</summary>
public sealed class PassphraseStoreFixture : IDisposable
{
    public const string Passphrase = "correct horse battery staple";

    public PassphraseStoreFixture()
    {
        Path = Temp.File("shared.db");
        var store = AdeStore.Open(Path, Encoding.UTF8.GetBytes(Passphrase));
        Protection = store.KeyProtection;
        RequestId = RequestSeeder.Seed(store, DateTimeOffset.UtcNow).Id;
        SqliteConnection.ClearAllPools();
    }

    public TempDirectory Temp { get; } = new();

    public string Path { get; }

    public StoreKeyProtection Protection { get; }

    public Guid RequestId { get; }

    public void Dispose() => Temp.Dispose();
}

public sealed class PassphraseStoreTests : IClassFixture<PassphraseStoreFixture>
{
    private readonly PassphraseStoreFixture fixture;

    public PassphraseStoreTests(PassphraseStoreFixture fixture) => this.fixture = fixture;

    [Fact]
    public void Create_RecordsPassphraseProtectionAndWritesNoKeyFile()
    {
        Assert.Equal(StoreKeyProtection.Passphrase, fixture.Protection);
        Assert.False(File.Exists(fixture.Path + ".key"));
        Assert.Equal("Passphrase", RawSqlite.Scalar(fixture.Path, "SELECT value FROM meta WHERE key = 'key_protection'"));
        var salt = Convert.FromBase64String((string)RawSqlite.Scalar(fixture.Path, "SELECT value FROM meta WHERE key = 'kdf_salt'")!);
        Assert.Equal(16, salt.Length);
        Assert.Equal(600_000, StoreKey.Pbkdf2Iterations);
    }

    [Fact]
    public void Open_RightPassphrase_OpensTheSecrets()
    {
        var store = AdeStore.Open(fixture.Path, Encoding.UTF8.GetBytes(PassphraseStoreFixture.Passphrase));

        using var connection = store.OpenConnection();
        var sealedKey = (byte[])connection.Command("SELECT private_key FROM token_request WHERE id = $id", ("$id", fixture.RequestId.ToString())).ExecuteScalar()!;
        var pkcs8 = store.Secrets.Unprotect(sealedKey, $"token_request:{fixture.RequestId}:private_key");
        using var rsa = System.Security.Cryptography.RSA.Create();
        rsa.ImportPkcs8PrivateKey(pkcs8, out _);
        Assert.Equal(2048, rsa.KeySize);
    }

    [Fact]
    public void Open_WrongPassphrase_IsStoreKeyInvalidAtConnectTime()
    {
        var before = FileBytes.Hash(fixture.Path);

        var ex = AdeAssert.Throws("StoreKeyInvalid", () => AdeStore.Open(fixture.Path, Encoding.UTF8.GetBytes("Correct horse battery staple")));

        Assert.DoesNotContain("orse battery", ex.Message, StringComparison.Ordinal);
        Assert.Equal(before, FileBytes.Hash(fixture.Path));
    }

    [Fact]
    public void Open_NoPassphrase_IsStoreKeyKindMismatch()
    {
        var before = FileBytes.Hash(fixture.Path);

        var ex = AdeAssert.Throws("StoreKeyKindMismatch", () => AdeStore.Open(fixture.Path));

        Assert.Contains("is protected by a passphrase", ex.Message, StringComparison.Ordinal);
        Assert.Contains("no passphrase was given", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("key file was given", ex.Message, StringComparison.Ordinal);
        Assert.Contains("-Key", ex.Message, StringComparison.Ordinal);
        Assert.Contains("$env:ADE_ENROLLMENT_STORE_KEY", ex.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(fixture.Path + ".key"), "no key file is made for a passphrase store");
        Assert.Equal(before, FileBytes.Hash(fixture.Path));
    }
}

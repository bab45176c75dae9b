using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;
using AdeEnrollment.Simulator.Abm;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Time.Testing;

namespace AdeEnrollment.Engine.Tests.TestSupport;

/// <summary>A token created through the engine, with the credentials that went into its file.</summary>
public sealed record AddedToken(AdeToken Token, AdeTokenRequest Request, ServerTokenCredentials Credentials, string FilePath);

/// <summary>
/// One engine over a fresh key-file store in a temp folder, with a fake clock and a recording host.
/// Dispose releases the pooled connections and deletes the folder.
/// </summary>
public sealed class TestStore : IDisposable
{
    /// <summary>The fake clock's start: whole seconds, because token files carry whole-second expiries.</summary>
    public static readonly DateTimeOffset Start = new(2025, 3, 1, 12, 0, 0, TimeSpan.Zero);

    public TestStore()
        : this(temp => AdeStore.Open(temp.File("ade.db")))
    {
    }

    /// <summary>
    /// An engine over the store that <paramref name="open"/> returns (e.g. a PostgreSQL store in a fresh schema);
    /// <paramref name="owner"/> is disposed with it (releases the store, drops the schema).
    /// </summary>
    /// <summary>The PostgreSQL schema the store lives in (<see cref="PostgresTestStores"/>), for tests that write rows of tables they do not test; null on SQLite.</summary>
    public TestPostgresSchema? PostgresSchema { get; init; }

    public TestStore(Func<TempDirectory, AdeStore> open, IDisposable? owner = null)
    {
        Temp = new TempDirectory();
        this.owner = owner;
        Store = open(Temp);
        StorePath = Store.Path;
        Time = new FakeTimeProvider(Start);
        Host = new RecordingHost();
        Apple = new AccountOnlyAppleHandler();
        Engine = new AdeEngine(Store, Host, Time, new AdeEnrollment.Engine.Apple.AppleClientFactory(Time, Host, Apple));
    }

    public TempDirectory Temp { get; }

    public string StorePath { get; }

    public AdeStore Store { get; }

    public FakeTimeProvider Time { get; }

    public RecordingHost Host { get; }

    public AdeEngine Engine { get; }

    /// <summary>Stands in for Apple's /session and /account when tokens are added.</summary>
    public AccountOnlyAppleHandler Apple { get; }

    public TokenService Tokens => Engine.Tokens;

    public DateTimeOffset Now => Time.GetUtcNow();

    private int nextKey;

    /// <summary>A token request made by the engine (New-AdeTokenRequest): generates a fresh RSA-2048 key.</summary>
    public AdeTokenRequest NewRequest() => Tokens.NewRequest(acceptDataSharing: true, outFile: null)!;

    /// <summary>
    /// A pending token request row as New-AdeTokenRequest writes it (self-signed certificate, private key sealed
    /// under the store key for that request), but with a key from <see cref="KeyPool"/>. Successive requests of
    /// one store get different keys, unless <paramref name="keyIndex"/> says otherwise.
    /// </summary>
    public AdeTokenRequest SeedRequest(int? keyIndex = null) => RequestSeeder.Seed(Store, Now, keyIndex ?? nextKey++);

    public ServerTokenCredentials Credentials(TimeSpan validFor) => ServerTokenCredentials.CreateRandom(Now + validFor);

    public ServerTokenCredentials Credentials(int validForDays = 365) => Credentials(TimeSpan.FromDays(validForDays));

    /// <summary>Writes a file with the given content into the temp folder and returns its path.</summary>
    public string WriteFile(string name, string content)
    {
        var path = Temp.File(name);
        File.WriteAllText(path, content);
        return path;
    }

    public string WriteFile(string name, byte[] content)
    {
        var path = Temp.File(name);
        File.WriteAllBytes(path, content);
        return path;
    }

    /// <summary>A token file as Apple Business Manager writes it (ServerTokenWriter, the simulator's ABM).</summary>
    public string AbmTokenFile(AdeTokenRequest request, ServerTokenCredentials credentials, string? fileName = null, string cipher = "AES256_CBC")
        => WriteFile(fileName ?? $"file-{Guid.NewGuid():N}.p7m", ServerTokenWriter.Write(request.PublicKeyPem, credentials, cipher));

    /// <summary>New request, ABM token file, New-AdeToken: the usual way a token gets into the store.</summary>
    public AddedToken AddToken(string? name = "Contoso", int validForDays = 365, string appleId = "admin@contoso.com", string? fileName = null)
        => AddToken(name, TimeSpan.FromDays(validForDays), appleId, fileName);

    public AddedToken AddToken(string? name, TimeSpan validFor, string appleId = "admin@contoso.com", string? fileName = null)
    {
        var request = SeedRequest();
        var credentials = Credentials(validFor);
        var file = AbmTokenFile(request, credentials, fileName);
        var token = Tokens.NewToken(new NewTokenArgs(request.Id.ToString(), file, appleId, name))!;
        return new AddedToken(token, Tokens.GetRequests(request.Id).Single(), credentials, file);
    }

    public int Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var connection = Store.OpenConnection();
        return connection.Execute(sql, parameters);
    }

    public T? Scalar<T>(string sql, params (string Name, object? Value)[] parameters)
    {
        using var connection = Store.OpenConnection();
        return connection.Scalar<T>(sql, parameters);
    }

    public long Count(string table) => Scalar<long>($"SELECT count(*) FROM {table}");

    /// <summary>Every row of every table, as text: two equal snapshots mean an unchanged store.</summary>
    public string Snapshot()
    {
        using var connection = Store.OpenConnection();
        var sb = new StringBuilder();
        foreach (var table in new[] { "meta", "token_request", "token", "profile", "device" })
        {
            sb.Append("== ").AppendLine(table);
            using var command = connection.Command($"SELECT * FROM {table} ORDER BY 1, 2");
            using var reader = command.ExecuteReader();
            while (reader.Read())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    var value = reader.GetValue(i);
                    sb.Append(reader.GetName(i)).Append('=').Append(value is byte[] b ? Convert.ToHexString(b) : value?.ToString()).Append(" | ");
                }

                sb.AppendLine();
            }
        }

        return sb.ToString();
    }

    /// <summary>The bytes of the store file and its write-ahead log, as they are on disk now.</summary>
    public byte[] StoreFileBytes() => FileBytes.ReadStoreFiles(StorePath);

    private readonly IDisposable? owner;

    public void Dispose()
    {
        owner?.Dispose();
        Temp.Dispose();
    }
}

/// <summary>Writes token request rows the way New-AdeTokenRequest does, with keys from <see cref="KeyPool"/>.</summary>
public static class RequestSeeder
{
    public static AdeTokenRequest Seed(AdeStore store, DateTimeOffset now, int keyIndex = 0)
    {
        var id = Guid.NewGuid();
        var pkcs8 = KeyPool.Pkcs8(keyIndex);
        using var rsa = RSA.Create();
        rsa.ImportPkcs8PrivateKey(pkcs8, out _);
        var request = new CertificateRequest($"CN=AdeEnrollment {id:N}", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(now.AddMinutes(-10), now.AddDays(365));
        // Through the store's table, so the seeder works on every provider.
        var row = new TokenRequestRow(id, DateTimeOffset.FromUnixTimeMilliseconds(now.ToUnixTimeMilliseconds()), certificate.Thumbprint,
            certificate.ExportCertificatePem() + "\n", store.Secrets.Protect(pkcs8, $"token_request:{id}:private_key"), null);
        store.Write(s =>
        {
            s.TokenRequests.Insert(row);
            return 0;
        });

        return new TokenService(store, TimeProvider.System, new RecordingHost()).GetRequests(id).Single();
    }
}

public static class FileBytes
{
    /// <summary>Reads the store and its -wal (and a -journal, if any) while connections may still have them open.</summary>
    public static byte[] ReadStoreFiles(string storePath)
    {
        using var all = new MemoryStream();
        foreach (var path in new[] { storePath, storePath + "-wal", storePath + "-journal" })
        {
            if (File.Exists(path))
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
                stream.CopyTo(all);
            }
        }

        return all.ToArray();
    }

    public static byte[] Read(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }

    public static bool Contains(byte[] haystack, byte[] needle) => haystack.AsSpan().IndexOf(needle) >= 0;

    /// <summary>True when <paramref name="text"/> occurs in UTF-8 or UTF-16 (either byte order).</summary>
    public static bool ContainsText(byte[] haystack, string text)
        => Contains(haystack, Encoding.UTF8.GetBytes(text))
           || Contains(haystack, Encoding.Unicode.GetBytes(text))
           || Contains(haystack, Encoding.BigEndianUnicode.GetBytes(text));

    /// <summary>Closes every pooled connection (so that the files settle) and returns the SHA-256 of a file.</summary>
    public static string Hash(string path)
    {
        SqliteConnection.ClearAllPools();
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Read(path)));
    }
}

using System.Collections;
using System.Reflection;
using System.Security.Cryptography;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;
using AdeEnrollment.Simulator.Abm;

namespace AdeEnrollment.Engine.Tests.Tokens;

/// <summary>
/// The whole token lifecycle, run once with a request made by the engine, recording every place text leaves the
/// engine: host messages, errors, output objects, and the store files.
/// </summary>
public sealed class SecretLeakScenario : IDisposable
{
    public SecretLeakScenario()
    {
        Store = new TestStore();
        var tokens = Store.Tokens;
        var request = Keep(tokens.NewRequest(true, Store.Temp.File("contoso.pem"))!);
        var blob = Store.Scalar<byte[]>("SELECT private_key FROM token_request WHERE id = $id", ("$id", request.Id.ToString()))!;
        PrivateKey = Store.Store.Secrets.Unprotect(blob, $"token_request:{request.Id}:private_key");

        var first = Secret(Store.Credentials(20)); // expiring soon: a warning
        var firstFile = Store.AbmTokenFile(request, first, "Contoso MDM_Token_2025-03-01T12-00-00Z_smime.p7m");
        var token = Keep(tokens.NewToken(new NewTokenArgs(request.Id.ToString(), firstFile, "admin@contoso.com",
            EnrollmentUrl: "https://mdm.contoso.com/enroll", ScopeTags: ["EU"]))!);

        var second = Store.SeedRequest();
        Catch(() => tokens.NewToken(new NewTokenArgs(request.Id.ToString(), firstFile, "admin@contoso.com"))); // request used
        var sameServer = Secret(ServerTokenCredentials.CreateRandom(Store.Now.AddDays(300)) with { ConsumerKey = first.ConsumerKey });
        Catch(() => tokens.NewToken(new NewTokenArgs(second.Id.ToString(), Store.AbmTokenFile(second, sameServer), "admin@contoso.com"))); // already exists
        var badPrefix = TokenFiles.Fields(Secret(Store.Credentials(300)));
        badPrefix["consumer_secret"] = Secret("XS_" + Convert.ToHexString(RandomNumberGenerator.GetBytes(20)));
        Catch(() => tokens.NewToken(new NewTokenArgs(second.Id.ToString(), Store.WriteFile("prefix.p7m", TokenFiles.ToSmime(TokenFiles.EnvelopedWithBouncyCastle(
            second.PublicKeyPem, System.Text.Encoding.UTF8.GetBytes(TokenFiles.InnerText(TokenFiles.Json(badPrefix))),
            Org.BouncyCastle.Asn1.Nist.NistObjectIdentifiers.IdAes256Cbc, KeyTransport.RsaPkcs1))), "admin@contoso.com"))); // content invalid
        Catch(() => tokens.NewToken(new NewTokenArgs(second.Id.ToString(), Store.AbmTokenFile(second, Secret(Store.Credentials(-1))), "admin@contoso.com"))); // expired
        Catch(() => tokens.UpdateToken("Contoso MDM", Store.AbmTokenFile(second, Secret(Store.Credentials(300))), null)); // another key
        Catch(() => tokens.UpdateToken("Contoso MDM", Store.AbmTokenFile(request, Secret(Store.Credentials(300))), "not an apple id"));

        var renewed = Secret(Store.Credentials(365));
        Keep(tokens.UpdateToken("Contoso MDM", Store.AbmTokenFile(request, renewed), "new.admin@contoso.com")!); // Apple ID warning
        Keep(tokens.SetToken(new SetTokenArgs("Contoso MDM", Name: "Contoso", ScopeTags: ["EU", "Kiosks"]))!);
        Store.AddDevice(token.Id, "C02AAA000001");
        Catch(() => tokens.RemoveToken("Contoso")); // has dependents
        foreach (var t in tokens.GetTokens())
        {
            Keep(t);
        }

        foreach (var r in tokens.GetRequests())
        {
            Keep(r);
        }

        Keep(new StoreService(Store.Store).GetInfo());
        StoredCredentials = [first, renewed];
    }

    public TestStore Store { get; }

    public byte[] PrivateKey { get; }

    public List<string> Secrets { get; } = [];

    public List<object> Outputs { get; } = [];

    public List<AdeException> Errors { get; } = [];

    public ServerTokenCredentials[] StoredCredentials { get; }

    private ServerTokenCredentials Secret(ServerTokenCredentials c)
    {
        Secrets.AddRange([c.ConsumerSecret, c.AccessToken, c.AccessSecret]);
        return c;
    }

    private string Secret(string s)
    {
        Secrets.Add(s);
        return s;
    }

    private T Keep<T>(T output)
        where T : notnull
    {
        Outputs.Add(output);
        return output;
    }

    private void Catch(Action action) => Errors.Add(Assert.Throws<AdeException>(action));

    /// <summary>Every secret as text: the OAuth secrets, and the private key as base64 (its PEM body) and PEM lines.</summary>
    public IEnumerable<string> SecretTexts()
    {
        foreach (var secret in Secrets)
        {
            yield return secret;
        }

        yield return Convert.ToBase64String(PrivateKey);
        foreach (var line in PemEncoding.WriteString("PRIVATE KEY", PrivateKey).Split('\n'))
        {
            if (line.Length == 64)
            {
                yield return line;
            }
        }
    }

    public void Dispose() => Store.Dispose();
}

public sealed class SecretLeakTests : IClassFixture<SecretLeakScenario>
{
    private readonly SecretLeakScenario scenario;

    public SecretLeakTests(SecretLeakScenario scenario) => this.scenario = scenario;

    private void AssertNoSecretIn(IEnumerable<string> texts, string where)
    {
        var all = texts.ToList();
        Assert.NotEmpty(all);
        foreach (var secret in scenario.SecretTexts())
        {
            var hit = all.FirstOrDefault(t => t.Contains(secret, StringComparison.Ordinal));
            Assert.True(hit is null, $"A secret appears in {where}: {hit}");
        }
    }

    [Fact]
    public void Scenario_ProducedTheTextsItIsMeantToCheck()
    {
        var host = scenario.Store.Host;
        Assert.Contains(host.Warnings, w => w.Contains("not affected", StringComparison.Ordinal));
        Assert.Contains(host.Warnings, w => w.Contains("expires in", StringComparison.Ordinal));
        Assert.Contains(host.Verbose, v => v.Contains("Decrypted the server token", StringComparison.Ordinal));
        Assert.Equal(
            ["TokenRequestAlreadyUsed", "TokenAlreadyExists", "TokenContentInvalid", "TokenExpired", "TokenDecryptionFailed", "ArgumentInvalid", "TokenHasDependents"],
            scenario.Errors.Select(e => e.ErrorId));
        Assert.Contains(scenario.Outputs, o => o is AdeToken);
        Assert.Contains(scenario.Outputs, o => o is AdeTokenRequest);
        Assert.Contains(scenario.Outputs, o => o is AdeStoreInfo);
        Assert.True(scenario.Secrets.Count >= 20);
    }

    [Fact]
    public void HostText_VerboseDebugWarningAndShouldProcess_HoldsNoSecret()
    {
        AssertNoSecretIn(scenario.Store.Host.AllText, "host text (verbose/debug/warning/ShouldProcess)");
    }

    [Fact]
    public void ErrorMessages_HoldNoSecret()
    {
        var texts = scenario.Errors.SelectMany(e => AdeAssert.Messages(e).Append(e.Target?.ToString() ?? "").Append(e.ToString()));

        AssertNoSecretIn(texts, "an error");
    }

    [Fact]
    public void OutputObjects_HoldNoSecretAndHaveNoSecretProperty()
    {
        var texts = new List<string>();
        foreach (var output in scenario.Outputs)
        {
            texts.Add(output.ToString() ?? "");
            foreach (var property in output.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
            {
                Assert.DoesNotMatch("(?i)secret|private|credential|access_?token|password|passphrase", property.Name);
                var value = property.GetValue(output);
                texts.AddRange(value is IEnumerable items and not string ? items.Cast<object?>().Select(i => i?.ToString() ?? "") : [value?.ToString() ?? ""]);
            }
        }

        AssertNoSecretIn(texts, "an output object");
    }

    [Fact]
    public void StoreFiles_HoldNoSecretInClear()
    {
        var bytes = scenario.Store.StoreFileBytes();

        Assert.True(FileBytes.ContainsText(bytes, "new.admin@contoso.com"), "control: the byte search must see what the store holds in clear");
        foreach (var secret in scenario.SecretTexts())
        {
            Assert.False(FileBytes.ContainsText(bytes, secret), "a secret is in the store files in clear");
        }

        Assert.False(FileBytes.Contains(bytes, scenario.PrivateKey), "the private key (PKCS#8 DER) is in the store files in clear");
        foreach (var c in scenario.StoredCredentials)
        {
            Assert.False(FileBytes.ContainsText(bytes, c.ConsumerKey), "the consumer key is stored only as a hash");
        }
    }
}

using System.Security.Cryptography;
using System.Text.RegularExpressions;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Business;

/// <summary>What New-AdeBusinessAccount stores.</summary>
/// <remarks>
/// <paramref name="GetsPerMinute"/> and <paramref name="PostsPerHour"/> set the budget the engine keeps with this account
/// (null: <see cref="BusinessClientOptions"/>' defaults). Apple publishes no numbers; raise them only when Apple's
/// answers (no 429) show the organisation allows more. <paramref name="DevicesPerActivity"/> is the most devices one
/// activity carries (null: the default, 1,000); the engine lowers it by itself when Apple refuses an activity's size.
/// </remarks>
public sealed record NewBusinessAccountArgs(string ClientId, string KeyId, string KeyPath, Uri? TokenUri = null, Uri? ServiceUri = null,
    int? GetsPerMinute = null, int? PostsPerHour = null, int? DevicesPerActivity = null);

/// <summary>What Set-AdeBusinessAccount changes: null leaves a value as it is, 0 returns it to the engine's default.</summary>
public sealed record BusinessAccountLimits(int? GetsPerMinute = null, int? PostsPerHour = null, int? DevicesPerActivity = null);

/// <summary>
/// API accounts in the store: client ID, key ID and the EC P-256 private key, encrypted under the store key and bound
/// to its row (<c>business_account:&lt;id&gt;:private_key</c>). The key is decrypted only to sign an assertion.
/// </summary>
public sealed partial class BusinessAccountService
{
    public static readonly Uri AppleTokenUri = new("https://account.apple.com/auth/oauth2/token");
    public static readonly Uri BusinessServiceUri = new("https://api-business.apple.com/v1/");
    public static readonly Uri SchoolServiceUri = new("https://api-school.apple.com/v1/");

    private readonly AdeStore store;
    private readonly TimeProvider time;
    private readonly IAdeHost host;

    internal BusinessAccountService(AdeStore store, TimeProvider time, IAdeHost host)
    {
        this.store = store;
        this.time = time;
        this.host = host;
    }

    /// <summary>The highest per-account budgets accepted (well above anything observed at Apple).</summary>
    public const int MaxGetsPerMinute = 6000;

    public const int MaxPostsPerHour = 600;

    /// <summary>The most devices an activity may carry when set by hand (the conservative default and Apple's page maximum).</summary>
    public const int MaxDevicesPerActivity = 1000;

    /// <summary>The store the account's budget and Retry-After block are kept in (shared by every process).</summary>
    internal AdeStore Store => store;

    [GeneratedRegex("^(BUSINESS|SCHOOL)API\\.[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}$", RegexOptions.CultureInvariant)]
    private static partial Regex ClientIdPattern();

    /// <summary>Validates, reads the key, and stores the account. Returns null under -WhatIf.</summary>
    public AdeBusinessAccount? New(NewBusinessAccountArgs args)
    {
        var clientId = args.ClientId.Trim();
        if (!ClientIdPattern().IsMatch(clientId))
        {
            throw ErrorCatalog.ArgumentInvalid("ClientId", clientId, "an API account's client ID is BUSINESSAPI.<uuid> or SCHOOLAPI.<uuid>, as shown under Preferences > API > Manage.");
        }

        clientId = clientId[..clientId.IndexOf('.', StringComparison.Ordinal)].ToUpperInvariant() + clientId[clientId.IndexOf('.', StringComparison.Ordinal)..].ToLowerInvariant();
        var keyId = args.KeyId.Trim();
        if (!Guid.TryParseExact(keyId, "D", out _))
        {
            throw ErrorCatalog.ArgumentInvalid("KeyId", keyId, "a key ID is a UUID such as e339d085-a821-438a-a527-d044edacf50a.");
        }

        CheckLimits(new BusinessAccountLimits(args.GetsPerMinute, args.PostsPerHour, args.DevicesPerActivity));

        var school = clientId.StartsWith("SCHOOLAPI.", StringComparison.Ordinal);
        var pem = ReadKeyFile(args.KeyPath);
        byte[] pkcs8;
        using (var key = BusinessKey.Import(pem, args.KeyPath))
        {
            pkcs8 = key.ExportPkcs8PrivateKey();
        }

        try
        {
            if (Find(clientId) is not null)
            {
                throw ErrorCatalog.BusinessAccountExists(clientId);
            }

            if (!host.ShouldProcess(clientId, "Store the API account and its private key (encrypted)"))
            {
                return null;
            }

            var id = Guid.NewGuid();
            var now = time.GetUtcNow();
            var tokenUri = CheckUri("TokenUri", args.TokenUri) ?? AppleTokenUri;
            var serviceUri = CheckUri("ServiceUri", args.ServiceUri) ?? (school ? SchoolServiceUri : BusinessServiceUri);
            // Apple's two hosts each take only their own kind of token: the host follows the client ID's prefix
            var wrongHost = school ? BusinessServiceUri.Host : SchoolServiceUri.Host;
            if (serviceUri.Host.Equals(wrongHost, StringComparison.OrdinalIgnoreCase))
            {
                throw ErrorCatalog.ArgumentInvalid("ServiceUri", serviceUri.ToString(), school
                    ? "an Apple School Manager account (SCHOOLAPI.) uses https://api-school.apple.com/v1/; leave -ServiceUri out."
                    : "an Apple Business account (BUSINESSAPI.) uses https://api-business.apple.com/v1/; leave -ServiceUri out.");
            }

            var sealedKey = store.Secrets.Protect(pkcs8, KeyPurpose(id));
            var row = new BusinessAccountRow(id, clientId, keyId.ToLowerInvariant(), school ? "school.api" : "business.api", tokenUri.ToString(), serviceUri.ToString(), now,
                OrDefault(args.GetsPerMinute), OrDefault(args.PostsPerHour), OrDefault(args.DevicesPerActivity));
            store.Write(s =>
            {
                if (s.Business.AccountExists(clientId))
                {
                    throw ErrorCatalog.BusinessAccountExists(clientId);
                }

                s.Business.InsertAccount(row, sealedKey);
                return 0;
            });
            host.WriteVerbose($"Stored API account '{clientId}' ({(school ? "Apple School Manager" : "Apple Business")}); its private key is encrypted in the store.");
            return Find(clientId);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    /// <summary>The budgets and activity size in range: 0 (the default) to the maximum.</summary>
    private static void CheckLimits(BusinessAccountLimits limits)
    {
        Check("GetPerMinute", limits.GetsPerMinute, MaxGetsPerMinute, "GET requests per minute", 20);
        Check("PostPerHour", limits.PostsPerHour, MaxPostsPerHour, "activities per hour", 10);
        Check("DevicePerActivity", limits.DevicesPerActivity, MaxDevicesPerActivity, "devices per activity", 1000);

        static void Check(string parameter, int? value, int max, string what, int byDefault)
        {
            if (value is { } v && (v < 0 || v > max))
            {
                throw ErrorCatalog.ArgumentInvalid(parameter, v.ToString(System.Globalization.CultureInfo.InvariantCulture), $"give 1 to {max} {what}, or 0 for the default ({byDefault}).");
            }
        }
    }

    /// <summary>
    /// A change for Set-AdeBusinessAccount: at least one value, each in range. Checked by <see cref="SetLimits"/>, and once by
    /// the cmdlet before its piped accounts (one error, not one per account).
    /// </summary>
    public static void CheckChange(BusinessAccountLimits limits)
    {
        if (limits is { GetsPerMinute: null, PostsPerHour: null, DevicesPerActivity: null })
        {
            throw ErrorCatalog.ArgumentInvalid("GetPerMinute, -PostPerHour or -DevicePerActivity", null, "say what to change (0 returns a value to its default).");
        }

        CheckLimits(limits);
    }

    /// <summary>0 (or nothing) is the engine's default, stored as null.</summary>
    private static int? OrDefault(int? value) => value is 0 ? null : value;

    /// <summary>
    /// Changes the account's request budgets and activity size (a value left null stays, 0 returns to the default).
    /// Returns the account as stored, or null under -WhatIf.
    /// </summary>
    public AdeBusinessAccount? SetLimits(AdeBusinessAccount account, BusinessAccountLimits limits)
    {
        CheckChange(limits);
        var current = Find(account.ClientId) ?? throw ErrorCatalog.BusinessAccountNotFound(account.ClientId);
        static int? Next(int? given, int? now) => given is null ? now : OrDefault(given);
        static string Shown(int? v) => v?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "default";
        if (!host.ShouldProcess(current.ClientId, $"Set the account's limits: {Shown(Next(limits.GetsPerMinute, current.GetsPerMinute))} GET/min, "
            + $"{Shown(Next(limits.PostsPerHour, current.PostsPerHour))} activities/h, {Shown(Next(limits.DevicesPerActivity, current.DevicesPerActivity))} devices per activity"))
        {
            return null;
        }

        store.Write(s =>
        {
            // a value not given is the row's as it is now (another process may have changed or learned it since)
            var row = s.Business.Accounts().FirstOrDefault(r => r.Id == current.Id) ?? throw ErrorCatalog.BusinessAccountNotFound(current.ClientId);
            s.Business.SetLimits(row.Id, Next(limits.GetsPerMinute, row.GetsPerMinute), Next(limits.PostsPerHour, row.PostsPerHour), Next(limits.DevicesPerActivity, row.DevicesPerActivity));
            return 0;
        });
        return Find(current.ClientId);
    }

    /// <summary>
    /// Records the size of an activity Apple took after refusing a larger one: the account's activities carry at most
    /// that many devices from now on, in every process of the store. The stored size only ever goes down here (another
    /// process may have learned a smaller one meanwhile); its budgets stay. Returns the size now stored.
    /// </summary>
    internal int LearnDevicesPerActivity(AdeBusinessAccount account, int devices)
        => store.Write(s =>
        {
            var row = s.Business.Accounts().FirstOrDefault(r => r.Id == account.Id) ?? throw ErrorCatalog.BusinessAccountNotFound(account.ClientId);
            var kept = row.DevicesPerActivity is { } now && now <= devices ? now : devices;
            s.Business.SetLimits(row.Id, row.GetsPerMinute, row.PostsPerHour, kept);
            return kept;
        });

    /// <summary>
    /// Apple's hosts over https, or a simulator on the loopback address (the same rule as a token's service): a signed
    /// assertion sent anywhere else could be replayed to Apple by whoever receives it.
    /// </summary>
    private static Uri? CheckUri(string parameter, Uri? uri)
    {
        if (uri is null)
        {
            return null;
        }

        if (uri.IsAbsoluteUri && uri.UserInfo.Length > 0)
        {
            throw ErrorCatalog.ArgumentInvalid(parameter, Rules.TextRules.ShownUri(uri), "give the address without a user name or password (the account signs in with its key).");
        }

        if (!uri.IsAbsoluteUri || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback))
            || !TokenService.IsTrustedServiceUri(uri))
        {
            throw ErrorCatalog.ArgumentInvalid(parameter, Rules.TextRules.ShownUri(uri), "the account's assertion and access token go only to Apple's hosts (https://*.apple.com) or to a simulator on this computer's loopback address.");
        }

        return uri;
    }

    private static string ReadKeyFile(string path)
    {
        var bytes = Files.InputFile.ReadAllBytes(path, BusinessKey.MaxPemBytes, new Files.InputFileErrors(
            () => ErrorCatalog.BusinessKeyInvalid(path, "the file does not exist"),
            (reason, _) => ErrorCatalog.BusinessKeyInvalid(path, reason.TrimEnd('.')),
            "a private key PEM is well under 16 KiB."));
        return System.Text.Encoding.UTF8.GetString(bytes);
    }

    public IReadOnlyList<AdeBusinessAccount> Get(string? clientId = null)
    {
        var all = store.Read(s => s.Business.Accounts()).Select(r => new AdeBusinessAccount
        {
            Id = r.Id,
            ClientId = r.ClientId,
            KeyId = r.KeyId,
            Scope = r.Scope,
            Kind = r.Scope == "school.api" ? "School" : "Business",
            TokenUri = new Uri(r.TokenUri),
            ServiceUri = new Uri(r.ServiceUri),
            CreatedAt = r.CreatedAt,
            GetsPerMinute = r.GetsPerMinute,
            PostsPerHour = r.PostsPerHour,
            DevicesPerActivity = r.DevicesPerActivity,
        }).ToList();
        return clientId is null ? all : Wildcard.Select(all, a => a.ClientId, clientId);
    }

    private AdeBusinessAccount? Find(string clientId) => Get().FirstOrDefault(a => a.ClientId.Equals(clientId, StringComparison.OrdinalIgnoreCase));

    /// <summary>Every account a client ID or wildcard pattern names (Set- and Remove-AdeBusinessAccount act on each); none is an error.</summary>
    public IReadOnlyList<AdeBusinessAccount> Match(string clientId)
    {
        var matches = Get(clientId);
        return matches.Count > 0 ? matches : throw ErrorCatalog.BusinessAccountNotFound(clientId);
    }

    /// <summary>The account named, or the only account of the store when none is named.</summary>
    public AdeBusinessAccount Resolve(string? account)
    {
        if (account is null)
        {
            var all = Get();
            return all.Count switch
            {
                0 => throw ErrorCatalog.BusinessAccountNotFound(""),
                1 => all[0],
                _ => throw ErrorCatalog.BusinessAccountAmbiguous(all.Count),
            };
        }

        var matches = Get(account);
        return matches.Count switch
        {
            0 => throw ErrorCatalog.BusinessAccountNotFound(account),
            1 => matches[0],
            _ => throw ErrorCatalog.BusinessAccountAmbiguous(matches.Count, account),
        };
    }

    /// <summary>Removes the account, its key and its activity history. False under -WhatIf.</summary>
    public bool Remove(AdeBusinessAccount account)
    {
        if (!host.ShouldProcess(account.ClientId, "Remove the API account (its private key and activity history are deleted from the store)"))
        {
            return false;
        }

        // secure_delete zeroes the row's old content; the -wal is then checkpointed and truncated (docs/security.md).
        store.WriteRemovingSecrets(s => s.Business.DeleteAccount(account.Id));
        BusinessClient.Forget(account);
        return true;
    }

    /// <summary>The decrypted private key, for signing an assertion only. The caller disposes it.</summary>
    internal ECDsa OpenKey(AdeBusinessAccount account)
    {
        var sealedKey = store.Read(s => s.Business.PrivateKey(account.Id)) ?? throw ErrorCatalog.BusinessAccountNotFound(account.ClientId);
        var pkcs8 = store.Unseal(sealedKey, KeyPurpose(account.Id), $"API account '{account.ClientId}'",
            $"Store the account's key again: Remove-AdeBusinessAccount -ClientId '{account.ClientId}', then New-AdeBusinessAccount with the key's .pem file (or a new key generated in the portal).");
        try
        {
            var key = ECDsa.Create();
            key.ImportPkcs8PrivateKey(pkcs8, out _);
            return key;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(pkcs8);
        }
    }

    internal static string KeyPurpose(Guid id) => SecretPurposes.BusinessAccountPrivateKey(id);
}

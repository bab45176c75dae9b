using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Files;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Security;
using AdeEnrollment.Engine.Storage;
using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Tokens;

/// <summary>Arguments of New-AdeToken.</summary>
public sealed record NewTokenArgs(string Request, string Path, string AppleId, string? Name = null, string? EnrollmentUrl = null, IReadOnlyList<string>? ScopeTags = null, Uri? ServiceUri = null, bool AllowNonAppleServiceUri = false);

/// <summary>Arguments of Set-AdeToken; null means "leave as is".</summary>
public sealed record SetTokenArgs(string Token, string? Name = null, IReadOnlyList<string>? ScopeTags = null, string? EnrollmentUrl = null);

/// <summary>The ADE token lifecycle (about_AdeEnrollment.md, "Adding a token"): requests, import, listing, renewal, edits and removal.</summary>
public sealed class TokenService
{
    public const int MaxTokens = 2000;
    public const int ExpiringSoonDays = 30;
    public const int MaxNameLength = 125;
    public static readonly Uri AppleServiceUri = new("https://mdmenrollment.apple.com");
    private static readonly Regex AppleIdPattern = new(@"^[^@\s]+@[^@\s]+\.[^@\s]+$", RegexOptions.CultureInvariant);

    private readonly AdeStore store;
    private readonly TimeProvider time;
    private readonly IAdeHost host;
    private readonly IAppleTokenVerifier? verifier;

    public TokenService(AdeStore store, TimeProvider time, IAdeHost host)
        : this(store, time, host, null)
    {
    }

    /// <summary><paramref name="verifier"/> checks a new token with Apple (GET /account) before it is saved; null skips the check.</summary>
    internal TokenService(AdeStore store, TimeProvider time, IAdeHost host, IAppleTokenVerifier? verifier)
    {
        this.store = store;
        this.time = time;
        this.host = host;
        this.verifier = verifier;
    }

    // ---- requests --------------------------------------------------------------------------------------------------

    /// <param name="noClobber">Refuse (<c>OutputFileExists</c>) rather than replace an existing <paramref name="outFile"/>.</param>
    public AdeTokenRequest? NewRequest(bool acceptDataSharing, string? outFile, bool noClobber = false)
    {
        if (!acceptDataSharing)
        {
            throw ErrorCatalog.ConsentRequired();
        }

        // The output is checked before a key is made or anything is stored: a bad -OutFile leaves no orphan request.
        var written = outFile is null ? null : OutputFile.Check("OutFile", outFile, noClobber, store.Path);
        var id = Guid.NewGuid();
        var now = time.GetUtcNow();
        var generated = TokenRequestFactory.Create(id, now);
        var sealedKey = store.Secrets.Protect(generated.Pkcs8PrivateKey, PrivateKeyPurpose(id));
        CryptographicOperations.ZeroMemory(generated.Pkcs8PrivateKey);
        var replaces = written is not null && File.Exists(written) ? " (replacing the existing file)" : "";
        if (!host.ShouldProcess(written ?? "store " + store.Path, $"Create token request {id}" + (written is null ? "" : " and write its public certificate" + replaces)))
        {
            return null;
        }

        store.WriteSql((c, _) =>
        {
            c.Execute(
                "INSERT INTO token_request (id, created_at, thumbprint, certificate_pem, private_key) VALUES ($id, $t, $tp, $pem, $key)",
                ("$id", id.ToString()), ("$t", ToUnixMs(now)), ("$tp", generated.Thumbprint), ("$pem", generated.CertificatePem), ("$key", sealedKey));
            if (written is not null)
            {
                OutputFile.WriteText("OutFile", written, generated.CertificatePem); // a failure here rolls the request back
            }

            return 0;
        });
        host.WriteVerbose($"Created token request {id} (certificate thumbprint {generated.Thumbprint}).");
        if (written is not null)
        {
            host.WriteVerbose($"Wrote the public certificate to {written}. Upload it to the MDM server in Apple Business Manager.");
        }

        return new AdeTokenRequest(id, now, generated.Thumbprint, generated.CertificatePem, generated.NotAfter, null, written);
    }

    public IReadOnlyList<AdeTokenRequest> GetRequests(Guid? id = null, bool pendingOnly = false)
    {
        return store.ReadSql(c =>
        {
            using var command = c.Command(
                """
                SELECT r.id, r.created_at, r.thumbprint, r.certificate_pem, t.name
                FROM token_request r LEFT JOIN token t ON t.id = r.token_id
                WHERE ($id IS NULL OR r.id = $id) AND ($pending = 0 OR r.token_id IS NULL)
                ORDER BY r.created_at
                """,
                ("$id", id?.ToString()), ("$pending", pendingOnly ? 1 : 0));
            using var reader = command.ExecuteReader();
            var list = new List<AdeTokenRequest>();
            while (reader.Read())
            {
                var pem = reader.GetString(3);
                list.Add(new AdeTokenRequest(Guid.Parse(reader.GetString(0)), ToTime(reader.GetInt64(1)), reader.GetString(2), pem,
                    CertificateNotAfter(pem), reader.GetStringOrNull(4), null));
            }

            return list;
        });
    }

    private static DateTimeOffset CertificateNotAfter(string pem)
    {
        using var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(pem);
        return new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
    }

    private AdeTokenRequest ResolveRequest(string request)
    {
        if (!Guid.TryParse(request, out var id))
        {
            throw ErrorCatalog.TokenRequestNotFound(request);
        }

        return GetRequests(id).SingleOrDefault() ?? throw ErrorCatalog.TokenRequestNotFound(request);
    }

    // ---- tokens ----------------------------------------------------------------------------------------------------

    public AdeToken? NewToken(NewTokenArgs args)
    {
        var appleId = ValidateAppleId(args.AppleId);
        var enrollmentUrl = ValidateEnrollmentUrl(args.EnrollmentUrl);
        var scopeTags = NormaliseScopeTags(args.ScopeTags);
        var serviceUri = ValidateServiceUri(args.ServiceUri, args.AllowNonAppleServiceUri);
        if (args.Name is not null)
        {
            ValidateName(args.Name);
        }

        var request = ResolveRequest(args.Request);
        if (request.Status == AdeTokenRequestStatus.Used)
        {
            throw ErrorCatalog.TokenRequestAlreadyUsed(request.Id, request.TokenName!);
        }

        var path = System.IO.Path.GetFullPath(args.Path);
        var content = ReadTokenFile(path, request.Id, request.PublicKeyPem, $"token request {request.Id}");
        var name = args.Name ?? NameFromFile(path);
        var id = Guid.NewGuid();
        var now = time.GetUtcNow();

        if (!host.ShouldProcess(name, $"Add ADE token from '{path}'"))
        {
            return null;
        }

        var account = VerifyWithApple(serviceUri, content, args.Name ?? name);
        if (args.Name is null && !string.IsNullOrWhiteSpace(account?.ServerName))
        {
            var serverName = account.ServerName.Trim();
            name = serverName.Length > MaxNameLength ? serverName[..MaxNameLength] : serverName;
        }

        store.WriteSql((c, _) =>
        {
            if (c.Scalar<long>("SELECT count(*) FROM token") >= MaxTokens)
            {
                throw ErrorCatalog.TokenLimitReached(MaxTokens);
            }

            var existing = c.Scalar<string>("SELECT name FROM token WHERE consumer_key_hash = $h", ("$h", ConsumerKeyHash(content.ConsumerKey)));
            if (existing is not null)
            {
                throw ErrorCatalog.TokenAlreadyExists(existing);
            }

            if (c.Scalar<long>("SELECT count(*) FROM token_request WHERE id = $id AND token_id IS NULL", ("$id", request.Id.ToString())) == 0)
            {
                throw ErrorCatalog.TokenRequestAlreadyUsed(request.Id, c.Scalar<string>("SELECT t.name FROM token_request r JOIN token t ON t.id = r.token_id WHERE r.id = $id", ("$id", request.Id.ToString())) ?? "?");
            }

            var finalName = name;
            if (args.Name is null)
            {
                for (var n = 2; c.Scalar<long>("SELECT count(*) FROM token WHERE name = $n", ("$n", finalName)) > 0; n++)
                {
                    var suffix = $" ({n})"; // shorten the base so the name stays within MaxNameLength
                    finalName = name[..Math.Min(name.Length, MaxNameLength - suffix.Length)].TrimEnd() + suffix;
                }
            }
            else if (c.Scalar<long>("SELECT count(*) FROM token WHERE name = $n", ("$n", finalName)) > 0)
            {
                throw ErrorCatalog.TokenNameConflict(finalName);
            }

            c.Execute(
                """
                INSERT INTO token (id, name, apple_id, consumer_key_hash, credentials, expires_at, request_id, enrollment_url, scope_tags, service_uri,
                                   server_name, server_uuid, org_name, org_type, admin_id, created_at, modified_at)
                VALUES ($id, $name, $apple, $ck, $cred, $exp, $req, $url, $tags, $svc, $sname, $suuid, $org, $otype, $admin, $now, $now)
                """,
                ("$sname", account?.ServerName), ("$suuid", account?.ServerUuid), ("$org", account?.OrgName), ("$otype", account?.OrgType),
                ("$admin", account?.AdminId ?? account?.FacilitatorId),
                ("$id", id.ToString()), ("$name", finalName), ("$apple", appleId), ("$ck", ConsumerKeyHash(content.ConsumerKey)),
                ("$cred", SealCredentials(id, content)), ("$exp", ToUnixMs(content.AccessTokenExpiry)), ("$req", request.Id.ToString()),
                ("$url", enrollmentUrl), ("$tags", JsonSerializer.Serialize(scopeTags)), ("$svc", serviceUri.ToString()), ("$now", ToUnixMs(now)));
            c.Execute("UPDATE token_request SET token_id = $t WHERE id = $id", ("$t", id.ToString()), ("$id", request.Id.ToString()));
            return 0;
        });

        host.WriteVerbose($"Stored ADE token {id}; it expires on {content.AccessTokenExpiry:u}.");
        var token = GetTokens(id: id).Single();
        WarnIfExpiringSoon(token);
        return token;
    }

    public IReadOnlyList<AdeToken> GetTokens(string? name = null, Guid? id = null)
    {
        var now = time.GetUtcNow();
        var tokens = store.ReadSql(c =>
        {
            using var command = c.Command(
                """
                SELECT t.id, t.name, t.apple_id, t.expires_at, t.enrollment_url, t.scope_tags, t.service_uri, t.server_name, t.server_uuid,
                       t.org_name, t.org_type, t.admin_id, t.invalid_reason, t.request_id, t.created_at, t.modified_at,
                       (SELECT count(*) FROM profile p WHERE p.token_id = t.id),
                       (SELECT count(*) FROM device d WHERE d.token_id = t.id),
                       (SELECT json_group_object(dp.platform, p.name) FROM token_default_profile dp JOIN profile p ON p.id = dp.profile_id WHERE dp.token_id = t.id),
                       s.last_started_at, s.last_success_at, s.last_full_at, coalesce(s.next_must_be_full, 0)
                FROM token t LEFT JOIN sync_state s ON s.token_id = t.id
                WHERE $id IS NULL OR t.id = $id
                ORDER BY t.name
                """,
                ("$id", id?.ToString()));
            using var reader = command.ExecuteReader();
            var list = new List<AdeToken>();
            while (reader.Read())
            {
                var tokenName = reader.GetString(1);
                var expires = ToTime(reader.GetInt64(3));
                var invalid = reader.GetStringOrNull(12);
                var history = new Rules.SyncHistoryState(Time(reader, 19), Time(reader, 20), Time(reader, 21), reader.GetInt64(22) != 0);
                var (nextManual, nextFull) = Rules.SyncPolicy.NextAllowed(history, now);
                list.Add(new AdeToken
                {
                    Id = Guid.Parse(reader.GetString(0)),
                    Name = tokenName,
                    AppleId = reader.GetString(2),
                    ExpiresAt = expires,
                    DaysUntilExpiry = (int)Math.Floor((expires - now).TotalDays),
                    Status = StatusOf(expires, invalid, now),
                    InvalidReason = invalid,
                    EnrollmentUrl = reader.GetStringOrNull(4),
                    ScopeTags = ValueList.Of(JsonSerializer.Deserialize<string[]>(reader.GetString(5))),
                    ServiceUri = new Uri(reader.GetString(6)),
                    ServerName = reader.GetStringOrNull(7),
                    ServerUuid = reader.GetStringOrNull(8),
                    OrgName = reader.GetStringOrNull(9),
                    OrgType = reader.GetStringOrNull(10),
                    AdminId = reader.GetStringOrNull(11),
                    RequestId = Guid.Parse(reader.GetString(13)),
                    CreatedAt = ToTime(reader.GetInt64(14)),
                    ModifiedAt = ToTime(reader.GetInt64(15)),
                    ProfileCount = reader.GetInt32(16),
                    DeviceCount = reader.GetInt32(17),
                    DefaultProfiles = DefaultsOf(reader.GetStringOrNull(18)),
                    LastSync = history.LastSyncStartedAt,
                    LastSuccessfulSync = history.LastSuccessfulSyncAt,
                    NextManualSyncAt = nextManual,
                    NextFullSyncAt = nextFull,
                });
            }

            return list;
        });
        return name is null ? tokens : Wildcard.Select(tokens, t => t.Name, name);
    }

    private static DateTimeOffset? Time(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : ToTime(reader.GetInt64(ordinal));

    /// <summary>
    /// Runs a call to Apple for <paramref name="token"/>; when Apple rejects the token (expired, revoked, replaced by a
    /// newer download) the token is marked Invalid, so Get-AdeToken shows it, and the error goes on to the caller.
    /// </summary>
    internal T Guard<T>(AdeToken token, Func<T> call)
    {
        try
        {
            return call();
        }
        catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.AppleTokenRejected))
        {
            MarkInvalid(token.Id, ex.Message);
            throw;
        }
        catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.AppleTermsNotSigned))
        {
            MarkTermsNotSigned(token.Id);
            throw;
        }
    }

    /// <summary>Apple answered T_C_NOT_SIGNED: kept on the token (Test-AdeHealth) until the next successful sync.</summary>
    internal void MarkTermsNotSigned(Guid tokenId)
        => store.WriteSql((c, _) => c.Execute("UPDATE token SET terms_not_signed_at = $now WHERE id = $id",
            ("$now", ToUnixMs(time.GetUtcNow())), ("$id", tokenId.ToString())));

    internal void MarkInvalid(Guid tokenId, string reason)
        => store.WriteSql((c, _) => c.Execute("UPDATE token SET invalid_reason = $r WHERE id = $id", ("$r", reason), ("$id", tokenId.ToString())));

    internal static AdeTokenStatus StatusOf(DateTimeOffset expires, string? invalidReason, DateTimeOffset now)
    {
        if (invalidReason is not null)
        {
            return AdeTokenStatus.Invalid;
        }

        if (expires <= now)
        {
            return AdeTokenStatus.Expired;
        }

        return expires - now <= TimeSpan.FromDays(ExpiringSoonDays) ? AdeTokenStatus.ExpiringSoon : AdeTokenStatus.Active;
    }

    /// <summary>Finds exactly one token by Id or exact name (wildcards allowed when they match one token).</summary>
    public AdeToken ResolveToken(string token)
    {
        if (Guid.TryParse(token, out var id))
        {
            return GetTokens(id: id).SingleOrDefault() ?? throw ErrorCatalog.TokenNotFound(token);
        }

        // An exact name wins over its reading as a wildcard: 'Contoso [EU]' is that token, not 'Contoso E'.
        var matches = GetTokens(token);
        return matches.Count switch
        {
            0 => throw ErrorCatalog.TokenNotFound(token),
            1 => matches[0],
            _ => throw ErrorCatalog.TokenAmbiguous(token, matches.Count),
        };
    }

    public AdeToken? UpdateToken(string tokenRef, string path, string? appleId)
    {
        var token = ResolveToken(tokenRef);
        var newAppleId = appleId is null ? token.AppleId : ValidateAppleId(appleId);
        var request = GetRequests(token.RequestId).Single();
        var fullPath = System.IO.Path.GetFullPath(path);
        var content = ReadTokenFile(fullPath, request.Id, request.PublicKeyPem, $"token '{token.Name}'");
        if (!host.ShouldProcess(token.Name, $"Renew ADE token from '{fullPath}' (new expiry {content.AccessTokenExpiry:u})"))
        {
            return null;
        }

        // The same check as New-AdeToken: a file Apple no longer accepts (superseded by a newer download, revoked)
        // is refused here and nothing is stored.
        var account = VerifyWithApple(token.ServiceUri, content, token.Name);
        if (account is not null && token.ServerUuid is not null && !string.IsNullOrEmpty(account.ServerUuid)
            && !string.Equals(account.ServerUuid, token.ServerUuid, StringComparison.OrdinalIgnoreCase))
        {
            throw ErrorCatalog.TokenServerMismatch(token.Name, token.ServerName, token.ServerUuid, account.ServerName, account.ServerUuid, fullPath);
        }

        store.WriteRemovingSecretsSql((c, _) => // the replaced credentials must not survive in free pages or the -wal
        {
            var other = c.Scalar<string>("SELECT name FROM token WHERE consumer_key_hash = $h AND id <> $id",
                ("$h", ConsumerKeyHash(content.ConsumerKey)), ("$id", token.Id.ToString()));
            if (other is not null)
            {
                throw ErrorCatalog.TokenAlreadyExists(other);
            }

            c.Execute(
                """
                UPDATE token SET credentials = $cred, consumer_key_hash = $ck, expires_at = $exp, apple_id = $apple,
                                 invalid_reason = NULL, modified_at = $now,
                                 server_name = coalesce($sname, server_name), server_uuid = coalesce($suuid, server_uuid),
                                 org_name = coalesce($org, org_name), org_type = coalesce($otype, org_type),
                                 admin_id = coalesce($admin, admin_id)
                WHERE id = $id
                """,
                ("$sname", account?.ServerName), ("$suuid", account?.ServerUuid), ("$org", account?.OrgName), ("$otype", account?.OrgType),
                ("$admin", account?.AdminId ?? account?.FacilitatorId),
                ("$cred", SealCredentials(token.Id, content)), ("$ck", ConsumerKeyHash(content.ConsumerKey)), ("$exp", ToUnixMs(content.AccessTokenExpiry)),
                ("$apple", newAppleId), ("$now", ToUnixMs(time.GetUtcNow())), ("$id", token.Id.ToString()));
            return 0;
        });

        if (!string.Equals(newAppleId, token.AppleId, StringComparison.OrdinalIgnoreCase))
        {
            host.WriteWarning($"The Apple ID of token '{token.Name}' changed from '{token.AppleId}' to '{newAppleId}'. Devices already enrolled are not affected; renew this token with '{newAppleId}' from now on.");
        }

        host.WriteVerbose($"Renewed token '{token.Name}'; it now expires on {content.AccessTokenExpiry:u}.");
        var updated = GetTokens(id: token.Id).Single();
        WarnIfExpiringSoon(updated);
        return updated;
    }

    public AdeToken SetToken(SetTokenArgs args)
    {
        var token = ResolveToken(args.Token);
        if (args.Name is not null)
        {
            ValidateName(args.Name);
        }

        var url = args.EnrollmentUrl is null ? null : ValidateEnrollmentUrl(args.EnrollmentUrl);
        var tags = args.ScopeTags is null ? null : NormaliseScopeTags(args.ScopeTags);
        var changes = new List<string>();
        if (args.Name is not null && args.Name != token.Name) changes.Add($"name '{args.Name}'");
        if (tags is not null) changes.Add($"scope tags {string.Join(", ", tags)}");
        if (url is not null) changes.Add($"enrollment URL {url}");
        if (changes.Count == 0 || !host.ShouldProcess(token.Name, "Set " + string.Join("; ", changes)))
        {
            return token;
        }

        store.WriteSql((c, _) =>
        {
            if (args.Name is not null && c.Scalar<long>("SELECT count(*) FROM token WHERE name = $n AND id <> $id", ("$n", args.Name), ("$id", token.Id.ToString())) > 0)
            {
                throw ErrorCatalog.TokenNameConflict(args.Name);
            }

            c.Execute(
                """
                UPDATE token SET name = coalesce($name, name), scope_tags = coalesce($tags, scope_tags),
                                 enrollment_url = coalesce($url, enrollment_url), modified_at = $now
                WHERE id = $id
                """,
                ("$name", args.Name), ("$tags", tags is null ? null : JsonSerializer.Serialize(tags)), ("$url", url),
                ("$now", ToUnixMs(time.GetUtcNow())), ("$id", token.Id.ToString()));
            return 0;
        });

        return GetTokens(id: token.Id).Single();
    }

    /// <summary>Removes a token that has no devices, no default profile and no profiles; refuses naming each blocker.</summary>
    public bool RemoveToken(string tokenRef)
    {
        var token = ResolveToken(tokenRef);
        CheckNoDependents(token.Id, token.Name, null);
        if (!host.ShouldProcess(token.Name, "Remove ADE token (its OAuth credentials and private key are deleted from the store)"))
        {
            return false;
        }

        // secure_delete zeroes the rows' old content; the -wal is then checkpointed and truncated (docs/security.md).
        store.WriteRemovingSecretsSql((c, _) =>
        {
            CheckNoDependents(token.Id, token.Name, c); // again under the write lock: a sync may have added devices
            c.Execute("DELETE FROM token WHERE id = $id", ("$id", token.Id.ToString()));
            c.Execute("DELETE FROM token_request WHERE id = $id", ("$id", token.RequestId.ToString()));
            return 0;
        });
        host.WriteVerbose($"Removed token '{token.Name}'.");
        return true;
    }

    /// <summary>The token's default profile names by platform, from the JSON object the token query builds.</summary>
    private static IReadOnlyDictionary<Model.DevicePlatform, string> DefaultsOf(string? json)
    {
        var map = new SortedDictionary<Model.DevicePlatform, string>();
        if (json is not null)
        {
            foreach (var (platform, profile) in JsonSerializer.Deserialize<Dictionary<string, string>>(json)!)
            {
                if (Enum.TryParse<Model.DevicePlatform>(platform, out var p))
                {
                    map[p] = profile;
                }
            }
        }

        return map;
    }

    private void CheckNoDependents(Guid tokenId, string name, SqliteConnection? connection)
    {
        (long Devices, string? DefaultProfile, long Profiles) Count(SqliteConnection c)
        {
            var id = ("$id", (object?)tokenId.ToString());
            // Every platform's default counts: "'Staff'" for a token's one iOS default, else "'Staff' (iOS), 'Macs' (macOS)".
            var list = new List<(string Name, string Platform)>();
            using (var command = c.Command("SELECT p.name, dp.platform FROM token_default_profile dp JOIN profile p ON p.id = dp.profile_id WHERE dp.token_id = $id ORDER BY dp.platform", id))
            using (var r = command.ExecuteReader())
            {
                while (r.Read())
                {
                    list.Add((r.GetString(0), r.GetString(1)));
                }
            }

            var defaults = list.Count == 0 ? null
                : list is [{ Platform: "iOS" } only] ? $"'{only.Name}'"
                : string.Join(", ", list.Select(d => $"'{d.Name}' ({d.Platform})"));
            return (c.Scalar<long>("SELECT count(*) FROM device WHERE token_id = $id", id),
                    defaults,
                    c.Scalar<long>("SELECT count(*) FROM profile WHERE token_id = $id", id));
        }

        var found = connection is null ? store.ReadSql(Count) : Count(connection);
        if (found.Devices > 0 || found.DefaultProfile is not null || found.Profiles > 0)
        {
            throw ErrorCatalog.TokenHasDependents(name, found.Devices, found.DefaultProfile, found.Profiles);
        }
    }

    // ---- secrets ---------------------------------------------------------------------------------------------------

    /// <summary>The OAuth credentials of a token, decrypted. For the Apple client only; never output them.</summary>
    internal ServerTokenContent GetCredentials(Guid tokenId)
    {
        var (blob, expiry, name) = store.ReadSql(c =>
        {
            using var command = c.Command("SELECT credentials, expires_at, name FROM token WHERE id = $id", ("$id", tokenId.ToString()));
            using var reader = command.ExecuteReader();
            if (!reader.Read())
            {
                throw ErrorCatalog.TokenNotFound(tokenId.ToString());
            }

            return (reader.GetValue(0) as byte[] ?? [], reader.GetInt64(1), reader.GetString(2));
        });
        var json = store.Unseal(blob, CredentialsPurpose(tokenId), $"token '{name}'",
            $"Download the token of this MDM server again from Apple Business Manager and run Update-AdeToken -Token '{name}' -Path <file.p7m>, or restore the store together with its own key file.");
        try
        {
            string[]? parts;
            try
            {
                parts = JsonSerializer.Deserialize<string[]>(json);
            }
            catch (JsonException)
            {
                parts = null;
            }

            if (parts is not { Length: 4 } || parts.Any(p => p is null))
            {
                throw ErrorCatalog.StoreSecretUnreadable(store.Path, $"token '{name}'", "Run Update-AdeToken with a newly downloaded token file.");
            }

            return new ServerTokenContent(parts[0], parts[1], parts[2], parts[3], ToTime(expiry));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(json);
        }
    }

    private byte[] SealCredentials(Guid tokenId, ServerTokenContent content)
    {
        var json = JsonSerializer.SerializeToUtf8Bytes(new[] { content.ConsumerKey, content.ConsumerSecret, content.AccessToken, content.AccessSecret });
        try
        {
            return store.Secrets.Protect(json, CredentialsPurpose(tokenId));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(json);
        }
    }

    private static string CredentialsPurpose(Guid tokenId) => $"token:{tokenId}:credentials";

    private static string PrivateKeyPurpose(Guid requestId) => $"token_request:{requestId}:private_key";

    private static string ConsumerKeyHash(string consumerKey) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(consumerKey)));

    /// <summary>Reads, decrypts and checks a .p7m with the private key of <paramref name="requestId"/>.</summary>
    private ServerTokenContent ReadTokenFile(string path, Guid requestId, string certificatePem, string keyOwner)
    {
        var der = ServerTokenFile.ReadEnvelope(path);
        var sealedKey = store.ReadSql(c => c.Command("SELECT private_key FROM token_request WHERE id = $id", ("$id", requestId.ToString())).ExecuteScalar() as byte[] ?? []);
        var key = store.Unseal(sealedKey, PrivateKeyPurpose(requestId), keyOwner,
            "This key cannot be recovered: create a new request (New-AdeTokenRequest), upload its PEM to the MDM server in Apple Business Manager and add the token it gives with New-AdeToken (remove the old token first), or restore the store together with its own key file.");
        byte[] plaintext;
        try
        {
            plaintext = ServerTokenFile.Decrypt(path, der, certificatePem, key, keyOwner);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        ServerTokenContent content;
        try
        {
            content = ServerTokenFile.ParseContent(path, plaintext);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(plaintext);
        }

        if (content.AccessTokenExpiry <= time.GetUtcNow())
        {
            throw ErrorCatalog.TokenExpired(path, content.AccessTokenExpiry);
        }

        host.WriteVerbose($"Decrypted the server token in '{path}' with the key of {keyOwner}.");
        return content;
    }

    /// <summary>
    /// The one check of a server token with Apple (POST /session, GET /account), for New-AdeToken and Update-AdeToken:
    /// Apple must accept the credentials before they are stored; a refusal throws the catalogued Apple error.
    /// Null when this service has no verifier (engine tests without an Apple service).
    /// </summary>
    private AppleAccount? VerifyWithApple(Uri serviceUri, ServerTokenContent content, string tokenName)
        => verifier?.Verify(serviceUri, content, tokenName);

    private void WarnIfExpiringSoon(AdeToken token)
    {
        if (token.Status == AdeTokenStatus.ExpiringSoon)
        {
            host.WriteWarning($"Token '{token.Name}' expires in {token.DaysUntilExpiry} days ({token.ExpiresAt:u}). Renew it in Apple Business Manager and run Update-AdeToken.");
        }
    }

    // ---- validation ------------------------------------------------------------------------------------------------

    /// <summary>ABM names downloads "&lt;server&gt;_Token_&lt;timestamp&gt;_smime.p7m": use the server name as the default token name.</summary>
    internal static string NameFromFile(string path)
    {
        var file = System.IO.Path.GetFileNameWithoutExtension(path);
        var index = file.IndexOf("_Token_", StringComparison.OrdinalIgnoreCase);
        var name = TextRules.Neutralise((index > 0 ? file[..index] : file).Trim())!;
        if (name.Length == 0)
        {
            name = "ADE token";
        }

        return name.Length > MaxNameLength ? name[..MaxNameLength] : name;
    }

    private static void ValidateName(string name)
    {
        TextRules.RefuseControlCharacters("Name", name);
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength || name != name.Trim())
        {
            throw ErrorCatalog.ArgumentInvalid("Name", name, $"a token name is 1 to {MaxNameLength} characters without leading or trailing spaces.");
        }
    }

    private static string ValidateAppleId(string appleId)
    {
        if (!AppleIdPattern.IsMatch(appleId ?? ""))
        {
            throw ErrorCatalog.ArgumentInvalid("AppleId", appleId ?? "", "give the Apple ID (an email address) of the Apple Business Manager account that created or renews this token.");
        }

        return appleId!.Trim();
    }

    private static string? ValidateEnrollmentUrl(string? url)
    {
        if (url is null)
        {
            return null;
        }

        if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps)
        {
            throw ErrorCatalog.ArgumentInvalid("EnrollmentUrl", url, "the MDM enrollment URL must be an absolute https:// URL.");
        }

        return uri.ToString();
    }

    /// <summary>
    /// The service a token talks to: Apple's (https, an apple.com host) or a simulator or test service on this
    /// computer's loopback address. Any other address would receive the token's secrets and sessions, so it needs
    /// <c>-AllowNonAppleServiceUri</c> and is warned about.
    /// </summary>
    private Uri ValidateServiceUri(Uri? uri, bool allowNonApple)
    {
        if (uri is null)
        {
            return AppleServiceUri;
        }

        // A relative Uri (PowerShell turns -ServiceUri foo into one) has no Scheme: test IsAbsoluteUri first.
        if (!uri.IsAbsoluteUri || !(uri.Scheme == Uri.UriSchemeHttps || (uri.Scheme == Uri.UriSchemeHttp && uri.IsLoopback)))
        {
            throw ErrorCatalog.ArgumentInvalid("ServiceUri", uri.ToString(), "Apple's ADE service is reached over https (http is allowed only for a simulator on this computer's loopback address).");
        }

        if (!uri.UserInfo.Equals("", StringComparison.Ordinal) || TextRules.HasUnsafe(uri.OriginalString))
        {
            throw ErrorCatalog.ArgumentInvalid("ServiceUri", TextRules.Neutralise(uri.OriginalString)!, "the address may not carry a user name, a password or control characters.");
        }

        if (!IsTrustedServiceUri(uri))
        {
            if (!allowNonApple)
            {
                throw ErrorCatalog.ServiceUriNotApple(uri.ToString());
            }

            host.WriteWarning($"The token will send its secrets and sessions to '{uri}', which is not Apple's ADE service (https://mdmenrollment.apple.com) nor on this computer's loopback address.");
        }

        return uri;
    }

    /// <summary>Apple's own hosts over https, or loopback.</summary>
    internal static bool IsTrustedServiceUri(Uri uri)
        => uri.IsLoopback
           || (uri.Scheme == Uri.UriSchemeHttps && (uri.Host.Equals("apple.com", StringComparison.OrdinalIgnoreCase) || uri.Host.EndsWith(".apple.com", StringComparison.OrdinalIgnoreCase)));

    private static IReadOnlyList<string> NormaliseScopeTags(IReadOnlyList<string>? tags)
    {
        if (tags is null || tags.Count == 0)
        {
            return ["Default"];
        }

        var result = new List<string>();
        foreach (var tag in tags)
        {
            var t = tag?.Trim() ?? "";
            if (t.Length is 0 or > 128)
            {
                throw ErrorCatalog.ArgumentInvalid("ScopeTag", tag ?? "", "a scope tag is 1 to 128 characters.");
            }

            if (!result.Contains(t, StringComparer.OrdinalIgnoreCase))
            {
                result.Add(t);
            }
        }

        return result;
    }
}

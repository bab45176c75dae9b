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

        store.Write(s =>
        {
            s.TokenRequests.Insert(new TokenRequestRow(id, now, generated.Thumbprint, generated.CertificatePem, sealedKey, null));
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
        return store.Read(s => s.TokenRequests.List(id, pendingOnly))
            .Select(r => new AdeTokenRequest(r.Id, r.CreatedAt, r.Thumbprint, r.CertificatePem, CertificateNotAfter(r.CertificatePem), r.TokenName, null))
            .ToList();
    }

    private static DateTimeOffset CertificateNotAfter(string pem)
    {
        using var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(pem);
        return new DateTimeOffset(certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero);
    }

    internal AdeTokenRequest ResolveRequest(string request)
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

        AppleAccount? account;
        try
        {
            account = VerifyWithApple(serviceUri, content, args.Name ?? name);
        }
        catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.AppleTokenRejected))
        {
            throw ErrorCatalog.AppleTokenRejected(ex, path);
        }

        if (args.Name is null && !string.IsNullOrWhiteSpace(account?.ServerName))
        {
            var serverName = account.ServerName.Trim();
            name = SafeText.Truncate(serverName, MaxNameLength);
        }

        var consumerKeyHash = ConsumerKeyHash(content.ConsumerKey);
        store.Write(s =>
        {
            if (s.Tokens.Count() >= MaxTokens)
            {
                throw ErrorCatalog.TokenLimitReached(MaxTokens);
            }

            var existing = s.Tokens.NameOfConsumerKeyHash(consumerKeyHash);
            if (existing is not null)
            {
                throw ErrorCatalog.TokenAlreadyExists(existing, newRequestKey: true);
            }

            var stored = s.TokenRequests.List(request.Id).SingleOrDefault();
            if (stored is not { TokenId: null })
            {
                throw ErrorCatalog.TokenRequestAlreadyUsed(request.Id, stored?.TokenName ?? "?");
            }

            var finalName = name;
            var names = s.Tokens.Names();
            if (args.Name is null)
            {
                for (var n = 2; TextRules.NameTaken(names, finalName); n++)
                {
                    var suffix = $" ({n})"; // shorten the base so the name stays within MaxNameLength
                    finalName = SafeText.Truncate(name, MaxNameLength - suffix.Length).TrimEnd() + suffix;
                }
            }
            else if (TextRules.NameTaken(names, finalName))
            {
                throw ErrorCatalog.TokenNameConflict(finalName);
            }

            s.Tokens.Insert(new TokenRow(id, finalName, appleId, consumerKeyHash, SealCredentials(id, content), content.AccessTokenExpiry, request.Id,
                enrollmentUrl, scopeTags, serviceUri, FactsOf(account), InvalidReason: null, TermsNotSignedAt: null, CreatedAt: now, ModifiedAt: now));
            s.TokenRequests.MarkUsed(request.Id, id);
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
        var tokens = store.ReadStatement(s => s.Tokens.List(id)).Select(r => ToToken(r, now)).ToList();
        return name is null ? tokens : Wildcard.Select(tokens, t => t.Name, name);
    }

    /// <summary>A token as Get-AdeToken lists it, from a row of the token list (also read by the sync's -IfDue batches).</summary>
    internal static AdeToken ToToken(TokenListRow row, DateTimeOffset now) => ToToken(row, row, now);

    /// <summary>
    /// The one mapping of a stored token to what the module shows: its stored facts, and when <paramref name="listed"/>
    /// is given (a row of the token list) its counts, default profiles and sync history; without it those stay empty.
    /// </summary>
    private static AdeToken ToToken(IStoredTokenFacts row, TokenListRow? listed, DateTimeOffset now)
    {
        var defaults = new SortedDictionary<DevicePlatform, string>();
        foreach (var d in listed?.DefaultProfiles ?? [])
        {
            defaults[d.Platform] = d.ProfileName;
        }

        var (nextManual, nextFull) = listed is null ? default : SyncPolicy.NextAllowed(listed.History, now);
        return new AdeToken
        {
            Id = row.Id,
            Name = row.Name,
            AppleId = row.AppleId,
            ExpiresAt = row.ExpiresAt,
            DaysUntilExpiry = (int)Math.Floor((row.ExpiresAt - now).TotalDays),
            Status = StatusOf(row.ExpiresAt, row.InvalidReason, now),
            InvalidReason = row.InvalidReason,
            EnrollmentUrl = row.EnrollmentUrl,
            ScopeTags = ValueList.Of(row.ScopeTags),
            ServiceUri = row.ServiceUri,
            ServerName = row.Server.ServerName,
            ServerUuid = row.Server.ServerUuid,
            OrgName = row.Server.OrgName,
            OrgType = row.Server.OrgType,
            AdminId = row.Server.AdminId,
            RequestId = row.RequestId,
            CreatedAt = row.CreatedAt,
            ModifiedAt = row.ModifiedAt,
            ProfileCount = listed?.ProfileCount ?? 0,
            DeviceCount = listed?.DeviceCount ?? 0,
            DevicesInAbm = listed is null ? 0 : listed.DeviceCount - listed.RemovedCount,
            DefaultProfiles = defaults,
            LastSync = listed?.History.LastSyncStartedAt,
            LastSuccessfulSync = listed?.History.LastSuccessfulSyncAt,
            NextManualSyncAt = nextManual,
            NextFullSyncAt = nextFull,
        };
    }

    /// <summary>
    /// Runs a call to Apple for <paramref name="token"/>; when Apple rejects the token (expired, revoked, replaced by a
    /// newer download) the token is marked Invalid, so Get-AdeToken shows it, and the error goes on to the caller.
    /// </summary>
    internal T Guard<T>(AdeToken token, Func<T> call)
    {
        T answer;
        try
        {
            answer = call();
        }
        catch (AdeException ex)
        {
            RecordAppleRefusal(token.Id, ex);
            throw;
        }

        RecordAppleAcceptance(token.Id);
        return answer;
    }

    /// <summary>Tokens whose Apple refusals this engine has cleared since Apple last refused them: one write per token, not per call.</summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<Guid, byte> acceptedSinceRefusal = new();

    /// <summary>
    /// The one home of "Apple refused this token": <c>AppleTokenRejected</c> marks the token Invalid (the reason is
    /// the error's message); <c>AppleTermsNotSigned</c> is kept on the token (Test-AdeHealth). Both hold until Apple
    /// accepts the token again (<see cref="RecordAppleAcceptance"/>, or a successful sync) or Update-AdeToken replaces
    /// it. Any other error changes nothing.
    /// </summary>
    internal void RecordAppleRefusal(Guid tokenId, AdeException error)
    {
        switch (error.ErrorId)
        {
            case nameof(ErrorCatalog.AppleTokenRejected):
                acceptedSinceRefusal.TryRemove(tokenId, out _);
                store.Write(s =>
                {
                    s.Tokens.SetInvalidReason(tokenId, error.Message);
                    return 0;
                });
                break;
            case nameof(ErrorCatalog.AppleTermsNotSigned):
                acceptedSinceRefusal.TryRemove(tokenId, out _);
                store.Write(s =>
                {
                    s.Tokens.SetTermsNotSignedAt(tokenId, time.GetUtcNow());
                    return 0;
                });
                break;
        }
    }

    /// <summary>
    /// Apple answered a call of the token: a refusal recorded before (a passing 401, terms since accepted) no longer
    /// holds, so the token is Active again and Test-AdeHealth passes without waiting for the next sync. Written once
    /// per token until Apple refuses it again; the write changes only a token that holds such a mark.
    /// </summary>
    internal void RecordAppleAcceptance(Guid tokenId)
    {
        if (acceptedSinceRefusal.TryAdd(tokenId, 0))
        {
            store.Write(s => s.Tokens.ClearAppleRefusals(tokenId));
        }
    }

    /// <summary>
    /// Expired comes first: Apple refuses an expired token (TOKEN_EXPIRED), and that refusal must not turn the status a
    /// script branches on ("download a new token") into Invalid.
    /// </summary>
    internal static AdeTokenStatus StatusOf(DateTimeOffset expires, string? invalidReason, DateTimeOffset now)
    {
        if (expires <= now)
        {
            return AdeTokenStatus.Expired;
        }

        if (invalidReason is not null)
        {
            return AdeTokenStatus.Invalid;
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

    /// <summary>
    /// Every token a -Token filter of a Get- cmdlet names: the token of an Id or of an exact name, else every token the
    /// text matches as a wildcard (none for a wildcard that matches none). A text without wildcards that names no
    /// token is TokenNotFound. Commands that act on one token use <see cref="ResolveToken"/>, which refuses several.
    /// </summary>
    public IReadOnlyList<AdeToken> ResolveTokens(string token)
    {
        if (Guid.TryParse(token, out _))
        {
            return [ResolveToken(token)];
        }

        var matches = GetTokens(token);
        return matches.Count == 0 && !Wildcard.IsPattern(token) ? throw ErrorCatalog.TokenNotFound(token) : matches;
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

        if (!string.Equals(newAppleId, token.AppleId, StringComparison.OrdinalIgnoreCase))
        {
            // before the write: a warning that stops the command (-WarningAction Inquire, or -Debug in a session that
            // cannot ask) then stops it before anything is stored, not after, when "nothing was saved" would be wrong
            host.WriteWarning($"The Apple ID of token '{token.Name}' changes from '{token.AppleId}' to '{newAppleId}'. Devices already enrolled are not affected; renew this token with '{newAppleId}' from now on.");
        }

        var consumerKeyHash = ConsumerKeyHash(content.ConsumerKey);
        store.WriteRemovingSecrets(s => // the replaced credentials must not survive in free pages or the -wal
        {
            var other = s.Tokens.NameOfConsumerKeyHash(consumerKeyHash, except: token.Id);
            if (other is not null)
            {
                throw ErrorCatalog.TokenAlreadyExists(other);
            }

            s.Tokens.Renew(token.Id, SealCredentials(token.Id, content), consumerKeyHash, content.AccessTokenExpiry, newAppleId, FactsOf(account), time.GetUtcNow());
            return 0;
        });

        host.WriteVerbose($"Renewed token '{token.Name}'; it now expires on {content.AccessTokenExpiry:u}.");
        var updated = GetTokens(id: token.Id).Single();
        WarnIfExpiringSoon(updated);
        return updated;
    }

    /// <summary>Changes a token's name, scope tags or enrollment URL; the token as it is then (unchanged when nothing differs), or null under -WhatIf.</summary>
    public AdeToken? SetToken(SetTokenArgs args)
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
        if (tags is not null && !tags.SequenceEqual(token.ScopeTags, StringComparer.Ordinal)) changes.Add($"scope tags {string.Join(", ", tags)}");
        if (url is not null && !string.Equals(url, token.EnrollmentUrl, StringComparison.Ordinal)) changes.Add($"enrollment URL {url}");
        if (changes.Count == 0)
        {
            return token;
        }

        if (!host.ShouldProcess(token.Name, "Set " + string.Join("; ", changes)))
        {
            return null;
        }

        store.Write(s =>
        {
            if (args.Name is not null && TextRules.NameTaken(s.Tokens.Names(), args.Name, except: token.Id))
            {
                throw ErrorCatalog.TokenNameConflict(args.Name);
            }

            s.Tokens.UpdateSettings(token.Id, args.Name, tags, url, time.GetUtcNow());
            return 0;
        });

        return GetTokens(id: token.Id).Single();
    }

    /// <summary>Removes a token that has no devices, no default profile and no profiles; refuses naming each blocker.</summary>
    public bool RemoveToken(string tokenRef)
    {
        var token = ResolveToken(tokenRef);
        CheckNoDependents(token.Name, store.Read(s => s.Tokens.List(token.Id)).SingleOrDefault());
        if (!host.ShouldProcess(token.Name, "Remove ADE token (its OAuth credentials and private key are deleted from the store)"))
        {
            return false;
        }

        // secure_delete zeroes the rows' old content; the -wal is then checkpointed and truncated (docs/security.md).
        store.WriteRemovingSecrets(s =>
        {
            CheckNoDependents(token.Name, s.Tokens.List(token.Id).SingleOrDefault()); // again under the write lock: a sync may have added devices
            // a first sync that has not written its first page yet leaves no devices to see, only its lease
            var sync = s.Sync.GetState(token.Id);
            if (SyncPolicy.RefusalWhileSyncRuns(token.Name, sync?.LeaseId, sync?.LeaseExpiresAt, time.GetUtcNow()) is { } running)
            {
                throw running;
            }

            s.Tokens.Delete(token.Id);
            s.TokenRequests.Delete(token.RequestId);
            return 0;
        });
        host.WriteVerbose($"Removed token '{token.Name}'.");
        return true;
    }

    private static void CheckNoDependents(string name, TokenListRow? row)
    {
        if (row is null)
        {
            return;
        }

        // Every platform's default counts: "'Staff'" for a token's one iOS default, else "'Staff' (iOS), 'Macs' (macOS)".
        var defaults = row.DefaultProfiles.Count == 0 ? null
            : row.DefaultProfiles is [{ Platform: DevicePlatform.iOS } only] ? $"'{only.ProfileName}'"
            : string.Join(", ", row.DefaultProfiles.Select(d => $"'{d.ProfileName}' ({d.Platform})"));
        if (row.DeviceCount > 0 || defaults is not null || row.ProfileCount > 0)
        {
            throw ErrorCatalog.TokenHasDependents(name, row.DeviceCount, defaults, row.ProfileCount);
        }
    }

    // ---- secrets ---------------------------------------------------------------------------------------------------

    /// <summary>The OAuth credentials of a token, decrypted. For the Apple client only; never output them.</summary>
    internal ServerTokenContent GetCredentials(Guid tokenId)
        => OpenCredentials(store.Read(s => s.Tokens.Get(tokenId)) ?? throw ErrorCatalog.TokenNotFound(tokenId.ToString()));

    /// <summary>What an Apple client needs to act for <paramref name="token"/> (its credentials decrypted): for <see cref="AppleClientFactory.ForToken"/>.</summary>
    internal AppleTokenCredentials Credentials(AdeToken token)
    {
        var row = store.Read(s => s.Tokens.Get(token.Id)) ?? throw ErrorCatalog.TokenNotFound(token.Id.ToString());
        return new AppleTokenCredentials(row.Id, row.Name, row.ServiceUri, OpenCredentials(row));
    }

    /// <summary>
    /// A token for calls to Apple on its behalf (an assignment), from one read of its own row: its stored facts, and
    /// its credentials decrypted on first use. The counts, default profiles and sync history of the token list are
    /// left empty: the list joins profiles, default profiles and sync state, and on SQLite counts the token's devices,
    /// which reads every one of them (PostgreSQL keeps the count since schema 9, where counting 200,000 rows took
    /// twice the time of a batch of an assignment).
    /// </summary>
    internal (AdeToken Token, Func<AppleTokenCredentials> Credentials) ForCalls(Guid id)
    {
        var row = store.Read(s => s.Tokens.Get(id)) ?? throw ErrorCatalog.TokenNotFound(id.ToString());
        var token = ToToken(row, null, time.GetUtcNow());
        return (token, () => new AppleTokenCredentials(row.Id, row.Name, row.ServiceUri, OpenCredentials(row)));
    }

    /// <summary>
    /// Everything a sync needs about its token in one read of the store: the token as listed, its default profiles
    /// by platform and (decrypted on first use, so a sync that is not due never opens them) its Apple credentials.
    /// </summary>
    internal TokenForSync ForSync(string tokenRef)
    {
        var id = SyncTokenId(tokenRef);
        var now = time.GetUtcNow();
        return store.Read(s => ForSync(s, id, now)) ?? throw ErrorCatalog.TokenNotFound(tokenRef);
    }

    /// <summary>The id of the token a sync names: a token Id as it is (an unknown one is found out by the read that follows), else the resolved name.</summary>
    internal Guid SyncTokenId(string tokenRef) => Guid.TryParse(tokenRef, out var parsed) ? parsed : ResolveToken(tokenRef).Id;

    /// <summary>
    /// <see cref="ForSync(string)"/> inside the caller's transaction: a batch of piped tokens reads each due token's
    /// credentials in the write that takes its lease, so they are those of that moment. Null when there is no such token.
    /// </summary>
    internal TokenForSync? ForSync(IStoreSession s, Guid id, DateTimeOffset now)
        => ForSync(s.Tokens.List(id).SingleOrDefault(), s, id, now);

    /// <summary>
    /// <see cref="ForSync(IStoreSession, Guid, DateTimeOffset)"/> and the token's sync state (null before its first
    /// sync): the listed token comes with its state in one statement, as a scheduler's batch reads them.
    /// </summary>
    internal (TokenForSync? Token, SyncStateRow? State) ForSyncWithState(IStoreSession s, Guid id, DateTimeOffset now)
    {
        var (listed, state) = s.Tokens.ListOfWithSyncStates([id]).SingleOrDefault();
        return (ForSync(listed, s, id, now), state);
    }

    private TokenForSync? ForSync(TokenListRow? listed, IStoreSession s, Guid id, DateTimeOffset now)
    {
        var row = listed is null ? null : s.Tokens.Get(id);
        if (listed is null || row is null)
        {
            return null;
        }

        return new TokenForSync(
            ToToken(listed, now),
            listed.DefaultProfiles.Where(d => d.ProfileId != Guid.Empty).ToDictionary(d => d.Platform, d => d.ProfileId),
            () => new AppleTokenCredentials(row.Id, row.Name, row.ServiceUri, OpenCredentials(row)));
    }

    /// <summary>
    /// The token's credentials for a call to Apple: the one place every call on a token's behalf opens them. A token
    /// past its expiry date is refused here (<c>StoredTokenExpired</c>): Apple refuses it anyway, so nothing is sent.
    /// </summary>
    private ServerTokenContent OpenCredentials(TokenRow row)
    {
        var name = row.Name;
        if (row.ExpiresAt <= time.GetUtcNow())
        {
            throw ErrorCatalog.StoredTokenExpired(name, row.ExpiresAt);
        }

        var json = store.Unseal(row.Credentials, CredentialsPurpose(row.Id), $"token '{name}'",
            $"Download the token of this MDM server again from Apple Business Manager and run Update-AdeToken -Token '{name}' -Path <token.p7m>, or restore the store together with its own key file.");
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

            return new ServerTokenContent(parts[0], parts[1], parts[2], parts[3], row.ExpiresAt);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(json);
        }
    }

    private static TokenServerFacts FactsOf(AppleAccount? account)
        => account is null ? TokenServerFacts.None
            : new TokenServerFacts(account.ServerName, account.ServerUuid, account.OrgName, account.OrgType, account.AdminId ?? account.FacilitatorId);

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

    internal static string CredentialsPurpose(Guid tokenId) => SecretPurposes.TokenCredentials(tokenId);

    internal static string PrivateKeyPurpose(Guid requestId) => SecretPurposes.TokenRequestPrivateKey(requestId);

    private static string ConsumerKeyHash(string consumerKey) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(consumerKey)));

    /// <summary>Reads, decrypts and checks a .p7m with the private key of <paramref name="requestId"/>.</summary>
    private ServerTokenContent ReadTokenFile(string path, Guid requestId, string certificatePem, string keyOwner)
    {
        var der = ServerTokenFile.ReadEnvelope(path);
        var sealedKey = store.Read(s => s.TokenRequests.PrivateKey(requestId)) ?? [];
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

        return SafeText.Truncate(name, MaxNameLength);
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
        if (appleId is not { Length: <= 254 } || !AppleIdPattern.IsMatch(appleId))
        {
            throw ErrorCatalog.ArgumentInvalid("AppleId", appleId ?? "", "give the Apple ID (an email address, at most 254 characters) of the Apple Business Manager account that created or renews this token.");
        }

        return appleId!.Trim();
    }

    /// <summary>The longest MDM enrollment URL taken (the length browsers and servers commonly accept).</summary>
    internal const int MaxEnrollmentUrlLength = 2048;

    /// <summary>
    /// The MDM enrollment URL Apple hands to every device of the token's profiles: an absolute https URL, without
    /// credentials (user:password@ would reach every device), at most <see cref="MaxEnrollmentUrlLength"/> characters.
    /// A refusal shows the URL without its user info and query, which may hold secrets.
    /// </summary>
    private static string? ValidateEnrollmentUrl(string? url)
    {
        if (url is null)
        {
            return null;
        }

        // On Linux and macOS a path ('/enroll') parses as an absolute file: URI; it is a relative address here
        var parsed = Uri.TryCreate(url, UriKind.Absolute, out var uri) && !(uri.IsFile && !url.TrimStart().StartsWith("file:", StringComparison.OrdinalIgnoreCase)) ? uri : null;
        var shown = parsed is not null ? TextRules.ShownUri(parsed) : "(not a valid absolute URL)";
        if (TextRules.HasUnsafe(url))
        {
            // Apple hands the URL to every device; a line break or an escape sequence in it is never meant
            throw ErrorCatalog.ArgumentInvalid("EnrollmentUrl", shown, "it contains control or invisible formatting characters (a line break, an escape sequence).");
        }

        if (url.Length > MaxEnrollmentUrlLength)
        {
            throw ErrorCatalog.ArgumentInvalid("EnrollmentUrl", shown, $"it is {Counted.N(url.Length)} characters long; an enrollment URL has at most {Counted.N(MaxEnrollmentUrlLength)}.");
        }

        if (parsed is null || parsed.Scheme != Uri.UriSchemeHttps)
        {
            throw ErrorCatalog.ArgumentInvalid("EnrollmentUrl", shown, "the MDM enrollment URL must be an absolute https:// URL.");
        }

        if (parsed.UserInfo.Length > 0)
        {
            throw ErrorCatalog.ArgumentInvalid("EnrollmentUrl", shown, "it holds a user name or password (user:password@). Apple hands this URL to every device of the token's profiles, so it must not carry credentials: give the URL without them.");
        }

        // stored as it is sent, percent-encoded (Uri.ToString() would decode an encoded bidirectional override into the text)
        return parsed.AbsoluteUri;
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
            throw ErrorCatalog.ArgumentInvalid("ServiceUri", TextRules.ShownUri(uri), "Apple's ADE service is reached over https (http is allowed only for a simulator on this computer's loopback address).");
        }

        if (!uri.UserInfo.Equals("", StringComparison.Ordinal) || TextRules.HasUnsafe(uri.OriginalString))
        {
            throw ErrorCatalog.ArgumentInvalid("ServiceUri", TextRules.ShownUri(uri), "the address may not carry a user name, a password or control characters.");
        }

        if (!IsTrustedServiceUri(uri))
        {
            if (!allowNonApple)
            {
                throw ErrorCatalog.ServiceUriNotApple(TextRules.ShownUri(uri));
            }

            host.WriteWarning($"The token will send its secrets and sessions to '{TextRules.ShownUri(uri)}', which is not Apple's ADE service (https://mdmenrollment.apple.com) nor on this computer's loopback address.");
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

            // shown in every listing of tokens, profiles and devices: no character that could rewrite the terminal, and no
            // ';', which separates the tags where a list is written as one text (Export-Csv, the journal)
            if (TextRules.HasUnsafe(t) || t.Contains(';', StringComparison.Ordinal))
            {
                throw ErrorCatalog.ArgumentInvalid("ScopeTag", t, "a scope tag may not contain ';', control characters or invisible formatting characters.");
            }

            if (!result.Contains(t, StringComparer.OrdinalIgnoreCase))
            {
                result.Add(t);
            }
        }

        return result;
    }
}

using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Engine.Security;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Health;

/// <summary>One check of Test-AdeHealth for one token (or the store).</summary>
public sealed class AdeHealthResult
{
    internal AdeHealthResult() { }

    /// <summary>Store, TokenExpiry, AppleTerms, TokenRejected, LastSync, SyncLease, DevicesWithoutProfile, DevicesHeldAfterFailure.</summary>
    public string Check { get; internal init; } = "";

    /// <summary>The token's name; empty for the store check.</summary>
    public string Token { get; internal init; } = "";

    public AdeHealthStatus Status { get; internal init; }

    public string Detail { get; internal init; } = "";

    /// <summary>The exact command (or ABM step) that fixes it; empty when the check passes.</summary>
    public string Remedy { get; internal init; } = "";

    public override string ToString() => $"{Status} {Check} {Token}".TrimEnd();
}

/// <summary>What one Test-AdeHealth command has checked so far (<see cref="HealthService.Test"/>).</summary>
public sealed class HealthChecked
{
    public bool Store { get; set; }

    public HashSet<Guid> Tokens { get; } = [];
}

/// <summary>
/// Test-AdeHealth (docs/Test-AdeHealth.md): every rule of "is this store and its tokens healthy" lives here, so a
/// nightly script and an admin at the prompt see the same verdict.
/// </summary>
public sealed class HealthService
{
    public static readonly TimeSpan ExpiryWarning = TimeSpan.FromDays(30);
    public static readonly TimeSpan SyncWarning = TimeSpan.FromHours(24);
    public static readonly TimeSpan SyncFail = TimeSpan.FromDays(7);
    public static readonly TimeSpan DefaultUnassignedThreshold = TimeSpan.FromHours(24);

    private readonly AdeStore store;
    private readonly TimeProvider time;
    private readonly TokenService tokens;
    private readonly ProfileService profiles;

    internal HealthService(AdeStore store, TimeProvider time, TokenService tokens, ProfileService profiles)
    {
        this.store = store;
        this.time = time;
        this.tokens = tokens;
        this.profiles = profiles;
    }

    /// <summary>The longest -UnassignedThreshold taken: longer than any device could wait, and still a date when taken from now.</summary>
    public static readonly TimeSpan MaxUnassignedThreshold = TimeSpan.FromDays(3650);

    /// <summary>
    /// The store check, then every check of each token that <paramref name="tokenRef"/> names (all when null; every
    /// match of a wildcard). With <paramref name="done"/> (one per command, over its piped input), the store and each
    /// token are checked once however often they are named: piping 200 devices of one token gives one set of results.
    /// </summary>
    public IEnumerable<AdeHealthResult> Test(string? tokenRef = null, TimeSpan? unassignedThreshold = null, HealthChecked? done = null)
    {
        var threshold = unassignedThreshold ?? DefaultUnassignedThreshold;
        if (threshold < TimeSpan.Zero || threshold > MaxUnassignedThreshold)
        {
            throw ErrorCatalog.ArgumentInvalid("UnassignedThreshold", threshold.ToString(), "give a duration from zero to 3,650 days (ten years), e.g. (New-TimeSpan -Hours 48).");
        }

        var selected = tokenRef is null ? tokens.GetTokens() : tokens.ResolveTokens(tokenRef);
        if (done is not { Store: true })
        {
            done?.Store = true;
            yield return StoreCheck(holdsTokens: selected.Count > 0 || (tokenRef is not null && tokens.GetTokens().Count > 0));
        }

        var now = time.GetUtcNow();
        foreach (var token in selected.Where(t => done?.Tokens.Add(t.Id) != false))
        {
            foreach (var result in TokenChecks(token, now, threshold))
            {
                yield return result;
            }
        }
    }

    private AdeHealthResult StoreCheck(bool holdsTokens)
    {
        var version = store.Read(s => s.Meta.ReadSchemaVersion());
        if (version != Schema.LatestVersion)
        {
            return Result("Store", "", AdeHealthStatus.Fail, $"The store '{store.Path}' has schema version {version}; this module expects {Schema.LatestVersion}.",
                $"Connect-AdeStore -Path '{store.Path}'");
        }

        try
        {
            _ = store.Secrets; // opens the key and checks it against the store's key check
        }
        catch (AdeException ex)
        {
            return Result("Store", "", AdeHealthStatus.Fail, ex.Message, ex.ErrorId == nameof(ErrorCatalog.StoreKeyMissing)
                ? $"Restore the key file '{StoreKey.KeyFilePath(store.Path)}' from backup"
                : $"Connect-AdeStore -Path '{store.Path}' -Key (Read-Host -AsSecureString 'Store passphrase')");
        }

        // A store without any token syncs nothing: after a mistyped or unmounted store path, the store a cmdlet just
        // created there; a nightly check must not call that healthy.
        return holdsTokens
            ? Result("Store", "", AdeHealthStatus.Pass, $"Schema version {version}; the {store.KeyProtection} key opens the store's secrets.", "")
            : Result("Store", "", AdeHealthStatus.Fail, $"The store '{store.Path}' holds no ADE token, so nothing is synced. If tokens were expected, this is not the store they are in: check $env:ADE_ENROLLMENT_STORE, the path and its volume.",
                "New-AdeToken, or Connect-AdeStore -Path <the store with the tokens>");
    }

    /// <summary>
    /// The Store check's result when the session's store does not exist (yet): not created by a check, which would leave
    /// an empty store and its key file at a mistyped path or on the mount point of an unmounted volume.
    /// </summary>
    public static AdeHealthResult StoreMissing(string path) => Result("Store", "", AdeHealthStatus.Fail,
        $"There is no store at '{path}', so nothing is synced there. If tokens were expected, this is not where they are: check $env:ADE_ENROLLMENT_STORE, the path and its volume.",
        "Connect-AdeStore -Path <the store with the tokens>, or New-AdeToken to start one here");

    /// <summary>
    /// The Store check's result when the store cannot be opened at all (a damaged or newer store, a path that cannot be
    /// opened, a store deleted under the session, a key that does not open it): Fail, with the error's message.
    /// </summary>
    public static AdeHealthResult StoreUnusable(AdeException error) => Result("Store", "", AdeHealthStatus.Fail, error.Message, error.ErrorId switch
    {
        nameof(ErrorCatalog.StoreSchemaTooNew) => "Update-Module AdeEnrollment (or Install-PSResource AdeEnrollment)",
        nameof(ErrorCatalog.StoreInvalid) or nameof(ErrorCatalog.StoreUpgradeFailed) => "Restore the store file and its key file from a backup",
        nameof(ErrorCatalog.StoreDeleted) or nameof(ErrorCatalog.StoreNotConnected) => "Disconnect-AdeStore, or Connect-AdeStore -Path <store>",
        _ => "Connect-AdeStore -Path <store> (check the path, its permissions, and the key or passphrase)",
    });

    /// <summary>Whether an error is the store failing to open (reported as the Store check by Test-AdeHealth).</summary>
    public static bool IsStoreUnusable(AdeException error) => error.ErrorId is nameof(ErrorCatalog.StoreInvalid) or nameof(ErrorCatalog.StoreSchemaTooNew) or nameof(ErrorCatalog.StoreUpgradeFailed)
        or nameof(ErrorCatalog.StoreUnavailable) or nameof(ErrorCatalog.StoreDeleted) or nameof(ErrorCatalog.StoreNotConnected) or nameof(ErrorCatalog.StoreKeyInvalid)
        or nameof(ErrorCatalog.StoreKeyKindMismatch) or nameof(ErrorCatalog.StoreKeyMissing) or nameof(ErrorCatalog.StoreAccessDenied)
        or nameof(ErrorCatalog.StorePassphraseRequired) or nameof(ErrorCatalog.StoreConnectionStringInvalid);

    private sealed record TokenState(DateTimeOffset? TermsNotSigned, DateTimeOffset? LastSuccess, string? LeaseId, DateTimeOffset? LeaseExpires,
        IReadOnlyList<DeviceFamilyCount> Unassigned, long HeldAfterFailure, DateTimeOffset? LatestFailure, SyncHistoryRow? LastFailed);

    private IEnumerable<AdeHealthResult> TokenChecks(AdeToken token, DateTimeOffset now, TimeSpan threshold)
    {
        var name = token.Name;
        var quoted = $"'{name.Replace("'", "''", StringComparison.Ordinal)}'";
        var s = Load(token.Id, now, threshold);
        // A manual sync within Apple's limit after the last one is refused (ManualSyncTooSoon): say from when it is allowed.
        var syncNow = token.NextManualSyncAt > now
            ? $"From {token.NextManualSyncAt:u} (the sync limit after the last attempt): Sync-AdeDevice -Token {quoted}"
            : $"Sync-AdeDevice -Token {quoted}";

        var renew = $"Download a new server token in Apple Business Manager, then: Update-AdeToken -Token {quoted} -Path <token.p7m>";

        // Expiry
        if (token.ExpiresAt <= now)
        {
            yield return Result("TokenExpiry", name, AdeHealthStatus.Fail, $"The server token expired on {token.ExpiresAt:u}.",
                renew);
        }
        else if (token.ExpiresAt - now <= ExpiryWarning)
        {
            yield return Result("TokenExpiry", name, AdeHealthStatus.Warning, $"The server token expires on {token.ExpiresAt:u} ({Counted.Of((int)(token.ExpiresAt - now).TotalDays, "day")} left).",
                renew);
        }
        else
        {
            yield return Result("TokenExpiry", name, AdeHealthStatus.Pass, $"The server token expires on {token.ExpiresAt:u}.", "");
        }

        // Terms
        yield return s.TermsNotSigned is { } since
            ? Result("AppleTerms", name, AdeHealthStatus.Fail, $"Apple answered T_C_NOT_SIGNED on {since:u}: the organisation has not accepted Apple's current terms and conditions.",
                $"Accept the new terms in Apple Business Manager (an administrator signs in), then: {syncNow}")
            : Result("AppleTerms", name, AdeHealthStatus.Pass, "Apple's last answer did not ask for new terms to be accepted.", "");

        // Rejected
        yield return token.InvalidReason is { } reason
            ? Result("TokenRejected", name, AdeHealthStatus.Fail, reason.StartsWith("Apple rejected", StringComparison.Ordinal) ? reason : $"Apple rejected the token: {reason}",
                $"Download the server token again in Apple Business Manager, then: Update-AdeToken -Token {quoted} -Path <token.p7m>")
            : Result("TokenRejected", name, AdeHealthStatus.Pass, "Apple has not rejected the token.", "");

        // Last successful sync: while the token itself is expired or rejected, a sync cannot work, so the remedy is the
        // token's first (the TokenExpiry or TokenRejected check names the same step)
        var tokenFirst = token.ExpiresAt <= now || token.InvalidReason is not null
            ? $"{renew}; Sync-AdeDevice -Token {quoted}"
            : null;
        // The latest attempt that failed since the last success (a stopped run after it does not hide it), named: its
        // error ID says what to fix. Apple refusing the MDM server access is not fixed by the next scheduled sync, so it
        // fails the check at once.
        var failedSince = s.LastFailed is { ErrorId: { } failedId } failed && !(s.LastSuccess >= failed.StartedAt)
            ? $" The sync of {failed.StartedAt:u} failed with {failedId}."
            : "";
        var accessDenied = s.LastFailed is { ErrorId: nameof(ErrorCatalog.AppleAccessDenied) } && failedSince.Length > 0;
        var lastRemedy = accessDenied && tokenFirst is null
            ? $"Check in Apple Business Manager that the token's MDM server still exists and that the account that created the token still has the Device Enrollment Manager role (or download a new token: Update-AdeToken -Token {quoted} -Path <token.p7m>), then: {syncNow}"
            : null;
        if (s.LastSuccess is not { } last)
        {
            yield return Result("LastSync", name, accessDenied ? AdeHealthStatus.Fail : AdeHealthStatus.Warning, "The token has never synced successfully." + failedSince, tokenFirst ?? lastRemedy ?? syncNow);
        }
        else if (now - last > SyncFail || accessDenied)
        {
            var when = now - last > SyncFail ? "more than 7 days ago" : now - last > SyncWarning ? "more than 24 hours ago" : "";
            yield return Result("LastSync", name, AdeHealthStatus.Fail, $"The last successful sync was on {last:u}{(when.Length > 0 ? ", " + when : "")}." + failedSince, tokenFirst ?? lastRemedy ?? syncNow);
        }
        else if (now - last > SyncWarning)
        {
            yield return Result("LastSync", name, AdeHealthStatus.Warning, $"The last successful sync was on {last:u}, more than 24 hours ago." + failedSince, tokenFirst ?? $"Sync-AdeDevice -Token {quoted} -IfDue");
        }
        else
        {
            yield return Result("LastSync", name, AdeHealthStatus.Pass, $"The last successful sync was on {last:u}." + failedSince, "");
        }

        // Lease
        yield return s.LeaseId is not null && s.LeaseExpires is { } end && !SyncPolicy.LeaseHolds(end, now)
            ? Result("SyncLease", name, AdeHealthStatus.Warning, end <= now
                    ? $"A sync still holds the token's lease, which ended on {end:u}: that sync stopped without finishing."
                    : $"A sync holds the token's lease until {end:u}, further ahead than a lease runs: the clock went backwards since it was taken, and that sync stopped without finishing.",
                syncNow)
            : Result("SyncLease", name, AdeHealthStatus.Pass, s.LeaseId is null ? "No sync is running." : "A sync is running within its lease.", "");

        // Devices without a profile, per platform (the default that would have given them one is the platform's)
        var hours = Counted.Of((long)threshold.TotalHours, "hour");
        if (s.Unassigned.Count == 0)
        {
            yield return Result("DevicesWithoutProfile", name, AdeHealthStatus.Pass, $"No device assigned in ABM has been without an enrollment profile for more than {hours}.", "");
        }
        else
        {
            foreach (var group in s.Unassigned.GroupBy(u => DevicePlatforms.Of(u.Family, null)).OrderBy(g => g.Key is null ? 1 : 0).ThenBy(g => g.Key))
            {
                // a Shared iPad profile is no candidate for a group with iPhones (the pasted remedy would be refused for them)
                var iPadsOnly = group.All(f => DevicePlatforms.IsIPad(f.Family, null) == true);
                var candidates = group.Key is { } p && !token.DefaultProfiles.ContainsKey(p)
                    ? profiles.NamesOf(token.Id, p, withSharedIPad: iPadsOnly)
                    : [];
                var result = UnassignedResult(name, quoted, token, group.Key, [.. group], hours, candidates);
                // while the token is expired or rejected an assignment can only fail: the token's step comes first
                yield return tokenFirst is null ? result : Result(result.Check, name, result.Status, result.Detail, $"{renew}; {result.Remedy}");
            }
        }

        // Held after FAILED
        // The remedy assigns each device again the profile Apple refused it, once the last of them is free again
        yield return s.HeldAfterFailure > 0
            ? Result("DevicesHeldAfterFailure", name, AdeHealthStatus.Warning,
                $"{Counted.Of(s.HeldAfterFailure, "device")} got FAILED from Apple at the last assignment and {(s.HeldAfterFailure == 1 ? "is" : "are")} held back for 24 hours, until {s.LatestFailure + AssignmentService.FailedCooldown:u} for the last of them.",
                $"From {s.LatestFailure + AssignmentService.FailedCooldown:u}: Get-AdeDevice -Token {quoted} -LastAssignmentResult Failed | Group-Object LastAssignmentProfile | ForEach-Object {{ $_.Group | Set-AdeDeviceProfile -Profile $_.Name }}")
            : Result("DevicesHeldAfterFailure", name, AdeHealthStatus.Pass, "No device is held back after a FAILED assignment.", "");
    }

    /// <summary>
    /// The devices of one platform (null: of no known platform) without a profile: how many, of which families, the
    /// platform's missing default, and the commands that give them a profile — one line that runs as written, or once
    /// its one placeholder is filled when the token has several profiles of the platform (<paramref name="candidates"/>)
    /// or none yet. Devices whose profile was cleared on purpose (Clear-AdeDeviceProfile, or at Apple) are not counted
    /// and are left out of the command: a default profile never goes to them either.
    /// </summary>
    private static AdeHealthResult UnassignedResult(string name, string quoted, AdeToken token, DevicePlatform? platform, IReadOnlyList<DeviceFamilyCount> families, string hours,
        IReadOnlyList<string> candidates)
    {
        var count = families.Sum(f => f.Count);
        var breakdown = string.Join(", ", families.Select(f => $"{(f.Family.Length == 0 ? "family unknown" : f.Family)} {Counted.N(f.Count)}"));
        if (platform is not { } p)
        {
            return Result("DevicesWithoutProfile", name, AdeHealthStatus.Warning,
                $"{Counted.Of(count, "device")} of no known platform ({breakdown}) without an enrollment profile for more than {hours}; no default profile applies to them.",
                $"Get-AdeDevice -Token {quoted} -Unassigned | Where-Object {{ -not $_.Platform -and $_.ProfileStatus -ne 'Removed' }} | Set-AdeDeviceProfile -Profile <profile> -Force");
        }

        var fallback = token.DefaultProfiles.GetValueOrDefault(p);
        var detail = $"{Counted.Of(count, $"{p} device")} ({breakdown}) without an enrollment profile for more than {hours}"
                     + (fallback is not null ? "."
                         : candidates.Count == 0 ? $"; the token has no {p} profile, so new {p} devices arrive without one. Create one first (New-AdeProfile -Token {quoted} -Platform {p} …)."
                         : $"; the token has no default {p} profile, so new {p} devices arrive without one.");
        var assign = $"Get-AdeDevice -Token {quoted} -Unassigned -Platform {p} | Where-Object ProfileStatus -ne 'Removed' | Set-AdeDeviceProfile -Profile ";
        var profile = fallback ?? (candidates is [var only] ? only : null);
        var named = profile is null ? $"<{p} profile>" : $"'{profile.Replace("'", "''", StringComparison.Ordinal)}'";
        return Result("DevicesWithoutProfile", name, AdeHealthStatus.Warning, detail,
            fallback is null
                ? $"Set-AdeDefaultProfile -Token {quoted} -Profile {named}; {assign}{named}"
                : assign + named);
    }

    private TokenState Load(Guid tokenId, DateTimeOffset now, TimeSpan threshold) => store.Read(s =>
    {
        var sync = s.Sync.HealthState(tokenId);
        var held = s.Devices.AssignFailedSince(tokenId, now - AssignmentService.FailedCooldown);
        return new TokenState(
            s.Tokens.Get(tokenId)?.TermsNotSignedAt,
            sync?.LastSuccessAt,
            sync?.LeaseId,
            sync?.LeaseExpiresAt,
            s.Devices.CountWithoutProfile(tokenId, now - threshold),
            held.Count, held.Latest,
            s.Sync.GetHistory(tokenId, 5).FirstOrDefault(h => h.Status == AdeSyncStatus.Failed));
    });

    private static AdeHealthResult Result(string check, string token, AdeHealthStatus status, string detail, string remedy)
        => new() { Check = check, Token = token, Status = status, Detail = detail, Remedy = remedy };
}

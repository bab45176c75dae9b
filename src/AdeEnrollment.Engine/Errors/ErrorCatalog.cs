using System.Globalization;

namespace AdeEnrollment.Engine.Errors;

/// <summary>
/// The one place that defines every catalogued error: its stable ID (public API, pinned in tests), its category
/// and its message. Messages say what happened and what to do; they never contain a secret.
/// </summary>
public static class ErrorCatalog
{
    private static string F(string format, params object?[] args) => string.Format(CultureInfo.InvariantCulture, format, args);

    private static AdeException E(string id, AdeErrorCategory category, string message, object? target = null, Exception? inner = null)
        => new(id, category, message, target, inner);

    // ---- store -------------------------------------------------------------------------------------------------
    public static AdeException StoreInvalid(string path, string reason, Exception? inner = null) => E(nameof(StoreInvalid),
        AdeErrorCategory.InvalidData,
        F("'{0}' is not an AdeEnrollment store ({1}). Point Connect-AdeStore -Path or $env:ADE_ENROLLMENT_STORE at a store file, or at a path that does not exist yet to create a new store.", path, reason),
        path, inner);

    public static AdeException StoreSchemaTooNew(string path, int found, int known) => E(nameof(StoreSchemaTooNew),
        AdeErrorCategory.InvalidData,
        F("The store '{0}' has schema version {1}, but this version of AdeEnrollment knows schema version {2} at most. Update the AdeEnrollment module; the store is left unchanged.", path, found, known),
        path);

    public static AdeException StoreUnavailable(string path, Exception inner) => E(nameof(StoreUnavailable),
        AdeErrorCategory.ResourceUnavailable,
        F("The store '{0}' cannot be opened: {1} Check the path and its permissions.", path, inner.Message),
        path, inner);

    public static AdeException StoreKeyInvalid(string path) => E(nameof(StoreKeyInvalid),
        AdeErrorCategory.SecurityError,
        F("The store key does not open the secrets in '{0}'. Connect with the passphrase the store was created with (Connect-AdeStore -Key, or $env:ADE_ENROLLMENT_STORE_KEY), or restore the key file that belongs to this store.", path),
        path);

    public static AdeException StoreKeyMissing(string path, string keyPath) => E(nameof(StoreKeyMissing),
        AdeErrorCategory.SecurityError,
        F("The store '{0}' holds encrypted secrets, but its key file '{1}' is missing. Restore the key file, or connect with the passphrase if the store was created with one.", path, keyPath),
        path);

    public static AdeException StoreKeyKindMismatch(string path, string storeKind, string givenKind) => E(nameof(StoreKeyKindMismatch),
        AdeErrorCategory.SecurityError,
        F("The store '{0}' protects its secrets with a {1}, but a {2} was given. {3}", path, storeKind, givenKind,
            storeKind == "passphrase"
                ? "Connect with Connect-AdeStore -Key <SecureString> or set $env:ADE_ENROLLMENT_STORE_KEY."
                : "Connect without -Key (and unset $env:ADE_ENROLLMENT_STORE_KEY)."),
        path);

    // ---- token requests ----------------------------------------------------------------------------------------
    public static AdeException ConsentRequired() => E(nameof(ConsentRequired),
        AdeErrorCategory.PermissionDenied,
        "Creating an ADE token shares user and device information with Apple. Run New-AdeTokenRequest again with -AcceptDataSharing to confirm that you agree.");

    public static AdeException TokenRequestNotFound(string request) => E(nameof(TokenRequestNotFound),
        AdeErrorCategory.ObjectNotFound,
        F("No token request '{0}' exists in this store. Run New-AdeTokenRequest -AcceptDataSharing to create one, or list the requests with Get-AdeTokenRequest.", request),
        request);

    public static AdeException TokenRequestAlreadyUsed(Guid id, string tokenName) => E(nameof(TokenRequestAlreadyUsed),
        AdeErrorCategory.InvalidOperation,
        F("Token request {0} was already used to create token '{1}'. To renew that token use Update-AdeToken; for a new MDM server create a new request with New-AdeTokenRequest.", id, tokenName),
        id);

    // ---- token files -------------------------------------------------------------------------------------------
    public static AdeException TokenFileNotFound(string path) => E(nameof(TokenFileNotFound),
        AdeErrorCategory.ObjectNotFound,
        F("The token file '{0}' does not exist. Download the server token (.p7m) from Apple Business Manager or Apple School Manager and pass its path.", path),
        path);

    public static AdeException TokenFileInvalid(string path, string reason, Exception? inner = null) => E(nameof(TokenFileInvalid),
        AdeErrorCategory.InvalidData,
        F("'{0}' is not an Apple server token: {1} Download the server token (the .p7m file, not the .pem you uploaded) again from Apple Business Manager.", path, reason),
        path, inner);

    public static AdeException TokenDecryptionFailed(string path, string keyOwner) => E(nameof(TokenDecryptionFailed),
        AdeErrorCategory.SecurityError,
        F("The token file '{0}' is not encrypted for the key of {1}. Either the wrong request or token was given, or the MDM server in Apple Business Manager was given another public key: upload the PEM of this request to that server, download its token again and retry.", path, keyOwner),
        path);

    public static AdeException TokenContentInvalid(string path, string reason) => E(nameof(TokenContentInvalid),
        AdeErrorCategory.InvalidData,
        F("The token file '{0}' decrypts, but its content is not a valid server token: {1} Download the token again from Apple Business Manager.", path, reason),
        path);

    public static AdeException TokenExpired(string path, DateTimeOffset expiredAt) => E(nameof(TokenExpired),
        AdeErrorCategory.InvalidData,
        F("The server token in '{0}' expired on {1:u}. Download a new token for this MDM server from Apple Business Manager.", path, expiredAt),
        path);

    public static AdeException TokenAlreadyExists(string existingName) => E(nameof(TokenAlreadyExists),
        AdeErrorCategory.ResourceExists,
        F("This server token belongs to the MDM server already stored as token '{0}'. To renew it, run Update-AdeToken -Token '{0}' -Path <file>.", existingName),
        existingName);

    public static AdeException TokenLimitReached(int limit) => E(nameof(TokenLimitReached),
        AdeErrorCategory.LimitsExceeded,
        F("This store already holds {0} ADE tokens, the most Intune allows. Remove a token you no longer use (Remove-AdeToken) before adding another.", limit));

    // ---- tokens ------------------------------------------------------------------------------------------------
    public static AdeException TokenNotFound(string token) => E(nameof(TokenNotFound),
        AdeErrorCategory.ObjectNotFound,
        F("No ADE token '{0}' exists in this store. List the tokens with Get-AdeToken.", token),
        token);

    public static AdeException TokenAmbiguous(string token, int count) => E(nameof(TokenAmbiguous),
        AdeErrorCategory.InvalidArgument,
        F("'{0}' matches {1} tokens; this command works on one token at a time. Give the exact name or the Id, or pipe the tokens in (Get-AdeToken -Name '{0}' | ...).", token, count),
        token);

    public static AdeException TokenNameConflict(string name) => E(nameof(TokenNameConflict),
        AdeErrorCategory.ResourceExists,
        F("A token named '{0}' already exists. Token names are unique in a store; choose another -Name.", name),
        name);

    public static AdeException TokenHasDependents(string name, IReadOnlyList<string> blockers) => E(nameof(TokenHasDependents),
        AdeErrorCategory.InvalidOperation,
        F("Token '{0}' cannot be removed while it has {1}. Remove those first (Set-AdeDefaultProfile -Clear, Remove-AdeDevice, Remove-AdeProfile), then remove the token.", name, string.Join(", ", blockers)),
        name);

    // ---- Apple's ADE service -----------------------------------------------------------------------------------
    // Raised by the Apple client (Apple/AppleClient.cs). Bodies are matched as plain text or JSON-quoted; the message
    // names Apple's code, never a secret.

    public static AdeException AppleTermsNotSigned(string token) => E(nameof(AppleTermsNotSigned),
        AdeErrorCategory.PermissionDenied,
        F("Apple refused the request for token '{0}' (T_C_NOT_SIGNED): your organisation has not accepted Apple's latest terms and conditions. An administrator must sign in to Apple Business Manager (or Apple School Manager), accept the new terms, then run the command again.", token),
        token);

    public static AdeException AppleAccessDenied(string token, string code) => E(nameof(AppleAccessDenied),
        AdeErrorCategory.PermissionDenied,
        F("Apple denied access for token '{0}' ({1}). Check in Apple Business Manager that the MDM server still exists and that the account that created the token still has the Device Enrollment Manager role.", token, code),
        token);

    public static AdeException AppleTokenRejected(string token, string reason) => E(nameof(AppleTokenRejected),
        AdeErrorCategory.AuthenticationError,
        F("Apple rejected the server token '{0}' ({1}): it has expired, was revoked, or was replaced by a newer token downloaded from Apple Business Manager. Download the token of this MDM server again and run Update-AdeToken -Token '{0}' -Path <file.p7m>.", token, reason),
        token);

    public static AdeException AppleCursorExpired(string token) => E(nameof(AppleCursorExpired),
        AdeErrorCategory.InvalidData,
        F("Apple reports that the sync cursor of token '{0}' has expired (EXPIRED_CURSOR: older than 7 days). A full sync is needed.", token),
        token);

    public static AdeException AppleCursorInvalid(string token) => E(nameof(AppleCursorInvalid),
        AdeErrorCategory.InvalidData,
        F("Apple does not recognise the sync cursor of token '{0}' (INVALID_CURSOR). A full sync is needed.", token),
        token);

    public static AdeException AppleCursorExhausted(string token) => E(nameof(AppleCursorExhausted),
        AdeErrorCategory.InvalidData,
        F("Apple reports that the device listing of token '{0}' is already complete (EXHAUSTED_CURSOR); continue with a delta sync.", token),
        token);

    public static AdeException AppleServiceUnavailable(string token, string detail, TimeSpan? retryAfter = null, Exception? inner = null) => E(nameof(AppleServiceUnavailable),
        AdeErrorCategory.ResourceUnavailable,
        F("Apple's ADE service is not available for token '{0}': {1}{2}", token, detail,
            retryAfter is { } wait ? F(" Apple asked to wait {0:N0} seconds; try again after that.", Math.Ceiling(wait.TotalSeconds)) : " Try again later."),
        token, inner);

    public static AdeException AppleRequestInvalid(string token, string endpoint, int status, string code) => E(nameof(AppleRequestInvalid),
        AdeErrorCategory.InvalidArgument,
        F("Apple refused {0} for token '{1}' with HTTP {2} ({3}).", endpoint, token, status, code),
        token);

    public static AdeException AppleProfileNotFound(string token, string profileUuid) => E(nameof(AppleProfileNotFound),
        AdeErrorCategory.ObjectNotFound,
        F("Apple does not know the enrollment profile {0} of token '{1}' (PROFILE_NOT_FOUND). The profile is defined at Apple again the next time it is assigned.", profileUuid, token),
        profileUuid);

    public static AdeException AppleResponseInvalid(string token, string endpoint, string reason, Exception? inner = null) => E(nameof(AppleResponseInvalid),
        AdeErrorCategory.InvalidData,
        F("Apple's answer to {0} for token '{1}' could not be read: {2}", endpoint, token, reason),
        token, inner);

    // ---- device sync -------------------------------------------------------------------------------------------
    public static AdeException ManualSyncTooSoon(string token, DateTimeOffset allowedAt) => E(nameof(ManualSyncTooSoon),
        AdeErrorCategory.LimitsExceeded,
        F("Token '{0}' was synced less than 15 minutes ago; a manual sync is allowed again at {1:u}. Scheduled scripts should use Sync-AdeDevice -IfDue, which never fails for this reason.", token, allowedAt),
        token);

    public static AdeException FullSyncTooSoon(string token, DateTimeOffset allowedAt) => E(nameof(FullSyncTooSoon),
        AdeErrorCategory.LimitsExceeded,
        F("A full sync of token '{0}' is allowed once every 7 days; the next one is allowed at {1:u}. Run Sync-AdeDevice without -Full for a delta sync.", token, allowedAt),
        token);

    public static AdeException SyncInProgress(string token, DateTimeOffset startedAt, DateTimeOffset lapsesAt) => E(nameof(SyncInProgress),
        AdeErrorCategory.ResourceBusy,
        F("Another sync of token '{0}' has been running since {1:u} (in this or another process). Wait for it to finish; if that process died, its lease lapses at {2:u} and that sync counts as failed.", token, startedAt, lapsesAt),
        token);

    public static AdeException SyncLeaseLost(string token) => E(nameof(SyncLeaseLost),
        AdeErrorCategory.OperationTimeout,
        F("The sync of token '{0}' ran longer than its 15-minute lease and was counted as failed; the pages committed so far are kept and the next sync continues as a full sync.", token),
        token);

    public static AdeException DeviceNotFound(string serialNumber) => E(nameof(DeviceNotFound),
        AdeErrorCategory.ObjectNotFound,
        F("No device with serial number '{0}' is known. Devices arrive with Sync-AdeDevice; check the serial number, or list devices with Get-AdeDevice.", serialNumber),
        serialNumber);

    public static AdeException ReleaseNotAllowed(string token, string serviceUri, Exception inner) => E(nameof(ReleaseNotAllowed),
        AdeErrorCategory.PermissionDenied,
        F("Apple does not allow the MDM server of token '{0}' to release devices ({1} refused POST /devices/disown). Nothing was released. Release the devices in Apple Business Manager (Devices > Release), or ask an administrator there to allow this MDM server to release devices.", token, serviceUri),
        token, inner);

    public static AdeException SerialNumberMissing(string inputType, IReadOnlyList<string> properties, string acceptedNames) => E(nameof(SerialNumberMissing),
        AdeErrorCategory.InvalidArgument,
        F("The piped {0} has no serial number property (its properties: {1}). Name the CSV column or property one of: {2}; or pass the serials with -SerialNumber.",
            inputType, properties.Count == 0 ? "none" : string.Join(", ", properties.Select(p => "'" + p + "'")), acceptedNames),
        inputType);

    public static AdeException ConfirmationRequired(string question) => E(nameof(ConfirmationRequired),
        AdeErrorCategory.PermissionDenied,
        F("{0} This needs confirmation, and this session cannot ask (it is non-interactive): nothing was changed. Run the command again with -Force (or -Confirm:$false) to go ahead.", question));

    // ---- profiles ----------------------------------------------------------------------------------------------
    public static AdeException ProfileSettingInvalid(string setting, string value, string rule) => E(nameof(ProfileSettingInvalid),
        AdeErrorCategory.InvalidArgument,
        F("-{0} '{1}' is not valid: {2}", setting, value, rule),
        setting);

    public static AdeException ProfileNameConflict(string name, string token) => E(nameof(ProfileNameConflict),
        AdeErrorCategory.ResourceExists,
        F("Token '{1}' already has a profile named '{0}'. Profile names are unique per token; choose another -Name or change the existing profile with Set-AdeProfile.", name, token),
        name);

    public static AdeException ProfileLimitReached(string token, int limit) => E(nameof(ProfileLimitReached),
        AdeErrorCategory.LimitsExceeded,
        F("Token '{0}' already has {1} enrollment profiles, the most Intune allows per token. Remove a profile you no longer use (Remove-AdeProfile) first.", token, limit),
        token);

    public static AdeException ProfileNotFound(string profile) => E(nameof(ProfileNotFound),
        AdeErrorCategory.ObjectNotFound,
        F("No enrollment profile '{0}' exists in this store. List the profiles with Get-AdeProfile.", profile),
        profile);

    public static AdeException ProfileAmbiguous(string profile, int count) => E(nameof(ProfileAmbiguous),
        AdeErrorCategory.InvalidArgument,
        F("'{0}' matches {1} profiles (profile names are unique per token, not per store). Give the token too (-Token), the profile's Id, or pipe the profile object.", profile, count),
        profile);

    public static AdeException ProfileInUse(string profile, string token, bool isDefault, long devices)
    {
        var users = new List<string>();
        var steps = new List<string>();
        if (isDefault)
        {
            users.Add(F("the default profile of token '{0}'", token));
            steps.Add(F("clear or change the default (Set-AdeDefaultProfile -Token '{0}' -Clear)", token));
        }

        if (devices > 0)
        {
            users.Add(F("assigned to {0} still in Apple Business Manager", Engine.Counted.Of(devices, "device")));
            steps.Add(F("assign {0} another profile (Get-AdeDevice -Token '{1}' -Profile '{2}' | Set-AdeDeviceProfile -Profile <other profile>)",
                devices == 1 ? "that device" : "those devices", token, profile));
        }

        return E(nameof(ProfileInUse),
            AdeErrorCategory.InvalidOperation,
            F("Profile '{0}' is in use: it is {1}. To remove it, {2}, then run Remove-AdeProfile again.", profile, string.Join(" and ", users), string.Join(" and ", steps)),
            profile);
    }

    public static AdeException ProfileFileInvalid(string path, string reason) => E(nameof(ProfileFileInvalid),
        AdeErrorCategory.InvalidData,
        F("'{0}' is not an AdeEnrollment profile export: {1} Create one with Export-AdeProfile.", path, reason),
        path);

    public static AdeException ProfileFileNotFound(string path) => E(nameof(ProfileFileNotFound),
        AdeErrorCategory.ObjectNotFound,
        F("The profile file '{0}' does not exist. Export a profile with Export-AdeProfile -Path, or check the path.", path),
        path);

    public static AdeException EnrollmentUrlMissing(string token) => E(nameof(EnrollmentUrlMissing),
        AdeErrorCategory.InvalidOperation,
        F("Token '{0}' has no enrollment URL, and Apple needs it in every enrollment profile. Set it with Set-AdeToken -Token '{0}' -EnrollmentUrl https://…", token),
        token);

    // ---- argument validation -----------------------------------------------------------------------------------
    public static AdeException ArgumentInvalid(string parameter, string value, string rule) => E(nameof(ArgumentInvalid),
        AdeErrorCategory.InvalidArgument,
        F("-{0} '{1}' is not valid: {2}", parameter, value, rule),
        value);
}

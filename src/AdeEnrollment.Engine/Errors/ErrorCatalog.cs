using System.Globalization;

namespace AdeEnrollment.Engine.Errors;

/// <summary>
/// The one place that defines every catalogued error: its stable ID (public API, pinned in tests), its category
/// and its message. Messages say what happened and what to do; they never contain a secret.
/// </summary>
public static class ErrorCatalog
{
    private static string F(string format, params object?[] args) => string.Format(CultureInfo.InvariantCulture, format, args);

    /// <summary>Text that ends a sentence before the advice that follows it (a driver's message often has no full stop).</summary>
    private static string Sentence(string text) => text.TrimEnd() is var t && t.EndsWith('.') ? t : t + ".";

    /// <summary>The longest value a message shows back in full; a longer one is cut, saying how long it was.</summary>
    private const int MaxShownValue = 200;

    /// <summary>A value the user gave, as a message shows it: in full up to <see cref="MaxShownValue"/> characters, else its start and its length.</summary>
    private static string Shown(string value)
        => value.Length <= MaxShownValue ? value : F("{0}… ({1:N0} characters)", SafeText.Truncate(value, MaxShownValue / 2), value.Length);

    /// <summary>
    /// Every catalogued error: its message and a text target shown safely (<see cref="SafeText.Neutralise"/>), since
    /// both may repeat what a user typed or a file held, and a value with terminal escapes must not rewrite the screen.
    /// </summary>
    private static AdeException E(string id, AdeErrorCategory category, string message, object? target = null, Exception? inner = null)
        => new(id, category, SafeText.Neutralise(message), target is string text ? SafeText.Neutralise(text) : target, inner);

    // ---- store -------------------------------------------------------------------------------------------------
    public static AdeException StoreInvalid(string path, string reason, Exception? inner = null) => E(nameof(StoreInvalid),
        AdeErrorCategory.InvalidData,
        F("'{0}' is not an AdeEnrollment store ({1}). Nothing was changed. If it is your store and it was damaged, restore it together with its key file ('<store>.key') from a backup: a new store would not hold the tokens' keys. Otherwise point Connect-AdeStore -Path or $env:ADE_ENROLLMENT_STORE at the store file, or at a path that does not exist yet to create a new store.", path, reason),
        path, inner);

    public static AdeException StoreUpgradeFailed(string path, int found, int step, int latest, string reason, Exception inner) => E(nameof(StoreUpgradeFailed),
        AdeErrorCategory.InvalidData,
        F("The store '{0}' has schema version {1}; bringing it to version {2} failed at step {3}: {4} Nothing was changed (the upgrade is one transaction). Its tables were probably changed outside AdeEnrollment: restore the store together with its key file ('<store>.key') from a backup, or keep using the module version that last wrote it until its tables are mended.", path, found, latest, step, reason),
        path, inner);

    public static AdeException StoreSchemaTooNew(string path, int found, int known) => E(nameof(StoreSchemaTooNew),
        AdeErrorCategory.InvalidData,
        F("The store '{0}' has schema version {1}, but this version of AdeEnrollment knows schema version {2} at most. Update the AdeEnrollment module; the store is left unchanged.", path, found, known),
        path);

    public static AdeException StoreUnavailable(string path, Exception inner) => E(nameof(StoreUnavailable),
        AdeErrorCategory.ResourceUnavailable,
        F("The store '{0}' cannot be opened: {1} Check the path and its permissions.", path, inner.Message),
        path, inner);

    public static AdeException StoreNotConnected(string location, string errorId) => E(nameof(StoreNotConnected),
        AdeErrorCategory.InvalidOperation,
        F("Connect-AdeStore failed for '{0}' ({1}), and no store was connected before it: this session uses no store until one is, rather than going on with $env:ADE_ENROLLMENT_STORE or the per-user default store unnoticed. Run Connect-AdeStore again with the right store, key or passphrase, or Disconnect-AdeStore to use the environment's store.", location, errorId),
        location);

    public static AdeException StoreDeleted(string path) => E(nameof(StoreDeleted),
        AdeErrorCategory.ResourceUnavailable,
        F("The store '{0}' chosen with Connect-AdeStore is gone: its file was deleted or moved while this session used it (a Pester TestDrive is removed after its tests, for example). Nothing was changed. Run Disconnect-AdeStore to go back to $env:ADE_ENROLLMENT_STORE or the per-user store, or Connect-AdeStore to choose another.", path),
        path);

    public static AdeException StoreKeyInvalid(string path, bool byPassphrase) => E(nameof(StoreKeyInvalid),
        AdeErrorCategory.SecurityError,
        byPassphrase
            ? F("The passphrase does not open the secrets in '{0}'. Connect with the passphrase the store was created with (Connect-AdeStore -Key, or $env:ADE_ENROLLMENT_STORE_KEY); every host and script of a shared store uses the same one.", path)
            : F("The key file does not open the secrets in '{0}'. Restore the key file that belongs to this store ('<store>.key', backed up with it); a passphrase store is opened with Connect-AdeStore -Key instead.", path),
        path);

    public static AdeException StoreKeyMissing(string path, string keyPath) => E(nameof(StoreKeyMissing),
        AdeErrorCategory.SecurityError,
        F("The store '{0}' holds encrypted secrets, but its key file '{1}' is missing. Restore the key file, or connect with the passphrase if the store was created with one.", path, keyPath),
        path);

    public static AdeException StoreKeyKindMismatch(string path, bool storeHasPassphrase) => E(nameof(StoreKeyKindMismatch),
        AdeErrorCategory.SecurityError,
        storeHasPassphrase
            ? F("The store '{0}' is protected by a passphrase, and no passphrase was given. Give it with Connect-AdeStore -Path '{0}' -Key (Read-Host -AsSecureString 'Store passphrase'), or set $env:ADE_ENROLLMENT_STORE_KEY to it before the store is opened (for scheduled scripts).", path)
            : F("The store '{0}' protects its secrets with a key file beside the store (DPAPI-protected on Windows), not with a passphrase, but a passphrase was given (-Key or $env:ADE_ENROLLMENT_STORE_KEY). Connect without -Key and remove $env:ADE_ENROLLMENT_STORE_KEY.", path),
        path);

    // ---- store failures, key file, secrets and files (hostile input and failing parts) ------------------------------
    public static AdeException StoreKeyFileExists(string path, string keyPath) => E(nameof(StoreKeyFileExists),
        AdeErrorCategory.ResourceExists,
        F("A new store would be created at '{0}', but a key file '{1}' already exists beside it. It may be the only key of a store that was deleted or moved (a backup of that store cannot be opened without it), so AdeEnrollment never deletes or replaces a key file. Restore the store file that belongs to this key, or move the key file to where its store is kept, or choose another store path.", path, keyPath),
        keyPath);

    public static AdeException StoreBusy(string path, Exception inner) => E(nameof(StoreBusy),
        AdeErrorCategory.ResourceBusy,
        F("The store '{0}' stayed locked by another process for longer than the wait allows (SQLite: {1}). Nothing was changed. Wait for the other PowerShell session or scheduled script using this store to finish, then run the command again.", path, inner.Message),
        path, inner);

    public static AdeException StoreFull(string path, Exception inner) => E(nameof(StoreFull),
        AdeErrorCategory.QuotaExceeded,
        F("The store '{0}' cannot grow: the disk or the store's size limit is full (SQLite: {1}). Nothing was changed. Free disk space on the volume that holds the store, then run the command again.", path, inner.Message),
        path, inner);

    public static AdeException StoreReadOnly(string path, Exception inner) => E(nameof(StoreReadOnly),
        AdeErrorCategory.PermissionDenied,
        F("The store '{0}' is read-only for this process (SQLite: {1}). Nothing was changed. Give your account write access to the store file, its folder and its -wal/-shm files, or mount the volume read-write, then run the command again.", path, inner.Message),
        path, inner);

    public static AdeException StoreIoError(string path, Exception inner) => E(nameof(StoreIoError),
        AdeErrorCategory.WriteError,
        F("The store '{0}' could not be read or written (SQLite: {1}). The last change was not committed. Check the disk and the file system that hold the store (dmesg or the system event log), then run the command again.", path, inner.Message),
        path, inner);

    public static AdeException StoreSecretUnreadable(string path, string owner, string remedy, Exception? inner = null) => E(nameof(StoreSecretUnreadable),
        AdeErrorCategory.SecurityError,
        F("The encrypted secret of {0} in the store '{1}' does not decrypt with the store's key: the store was modified (the secret was altered or copied from another row) or restored beside a key that is not its own. {2}", owner, path, remedy),
        owner, inner);

    public static AdeException StorePassphraseTooShort(int minimum) => E(nameof(StorePassphraseTooShort),
        AdeErrorCategory.InvalidArgument,
        F("A new passphrase store needs a passphrase of at least {0} characters. Anyone with a copy of the store can try passphrases offline as fast as their hardware allows, so a short passphrase protects the secrets for hours, not years. Choose a longer one (a few unrelated words) for Connect-AdeStore -Key, Copy-AdeStore -DestinationKey or $env:ADE_ENROLLMENT_STORE_KEY, whichever gave it.", minimum));

    // ---- a store on a PostgreSQL server (about_AdeEnrollment.md, "Shared store") ------------------------------------
    public static AdeException StoreConnectionStringInvalid(string reason) => E(nameof(StoreConnectionStringInvalid),
        AdeErrorCategory.InvalidArgument,
        F("The PostgreSQL connection string cannot be used: {0} Give a keyword string (Host=db.example.com;Port=5432;Database=ade;Username=ade_app;SSL Mode=VerifyFull) or a URI (postgresql://ade_app@db.example.com:5432/ade?sslmode=verify-full), and the password with -Credential, -Password or $env:PGPASSWORD. Nothing was changed.", reason));

    public static AdeException StorePassphraseRequired(string location) => E(nameof(StorePassphraseRequired),
        AdeErrorCategory.InvalidArgument,
        F("The store '{0}' is a server database, whose secrets are protected by a passphrase only (a key file on one host cannot serve the others), and no passphrase was given. Give it with Connect-AdeStore -Key (Read-Host -AsSecureString 'Store passphrase') or Copy-AdeStore -DestinationKey, or set $env:ADE_ENROLLMENT_STORE_KEY before the store is opened (for scheduled scripts). Nothing was changed.", location),
        location);

    public static AdeException StoreNotSupported(string location, string provider, string part) => E(nameof(StoreNotSupported),
        AdeErrorCategory.NotImplemented,
        F("This command needs a part of the store that the {1} store '{0}' does not provide yet ({2}). Use a SQLite store (Connect-AdeStore -Path) for it. Nothing was changed.", location, provider, part),
        location);

    /// <summary>
    /// The same error IDs as the SQLite store's failures, worded for a database server (no file to check, a lock held
    /// by another host, a replica). Kept apart so each ID keeps one factory name in the catalogue above.
    /// </summary>
    public static class ServerStore
    {
        public static AdeException StoreUnavailable(string location, string what, Exception? inner = null) => E(nameof(StoreUnavailable),
            AdeErrorCategory.ResourceUnavailable,
            F("The store '{0}' cannot be reached: {1} Check the server name and port, that the server is running and accepts connections from this computer (firewall, pg_hba.conf), and that the database exists. What the command had not stored yet was not stored; when it had already acted at Apple (a profile assignment, pages of a sync), run it again once the server is back, or sync the token, and the store catches up.", location, Sentence(what)),
            location, inner);

        public static AdeException StoreBusy(string location, string what, Exception? inner = null) => E(nameof(StoreBusy),
            AdeErrorCategory.ResourceBusy,
            F("The store '{0}' stayed locked by another writer for longer than the wait allows (PostgreSQL: {1}). Nothing was changed. Wait for the other session or host using this store to finish, then run the command again.", location, what),
            location, inner);

        public static AdeException StoreFull(string location, string what, Exception? inner = null) => E(nameof(StoreFull),
            AdeErrorCategory.QuotaExceeded,
            F("The server of the store '{0}' has no room (PostgreSQL: {1}). Nothing was changed. Ask the database administrator to free or add storage, then run the command again.", location, what),
            location, inner);

        public static AdeException StoreReadOnly(string location, string what, Exception? inner = null) => E(nameof(StoreReadOnly),
            AdeErrorCategory.PermissionDenied,
            F("The store '{0}' is read-only for this connection (PostgreSQL: {1}). Nothing was changed. Connect to the primary server (not a read replica), or give the role write access to the store's tables, then run the command again.", location, what),
            location, inner);

        public static AdeException StoreIoError(string location, string what, bool commitUnknown, Exception? inner = null) => E(nameof(StoreIoError),
            AdeErrorCategory.WriteError,
            commitUnknown
                ? F("The connection to the store '{0}' failed while a change was being committed (PostgreSQL: {1}). The server may or may not have kept that change: check the result (for example with the matching Get- command), then run the command again if it is missing.", location, what)
                : F("The store '{0}' could not be read or written (PostgreSQL: {1}). The last change was not committed. Check the server's state and log, then run the command again.", location, what),
            location, inner);
    }

    public static AdeException StoreAccessDenied(string location, string what, Exception? inner = null) => E(nameof(StoreAccessDenied),
        AdeErrorCategory.PermissionDenied,
        F("The server of the store '{0}' refused access: {1} Check the user name and password (-Credential, -Password or $env:PGPASSWORD) and that the role may connect to the database and use its schema (docs: about_AdeEnrollment, \"Shared store\"). Nothing was changed.", location, Sentence(what)),
        location, inner);

    // ---- store copy (Copy-AdeStore) -------------------------------------------------------------------------------
    public static AdeException StoreCopySameStore(string location) => E(nameof(StoreCopySameStore),
        AdeErrorCategory.InvalidArgument,
        F("Copy-AdeStore was given the connected store '{0}' as its destination. Give a new SQLite file (-DestinationPath) or an empty PostgreSQL database or schema (-DestinationConnectionString). Nothing was changed.", location),
        location);

    public static AdeException StoreCopyDestinationNotEmpty(string location, string table) => E(nameof(StoreCopyDestinationNotEmpty),
        AdeErrorCategory.ResourceExists,
        F("The destination store '{0}' is not empty: its table {1} holds rows. Copy-AdeStore only fills an empty store, so that nothing is merged or overwritten. Give a new SQLite file, or an empty PostgreSQL database or schema. The destination was left unchanged.", location, table),
        location);

    public static AdeException StoreCopySchemaMismatch(string location, int found, int expected, bool isSource) => E(nameof(StoreCopySchemaMismatch),
        AdeErrorCategory.InvalidData,
        isSource
            ? F("The store '{0}' has schema version {1}, older than this version of AdeEnrollment ({2}). Open it once with Connect-AdeStore (that migrates it), then copy it. Nothing was changed.", location, found, expected)
            : F("The destination store '{0}' has schema version {1}, but the copy needs version {2}. Update the AdeEnrollment module, or give another destination. Nothing was changed.", location, found, expected),
        location);

    public static AdeException StoreCopyUnknownTable(string location, string table) => E(nameof(StoreCopyUnknownTable),
        AdeErrorCategory.InvalidData,
        F("The store '{0}' holds a table '{1}' that this version of AdeEnrollment does not copy (a newer module's or another application's). Copy the store with the module version that created it. Nothing was changed.", location, table),
        location);

    public static AdeException StoreCopyVerificationFailed(string location, string table, string what) => E(nameof(StoreCopyVerificationFailed),
        AdeErrorCategory.InvalidResult,
        F("The copy into '{0}' did not read back as written: table {1} {2}. The copy was rolled back, so the destination holds no copied rows. Run Copy-AdeStore again; if it fails again, check the destination server's or disk's health.", location, table, what),
        location);

    public static AdeException OutputPathInvalid(string parameter, string path, string reason) => E(nameof(OutputPathInvalid),
        AdeErrorCategory.InvalidArgument,
        F("-{0} '{1}' cannot be written: {2} Nothing was changed.", parameter, path, reason),
        path);

    public static AdeException OutputFileExists(string parameter, string path) => E(nameof(OutputFileExists),
        AdeErrorCategory.ResourceExists,
        F("-{0} '{1}' already exists and -NoClobber was given. Nothing was changed. Remove -NoClobber to replace the file, or give another path.", parameter, path),
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

    /// <summary>A stored token past its expiry date, refused before any call to Apple (which would refuse it too).</summary>
    public static AdeException StoredTokenExpired(string token, DateTimeOffset expiredAt) => E(nameof(StoredTokenExpired),
        AdeErrorCategory.AuthenticationError,
        F("The server token '{0}' expired on {1:u}, and Apple refuses an expired token, so nothing was sent. Download a new token for its MDM server in Apple Business Manager and run Update-AdeToken -Token '{0}' -Path <token.p7m>.", token, expiredAt),
        token);

    /// <summary>
    /// A file of an MDM server stored already as <paramref name="existingName"/>. Renewing another token with it: renew
    /// that one. Importing it with a new request (<paramref name="newRequestKey"/>): the file is encrypted for that
    /// request's key, so the server in Apple Business Manager was given it, and the stored token no longer works there.
    /// </summary>
    public static AdeException TokenAlreadyExists(string existingName, bool newRequestKey = false) => E(nameof(TokenAlreadyExists),
        AdeErrorCategory.ResourceExists,
        !newRequestKey
            ? F("This server token belongs to the MDM server already stored as token '{0}'. To renew it, run Update-AdeToken -Token '{0}' -Path <file>.", existingName)
            : F("This server token belongs to the MDM server already stored as token '{0}', but it was made for another request's key, so Apple Business Manager now holds that key for the server and token '{0}' stops working there. Nothing was stored. Give the server the key of token '{0}' again: (Get-AdeTokenRequest -Id (Get-AdeToken -Name '{0}').RequestId).PublicKeyPem | Set-Content token.pem, upload token.pem to the server in Apple Business Manager, download its token and run Update-AdeToken -Token '{0}' -Path <token.p7m>.", existingName),
        existingName);

    public static AdeException TokenServerMismatch(string token, string? storedServer, string storedUuid, string? fileServer, string? fileUuid, string path) => E(nameof(TokenServerMismatch),
        AdeErrorCategory.InvalidData,
        F("The token file '{0}' belongs to MDM server '{1}' ({2}), but token '{3}' is MDM server '{4}' ({5}); a token is renewed only with a file of its own MDM server. Download the token of '{4}' in Apple Business Manager and run Update-AdeToken again, or, to add '{1}' as a token of its own, import it as a new token: create a request with New-AdeTokenRequest, upload its certificate to '{1}' in Apple Business Manager, download that server's token and run New-AdeToken. Nothing was changed.",
            path, fileServer ?? "?", fileUuid ?? "?", token, storedServer ?? "?", storedUuid),
        path);

    public static AdeException TokenLimitReached(int limit) => E(nameof(TokenLimitReached),
        AdeErrorCategory.LimitsExceeded,
        F("This store already holds {0} ADE tokens, the most Intune allows. Remove a token you no longer use (Remove-AdeToken) before adding another.", limit));

    // ---- tokens ------------------------------------------------------------------------------------------------
    public static AdeException TokenNotFound(string token) => E(nameof(TokenNotFound),
        AdeErrorCategory.ObjectNotFound,
        F("No ADE token '{0}' exists in this store. List the tokens with Get-AdeToken.", Shown(token)),
        token);

    public static AdeException TokenAmbiguous(string token, int count) => E(nameof(TokenAmbiguous),
        AdeErrorCategory.InvalidArgument,
        F("'{0}' matches {1} tokens; this command works on one token at a time. Give the exact name or the Id, or pipe the tokens in (Get-AdeToken -Name '{0}' | ...).", token, count),
        token);

    public static AdeException TokenNameConflict(string name) => E(nameof(TokenNameConflict),
        AdeErrorCategory.ResourceExists,
        F("A token named '{0}' already exists. Token names are unique in a store; choose another -Name.", name),
        name);

    /// <param name="defaultProfiles">The token's default profiles as "'Staff' (iOS), 'Macs' (macOS)", or null.</param>
    public static AdeException TokenHasDependents(string name, long devices, string? defaultProfiles, long profiles)
    {
        var blockers = new List<string>();
        var steps = new List<string>();
        if (devices > 0)
        {
            blockers.Add(devices == 1 ? "1 device" : F("{0:N0} devices", devices));
            steps.Add(F("remove the devices (Get-AdeDevice -Token '{0}' | Remove-AdeDevice)", name));
        }

        if (defaultProfiles is not null)
        {
            var several = defaultProfiles.Contains("), ", StringComparison.Ordinal);
            blockers.Add(F("the default profile{0} {1}", several ? "s" : "", defaultProfiles));
            steps.Add(F("clear the default profile{0} (Set-AdeDefaultProfile -Token '{1}' -Clear)", several ? "s" : "", name));
        }

        if (profiles > 0)
        {
            blockers.Add(profiles == 1 ? "1 profile" : F("{0:N0} profiles", profiles));
            steps.Add(F("remove the {0} (Get-AdeProfile -Token '{1}' | Remove-AdeProfile)", profiles == 1 ? "profile" : "profiles", name));
        }

        static string Join(List<string> items) => items.Count == 1 ? items[0] : string.Join(", ", items.Take(items.Count - 1)) + " and " + items[^1];
        return E(nameof(TokenHasDependents),
            AdeErrorCategory.InvalidOperation,
            F("Token '{0}' cannot be removed while it has {1}. First {2}; then remove the token.", name, Join(blockers), Join(steps)),
            name);
    }

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
        F("Apple rejected the server token '{0}' ({1}): it has expired, was revoked, or was replaced by a newer token downloaded from Apple Business Manager. Download the token of this MDM server again and run Update-AdeToken -Token '{0}' -Path <token.p7m>.", token, reason),
        token);

    /// <summary>The same refusal when a token is imported (New-AdeToken): nothing is stored, so there is nothing to renew.</summary>
    public static AdeException AppleTokenRejected(AdeException refusal, string path) => E(nameof(AppleTokenRejected),
        AdeErrorCategory.AuthenticationError,
        F("Apple rejected the server token in '{0}': it has expired, was revoked, or was replaced by a newer token downloaded from Apple Business Manager. Nothing was stored. Download the newest token of this MDM server and run New-AdeToken again with it (the same request).", path),
        path, refusal);

    public static AdeException AppleClockSkew(string token, DateTimeOffset now) => E(nameof(AppleClockSkew),
        AdeErrorCategory.AuthenticationError,
        F("Apple refused to open a session for token '{0}' because the time of this computer ({1:yyyy-MM-dd HH:mm:ss} UTC) is too far from Apple's (oauth_problem=timestamp_refused). The token itself is fine and was not marked invalid: correct the system clock (turn on time synchronisation) and run the command again.", token, now.UtcDateTime),
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

    public static AdeException AppleServiceUnavailable(string token, string detail, TimeSpan? retryAfter = null, Exception? inner = null, Uri? service = null) => E(nameof(AppleServiceUnavailable),
        AdeErrorCategory.ResourceUnavailable,
        F("Apple's ADE service is not available for token '{0}'{3}: {1}{2}", token, detail,
            retryAfter is { } wait ? F(" Apple asked to wait {0:N0} seconds; try again after that.", Math.Ceiling(wait.TotalSeconds)) : " Try again later.", At(service)),
        token, inner);

    public static AdeException AppleRequestInvalid(string token, string endpoint, int status, string code)
    {
        var error = E(nameof(AppleRequestInvalid), AdeErrorCategory.InvalidArgument, F("Apple refused {0} for token '{1}' with HTTP {2} ({3}).", endpoint, token, status, code), token);
        error.AppleCode = code;
        return error;
    }

    /// <summary>
    /// Apple refused a profile's definition (POST /profile): nothing changed at Apple, and the command that sent it keeps
    /// the profile as it was in the store too. The hint names the setting Apple's code is about.
    /// </summary>
    public static AdeException ProfileDefinitionRefused(string profile, string token, string? code, Exception inner) => E(nameof(ProfileDefinitionRefused),
        AdeErrorCategory.InvalidArgument,
        F("Apple refused the definition of profile '{0}' of token '{1}' ({2}): {3} The profile is kept as it was, in the store and at Apple.", profile, token, code ?? "no code",
            code switch
            {
                "SUPPORT_EMAIL_INVALID" => "Apple takes one e-mail address of at most 250 characters; correct -SupportEmail (Set-AdeProfile).",
                "SUPPORT_PHONE_INVALID" => "Apple takes at most 50 characters; correct -DepartmentPhone (Set-AdeProfile).",
                "DEPARTMENT_INVALID" => "Apple takes at most 125 characters; correct -Department (Set-AdeProfile).",
                "CONFIG_NAME_INVALID" or "CONFIG_NAME_REQUIRED" => "Apple takes a name of 1 to 125 characters; rename the profile (Set-AdeProfile -NewName).",
                "CONFIG_URL_INVALID" or "CONFIG_URL_REQUIRED" => "Apple did not take the token's enrollment URL; correct it (Set-AdeToken -EnrollmentUrl).",
                "LOCALE_INVALID" => "Apple does not take this language and region together; correct -Language or -Region (Set-AdeProfile).",
                "FLAGS_INVALID" => "Apple does not take this combination of supervision and locked enrollment; correct -LockedEnrollment or -Supervised (Set-AdeProfile).",
                "MAGIC_INVALID" => "Apple did not take the profile's organisation value.",
                _ => "Check the settings that changed (Get-AdeProfile), correct the one Apple's code is about, and run the command again.",
            }),
        profile, inner);

    public static AdeException AppleProfileNotFound(string token, string profileUuid) => E(nameof(AppleProfileNotFound),
        AdeErrorCategory.ObjectNotFound,
        F("Apple does not know the enrollment profile {0} of token '{1}' (PROFILE_NOT_FOUND). The profile is defined at Apple again the next time it is assigned.", profileUuid, token),
        profileUuid);

    public static AdeException AppleResponseInvalid(string token, string endpoint, string reason, Exception? inner = null) => E(nameof(AppleResponseInvalid),
        AdeErrorCategory.InvalidData,
        F("Apple's answer to {0} for token '{1}' could not be read: {2}", endpoint, token, reason),
        token, inner);

    // Network, size and trust failures of the Apple client (Apple/README.md "Limits" and "Error mapping"). Each names
    // the address that was contacted; none contains a secret.
    private static string At(Uri? service) => service is null ? "" : F(" (contacted {0})", service);

    public static AdeException AppleHostNotFound(string token, Uri service) => E(nameof(AppleHostNotFound),
        AdeErrorCategory.ConnectionError,
        F("The name '{0}' of Apple's ADE service for token '{1}' could not be resolved (DNS){2}. Retrying does not help until it resolves: check the address stored with the token, this computer's DNS settings and any proxy, then run the command again.", service.Host, token, At(service)),
        token);

    public static AdeException AppleConnectionRefused(string token, Uri service) => E(nameof(AppleConnectionRefused),
        AdeErrorCategory.ConnectionError,
        F("Nothing accepted the connection to Apple's ADE service for token '{0}'{1}: the connection was refused, also after retries. Check the address stored with the token and that a firewall or proxy lets this computer reach it.", token, At(service)),
        token);

    public static AdeException AppleTlsFailed(string token, Uri service, Exception? inner = null) => E(nameof(AppleTlsFailed),
        AdeErrorCategory.SecurityError,
        F("The secure (TLS) connection to Apple's ADE service for token '{0}' failed{1}: the server's certificate was not trusted or the handshake failed. Check that nothing between this computer and Apple intercepts TLS, and the system's date and trusted root certificates.", token, At(service)),
        token, inner);

    public static AdeException AppleTimeout(string token, Uri service, string endpoint, TimeSpan limit) => E(nameof(AppleTimeout),
        AdeErrorCategory.OperationTimeout,
        F("Apple's ADE service did not answer {0} for token '{1}' within {2:N0} seconds{3}, also after retries. Check the network path to the service; if Apple reports an outage, run the command again later.", endpoint, token, Math.Ceiling(limit.TotalSeconds), At(service)),
        token);

    public static AdeException AppleResponseTooLarge(string token, Uri service, string endpoint, string what) => E(nameof(AppleResponseTooLarge),
        AdeErrorCategory.LimitsExceeded,
        F("The answer to {0} for token '{1}' was refused{2}: {3} Nothing of it was stored. Apple's service never sends such answers: check that the address stored with the token is Apple's service.", endpoint, token, At(service), what),
        token);

    public static AdeException AppleRedirectRefused(string token, Uri service, string endpoint, int status, string? location) => E(nameof(AppleRedirectRefused),
        AdeErrorCategory.SecurityError,
        F("The service answered {0} for token '{1}' with a redirect (HTTP {2}) to '{3}'{4}. AdeEnrollment never follows a redirect with the token's session, so the request was not repeated. Apple's ADE service does not redirect: check the address stored with the token.", endpoint, token, status, location ?? "(no Location)", At(service)),
        token);

    public static AdeException AppleHeaderInvalid(string token, Uri service, string header) => E(nameof(AppleHeaderInvalid),
        AdeErrorCategory.SecurityError,
        F("A value for the {0} header of requests for token '{1}' contains characters a header cannot carry (line breaks or other control characters){2}; it was not used. If it came from the service, check that the address stored with the token is Apple's service.", header, token, At(service)),
        token);

    public static AdeException SyncPageLimitExceeded(string token, int pages, long devices) => E(nameof(SyncPageLimitExceeded),
        AdeErrorCategory.LimitsExceeded,
        F("The sync of token '{0}' was stopped after {1:N0} pages ({2:N0} devices) because Apple kept answering that more pages follow, more than a token of 200,000 devices can need. The pages committed so far are kept and the next sync is a full sync; if it happens again, report it to Apple.", token, pages, devices),
        token);

    public static AdeException ServiceUriNotApple(string uri) => E(nameof(ServiceUriNotApple),
        AdeErrorCategory.SecurityError,
        F("'{0}' is neither Apple's ADE service (https://mdmenrollment.apple.com) nor a service on this computer's loopback address, and the token's secrets and sessions would be sent there. If this address is really meant (for example a proxy you run), add -AllowNonAppleServiceUri.", uri),
        uri);

    // ---- any command -------------------------------------------------------------------------------------------
    public static AdeException OperationStopped(string operation, Exception? inner = null) => E(nameof(OperationStopped),
        AdeErrorCategory.OperationStopped,
        F("{0} was stopped (Ctrl+C or a stopped pipeline) before it finished. Work already committed is kept; run the command again to complete it.", operation),
        operation, inner);

    public static AdeException UnexpectedError(string operation, Exception inner) => E(nameof(UnexpectedError),
        AdeErrorCategory.NotSpecified,
        F("{0} failed unexpectedly: {1} Nothing after the last committed step was saved. Run it again; if it fails the same way, report this message (it contains no secret).", operation, Redact(inner.Message)),
        operation, inner);

    /// <summary>
    /// The one place where a failure that is not catalogued becomes one: a catalogued error stays itself, a
    /// cancellation becomes <see cref="OperationStopped"/>, anything else <see cref="UnexpectedError"/>. A .NET type
    /// name never becomes an error ID.
    /// </summary>
    internal static AdeException FromException(Exception ex, string operation) => ex switch
    {
        AdeException ade => ade,
        OperationCanceledException => OperationStopped(operation, ex),
        AggregateException { InnerExceptions.Count: 1 } agg => FromException(agg.InnerException!, operation),
        _ => UnexpectedError(operation, ex),
    };

    /// <summary>The message of an unexpected exception, cut short, without control characters or secret-looking words.</summary>
    private static string Redact(string message)
    {
        var text = System.Text.RegularExpressions.Regex.Replace(message, @"\b(CS|AS|AT|CK)_[A-Za-z0-9]+", "$1_…", System.Text.RegularExpressions.RegexOptions.CultureInvariant);
        text = new string([.. text.Select(ch => char.IsControl(ch) ? ' ' : ch)]);
        return text.Length > 300 ? text[..300] + "…" : text;
    }

    public static AdeException NameInvalid(string parameter) => E(nameof(NameInvalid),
        AdeErrorCategory.InvalidArgument,
        F("-{0} contains control characters (line breaks, tabs, escape sequences or other invisible formatting characters), which names may not hold. Give the name as plain text.", parameter),
        parameter);

    // ---- device sync -------------------------------------------------------------------------------------------
    /// <param name="unsuccessfulAt">The start of the last attempt when it did not succeed (it failed or was stopped): it counts all the same.</param>
    public static AdeException ManualSyncTooSoon(string token, DateTimeOffset allowedAt, DateTimeOffset? unsuccessfulAt = null) => E(nameof(ManualSyncTooSoon),
        AdeErrorCategory.LimitsExceeded,
        unsuccessfulAt is { } attempt
            ? F("Token '{0}' started a sync at {2:u} that did not succeed (it failed or was stopped), and every attempt counts for the 15 minutes between manual syncs; a manual sync is allowed again at {1:u}. Scheduled scripts should use Sync-AdeDevice -IfDue, which never fails for this reason.", token, allowedAt, attempt)
            : F("Token '{0}' was synced less than 15 minutes ago; a manual sync is allowed again at {1:u}. Scheduled scripts should use Sync-AdeDevice -IfDue, which never fails for this reason.", token, allowedAt),
        token);

    public static AdeException FullSyncTooSoon(string token, DateTimeOffset allowedAt) => E(nameof(FullSyncTooSoon),
        AdeErrorCategory.LimitsExceeded,
        F("A full sync of token '{0}' is allowed once every 7 days; the next one is allowed at {1:u}. Run Sync-AdeDevice without -Full for a delta sync.", token, allowedAt),
        token);

    public static AdeException SyncInProgress(string token, DateTimeOffset startedAt, DateTimeOffset lapsesAt) => E(nameof(SyncInProgress),
        AdeErrorCategory.ResourceBusy,
        F("A sync of token '{0}' has been running since {1:u} (in this or another process). Wait for it to finish; if that process died, its lease lapses at {2:u} and that sync counts as failed.", token, startedAt, lapsesAt),
        token);

    public static AdeException SyncLeaseLost(string token) => E(nameof(SyncLeaseLost),
        AdeErrorCategory.OperationTimeout,
        F("The sync of token '{0}' ran longer than its 15-minute lease and was counted as failed; the pages committed so far are kept and the next sync continues as a full sync.", token),
        token);

    /// <summary>No device of that serial number; <paramref name="filteredOutOn"/>: the tokens of the devices of that serial the other filters of the query left out.</summary>
    public static AdeException DeviceNotFound(string serialNumber, IReadOnlyCollection<string>? filteredOutOn = null) => E(nameof(DeviceNotFound),
        AdeErrorCategory.ObjectNotFound,
        filteredOutOn is { Count: > 0 }
            ? F("Device '{0}' is in the store (token {1}) but does not match the other filters given (-Token, -Profile, -Unassigned, -RemovedFromAbm, …). Get-AdeDevice -SerialNumber '{0}' alone shows it.", serialNumber, string.Join(", ", filteredOutOn.Select(t => "'" + t + "'")))
            : F("No device with serial number '{0}' is known. Devices arrive with Sync-AdeDevice; check the serial number, or list devices with Get-AdeDevice.", Shown(serialNumber)),
        serialNumber);

    public static AdeException ReleaseNotAllowed(string token, string serviceUri, Exception inner) => E(nameof(ReleaseNotAllowed),
        AdeErrorCategory.PermissionDenied,
        F("Apple does not allow the MDM server of token '{0}' to release devices ({1} refused POST /devices/disown). Nothing was released. Release the devices in Apple Business Manager (Devices > Release), or ask an administrator there to allow this MDM server to release devices.", token, serviceUri),
        token, inner);

    /// <param name="input">The piped object itself (the error's target, so that a script finds the row); its type's name when null.</param>
    public static AdeException SerialNumberMissing(string inputType, IReadOnlyList<string> properties, string acceptedNames, object? input = null) => E(nameof(SerialNumberMissing),
        AdeErrorCategory.InvalidArgument,
        F("The piped {0} has no serial number property (its properties: {1}). Name the CSV column or property one of: {2}; or pass the serials with -SerialNumber.",
            inputType, properties.Count == 0 ? "none" : string.Join(", ", properties.Select(p => "'" + p + "'")), acceptedNames),
        input ?? inputType);

    /// <param name="goAhead">The switch that answers the question beforehand: "-Force (or -Confirm:$false)" where the command has -Force, else "-Confirm:$false".</param>
    /// <param name="target">What the question is about (the device, profile, token … of a ShouldProcess), the error's target object.</param>
    public static AdeException ConfirmationRequired(string question, string goAhead, string? target = null) => E(nameof(ConfirmationRequired),
        AdeErrorCategory.PermissionDenied,
        F("{0} This needs confirmation, and this session cannot ask (it is non-interactive): nothing was changed. Run the command again with {1} to go ahead.", question, goAhead),
        target);

    // ---- profiles ----------------------------------------------------------------------------------------------
    /// <summary>A setting that breaks its rule; <paramref name="value"/> null: the setting is required and was not given.</summary>
    public static AdeException ProfileSettingInvalid(string setting, string? value, string rule) => E(nameof(ProfileSettingInvalid),
        AdeErrorCategory.InvalidArgument,
        value is null ? F("-{0} is required: {1}", setting, rule) : F("-{0} '{1}' is not valid: {2}", setting, Shown(value), rule),
        setting);

    /// <param name="rename">The name was asked for by a rename (Set-AdeProfile -NewName), not a new profile.</param>
    public static AdeException ProfileNameConflict(string name, string token, bool rename = false) => E(nameof(ProfileNameConflict),
        AdeErrorCategory.ResourceExists,
        rename
            ? F("Token '{1}' already has a profile named '{0}'. Profile names are unique per token; choose another -NewName.", name, token)
            : F("Token '{1}' already has a profile named '{0}'. Profile names are unique per token; choose another -Name or change the existing profile with Set-AdeProfile.", name, token),
        name);

    public static AdeException ProfileLimitReached(string token, int limit) => E(nameof(ProfileLimitReached),
        AdeErrorCategory.LimitsExceeded,
        F("Token '{0}' already has {1} enrollment profiles, the most Intune allows per token. Remove a profile you no longer use (Remove-AdeProfile) first.", token, limit),
        token);

    /// <summary>Another session removed the profile while Apple took its assignment: <paramref name="assignedAtApple"/> now hold it at Apple only.</summary>
    public static AdeException ProfileRemovedDuringAssignment(string profile, string token, IReadOnlyList<string> assignedAtApple) => E(nameof(ProfileRemovedDuringAssignment),
        AdeErrorCategory.ObjectNotFound,
        assignedAtApple.Count == 0
            ? F("Profile '{0}' of token '{1}' was removed by another session while its assignment was sent; Apple assigned it to none of these devices and nothing was recorded.", profile, token)
            : F("Profile '{0}' of token '{1}' was removed by another session while its assignment was sent: Apple now assigns it to {2} ({3}), which this store cannot record. Assign those devices another profile (Get-AdeDevice -Token '{4}' -SerialNumber <serials> | Set-AdeDeviceProfile -Profile <profile>), or create '{0}' again and assign it to them.",
                profile, token, Counted.Of(assignedAtApple.Count, "device"), Counted.FirstFew(assignedAtApple), token.Replace("'", "''", StringComparison.Ordinal)),
        profile);

    /// <summary>
    /// No such profile: in the store, or (<paramref name="token"/>) on that token; <paramref name="itsToken"/> names the
    /// token the profile does belong to, when it was found there.
    /// </summary>
    public static AdeException ProfileNotFound(string profile, string? token = null, string? itsToken = null) => E(nameof(ProfileNotFound),
        AdeErrorCategory.ObjectNotFound,
        token is null
            ? F("No enrollment profile '{0}' exists in this store. List the profiles with Get-AdeProfile.", Shown(profile))
            : itsToken is null
                ? F("Token '{1}' has no enrollment profile '{0}'. List its profiles with Get-AdeProfile -Token '{1}'.", Shown(profile), token)
                : F("Enrollment profile '{0}' belongs to token '{2}', not to token '{1}'. Give a profile of token '{1}' (Get-AdeProfile -Token '{1}').", profile, token, itsToken),
        profile);

    public static AdeException ProfileAmbiguous(string profile, int count) => E(nameof(ProfileAmbiguous),
        AdeErrorCategory.InvalidArgument,
        F("'{0}' matches {1} profiles (profile names are unique per token, not per store). Give the token too (-Token), the profile's Id, or pipe the profile object.", profile, count),
        profile);

    /// <param name="platform">The profile's platform: the one default it can be, and the only one its remedy clears.</param>
    public static AdeException ProfileInUse(string profile, string token, string platform, bool isDefault, long devices)
    {
        var users = new List<string>();
        var steps = new List<string>();
        if (isDefault)
        {
            users.Add(F("the default {0} profile of token '{1}'", platform, token));
            steps.Add(F("clear or change that default (Set-AdeDefaultProfile -Token '{0}' -Clear -Platform {1}, or -Profile <other {1} profile>)", token, platform));
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


    // ---- Apple Business / School API ------------------------------------------------------------------------------
    public static AdeException BusinessKeyInvalid(string path, string reason) => E(nameof(BusinessKeyInvalid),
        AdeErrorCategory.InvalidData,
        F("'{0}' is not the private key of an Apple Business or School API account ({1}). Use the .pem file the portal downloaded when you chose Generate Private Key (an EC P-256 key); if it is lost, revoke the key in the portal and generate a new one.", path, reason),
        path);

    public static AdeException BusinessAccountExists(string clientId) => E(nameof(BusinessAccountExists),
        AdeErrorCategory.ResourceExists,
        F("The API account '{0}' is already in this store. Remove it first with Remove-AdeBusinessAccount -ClientId '{0}' to store a new key for it.", clientId),
        clientId);

    public static AdeException BusinessAccountNotFound(string account) => E(nameof(BusinessAccountNotFound),
        AdeErrorCategory.ObjectNotFound,
        account.Length == 0
            ? "This store holds no Apple Business or School API account. Add one with New-AdeBusinessAccount -ClientId -KeyId -KeyPath."
            : F("No API account '{0}' is in this store. Add one with New-AdeBusinessAccount -ClientId -KeyId -KeyPath, or list them with Get-AdeBusinessAccount.", account),
        account);

    /// <summary>Several accounts and none named (<paramref name="pattern"/> null), or a pattern that matched several.</summary>
    public static AdeException BusinessAccountAmbiguous(int count, string? pattern = null) => E(nameof(BusinessAccountAmbiguous),
        AdeErrorCategory.InvalidArgument,
        pattern is null
            ? F("This store holds {0} API accounts. Name the one to use with -Account <client ID>.", count)
            : F("-Account '{0}' matches {1} API accounts. Name one with its whole client ID (Get-AdeBusinessAccount lists them).", pattern, count),
        pattern);

    /// <summary>
    /// Apple refused the account: its client assertion at the token endpoint, or (<paramref name="endpoint"/> given) a
    /// freshly issued access token on an API endpoint, which happens when the account's scope and the API host differ.
    /// </summary>
    /// <param name="oauthError">The token endpoint's <c>error</c> (Apple answers invalid_client to everything; an RFC 6749 code says more).</param>
    /// <param name="description">Its <c>error_description</c>, shown as Apple wrote it (made safe), or null.</param>
    public static AdeException BusinessClientRejected(string clientId, string? endpoint = null, string? oauthError = null, string? description = null) => E(nameof(BusinessClientRejected),
        AdeErrorCategory.AuthenticationError,
        endpoint is null
            ? (oauthError switch
            {
                "invalid_grant" => F("Apple refused the client assertion of API account '{0}' ({1}): the assertion's times or its single use were not accepted. This computer's clock is probably more than a minute off: check the system clock and its time synchronisation, then run the command again.", clientId, OAuthReason(oauthError, description)),
                "invalid_scope" => F("Apple refused the scope of API account '{0}' ({1}): a BUSINESSAPI. account asks for business.api, a SCHOOLAPI. one for school.api. Check the client ID with Get-AdeBusinessAccount and store the account again with Remove-AdeBusinessAccount and New-AdeBusinessAccount.", clientId, OAuthReason(oauthError, description)),
                null or "" or "invalid_client" => F("Apple refused the client assertion of API account '{0}' ({1}). The client ID, the key ID or the private key does not match an active key: the key may have been revoked or replaced in the portal, or this computer's clock is more than a minute ahead. Check the account under Preferences > API and the system clock, then store the current key with Remove-AdeBusinessAccount and New-AdeBusinessAccount.", clientId, OAuthReason("invalid_client", description)),
                _ => F("Apple refused the token request of API account '{0}' ({1}). Check the account under Preferences > API and the system clock; if the account is right, store it again with Remove-AdeBusinessAccount and New-AdeBusinessAccount.", clientId, OAuthReason(oauthError, description)),
            })
            : F("Apple refused the access token of API account '{0}' on {1} (401) even right after issuing a new one. The account's host does not match its kind (a SCHOOLAPI. account must use https://api-school.apple.com/v1/, a BUSINESSAPI. one https://api-business.apple.com/v1/), or the key was revoked meanwhile. Check ServiceUri with Get-AdeBusinessAccount and store the account again with Remove-AdeBusinessAccount and New-AdeBusinessAccount (without -ServiceUri, the host follows the client ID).", clientId, endpoint),
        clientId);

    private static string OAuthReason(string error, string? description) => string.IsNullOrEmpty(description) ? error : error + ": " + description;

    /// <summary>Apple answered 403: <paramref name="service"/> is the account's service address as shown (no query, no user info), <paramref name="endpoint"/> the method and path.</summary>
    public static AdeException BusinessAccessDenied(string clientId, string service, string endpoint, string code) => E(nameof(BusinessAccessDenied),
        AdeErrorCategory.PermissionDenied,
        F("Apple's service {0} denied API account '{1}' the request {2} (403{3}). Its access token is no longer accepted or the account lacks the permission for it: check the account and its privileges in Apple Business Manager or Apple School Manager (Preferences > API), and that the account's ServiceUri (Get-AdeBusinessAccount) is its kind's Apple host; then run the command again.",
            service, clientId, endpoint, code.Length == 0 ? "" : " " + code),
        clientId);

    /// <param name="releasedAt">When a release activity of this account released the device, as the store recorded it.</param>
    public static AdeException BusinessDeviceNotFound(string serialOrBatch, DateTimeOffset? releasedAt = null) => E(nameof(BusinessDeviceNotFound),
        AdeErrorCategory.ObjectNotFound,
        releasedAt is { } released
            ? F("Apple no longer lists device '{0}' in this organisation: it was released from it on {1:yyyy-MM-dd HH:mm} UTC (a release activity of this account). It is listed again once it is added to the organisation again (Apple Configurator or its reseller); nothing was changed.", Shown(serialOrBatch), released.UtcDateTime)
            : F("Apple does not know device '{0}' in this organisation. Check the serial numbers with Get-AdeOrgDevice; nothing was changed.", Shown(serialOrBatch)),
        serialOrBatch);

    public static AdeException BusinessDeviceReleased(string serial, DateTimeOffset releasedAt) => E(nameof(BusinessDeviceReleased),
        AdeErrorCategory.InvalidOperation,
        F("Device '{0}' was released from the organisation on {1:yyyy-MM-dd HH:mm} UTC (a release activity of this account); it was left out and nothing was sent for it. A released device must be added to the organisation again (Apple Configurator or its reseller) before it can be assigned, unassigned or released; once Apple shows it added again, it is sent.", serial, releasedAt.UtcDateTime),
        serial);

    public static AdeException BusinessReleaseNotInSchool(string clientId) => E(nameof(BusinessReleaseNotInSchool),
        AdeErrorCategory.InvalidOperation,
        F("API account '{0}' is an Apple School Manager account, and Apple School Manager's API cannot release devices (only Apple Business Manager's can); nothing was sent. Release the devices in Apple School Manager itself.", clientId),
        clientId);

    /// <summary>Several such devices of one command: one warning (the same id) instead of one per device.</summary>
    /// <param name="checkedAgain">Whether Apple was asked whether they were added again (up to 20 of a command are).</param>
    public static AdeException BusinessDeviceReleased(IReadOnlyList<string> serials, bool checkedAgain = true) => E(nameof(BusinessDeviceReleased),
        AdeErrorCategory.InvalidOperation,
        F("{0} were released from the organisation (release activities of this account): {1}. They were left out and nothing was sent for them. A released device must be added to the organisation again (Apple Configurator or its reseller) before it can be assigned, unassigned or released; {2}",
            Engine.Counted.Of(serials.Count, "device"), Engine.Counted.FirstFew(serials, 10),
            checkedAgain ? "once Apple shows it added again, it is sent." : "whether Apple shows them added again is checked for up to 20 such devices of one command, so send them in smaller groups."),
        string.Join(",", serials));

    public static AdeException BusinessServerDeleted(string server) => E(nameof(BusinessServerDeleted),
        AdeErrorCategory.InvalidOperation,
        F("The MDM server '{0}' was deleted at Apple (status DELETED): it takes no device, gives up none, and cannot be changed or deleted again. Choose a live server (Get-AdeMdmServer); nothing was sent.", server),
        server);

    /// <summary>A server name taken in the organisation: found before sending, or Apple's refusal (HTTP <paramref name="sent"/>) when another admin was faster.</summary>
    public static AdeException BusinessServerExists(string server, int? sent = null) => E(nameof(BusinessServerExists),
        AdeErrorCategory.ResourceExists,
        F("The organisation already has an MDM server named '{0}' (names are unique, whatever their case). Choose another name, or change that server with Set-AdeMdmServer; {1}.", server,
            sent is { } status ? F("Apple refused the request (HTTP {0}) and changed nothing", status) : "nothing was sent"),
        server);

    public static AdeException BusinessServerHasDevices(string server, int? devices) => E(nameof(BusinessServerHasDevices),
        AdeErrorCategory.InvalidOperation,
        F("MDM server '{0}' still has {1} assigned, and Apple deletes only a server without devices. Move or unassign them first: Get-AdeOrgDevice -MdmServer '{0}' | Clear-AdeOrgDeviceServer -MdmServer '{0}' -Wait; nothing was deleted.",
            server, devices is { } n ? Counted.Of(n, "device") : "devices"),
        server);

    public static AdeException BusinessServerHasToken(string server, string token) => E(nameof(BusinessServerHasToken),
        AdeErrorCategory.InvalidOperation,
        F("The token '{1}' of MDM server '{0}' is stored here: deleting the server would leave it failing every sync. Remove it first with Remove-AdeToken -Token '{1}'; nothing was deleted.", server, token),
        server);

    public static AdeException BusinessServerNotFound(string server) => E(nameof(BusinessServerNotFound),
        AdeErrorCategory.ObjectNotFound,
        F("The organisation has no MDM server '{0}'. List the servers with Get-AdeMdmServer; a stored token is linked to the server of the same name.", server),
        server);

    public static AdeException BusinessActivityExpired(string id, DateTimeOffset createdAt, string lastStatus) => E(nameof(BusinessActivityExpired),
        AdeErrorCategory.ObjectNotFound,
        F("Apple no longer has device activity '{0}' (created {1:u}; Apple keeps activities for a limited time, about 30 days): it stays as last read ({2}). Check its devices with Get-AdeOrgDevice -SerialNumber.", id, createdAt, lastStatus),
        id);

    public static AdeException BusinessActivityNotFound(string id) => E(nameof(BusinessActivityNotFound),
        AdeErrorCategory.ObjectNotFound,
        F("No device activity '{0}' is in this store (or Apple no longer keeps it: activities are kept 30 days). List them with Get-AdeOrgDeviceActivity.", id),
        id);

    public static AdeException BusinessActivityFailed(string id, string status, string subStatus, int failed, int total) => E(nameof(BusinessActivityFailed),
        AdeErrorCategory.InvalidResult,
        F("Device activity {0} ended {1}{2}: {3} of {4} devices were not changed. Get-AdeOrgDeviceActivity -Id {0} lists the outcome of each device.", id, status, SubStatusNote(subStatus), failed, total),
        id);

    /// <summary>
    /// A finished activity whose log does not give the outcome of these devices: no log at all
    /// (COMPLETED_POST_PROCESSING_FAILED), or (<paramref name="logProblem"/>) a log that could not be downloaded or read.
    /// </summary>
    public static AdeException BusinessActivityOutcomeUnknown(string id, string status, string subStatus, IReadOnlyList<string> serials, int total, string? logProblem = null) => E(nameof(BusinessActivityOutcomeUnknown),
        AdeErrorCategory.InvalidResult,
        logProblem is null
            ? F("Device activity {0} ended {1}{2}, but Apple gave no log of what it did to {3} of its {4} devices: they may or may not have been changed. Check them with Get-AdeOrgDevice -SerialNumber {5} (Status and MdmServer) before sending the activity again; Get-AdeOrgDeviceActivity -Id {0} -Refresh shows them with status UNKNOWN.",
                id, status, SubStatusNote(subStatus), serials.Count, total, FirstSerials(serials))
            : F("Device activity {0} ended {1}{2}, but its log could not be read ({6}), so what it did to {3} of its {4} devices is unknown for now: they may or may not have been changed. Get-AdeOrgDeviceActivity -Id {0} -Refresh reads the log again; until then check them with Get-AdeOrgDevice -SerialNumber {5} before sending the activity again.",
                id, status, SubStatusNote(subStatus), serials.Count, total, FirstSerials(serials), logProblem),
        id);

    /// <summary>" (sub-status)" after an activity's status; nothing when Apple sent none.</summary>
    private static string SubStatusNote(string subStatus) => subStatus.Length == 0 ? "" : " (" + subStatus + ")";

    private static string FirstSerials(IReadOnlyList<string> serials) => string.Join(",", serials.Take(5)) + (serials.Count > 5 ? ",… (all in the activity's Devices)" : "");

    public static AdeException BusinessActivityTimeout(string id, TimeSpan waited) => E(nameof(BusinessActivityTimeout),
        AdeErrorCategory.OperationTimeout,
        F("Device activity {0} was still in progress after {1:0} seconds. It goes on at Apple; follow it with Get-AdeOrgDeviceActivity -Id {0} -Wait.", id, waited.TotalSeconds),
        id);

    /// <summary>
    /// The request budget of <paramref name="method"/> is used up: counted by the store before sending (nothing was
    /// sent), or Apple answered 429 to <paramref name="endpoint"/>.
    /// </summary>
    /// <param name="waitedUpTo">Null without -WaitForLimit; with it, the longest wait it takes (this one was longer, or other processes kept taking the budget).</param>
    public static AdeException BusinessThrottled(string clientId, string method, DateTimeOffset allowedAt, string service, string? endpoint = null, TimeSpan? waitedUpTo = null) => E(nameof(BusinessThrottled),
        AdeErrorCategory.LimitsExceeded,
        F("Apple's request budget for API account '{0}' ({1}) at {2} is used up{3}; the next request is allowed at {4:yyyy-MM-dd HH:mm:ss}Z. {5}",
            clientId, method, service, endpoint is null ? " (nothing was sent)" : ": Apple answered 429 to " + endpoint, allowedAt.UtcDateTime,
            waitedUpTo is { } most
                ? F("-WaitForLimit waits up to {0:N0} minutes, and not when other processes keep taking the budget; run the command again then.", most.TotalMinutes)
                : "Run the command again then, or add -WaitForLimit to wait."),
        clientId);

    /// <summary>
    /// Apple answered <paramref name="status"/> to <paramref name="endpoint"/> (method and path, or what was fetched) at
    /// <paramref name="service"/> (an address as shown: no query, no user info). A POST that failed with 5xx may
    /// have created its activity at Apple all the same, so the message says to check before sending it again.
    /// <see cref="AdeException.HttpStatus"/> carries the status for callers that tell a 404 apart.
    /// </summary>
    /// <param name="detail">Apple's own words (errors[].detail, made safe to show), quoted in the message when given.</param>
    public static AdeException BusinessRequestFailed(string clientId, string service, string endpoint, int status, string code, string? detail = null)
    {
        var advice = status < 500
            ? "Nothing was changed; check the command's parameters."
            : endpoint.StartsWith("POST /", StringComparison.Ordinal)
                ? MayHaveApplied(endpoint)
                : "Apple's service is unavailable; try again later.";
        var e = E(nameof(BusinessRequestFailed),
            status >= 500 ? AdeErrorCategory.ResourceUnavailable : AdeErrorCategory.InvalidOperation,
            F("Apple's service {0} answered {1}{2} to {3} for API account '{4}'{5}. {6}", service, status, code.Length == 0 ? "" : " (" + code + ")", endpoint, clientId,
                detail is null ? "" : ": \"" + detail.TrimEnd('.') + "\"", advice),
            endpoint);
        e.HttpStatus = status;
        return e;
    }

    /// <summary>
    /// An answer of Apple's Business API that can't be read. <paramref name="accepted"/>: the answer is a success to a
    /// write (POST, PATCH, DELETE), so Apple carried the write out and only what it sent back is unusable; the message
    /// says so and how to check instead of sending it again, and <see cref="AdeException.AcceptedByApple"/> is set.
    /// </summary>
    public static AdeException BusinessResponseInvalid(string endpoint, string reason, Exception? inner = null, bool accepted = false)
    {
        if (!accepted)
        {
            return E(nameof(BusinessResponseInvalid), AdeErrorCategory.InvalidData,
                F("Apple's answer to {0} could not be read ({1}). Try again; if it persists, report it.", endpoint, reason), endpoint, inner);
        }

        var e = E(nameof(BusinessResponseInvalid), AdeErrorCategory.InvalidData,
            F("Apple accepted {0}, but its answer could not be read ({1}). {2}", endpoint, reason, endpoint.Contains("/v1/orgDeviceActivities", StringComparison.Ordinal)
                ? "Apple created the activity, but without its id it was not stored: do not send these devices again; check them with Get-AdeOrgDevice -SerialNumber (Status and MdmServer; Apple applies an activity within minutes)."
                : "The change to the MDM server was made: check it with Get-AdeMdmServer instead of running the command again."),
            endpoint, inner);
        e.AcceptedByApple = true;
        return e;
    }

    public static AdeException BusinessCursorExpired(string endpoint) => E(nameof(BusinessCursorExpired),
        AdeErrorCategory.OperationTimeout,
        F("Apple no longer accepted the paging cursor of {0}, twice: the listing was started again once from the beginning and took longer than Apple keeps a cursor again. Nothing was stored. Run the command again when fewer requests wait for Apple's budget, or narrow it (-SerialNumber, -MdmServer).", endpoint),
        endpoint);

    /// <summary>
    /// The network failed on the way to or from Apple. <paramref name="afterSending"/>: the request had left (the
    /// connection broke while Apple answered), so a POST may have been carried out and the message says to check first.
    /// </summary>
    public static AdeException BusinessNetworkError(string endpoint, Exception inner, bool afterSending = false) => E(nameof(BusinessNetworkError),
        AdeErrorCategory.ConnectionError,
        afterSending && !endpoint.StartsWith("GET ", StringComparison.Ordinal)
            ? F("The connection to Apple's service broke after {0} was sent: {1} {2}", endpoint, inner.Message, MayHaveApplied(endpoint))
            : F("Apple's service could not be reached for {0}: {1} Check the network and try again.", endpoint, inner.Message),
        endpoint, inner);

    /// <summary>
    /// Appended to the error that stopped a device-activity command after Apple had accepted some of its activities:
    /// which ones (they are returned and stored) and, when the failure came while sending, which devices were in the
    /// failed request or after it (<paramref name="notSent"/> empty: every request had been accepted, the failure came
    /// while following them).
    /// </summary>
    /// <param name="failedMayHaveApplied">The failed request may have reached Apple and been carried out (a 5xx, a connection that broke).</param>
    /// <param name="acceptedUnread">The devices of the failed request when Apple accepted it but its answer could not be read (they are not in <paramref name="notSent"/>).</param>
    internal static string BusinessActivitiesAccepted(IReadOnlyList<string> ids, int acceptedDevices, IReadOnlyList<string> notSent, bool failedMayHaveApplied = false, IReadOnlyList<string>? acceptedUnread = null)
    {
        var accepted = F("Apple had accepted {0} {1} for {2} before this failure; {3} returned and stored: follow {4} with Get-AdeOrgDeviceActivity -Id {5} -Wait",
            ids.Count == 1 ? "activity" : "activities", string.Join(", ", ids), Counted.Of(acceptedDevices, "device"), ids.Count == 1 ? "it is" : "they are",
            ids.Count == 1 ? "it" : "them", string.Join(",", ids));
        if (notSent.Count == 0 && acceptedUnread is not { Count: > 0 })
        {
            return accepted + " instead of running this command again.";
        }

        var rest = F("the other {0} ({1})", Counted.Of(notSent.Count, "device"), Counted.FirstFew(notSent, 3));
        accepted += ". Do not run the whole command again, which would send those devices again: ";
        if (acceptedUnread is { Count: > 0 })
        {
            return accepted + F("the next {0} ({1}) {2} in the request Apple accepted, as said above (check {3}, do not send {3} again); ",
                Counted.Of(acceptedUnread.Count, "device"), Counted.FirstFew(acceptedUnread, 3), acceptedUnread.Count == 1 ? "was" : "were", acceptedUnread.Count == 1 ? "it" : "them")
                + (notSent.Count == 0 ? "no other device was left to send." : F("send only {0} after them again.", rest));
        }

        return accepted + (failedMayHaveApplied
            ? rest + (notSent.Count == 1 ? " was" : " were") + " in the request that failed, which Apple may have carried out (check first, as said above), or after it; send again only what did not change."
            : F("send only {0} again.", rest));
    }

    /// <summary>What to do after a POST (a device activity) that may have reached Apple but brought back no answer.</summary>
    private static string MayHaveApplied(string endpoint) => endpoint.Contains("/v1/orgDeviceActivities", StringComparison.Ordinal) ? PostMayHaveApplied
        : "Apple may have carried out the change to the MDM server all the same: check with Get-AdeMdmServer before running the command again.";

    private const string PostMayHaveApplied = "Apple may have created the activity all the same, though it sent back no id: before running the command again, check its devices with Get-AdeOrgDevice -SerialNumber (Status and MdmServer; Apple applies an activity within minutes) and Get-AdeOrgDeviceActivity -Refresh, and send again only the devices that did not change.";

    // ---- argument validation -----------------------------------------------------------------------------------
    /// <summary>A parameter value that breaks its rule; <paramref name="value"/> null: a parameter this use needs was not given (said so, not shown as an empty value).</summary>
    public static AdeException ArgumentInvalid(string parameter, string? value, string rule) => E(nameof(ArgumentInvalid),
        AdeErrorCategory.InvalidArgument,
        value is null ? F("-{0} is required here: {1}", parameter, rule) : F("-{0} '{1}' is not valid: {2}", parameter, Shown(value), rule),
        value ?? parameter);
}

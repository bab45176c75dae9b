using System.Globalization;
using System.Security.Cryptography;
using AdeEnrollment.Simulator.Abm;
using AdeEnrollment.Simulator.Business;
using AdeEnrollment.Simulator.Business.Handlers;
using AdeEnrollment.Simulator.Service;
using AdeEnrollment.Simulator.Service.Faults;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator;

/// <summary>
/// A faithful local stand-in for Apple's ADE web service (docs/about_AdeEnrollment_Testing.md) plus the few Apple
/// Business Manager actions a test needs. Listens on 127.0.0.1 only, in this process (HttpListener, no ASP.NET).
/// </summary>
/// <remarks>
/// This class is the public face the cmdlets and tests use; it holds no logic of its own. The parts
/// (docs/architecture.md, "Simulator"): <see cref="OrgState"/> (the org, one lock), <see cref="SimHttpHost"/>
/// (listener, body limit, answers, request log), <see cref="DepRouter"/> (route table, User-Agent and session checks),
/// <see cref="FaultInjector"/>, one handler per endpoint in Service/Handlers, and <see cref="AbmPortal"/> (the ABM side).
/// The Apple Business API follows the same pattern: <see cref="BusinessState"/> beside the org state under the same
/// lock, <see cref="BusinessRouter"/> mounted on the DEP router, one handler per endpoint in Business/Handlers.
/// </remarks>
public sealed class AdeSimulator : IDisposable
{
    public const int DefaultPageSize = DepLimits.DefaultPageSize;
    public const int MaxPageSize = DepLimits.MaxPageSize;
    public const int MaxDevicesPerRequest = DepLimits.MaxDevicesPerRequest;
    public const int MaxLoggedRequests = 10_000;
    public static readonly TimeSpan CursorLifetime = DepLimits.CursorLifetime;

    /// <summary>The largest request body accepted; a larger one is answered 413 without being read further.</summary>
    public const int MaxRequestBodyBytes = SimHttpHost.MaxRequestBodyBytes;

    public const string DefaultOrgName = AbmPortal.DefaultOrgName;
    public const string DefaultAdminId = AbmPortal.DefaultAdminId;
    public static readonly TimeSpan TokenLifetime = AbmPortal.TokenLifetime;

    private readonly SimSettings settings = new();
    private readonly OrgState state;
    private readonly FaultInjector faults;
    private readonly RequestLog requestLog = new(MaxLoggedRequests);
    private readonly SimHttpHost host;
    private readonly AbmPortal portal;
    private readonly BusinessSettings businessSettings = new();
    private readonly BusinessState business;

    /// <summary>Every endpoint's path, <c>{id}</c> for a variable segment: a fault's -Endpoint must name one of them.</summary>
    private readonly IReadOnlyList<string> endpoints;

    private AdeSimulator(int port, int seed, TimeProvider time)
    {
        Seed = seed;
        Time = time;
        StartedAt = time.GetUtcNow();
        state = new OrgState(seed, time, settings);
        faults = new FaultInjector(new Random(seed ^ 0x5F3759DF).NextDouble);
        business = new BusinessState(state, businessSettings, StartedAt);
        var businessRouter = BusinessRouter.ForBusiness(business);
        var router = DepRouter.ForAde(state).Mount(BusinessRouter.Handles, businessRouter.Route);
        endpoints = [.. router.Paths.Concat(businessRouter.Templates).Order(StringComparer.Ordinal)];
        router.BeforeEach = () => ActivityCompletion.CompleteDue(business); // Apple Business activities complete on the simulator's clock
        host = SimHttpHost.Start(port, router.Route, faults, requestLog, time);
        business.BaseUri = host.Uri;
        portal = new AbmPortal(state, host.Uri);
    }

    /// <summary>The base URI to give clients (New-AdeToken -ServiceUri).</summary>
    public Uri Uri => host.Uri;

    public int Port => host.Port;

    /// <summary>The seed of the generated devices and UUIDs: the same seed gives the same devices.</summary>
    public int Seed { get; }

    public DateTimeOffset StartedAt { get; }

    public bool IsRunning => host.IsRunning;

    /// <summary>The simulator's clock (sessions, cursors, timestamps, token expiry).</summary>
    public TimeProvider Time { get; }

    /// <summary>How long a session from /session is valid (Apple does not document it; clients must handle 401).</summary>
    public TimeSpan SessionLifetime
    {
        get => settings.SessionLifetime;
        set => settings.SessionLifetime = value;
    }

    /// <summary>The largest accepted difference between oauth_timestamp and the simulator's clock.</summary>
    public TimeSpan MaxClockSkew
    {
        get => settings.MaxClockSkew;
        set => settings.MaxClockSkew = value;
    }

    /// <summary>When set, every Nth request of a session gets a new session token in X-ADM-Auth-Session (the old one stops working).</summary>
    public int? RotateSessionEvery
    {
        get => settings.RotateSessionEvery;
        set => settings.RotateSessionEvery = value;
    }

    /// <summary>Write error bodies JSON-quoted ("INVALID_CURSOR") as the old depsim did, instead of Apple's plain text.</summary>
    public bool QuoteErrorBodies
    {
        get => settings.QuoteErrorBodies;
        set => settings.QuoteErrorBodies = value;
    }

    /// <summary>
    /// When set, device pages hold at most this many devices whatever the client asks (Apple may send fewer than
    /// asked). Tests use small pages to get many pages from few devices.
    /// </summary>
    public int? PageSizeCap
    {
        get => settings.PageSizeCap;
        set => settings.PageSizeCap = value is null or (>= 1 and <= MaxPageSize) ? value
            : throw SimErrors.ArgumentInvalid("PageSizeCap", value.Value.ToString(CultureInfo.InvariantCulture), "a page holds 1 to 1000 devices.");
    }

    public int ServerCount => portal.ServerCount;

    /// <summary>Starts a simulator on 127.0.0.1:<paramref name="port"/> (0 picks a free port).</summary>
    public static AdeSimulator Start(int port = 0, int? seed = null, TimeProvider? time = null)
    {
        if (port is < 0 or > 65535)
        {
            throw SimErrors.ArgumentInvalid("Port", port.ToString(CultureInfo.InvariantCulture), "a TCP port is 0 to 65535 (0 picks a free one).");
        }

        return new AdeSimulator(port, seed ?? RandomNumberGenerator.GetInt32(int.MaxValue), time ?? SimulatorClock.Instance);
    }

    public void Stop() => host.Stop();

    public void Dispose() => Stop();

    public override string ToString() => Uri.ToString();

    // ---- faults (FaultInjector; per-device answers live with the server) -------------------------------------------

    /// <summary>Adds a fault; the first matching fault (in the order added) answers a request.</summary>
    public AdeSimFault AddFault(string endpoint, int? statusCode, string? body = null, int? count = null, int? retryAfterSeconds = null,
        TimeSpan latency = default, bool dropConnection = false, string? method = null, double share = 1, bool retryAfterAsDate = false, bool afterApplying = false,
        int skip = 0)
    {
        var pattern = PathPattern.Normalise(endpoint);
        if (!endpoints.Any(e => PathPattern.Matches(pattern, e.Replace("{id}", "ID", StringComparison.Ordinal)) || PathPattern.MatchesTemplate(pattern, e)))
        {
            // a misspelt fault never fires, and a test meant to see a failure passes on the success path
            throw SimErrors.ArgumentInvalid("Endpoint", endpoint, $"no endpoint of the simulated Apple services matches it. The endpoints are {string.Join(", ", endpoints)} (wildcards * and ? allowed).");
        }

        return faults.Add(endpoint, statusCode, body, count, retryAfterSeconds, latency, dropConnection, method, share, retryAfterAsDate, afterApplying, skip);
    }

    public IReadOnlyList<AdeSimFault> GetFaults() => faults.List();

    /// <summary>Removes every fault (endpoint and per-device); returns how many were removed.</summary>
    public int ClearFaults() => faults.Clear() + portal.ClearDeviceOutcomes();

    /// <summary>
    /// Makes Apple answer <paramref name="status"/> (FAILED, THROTTLED or NOT_ACCESSIBLE) for this serial in assign and
    /// remove requests, for <paramref name="count"/> requests (null: until Clear-AdeSimFault).
    /// </summary>
    public void SetDeviceOutcome(string server, string serialNumber, string status, int? count = null, int? retryAfterSeconds = null)
        => portal.SetDeviceOutcome(server, serialNumber, status, count, retryAfterSeconds);

    // ---- request log -----------------------------------------------------------------------------------------------

    /// <summary>The requests answered so far (the last 10,000), oldest first; <paramref name="path"/> may use wildcards.</summary>
    public IReadOnlyList<AdeSimRequest> GetRequests(string? path = null) => requestLog.Get(path);

    public void ClearRequests() => requestLog.Clear();

    // ---- the ABM portal (AbmPortal) --------------------------------------------------------------------------------

    /// <summary>
    /// ABM "add MDM server": creates the server for the uploaded certificate and returns its first token, the text of an
    /// Apple-format <c>.p7m</c> encrypted to that certificate.
    /// </summary>
    public AdeSimServer NewServer(string name, string certificatePem, out string tokenFileText, string? orgName = null, string? adminId = null, DateTimeOffset? expiresAt = null)
        => portal.NewServer(name, certificatePem, out tokenFileText, orgName, adminId, expiresAt);

    /// <summary>
    /// ABM "download token": a new token for the server (to the given or the last uploaded certificate). The previous
    /// token stops working at once, and so do the sessions made with it.
    /// </summary>
    public AdeSimServer ExportServerToken(string server, out string tokenFileText, string? certificatePem = null, DateTimeOffset? expiresAt = null)
        => portal.ExportServerToken(server, out tokenFileText, certificatePem, expiresAt);

    /// <summary>The server's current OAuth credentials (for tests that talk to the simulator without a .p7m).</summary>
    internal ServerTokenCredentials CredentialsOf(string server) => portal.CredentialsOf(server);

    /// <summary>Remembers where a command wrote the server's token (shown by the server object).</summary>
    public void SetTokenFile(string server, string path) => portal.SetTokenFile(server, path);

    public AdeSimServer GetServer(string server) => portal.GetServer(server);

    public IReadOnlyList<AdeSimServer> GetServers() => portal.GetServers();

    /// <summary>Set-AdeSimServer -AllowDeviceRelease: whether POST /devices/disown is allowed (403 ACCESS_DENIED otherwise).</summary>
    /// <param name="serverType">What the Business API lists the server as (MDM, APPLE_CONFIGURATOR, APPLE_MDM); null leaves it.</param>
    public AdeSimServer SetServer(string server, bool? allowDeviceRelease, string? serverType = null) => portal.SetServer(server, allowDeviceRelease, serverType);

    /// <summary>
    /// ABM "assign to MDM server": generated devices (<paramref name="count"/>) and/or the named serial numbers. Each
    /// arrives as an <c>added</c> event. A serial already on another server is refused, as in ABM.
    /// </summary>
    public IReadOnlyList<AdeSimDevice> AddDevices(string server, int count = 0, IReadOnlyCollection<string>? serialNumbers = null, string? deviceFamily = null)
        => portal.AddDevices(server, count, serialNumbers, deviceFamily);

    /// <summary>ABM "unassign"/"release": the device leaves the server with a <c>deleted</c> event.</summary>
    public AdeSimDevice RemoveDevice(string server, string serialNumber) => portal.RemoveDevice(server, serialNumber);

    /// <summary>The server's devices as Apple sees them (all, or the given serial numbers that exist).</summary>
    public IReadOnlyList<AdeSimDevice> GetDevices(string server, IReadOnlyCollection<string>? serialNumbers = null) => portal.GetDevices(server, serialNumbers);

    /// <summary>The device was switched on and fetched its profile: profile_status becomes <c>pushed</c>.</summary>
    public AdeSimDevice ActivateDevice(string server, string serialNumber) => portal.ActivateDevice(server, serialNumber);

    /// <summary>Set-AdeSimDevice: fields ABM sets on a device; the change is a 'modified' event for sync.</summary>
    public AdeSimDevice SetDevice(string server, string serialNumber, DateTimeOffset? mdmMigrationDeadline, bool clearDeadline, bool? isReplacementDevice)
        => portal.SetDevice(server, serialNumber, mdmMigrationDeadline, clearDeadline, isReplacementDevice);

    /// <summary>
    /// Set-AdeSimProfile: changes keys of a profile as Apple holds it (someone redefined it elsewhere), so a client's
    /// drift check has something to find. Keys are Apple's JSON names; a null value removes the key.
    /// </summary>
    public void SetProfileKeys(string server, string profileUuid, IReadOnlyDictionary<string, object?> keys) => portal.SetProfileKeys(server, profileUuid, keys);

    /// <summary>Get-AdeSimProfile: the profiles the server holds, in the order they were defined.</summary>
    public IReadOnlyList<AdeSimProfile> GetProfiles(string server) => portal.GetProfiles(server);

    // ---- the Apple Business API (Business/: BusinessState, BusinessRouter, handlers) --------------------------------

    public const string BusinessAudience = TokenHandler.Audience;

    /// <summary>Lifetime of an access token (Apple: 3600 s); shorten to test renewal.</summary>
    public TimeSpan BusinessTokenLifetime { get => businessSettings.TokenLifetime; set => businessSettings.TokenLifetime = value; }

    /// <summary>How long an activity stays IN_PROGRESS on the simulator's clock (Apple: about 10 s).</summary>
    public TimeSpan ActivityDuration { get => businessSettings.ActivityDuration; set => businessSettings.ActivityDuration = value; }

    /// <summary>GET requests allowed per account and minute (null: unlimited). Observed: about 20.</summary>
    public int? BusinessGetsPerMinute { get => businessSettings.GetsPerMinute; set => businessSettings.GetsPerMinute = value; }

    /// <summary>POST requests allowed per account and hour (null: unlimited). Observed: about 10.</summary>
    public int? BusinessPostsPerHour { get => businessSettings.PostsPerHour; set => businessSettings.PostsPerHour = value; }

    /// <summary>Require iss == client ID in the assertion (Apple's sample sends it; its claim table does not list it).</summary>
    public bool RequireAssertionIssuer { get => businessSettings.RequireAssertionIssuer; set => businessSettings.RequireAssertionIssuer = value; }

    /// <summary>Refuse a client assertion whose jti was already used for an access token (Set-AdeSimBusinessApi -SingleUseAssertions).</summary>
    public bool SingleUseAssertions { get => businessSettings.SingleUseAssertions; set => businessSettings.SingleUseAssertions = value; }

    /// <summary>Unassigned device on /relationships/assignedServer: 404 instead of 200 with data null.</summary>
    public bool UnassignedServerAsNotFound { get => businessSettings.UnassignedServerAsNotFound; set => businessSettings.UnassignedServerAsNotFound = value; }

    /// <summary>links.next carries only the cursor (Apple's example) instead of cursor and limit.</summary>
    public bool NextLinkWithoutLimit { get => businessSettings.NextLinkWithoutLimit; set => businessSettings.NextLinkWithoutLimit = value; }

    /// <summary>
    /// Makes the next activities fail these devices with <paramref name="reason"/> in their log (the devices are not
    /// moved); an empty list fails none. Set-AdeSimBusinessApi -Reset clears it too.
    /// </summary>
    public void FailActivityDevices(IEnumerable<string> serialNumbers, string reason = DefaultActivityFailureReason)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw SimErrors.ArgumentInvalid("FailReason", reason, "give the reason the activity log shows for the device.");
        }

        businessSettings.FailingSerials = serialNumbers.Select(s => s.Trim()).Where(s => s.Length > 0)
            .Distinct(StringComparer.OrdinalIgnoreCase).ToDictionary(s => s, _ => reason.Trim(), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The log's reason for a device failed with <see cref="FailActivityDevices"/> when none is given.</summary>
    public const string DefaultActivityFailureReason = "INTERNAL_ERROR";

    /// <summary>Unknown serials in an activity fail in its log instead of refusing the request with 409.</summary>
    public bool PartialUnknownSerials { get => businessSettings.PartialUnknownSerials; set => businessSettings.PartialUnknownSerials = value; }

    /// <summary>GET /v1/mdmServers without fields[] returns every attribute instead of Apple's small default subset.</summary>
    public bool FullServerAttributesByDefault { get => businessSettings.FullServerAttributesByDefault; set => businessSettings.FullServerAttributesByDefault = value; }

    /// <summary>Business API server ids unrelated to the DEP server_uuid (the join must then go by name).</summary>
    public bool UnrelatedServerIds { get => businessSettings.UnrelatedServerIds; set => businessSettings.UnrelatedServerIds = value; }

    /// <summary>The three MDM migration activity types of API 2.3 are accepted (false: refused with 400, as before 2.3).</summary>
    public bool MigrationActivities { get => businessSettings.MigrationActivities; set => businessSettings.MigrationActivities = value; }

    /// <summary>Collections are paged in a stable but shuffled order instead of by id (Apple documents no order).</summary>
    public bool ShuffledOrder { get => businessSettings.ShuffledOrder; set => businessSettings.ShuffledOrder = value; }

    /// <summary>meta.paging carries total, the size of the whole collection (in Apple's schema, never seen in its examples).</summary>
    public bool PagingTotal { get => businessSettings.PagingTotal; set => businessSettings.PagingTotal = value; }

    /// <summary>Send Retry-After as an HTTP date instead of seconds on 429.</summary>
    public bool RetryAfterAsHttpDate { get => businessSettings.RetryAfterAsHttpDate; set => businessSettings.RetryAfterAsHttpDate = value; }

    /// <summary>Send 429 without any Retry-After header (the client must fall back to its own backoff).</summary>
    public bool OmitRetryAfter { get => businessSettings.OmitRetryAfter; set => businessSettings.OmitRetryAfter = value; }

    /// <summary>Largest number of devices in one activity (null: no cap; Apple documents none).</summary>
    public int? MaxDevicesPerActivity { get => businessSettings.MaxDevicesPerActivity; set => businessSettings.MaxDevicesPerActivity = value; }

    /// <summary>How an activity above the cap is refused: Entity422 (names the cap), Parameter400 (no number) or TooLarge413.</summary>
    public string ActivityCapAnswer { get => businessSettings.ActivityCapAnswer; set => businessSettings.ActivityCapAnswer = value; }

    /// <summary>The layout of activity logs: Preamble, NoPreamble, Quoted or TitleCase (Apple documents none).</summary>
    public string ActivityLogShape { get => businessSettings.ActivityLogShape; set => businessSettings.ActivityLogShape = value; }

    /// <summary>The word a log row writes for a device that was changed (default SUCCESS).</summary>
    public string ActivityLogSuccess { get => businessSettings.ActivityLogSuccess; set => businessSettings.ActivityLogSuccess = value; }

    /// <summary>The word a log row writes for a device that was not changed (default FAILED).</summary>
    public string ActivityLogFailure { get => businessSettings.ActivityLogFailure; set => businessSettings.ActivityLogFailure = value; }

    /// <summary>How long a log link is valid after the GET of the activity that gave it (default 60 s).</summary>
    public TimeSpan ActivityLogLinkLifetime { get => businessSettings.ActivityLogLinkLifetime; set => businessSettings.ActivityLogLinkLifetime = value; }

    /// <summary>
    /// Makes the next completing activities end with this status (FAILED, STOPPED or COMPLETED_WITH_FAILURE), or
    /// COMPLETED_POST_PROCESSING_FAILED: the devices move but the activity has no log (no downloadUrl); null: normal.
    /// </summary>
    public string? ForcedActivityOutcome
    {
        get => businessSettings.ForcedActivityOutcome;
        set => businessSettings.ForcedActivityOutcome = value is null or "FAILED" or "FAILED_WITHOUT_LOG" or "STOPPED" or "COMPLETED_WITH_FAILURE" or "COMPLETED_POST_PROCESSING_FAILED"
            ? value
            : throw SimErrors.ArgumentInvalid("ActivityOutcome", value, "FAILED, FAILED_WITHOUT_LOG, STOPPED, COMPLETED_WITH_FAILURE or COMPLETED_POST_PROCESSING_FAILED.");
    }

    /// <summary>How org devices carry MAC addresses: String (documented: Wi-Fi and Bluetooth strings, Ethernet an array), Array, BuiltInEthernet (Ethernet under builtInEthernetMacAddress) or None.</summary>
    public string MacAddressShape { get => businessSettings.MacAddressShape; set => businessSettings.MacAddressShape = value; }

    /// <summary>How IMEI and MEID are sent: Array (documented), String or None.</summary>
    public string ImeiShape { get => businessSettings.ImeiShape; set => businessSettings.ImeiShape = value; }

    /// <summary>Which PATCH clears a server's default product families: Both, EmptyList, Null or None.</summary>
    public string ClearFamiliesWith { get => businessSettings.ClearFamiliesWith; set => businessSettings.ClearFamiliesWith = value; }

    /// <summary>releasedFromOrgDateTime, releaserId and releaserEntityType are sent (false: left out of every answer).</summary>
    public bool ReleaseAttributes { get => businessSettings.ReleaseAttributes; set => businessSettings.ReleaseAttributes = value; }

    /// <summary>device_assigned_by of devices the next activities assign: ClientId (default), ServerAdmin or Empty (Apple documents no value).</summary>
    public string ApiAssignedBy { get => businessSettings.ApiAssignedBy; set => businessSettings.ApiAssignedBy = value; }

    /// <summary>The releaserEntityType recorded by the next release activities (Apple documents no values; default API).</summary>
    public string ReleaserEntityType { get => businessSettings.ReleaserEntityType; set => businessSettings.ReleaserEntityType = value; }

    /// <summary>Released devices stay in the org device listing and answer a single GET (with their release date) instead of disappearing.</summary>
    public bool ListReleasedDevices { get => businessSettings.ListReleasedDevices; set => businessSettings.ListReleasedDevices = value; }

    /// <summary>The inventory listing carries released devices' release date too (Apple documents it on a single device's GET only).</summary>
    public bool ReleaseDateInList { get => businessSettings.ReleaseDateInList; set => businessSettings.ReleaseDateInList = value; }

    /// <summary>Deleted device management services stay in the server listing with status DELETED instead of disappearing.</summary>
    public bool ListDeletedServers { get => businessSettings.ListDeletedServers; set => businessSettings.ListDeletedServers = value; }

    /// <summary>Apple Business "delete device management service": the server is gone for the Business API (refused while devices are on it).</summary>
    public void DeleteMdmServer(string name) => business.DeleteServer(name);

    /// <summary>Every Apple Business API switch and budget back to its default (accounts, devices, servers and activities stay).</summary>
    public void ResetBusinessApi() => businessSettings.Reset();

    /// <summary>Serial numbers in Business API paths and activities must match exactly, case included (a lower-case serial is unknown).</summary>
    public bool CaseSensitiveSerials { get => businessSettings.CaseSensitiveSerials; set => businessSettings.CaseSensitiveSerials = value; }

    /// <summary>Activities carry the undocumented activityType, updatedDateTime and deviceCount (default: left out, as Apple documents).</summary>
    public bool ActivityExtraAttributes { get => businessSettings.ActivityExtraAttributes; set => businessSettings.ActivityExtraAttributes = value; }

    /// <summary>A fields[type] naming an undocumented type or field is refused with 400 PARAMETER_ERROR.INVALID (default: unknown names are ignored).</summary>
    public bool RejectUnknownFields { get => businessSettings.RejectUnknownFields; set => businessSettings.RejectUnknownFields = value; }

    /// <summary>Product families AddOrgDevices accepts beyond Apple's six (e.g. iPod, or a future one), sent to clients as given.</summary>
    public IReadOnlyList<string> ExtraProductFamilies { get => businessSettings.ExtraProductFamilies; set => businessSettings.ExtraProductFamilies = [.. value]; }

    /// <summary>How long (simulator clock) after an activity completes its devices appear as added/deleted in the DEP sync (zero: at once).</summary>
    public TimeSpan DepVisibilityDelay { get => businessSettings.DepVisibilityDelay; set => businessSettings.DepVisibilityDelay = value; }

    /// <summary>A School API token is refused (401) on the Business host (<c>/v1/</c>) and a Business one on the School host (<c>/school/v1/</c>); false: either host accepts either token.</summary>
    public bool StrictApiHosts { get => businessSettings.StrictApiHosts; set => businessSettings.StrictApiHosts = value; }

    /// <summary>How far in the future an assertion's iat may lie on the simulator clock (default 5 minutes; zero: strict).</summary>
    public TimeSpan AssertionClockSkew { get => businessSettings.AssertionClockSkew; set => businessSettings.AssertionClockSkew = value; }

    /// <summary>Token refusals carry the RFC 6749 code of their reason (invalid_client 401; invalid_grant, invalid_scope, unsupported_grant_type, invalid_request 400) instead of Apple's invalid_client 400 for all.</summary>
    public bool RfcOAuthErrors { get => businessSettings.RfcOAuthErrors; set => businessSettings.RfcOAuthErrors = value; }

    /// <summary>Unassigning a device from a server it is not on reports success and changes nothing (false: the device fails in the log, NOT_ASSIGNED_TO_SERVER).</summary>
    public bool SilentUnassignElsewhere { get => businessSettings.SilentUnassignElsewhere; set => businessSettings.SilentUnassignElsewhere = value; }

    /// <summary>How long a paging cursor stays valid on the simulator clock (null: never expires); an expired one is 400 PARAMETER_ERROR.INVALID, source.parameter "cursor".</summary>
    public TimeSpan? BusinessCursorLifetime { get => businessSettings.CursorLifetime; set => businessSettings.CursorLifetime = value; }

    /// <summary>Org devices carry their purchase source id under the misspelled key purchaseSourceUid instead of the documented purchaseSourceId.</summary>
    public bool PurchaseSourceUid { get => businessSettings.PurchaseSourceUid; set => businessSettings.PurchaseSourceUid = value; }

    /// <summary>A collection limit above <see cref="BusinessMaxLimit"/>: Reject (400 PARAMETER_ERROR.INVALID, source.parameter "limit"; the default) or Clamp (answered with at most the maximum, silently).</summary>
    public string LimitOutOfRange { get => businessSettings.LimitOutOfRange; set => businessSettings.LimitOutOfRange = value is "Clamp" or "Reject" ? value : throw SimErrors.ArgumentInvalid("LimitOutOfRange", value, "use Reject or Clamp."); }

    /// <summary>The largest limit a Business API collection read accepts (default 1000, as Apple documents); the default page is at most this too.</summary>
    public int BusinessMaxLimit { get => businessSettings.MaxLimit; set => businessSettings.MaxLimit = value is >= 1 and <= DepLimits.MaxPageSize ? value : throw SimErrors.ArgumentInvalid("MaxLimit", value.ToString(System.Globalization.CultureInfo.InvariantCulture), "use 1 to 1000."); }

    /// <summary>A query parameter Apple does not document (filter[serialNumber], sort, …): Reject (the default: 400 PARAMETER_ERROR.INVALID, source.parameter naming it) or Ignore.</summary>
    public string UnknownQueryParameters { get => businessSettings.UnknownQueryParameters; set => businessSettings.UnknownQueryParameters = value is "Ignore" or "Reject" ? value : throw SimErrors.ArgumentInvalid("UnknownQueryParameter", value, "use Ignore or Reject."); }

    /// <summary>A product family is the default of one device management service at a time: PATCH setting it on one removes it from the organisation's others (false: several may list it, and a new device goes to the first by name).</summary>
    public bool ExclusiveDefaultFamilies { get => businessSettings.ExclusiveDefaultFamilies; set => businessSettings.ExclusiveDefaultFamilies = value; }

    /// <summary>GET /v1/mdmServers/{id} is answered 403 FORBIDDEN_ERROR, as on accounts of an older API version (the listing still answers).</summary>
    public bool ForbidServerRead { get => businessSettings.ForbidServerRead; set => businessSettings.ForbidServerRead = value; }

    /// <summary>The HTTP status of a refused duplicate server name, deletion of a service with devices and PATCH id mismatch: 409 (the default), 400 or 422.</summary>
    public int ConflictStatus { get => businessSettings.ConflictStatus; set => businessSettings.ConflictStatus = value is 400 or 409 or 422 ? value : throw SimErrors.ArgumentInvalid("ConflictStatus", value.ToString(System.Globalization.CultureInfo.InvariantCulture), "use 409, 400 or 422."); }

    /// <summary>Processing (SUBMITTED, then PROCESSING; the default) or Steps (every documented sub-status over the activity's duration).</summary>
    public string ActivityProgress { get => businessSettings.ActivityProgress; set => businessSettings.ActivityProgress = value is "Processing" or "Steps" ? value : throw SimErrors.ArgumentInvalid("ActivityProgress", value, "use Processing or Steps."); }

    /// <summary>The subStatus of a FAILED or STOPPED activity: Suggested (the default), LastSeen or None.</summary>
    public string FailedSubStatus { get => businessSettings.FailedSubStatus; set => businessSettings.FailedSubStatus = value is "Suggested" or "LastSeen" or "None" ? value : throw SimErrors.ArgumentInvalid("FailedSubStatus", value, "use Suggested, LastSeen or None."); }

    /// <summary>meta.paging.limit repeats the limit asked (the default); false: 100 whatever was asked.</summary>
    public bool PagingLimitAsAsked { get => businessSettings.PagingLimitAsAsked; set => businessSettings.PagingLimitAsAsked = value; }

    /// <summary>A service's devices relationship carries data and meta.paging beside its links.</summary>
    public bool ServerDevicesLinkage { get => businessSettings.ServerDevicesLinkage; set => businessSettings.ServerDevicesLinkage = value; }

    /// <summary>
    /// Apple Business "create API account" + "generate private key": returns the account and the PEM of its key. The
    /// account belongs to <paramref name="orgName"/> (default: the default organisation) and sees only its devices and servers.
    /// </summary>
    /// <param name="mislabelled">The PEM label does not match its content: SEC1 content under "PRIVATE KEY", or PKCS#8 content under "EC PRIVATE KEY".</param>
    public AdeSimBusinessAccount NewBusinessAccount(out string privateKeyPem, bool school = false, bool sec1 = true, string? keyPath = null, string? orgName = null, bool mislabelled = false)
    {
        var a = business.NewAccount(out privateKeyPem, school, sec1, orgName);
        if (mislabelled)
        {
            // swap the label only: the Base64 body stays what sec1 says
            privateKeyPem = sec1
                ? privateKeyPem.Replace("EC PRIVATE KEY-----", "PRIVATE KEY-----", StringComparison.Ordinal)
                : privateKeyPem.Replace("-----BEGIN PRIVATE KEY-----", "-----BEGIN EC PRIVATE KEY-----", StringComparison.Ordinal).Replace("-----END PRIVATE KEY-----", "-----END EC PRIVATE KEY-----", StringComparison.Ordinal);
        }

        return new AdeSimBusinessAccount
        {
            ClientId = a.ClientId,
            KeyId = a.KeyId,
            Scope = a.Scope,
            OrgName = business.Resolve(a.OrgKey),
            KeyPath = keyPath,
            TokenUri = new Uri(Uri, "auth/oauth2/token"),
            ServiceUri = new Uri(Uri, school ? "school/v1/" : "v1/"), // the School host is the /school prefix
        };
    }

    /// <summary>Apple Business "revoke key": the account's assertions are refused from now on, and its access tokens stop working.</summary>
    public void RevokeBusinessAccount(string clientId) => business.Revoke(clientId);

    /// <summary>Every access token stops working now (the next API call gets 401).</summary>
    public void ExpireBusinessTokens() => business.ExpireTokens();

    /// <summary>
    /// Devices bought by an organisation and not yet on any MDM server (Apple Business inventory). Generated
    /// (<paramref name="count"/>) and/or named serials; all share the order number and date given.
    /// </summary>
    public IReadOnlyList<AdeSimOrgDevice> AddOrgDevices(int count = 0, IReadOnlyCollection<string>? serialNumbers = null, string? productFamily = null,
        string? orderNumber = null, DateTimeOffset? orderDate = null, string purchaseSourceType = "RESELLER", string? appleCareStatus = null, string? orgName = null,
        string? mdmServer = null)
        => business.AddOrgDevices(count, serialNumbers, productFamily, orderNumber, orderDate, purchaseSourceType, appleCareStatus, orgName, mdmServer);

    /// <summary>Every device every organisation owns (inventory plus the devices on DEP servers), by serial.</summary>
    public IReadOnlyList<AdeSimOrgDevice> GetOrgDevices() => business.GetOrgDevices();
}

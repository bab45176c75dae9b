namespace AdeEnrollment.Simulator.Business;

/// <summary>
/// How the simulated Apple Business API behaves where Apple leaves room (Set-AdeSimBusinessApi). Plain values read
/// by the handlers under the org lock; the facade (<see cref="AdeSimulator"/>) publishes each as a property.
/// </summary>
internal sealed class BusinessSettings
{
    /// <summary>Every setting back to its default (Set-AdeSimBusinessApi -Reset): the values of a new instance.</summary>
    public void Reset()
    {
        var defaults = new BusinessSettings();
        foreach (var property in typeof(BusinessSettings).GetProperties().Where(p => p.CanRead && p.CanWrite))
        {
            property.SetValue(this, property.GetValue(defaults));
        }
    }

    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(1);

    public TimeSpan ActivityDuration { get; set; } = TimeSpan.FromSeconds(10);

    public int? GetsPerMinute { get; set; }

    public int? PostsPerHour { get; set; }

    public bool RequireAssertionIssuer { get; set; } = true;

    /// <summary>
    /// A client assertion is taken once: a second token request with the same jti is refused (reason jti_reused).
    /// Apple is not seen enforcing it (some clients keep one assertion for months), so it is off by default.
    /// </summary>
    public bool SingleUseAssertions { get; set; }

    public bool UnassignedServerAsNotFound { get; set; }

    public bool NextLinkWithoutLimit { get; set; }

    public bool PartialUnknownSerials { get; set; }

    /// <summary>
    /// Devices that the next activities fail (a FAILED row with this reason in the log; the device stays where it is),
    /// however the activity ends: a test's "Apple failed one device" (Set-AdeSimBusinessApi -FailSerialNumber).
    /// </summary>
    public IReadOnlyDictionary<string, string> FailingSerials { get; set; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);

    public bool FullServerAttributesByDefault { get; set; }

    public bool UnrelatedServerIds { get; set; }

    public bool MigrationActivities { get; set; } = true;

    public bool ShuffledOrder { get; set; }

    public bool PagingTotal { get; set; }

    public bool RetryAfterAsHttpDate { get; set; }

    /// <summary>429 answers carry no Retry-After header at all.</summary>
    public bool OmitRetryAfter { get; set; }

    public int? MaxDevicesPerActivity { get; set; }

    /// <summary>
    /// How an activity above <see cref="MaxDevicesPerActivity"/> is refused (Apple documents neither the cap nor the
    /// answer): Entity422 (422 ENTITY_ERROR.ATTRIBUTE.INVALID whose detail names the cap), Parameter400 (400
    /// PARAMETER_ERROR.INVALID pointing at the devices, no number), TooLarge413 (413 with a plain-text body, as a front end answers).
    /// </summary>
    public string ActivityCapAnswer { get; set; } = "Entity422";

    public string? ForcedActivityOutcome { get; set; }

    /// <summary>How MAC addresses are sent: String (Wi-Fi/Bluetooth as strings, Ethernet as an array: the documented shape), Array (all arrays), BuiltInEthernet (Ethernet under the undocumented key builtInEthernetMacAddress), None (not sent).</summary>
    public string MacAddressShape { get; set; } = "String";

    /// <summary>
    /// Which PATCH clears a service's defaultProductFamilies (Apple does not document it): Both (an empty list or null),
    /// EmptyList (null is taken and ignored), Null (an empty list is taken and ignored) or None (the API cannot clear it).
    /// </summary>
    public string ClearFamiliesWith { get; set; } = "Both";

    /// <summary>How IMEI and MEID are sent: Array (the documented shape), String (the first one, as older answers did) or None (not sent).</summary>
    public string ImeiShape { get; set; } = "Array";

    /// <summary>releasedFromOrgDateTime, releaserId and releaserEntityType are sent (false: the keys are left out).</summary>
    public bool ReleaseAttributes { get; set; } = true;

    /// <summary>
    /// What DEP reports as device_assigned_by for a device an activity assigned (Apple documents no value): ClientId (the
    /// API account's client ID), ServerAdmin (the server's admin e-mail, as for an assignment in the portal) or Empty.
    /// </summary>
    public string ApiAssignedBy { get; set; } = "ClientId";

    /// <summary>The releaserEntityType a release activity records (Apple documents no values).</summary>
    public string ReleaserEntityType { get; set; } = "API";

    /// <summary>
    /// The layout of an activity's CSV log (Apple documents none): Preamble (summary lines, a blank line, then the
    /// serial_number,operation_status,operation_substatus header), NoPreamble (the header first), Quoted (every cell
    /// quoted, CRLF line ends, a first column whose text holds commas and quotes), TitleCase ("Operation Status,Serial
    /// Number,Operation Substatus": other spelling, other order).
    /// </summary>
    public string ActivityLogShape { get; set; } = "Preamble";

    /// <summary>The words a log writes for a device changed and one not changed (Apple does not confirm them).</summary>
    public string ActivityLogSuccess { get; set; } = "SUCCESS";

    public string ActivityLogFailure { get; set; } = "FAILED";

    /// <summary>How long an activity's log link is valid after the GET that gave it.</summary>
    public TimeSpan ActivityLogLinkLifetime { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Released devices stay visible (in the listing and on a single GET) instead of disappearing.</summary>
    public bool ListReleasedDevices { get; set; }

    /// <summary>
    /// The inventory listing carries a released device's releasedFromOrgDateTime too (false, as Apple documents: null in
    /// the listing, filled only when the device is read by itself).
    /// </summary>
    public bool ReleaseDateInList { get; set; }

    /// <summary>Deleted device management services stay in GET /v1/mdmServers with status DELETED instead of disappearing.</summary>
    public bool ListDeletedServers { get; set; }

    /// <summary>Serial numbers in paths and activities must match exactly, case included (Apple does not say whether they are case-sensitive).</summary>
    public bool CaseSensitiveSerials { get; set; }

    /// <summary>Activities carry the undocumented activityType, updatedDateTime and deviceCount (false: left out, as documented).</summary>
    public bool ActivityExtraAttributes { get; set; }

    /// <summary>A fields[type] naming a type or field Apple does not document is answered 400 PARAMETER_ERROR.INVALID (false: ignored).</summary>
    public bool RejectUnknownFields { get; set; }

    /// <summary>Product families Add-AdeSimOrgDevice accepts beyond Apple's six (iPod, a future one): sent as given.</summary>
    public IReadOnlyList<string> ExtraProductFamilies { get; set; } = [];

    /// <summary>How long a paging cursor stays valid on the simulator clock (null: for ever).</summary>
    public TimeSpan? CursorLifetime { get; set; }

    /// <summary>How long after an activity completes its devices move on the DEP side (server sync and fetch); zero: at once.</summary>
    public TimeSpan DepVisibilityDelay { get; set; }

    /// <summary>A School API token is refused (401) on the Business host and a Business one on the School host.</summary>
    public bool StrictApiHosts { get; set; } = true;

    /// <summary>How far in the future (simulator clock) an assertion's iat may lie; zero: not at all.</summary>
    public TimeSpan AssertionClockSkew { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Token refusals carry the RFC code of their reason (invalid_grant, invalid_scope, …) instead of Apple's invalid_client for all.</summary>
    public bool RfcOAuthErrors { get; set; }

    /// <summary>Unassigning a device from a server it is not on succeeds silently (nothing moves) instead of failing that device in the log.</summary>
    public bool SilentUnassignElsewhere { get; set; }

    /// <summary>The purchase source id is sent under the misspelled key purchaseSourceUid instead of the documented purchaseSourceId.</summary>
    public bool PurchaseSourceUid { get; set; }

    /// <summary>Reject (400 PARAMETER_ERROR.INVALID, source.parameter "limit") or Clamp (answered with at most <see cref="MaxLimit"/> items): a collection limit out of range.</summary>
    public string LimitOutOfRange { get; set; } = "Reject";

    /// <summary>The largest limit a collection read accepts (Apple documents 1000).</summary>
    public int MaxLimit { get; set; } = 1000;

    /// <summary>
    /// Reject (400, source.parameter naming it) or Ignore: a query parameter Apple does not document (filter[serialNumber],
    /// sort, …). Reject is the default, so that every test shows the module sends only documented parameters.
    /// </summary>
    public string UnknownQueryParameters { get; set; } = "Reject";

    /// <summary>GET /v1/mdmServers/{id} is answered 403 (as on accounts of an older API version); the listing still works.</summary>
    public bool ForbidServerRead { get; set; }

    /// <summary>A product family is the default of one service at a time: setting it on one removes it from the others (false: several may list it; the first by name gets the devices).</summary>
    public bool ExclusiveDefaultFamilies { get; set; } = true;

    /// <summary>
    /// The HTTP status of Apple's refusals that its own state explains (a server name already taken, deleting a service
    /// that has devices, a PATCH whose data.id is not the path's): 409 (the default, as the other entity errors), 400 or
    /// 422 — Apple documents none of them.
    /// </summary>
    public int ConflictStatus { get; set; } = 409;

    /// <summary>
    /// Processing (the default: SUBMITTED when created, PROCESSING after) or Steps: an activity in progress walks through
    /// every sub-status Apple documents (SUBMITTED, PRE_PROCESSING, PENDING, PROCESSING, POST_PROCESSING) over its duration.
    /// </summary>
    public string ActivityProgress { get; set; } = "Processing";

    /// <summary>
    /// The subStatus of a FAILED or STOPPED activity, which Apple does not document: Suggested (the default: FAILED with
    /// COMPLETED_WITH_FAILURE, STOPPED with STOPPING), LastSeen (the sub-status it had while in progress) or None (no subStatus).
    /// </summary>
    public string FailedSubStatus { get; set; } = "Suggested";

    /// <summary>meta.paging.limit repeats the limit asked (true, the default); false: it shows 100 whatever was asked, as in Apple's own example.</summary>
    public bool PagingLimitAsAsked { get; set; } = true;

    /// <summary>A service's devices relationship carries data (device linkages, up to 10) and meta.paging beside its links, as Apple's model allows.</summary>
    public bool ServerDevicesLinkage { get; set; }
}

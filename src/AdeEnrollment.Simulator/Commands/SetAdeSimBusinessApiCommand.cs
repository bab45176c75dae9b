using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>
/// Set-AdeSimBusinessApi: how the simulated Apple Business API behaves where Apple leaves room: request budgets,
/// activity duration, token lifetime and the undocumented variants a client must tolerate.
/// </summary>
[Cmdlet(VerbsCommon.Set, "AdeSimBusinessApi", SupportsShouldProcess = true)]
public sealed class SetAdeSimBusinessApiCommand : AdeSimCmdlet
{
    /// <summary>Every switch and budget back to its default first; the other parameters given are applied after it.</summary>
    [Parameter]
    public SwitchParameter Reset { get; set; }

    /// <summary>GET requests per account and minute before 429 (0: unlimited).</summary>
    [Parameter]
    [ValidateRange(0, 100_000)]
    public int? GetPerMinute { get; set; }

    /// <summary>POST requests per account and hour before 429 (0: unlimited).</summary>
    [Parameter]
    [ValidateRange(0, 100_000)]
    public int? PostPerHour { get; set; }

    [Parameter]
    public TimeSpan? ActivityDuration { get; set; }

    [Parameter]
    public TimeSpan? AccessTokenLifetime { get; set; }

    [Parameter]
    public SwitchParameter RevokeKey { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? ClientId { get; set; }

    /// <summary>Every access token stops working now.</summary>
    [Parameter]
    public SwitchParameter ExpireAccessTokens { get; set; }

    [Parameter]
    public bool? RequireIssuer { get; set; }

    /// <summary>A client assertion is accepted once: its jti reused is refused (default false, as Apple is observed).</summary>
    [Parameter]
    public bool? SingleUseAssertions { get; set; }

    [Parameter]
    public bool? UnassignedServerAsNotFound { get; set; }

    [Parameter]
    public bool? NextLinkWithoutLimit { get; set; }

    [Parameter]
    public bool? PartialUnknownSerials { get; set; }

    /// <summary>Devices the next activities fail (FAILED in the log with -FailReason; not moved). An empty list fails none.</summary>
    [Parameter]
    [AllowEmptyCollection]
    public string[]? FailSerialNumber { get; set; }

    /// <summary>The reason the activity log gives for the devices of -FailSerialNumber (default INTERNAL_ERROR).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? FailReason { get; set; }

    [Parameter]
    public bool? FullServerAttributes { get; set; }

    [Parameter]
    public bool? UnrelatedServerIds { get; set; }

    [Parameter]
    public bool? RetryAfterAsDate { get; set; }

    /// <summary>429 answers carry no Retry-After header.</summary>
    [Parameter]
    public bool? OmitRetryAfter { get; set; }

    [Parameter]
    [ValidateRange(0, 100_000)]
    public int? MaxDevicesPerActivity { get; set; }

    /// <summary>How an activity above -MaxDevicesPerActivity is refused: Entity422 (the detail names the cap), Parameter400 (no number), TooLarge413 (plain text).</summary>
    [Parameter]
    [ValidateSet("Entity422", "Parameter400", "TooLarge413")]
    public string? ActivityCapAnswer { get; set; }

    /// <summary>The layout of activity logs: Preamble, NoPreamble, Quoted (quoted cells, CRLF, a first column with commas inside), TitleCase (other header spelling and column order).</summary>
    [Parameter]
    [ValidateSet("Preamble", "NoPreamble", "Quoted", "TitleCase")]
    public string? ActivityLogShape { get; set; }

    /// <summary>The status words of a log row: the device changed, the device not changed (default SUCCESS, FAILED).</summary>
    [Parameter]
    [ValidateCount(2, 2)]
    [ValidatePattern("^[A-Za-z_]{1,40}$")]
    public string[]? ActivityLogStatus { get; set; }

    /// <summary>How long an activity's log link is valid after the GET of the activity that gave it (default 60 s).</summary>
    [Parameter]
    [ValidateRange(1, 86_400)]
    public int? ActivityLogLinkLifetime { get; set; }

    /// <summary>Collections are paged in a stable but shuffled order instead of by id.</summary>
    [Parameter]
    public bool? ShuffledOrder { get; set; }

    /// <summary>meta.paging carries total (the size of the whole collection).</summary>
    [Parameter]
    public bool? PagingTotal { get; set; }

    /// <summary>The MDM migration activity types of API 2.3 are accepted ($false: refused with 400, as before 2.3).</summary>
    [Parameter]
    public bool? MigrationActivities { get; set; }

    /// <summary>
    /// The next activities end FAILED, STOPPED or COMPLETED_WITH_FAILURE; FAILED without a log (FailedWithoutLog: nothing
    /// moves, no downloadUrl); or COMPLETED_POST_PROCESSING_FAILED (the devices move, but Apple gives no log: no
    /// downloadUrl). None restores normal completion.
    /// </summary>
    [Parameter]
    [ValidateSet("None", "Failed", "FailedWithoutLog", "Stopped", "CompletedWithFailure", "CompletedPostProcessingFailed")]
    public string? ActivityOutcome { get; set; }

    /// <summary>How org devices carry MAC addresses (String: as documented; Array; BuiltInEthernet: the undocumented key; None).</summary>
    [Parameter]
    [ValidateSet("String", "Array", "BuiltInEthernet", "None")]
    public string? MacAddressShape { get; set; }

    /// <summary>Which PATCH clears a service's default product families: Both, EmptyList (null ignored), Null ([] ignored) or None.</summary>
    [Parameter]
    [ValidateSet("Both", "EmptyList", "Null", "None")]
    public string? ClearFamiliesWith { get; set; }

    /// <summary>How IMEI and MEID are sent: Array (documented), String (the first one, as older answers did) or None.</summary>
    [Parameter]
    [ValidateSet("Array", "String", "None")]
    public string? ImeiShape { get; set; }

    /// <summary>releasedFromOrgDateTime, releaserId and releaserEntityType are sent ($false: left out).</summary>
    [Parameter]
    public bool? ReleaseAttributes { get; set; }

    /// <summary>What the DEP sync reports as device_assigned_by for devices the next activities assign.</summary>
    [Parameter]
    [ValidateSet("ClientId", "ServerAdmin", "Empty")]
    public string? ApiAssignedBy { get; set; }

    /// <summary>The releaserEntityType the next release activities record.</summary>
    [Parameter]
    [ValidatePattern("^[A-Z_]{1,40}$")]
    public string? ReleaserEntityType { get; set; }

    /// <summary>The inventory listing carries released devices' release date too ($false, as Apple documents: only a single device's GET has it).</summary>
    [Parameter]
    public bool? ReleaseDateInList { get; set; }

    /// <summary>Released devices stay in the listing and answer a single GET instead of disappearing.</summary>
    [Parameter]
    public bool? ListReleasedDevices { get; set; }

    /// <summary>Deleted device management services stay in the server listing with status DELETED.</summary>
    [Parameter]
    public bool? ListDeletedServers { get; set; }

    /// <summary>Deletes this device management service in the portal (refused while devices are on it).</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? DeleteMdmServer { get; set; }

    /// <summary>Product families Add-AdeSimOrgDevice accepts beyond Apple's six (an empty list: none).</summary>
    [Parameter]
    [AllowEmptyCollection]
    [ValidatePattern("^[A-Za-z][A-Za-z0-9_]{0,29}$")]
    public string[]? ExtraProductFamily { get; set; }

    /// <summary>Serial numbers must match exactly, case included.</summary>
    [Parameter]
    public bool? CaseSensitiveSerials { get; set; }

    /// <summary>Activities carry the undocumented activityType, updatedDateTime and deviceCount.</summary>
    [Parameter]
    public bool? ActivityExtraAttributes { get; set; }

    /// <summary>fields[type] naming an undocumented type or field is answered 400.</summary>
    [Parameter]
    public bool? RejectUnknownFields { get; set; }

    /// <summary>Seconds (simulator clock) a paging cursor stays valid; 0: never expires (the default).</summary>
    [Parameter]
    [ValidateRange(0, 31_536_000)]
    public int? CursorLifetime { get; set; }

    /// <summary>Seconds (simulator clock) between an activity's completion and its devices' added/deleted events in the DEP sync; 0: at once (the default).</summary>
    [Parameter]
    [ValidateRange(0, 31_536_000)]
    public int? DepVisibilityDelay { get; set; }

    /// <summary>A School token is refused (401) on the Business host and a Business token on the School host ($true, the default).</summary>
    [Parameter]
    public bool? StrictApiHosts { get; set; }

    /// <summary>Seconds an assertion's iat may lie in the future of the simulator clock (default 300; 0: strict).</summary>
    [Parameter]
    [ValidateRange(0, 86_400)]
    public int? AssertionClockSkew { get; set; }

    /// <summary>Apple (every token refusal is invalid_client, 400; the default) or Rfc (the RFC 6749 code of the reason).</summary>
    [Parameter]
    [ValidateSet("Apple", "Rfc")]
    public string? OAuthErrorCodes { get; set; }

    /// <summary>Unassigning a device from a server it is not on succeeds silently instead of failing that device in the log.</summary>
    [Parameter]
    public bool? SilentUnassignElsewhere { get; set; }

    /// <summary>Org devices carry the purchase source id under the misspelled key purchaseSourceUid.</summary>
    [Parameter]
    public bool? PurchaseSourceUid { get; set; }

    /// <summary>A collection limit above -MaxLimit: Reject (400, source.parameter "limit"; the default) or Clamp (silently answered with at most -MaxLimit items).</summary>
    [Parameter]
    [ValidateSet("Reject", "Clamp")]
    public string? LimitOutOfRange { get; set; }

    /// <summary>The largest limit a collection read accepts (default 1000, as Apple documents).</summary>
    [Parameter]
    [ValidateRange(1, 1000)]
    public int? MaxLimit { get; set; }

    /// <summary>A query parameter Apple does not document (filter[serialNumber], …): Reject (400; the default) or Ignore.</summary>
    [Parameter]
    [ValidateSet("Ignore", "Reject")]
    public string? UnknownQueryParameter { get; set; }

    /// <summary>GET /v1/mdmServers/{id} is answered 403, as on accounts of an older API version.</summary>
    [Parameter]
    public bool? ForbidServerRead { get; set; }

    /// <summary>A product family is the default of one device management service at a time ($true, the default); $false: several may list it.</summary>
    [Parameter]
    public bool? ExclusiveDefaultFamilies { get; set; }

    /// <summary>The HTTP status of Apple's refusal of a server name already taken, of deleting a service with devices and of a PATCH whose id is not the path's: 409 (the default), 400 or 422.</summary>
    [Parameter]
    [ValidateSet("400", "409", "422")]
    public string? ConflictStatus { get; set; }

    /// <summary>The sub-status of an activity in progress: Processing (SUBMITTED, then PROCESSING; the default) or Steps (SUBMITTED, PRE_PROCESSING, PENDING, PROCESSING, POST_PROCESSING over its duration).</summary>
    [Parameter]
    [ValidateSet("Processing", "Steps")]
    public string? ActivityProgress { get; set; }

    /// <summary>The subStatus of a FAILED or STOPPED activity: Suggested (COMPLETED_WITH_FAILURE, STOPPING; the default), LastSeen (its sub-status while in progress) or None (no subStatus).</summary>
    [Parameter]
    [ValidateSet("Suggested", "LastSeen", "None")]
    public string? FailedSubStatus { get; set; }

    /// <summary>meta.paging.limit repeats the limit asked ($true, the default); $false: it says 100 whatever was asked, as Apple's own example does.</summary>
    [Parameter]
    public bool? PagingLimitAsAsked { get; set; }

    /// <summary>The devices relationship of each service in the server listing carries data (the first device linkages) and meta.paging beside its link.</summary>
    [Parameter]
    public bool? ServerDevicesLinkage { get; set; }

    protected override void ProcessItem()
    {
        var sim = Current;
        // refused before anything changes
        if (FailReason is not null && (FailSerialNumber is null || string.IsNullOrWhiteSpace(FailReason)))
        {
            throw SimErrors.ArgumentInvalid("FailReason", FailReason, "give the reason the activity log shows, with -FailSerialNumber, the devices to fail.");
        }

        if (!ShouldProcess(sim.Uri.ToString(), "Change the Apple Business API behaviour"))
        {
            return;
        }

        if (Reset)
        {
            sim.ResetBusinessApi();
        }

        if (GetPerMinute is { } g) sim.BusinessGetsPerMinute = g == 0 ? null : g;
        if (PostPerHour is { } p) sim.BusinessPostsPerHour = p == 0 ? null : p;
        if (ActivityDuration is { } d) sim.ActivityDuration = d;
        if (AccessTokenLifetime is { } l) sim.BusinessTokenLifetime = l;
        if (RequireIssuer is { } ri) sim.RequireAssertionIssuer = ri;
        if (SingleUseAssertions is { } single) sim.SingleUseAssertions = single;
        if (UnassignedServerAsNotFound is { } u) sim.UnassignedServerAsNotFound = u;
        if (NextLinkWithoutLimit is { } n) sim.NextLinkWithoutLimit = n;
        if (PartialUnknownSerials is { } ps) sim.PartialUnknownSerials = ps;
        if (FailSerialNumber is { } failing) sim.FailActivityDevices(failing, FailReason ?? AdeSimulator.DefaultActivityFailureReason);
        if (FullServerAttributes is { } f) sim.FullServerAttributesByDefault = f;
        if (UnrelatedServerIds is { } ui) sim.UnrelatedServerIds = ui;
        if (RetryAfterAsDate is { } ra) sim.RetryAfterAsHttpDate = ra;
        if (OmitRetryAfter is { } ora) sim.OmitRetryAfter = ora;
        if (ShuffledOrder is { } so) sim.ShuffledOrder = so;
        if (PagingTotal is { } pt) sim.PagingTotal = pt;
        if (MigrationActivities is { } ma) sim.MigrationActivities = ma;
        if (MacAddressShape is { } mac) sim.MacAddressShape = new[] { "String", "Array", "BuiltInEthernet", "None" }.First(v => v.Equals(mac, StringComparison.OrdinalIgnoreCase));
        if (ClearFamiliesWith is { } cfw) sim.ClearFamiliesWith = new[] { "Both", "EmptyList", "Null", "None" }.First(v => v.Equals(cfw, StringComparison.OrdinalIgnoreCase));
        if (ImeiShape is { } imei) sim.ImeiShape = new[] { "Array", "String", "None" }.First(v => v.Equals(imei, StringComparison.OrdinalIgnoreCase));
        if (ReleaseAttributes is { } rel) sim.ReleaseAttributes = rel;
        if (ApiAssignedBy is { } aab) sim.ApiAssignedBy = new[] { "ClientId", "ServerAdmin", "Empty" }.First(v => v.Equals(aab, StringComparison.OrdinalIgnoreCase));
        if (ReleaserEntityType is { } ret) sim.ReleaserEntityType = ret;
        if (ListReleasedDevices is { } lrd) sim.ListReleasedDevices = lrd;
        if (ReleaseDateInList is { } rdl) sim.ReleaseDateInList = rdl;
        if (ListDeletedServers is { } lds) sim.ListDeletedServers = lds;
        if (DeleteMdmServer is { } del) sim.DeleteMdmServer(del);
        if (ExtraProductFamily is { } epf) sim.ExtraProductFamilies = epf;
        if (CaseSensitiveSerials is { } css) sim.CaseSensitiveSerials = css;
        if (ActivityExtraAttributes is { } aea) sim.ActivityExtraAttributes = aea;
        if (RejectUnknownFields is { } ruf) sim.RejectUnknownFields = ruf;
        if (MaxDevicesPerActivity is { } m) sim.MaxDevicesPerActivity = m == 0 ? null : m;
        if (ActivityCapAnswer is { } caa) sim.ActivityCapAnswer = new[] { "Entity422", "Parameter400", "TooLarge413" }.First(v => v.Equals(caa, StringComparison.OrdinalIgnoreCase));
        if (ActivityLogShape is { } als) sim.ActivityLogShape = new[] { "Preamble", "NoPreamble", "Quoted", "TitleCase" }.First(v => v.Equals(als, StringComparison.OrdinalIgnoreCase));
        if (ActivityLogStatus is [var success, var failure]) (sim.ActivityLogSuccess, sim.ActivityLogFailure) = (success, failure);
        if (ActivityLogLinkLifetime is { } alll) sim.ActivityLogLinkLifetime = TimeSpan.FromSeconds(alll);
        if (CursorLifetime is { } cl) sim.BusinessCursorLifetime = cl == 0 ? null : TimeSpan.FromSeconds(cl);
        if (DepVisibilityDelay is { } dv) sim.DepVisibilityDelay = TimeSpan.FromSeconds(dv);
        if (StrictApiHosts is { } sh) sim.StrictApiHosts = sh;
        if (AssertionClockSkew is { } acs) sim.AssertionClockSkew = TimeSpan.FromSeconds(acs);
        if (OAuthErrorCodes is { } oec) sim.RfcOAuthErrors = oec.Equals("Rfc", StringComparison.OrdinalIgnoreCase);
        if (SilentUnassignElsewhere is { } su) sim.SilentUnassignElsewhere = su;
        if (PurchaseSourceUid is { } psu) sim.PurchaseSourceUid = psu;
        if (LimitOutOfRange is { } loor) sim.LimitOutOfRange = loor.Equals("Clamp", StringComparison.OrdinalIgnoreCase) ? "Clamp" : "Reject";
        if (MaxLimit is { } ml) sim.BusinessMaxLimit = ml;
        if (UnknownQueryParameter is { } uqp) sim.UnknownQueryParameters = uqp.Equals("Reject", StringComparison.OrdinalIgnoreCase) ? "Reject" : "Ignore";
        if (ForbidServerRead is { } fsr) sim.ForbidServerRead = fsr;
        if (ExclusiveDefaultFamilies is { } edf) sim.ExclusiveDefaultFamilies = edf;
        if (ConflictStatus is { } cs) sim.ConflictStatus = int.Parse(cs, System.Globalization.CultureInfo.InvariantCulture);
        if (ActivityProgress is { } ap) sim.ActivityProgress = ap.Equals("Steps", StringComparison.OrdinalIgnoreCase) ? "Steps" : "Processing";
        if (FailedSubStatus is { } fss) sim.FailedSubStatus = new[] { "Suggested", "LastSeen", "None" }.First(v => v.Equals(fss, StringComparison.OrdinalIgnoreCase));
        if (PagingLimitAsAsked is { } plaa) sim.PagingLimitAsAsked = plaa;
        if (ServerDevicesLinkage is { } sdl) sim.ServerDevicesLinkage = sdl;
        if (ActivityOutcome is { } o)
        {
            sim.ForcedActivityOutcome = o switch { "Failed" => "FAILED", "FailedWithoutLog" => "FAILED_WITHOUT_LOG", "Stopped" => "STOPPED", "CompletedWithFailure" => "COMPLETED_WITH_FAILURE", "CompletedPostProcessingFailed" => "COMPLETED_POST_PROCESSING_FAILED", _ => null };
        }

        if (ExpireAccessTokens) sim.ExpireBusinessTokens();
        if (RevokeKey)
        {
            if (ClientId is null)
            {
                throw SimErrors.ArgumentInvalid("ClientId", "", "-RevokeKey needs the -ClientId of the account.");
            }

            sim.RevokeBusinessAccount(ClientId);
        }
    }
}

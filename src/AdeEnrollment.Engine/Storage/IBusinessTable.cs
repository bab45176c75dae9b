namespace AdeEnrollment.Engine.Storage;

/// <summary>A stored Apple Business / School API account, without its private key.</summary>
internal sealed record BusinessAccountRow(Guid Id, string ClientId, string KeyId, string Scope, string TokenUri, string ServiceUri, DateTimeOffset CreatedAt,
    int? GetsPerMinute = null, int? PostsPerHour = null, int? DevicesPerActivity = null);

/// <summary>What an activity did to one device (from Apple's activity log).</summary>
internal sealed record BusinessDeviceResultRow(string SerialNumber, string Status, string? Detail);

/// <summary>A device activity sent to Apple with an account, and what is known of its outcome.</summary>
internal sealed record BusinessActivityRow(
    string Id,
    Guid AccountId,
    string ActivityType,
    string? ServerId,
    string? ServerName,
    Guid? TokenId,
    int DeviceCount,
    IReadOnlyList<string> Serials,
    string Status,
    string? SubStatus,
    IReadOnlyList<BusinessDeviceResultRow>? Results,
    DateTimeOffset CreatedAt,
    DateTimeOffset? CompletedAt,
    DateTimeOffset? CheckedAt);

/// <summary>What Tab completion shows of a stored activity.</summary>
internal sealed record BusinessActivitySummaryRow(string Id, string ActivityType, string? ServerName, int DeviceCount, string Status, DateTimeOffset CreatedAt);

/// <summary>
/// The home of tables business_account, business_activity and business_request (Apple Business API accounts, the
/// device activities sent with them, and the requests counted against Apple's budget, shared by every process of
/// the store).
/// </summary>
internal partial interface IBusinessTable
{
    // ---- accounts ---------------------------------------------------------------------------------------------------

    /// <summary>Every account, ordered by client ID.</summary>
    IReadOnlyList<BusinessAccountRow> Accounts();

    /// <summary>Whether an account with this client ID (case-insensitive) is stored.</summary>
    bool AccountExists(string clientId);

    /// <summary>Stores a new account with its sealed private key.</summary>
    void InsertAccount(BusinessAccountRow row, byte[] sealedPrivateKey);

    /// <summary>The sealed private key of the account, or null when it is not stored.</summary>
    byte[]? PrivateKey(Guid accountId);

    /// <summary>Deletes the account with its activities and counted requests; false when it was not stored.</summary>
    bool DeleteAccount(Guid accountId);

    /// <summary>
    /// Until when Apple asked (429 Retry-After) not to send requests of <paramref name="method"/> ("GET", or "POST" for
    /// every write) with this account; null when not blocked. Reads and writes have budgets of their own, so a 429 to a
    /// write holds back writes only.
    /// </summary>
    DateTimeOffset? BlockedUntil(Guid accountId, string method);

    /// <summary>Sets (or, with null, clears) the time Apple asked this account to wait for before its next <paramref name="method"/> request.</summary>
    void SetBlockedUntil(Guid accountId, string method, DateTimeOffset? until);

    /// <summary>Sets the account's request budgets and activity size (null: the engine's default).</summary>
    void SetLimits(Guid accountId, int? getsPerMinute, int? postsPerHour, int? devicesPerActivity);

    // ---- requests counted against the budget -----------------------------------------------------------------------

    /// <summary>The times of the requests of <paramref name="method"/> sent with the account after <paramref name="since"/>, oldest first.</summary>
    IReadOnlyList<DateTimeOffset> Requests(Guid accountId, string method, DateTimeOffset since);

    /// <summary>Counts one request of <paramref name="method"/> sent at <paramref name="at"/>.</summary>
    void AddRequest(Guid accountId, string method, DateTimeOffset at);

    /// <summary>Takes back one counted request of <paramref name="method"/> at <paramref name="at"/> (a reservation whose request never left); false when none is stored.</summary>
    bool RemoveRequest(Guid accountId, string method, DateTimeOffset at);

    /// <summary>Forgets the counted requests of <paramref name="method"/> of the account sent at or before <paramref name="before"/>.</summary>
    void PruneRequests(Guid accountId, string method, DateTimeOffset before);

    // ---- the serial -> server index of one inventory read -------------------------------------------------------------

    /// <summary>Adds a page of (serial, server id) pairs to the index of read <paramref name="runId"/> (a serial seen again keeps its last server).</summary>
    void AddDeviceServers(Guid runId, IReadOnlyList<(string SerialNumber, string ServerId)> page, DateTimeOffset at);

    /// <summary>The server ids of those <paramref name="serialNumbers"/> that are in the index of read <paramref name="runId"/> (serials case-insensitive).</summary>
    IReadOnlyDictionary<string, string> DeviceServers(Guid runId, IReadOnlyCollection<string> serialNumbers);

    /// <summary>Drops the index of read <paramref name="runId"/>, and every index made before <paramref name="staleBefore"/> (a read that never ended).</summary>
    void DropDeviceServers(Guid runId, DateTimeOffset staleBefore);

    // ---- activities -------------------------------------------------------------------------------------------------

    void InsertActivity(BusinessActivityRow row);

    /// <summary>Records what Apple reported of an activity (id case-insensitive); <paramref name="results"/> null keeps the stored results.</summary>
    void UpdateActivity(string id, string status, string? subStatus, DateTimeOffset? completedAt, IReadOnlyList<BusinessDeviceResultRow>? results, DateTimeOffset checkedAt);

    /// <summary>Stored activities, newest first (then by id); optionally one id (case-insensitive) and/or one account's.</summary>
    IReadOnlyList<BusinessActivityRow> Activities(string? id = null, Guid? accountId = null);

    /// <summary>The newest <paramref name="limit"/> activities without their devices and logs (Tab completion).</summary>
    IReadOnlyList<BusinessActivitySummaryRow> RecentActivities(int limit);

    /// <summary>The distinct names of the MDM servers activities went to (Tab completion).</summary>
    IReadOnlyList<string> ActivityServerNames();
}

/// <summary>Where both providers keep an account's 429 blocks.</summary>
internal static class BusinessBlock
{
    /// <summary>The column of a method's block: one of two constants, never text from a caller.</summary>
    public static string Column(string method) => method == "GET" ? "blocked_until" : "post_blocked_until";
}

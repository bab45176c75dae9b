using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Rules;

namespace AdeEnrollment.Engine.Storage;

/// <summary>The home of table token (the stored ADE tokens, their credentials, default profiles by platform and Apple's state).</summary>
internal partial interface ITokenTable
{
    /// <summary>How many tokens the store holds.</summary>
    long Count();

    /// <summary>One token with every column, its sealed credentials included; null when there is none.</summary>
    TokenRow? Get(Guid id);

    /// <summary>
    /// The token list (Get-AdeToken): every token, or the one with <paramref name="id"/>, ordered by name, with its
    /// profile and device counts, its default profiles and the sync facts its next allowed syncs follow from. No secrets.
    /// </summary>
    IReadOnlyList<TokenListRow> List(Guid? id = null);

    /// <summary>The token list rows of the tokens with these ids (ids that are no token are left out), ordered by name: one read for a batch of piped tokens.</summary>
    IReadOnlyList<TokenListRow> ListOf(IReadOnlyCollection<Guid> ids);

    /// <summary>
    /// <see cref="ListOf"/> with each listed token's sync state (null when it has none yet), in ONE statement: what a
    /// batch of piped tokens of a scheduler's pass is decided from (read with <see cref="AdeStore.ReadStatement{T}"/>).
    /// </summary>
    IReadOnlyList<(TokenListRow Token, SyncStateRow? State)> ListOfWithSyncStates(IReadOnlyCollection<Guid> ids);

    /// <summary>Every token's id and name, in no order: what the service checks a new or changed name against (<see cref="TextRules.NameTaken"/>).</summary>
    IReadOnlyList<(Guid Id, string Name)> Names();

    /// <summary>The name of the token (other than <paramref name="except"/>) whose consumer key has this hash, or null.</summary>
    string? NameOfConsumerKeyHash(string consumerKeyHash, Guid? except = null);

    void Insert(TokenRow row);

    /// <summary>Set-AdeToken: a null value leaves its column as it is.</summary>
    void UpdateSettings(Guid id, string? name, IReadOnlyList<string>? scopeTags, string? enrollmentUrl, DateTimeOffset modifiedAt);

    /// <summary>
    /// Update-AdeToken: new sealed credentials, consumer key hash, expiry and Apple ID; the token is valid again
    /// (no invalid reason). A null fact of <paramref name="server"/> leaves the stored one.
    /// </summary>
    void Renew(Guid id, byte[] credentials, string consumerKeyHash, DateTimeOffset expiresAt, string appleId, TokenServerFacts server, DateTimeOffset modifiedAt);

    /// <summary>Records the new name of the token's MDM server (renamed through the Apple Business API).</summary>
    void SetServerName(Guid id, string serverName);

    /// <summary>Records why Apple refused the token (null: valid again).</summary>
    void SetInvalidReason(Guid id, string? reason);

    /// <summary>Records when Apple last answered "terms not signed".</summary>
    void SetTermsNotSignedAt(Guid id, DateTimeOffset at);

    /// <summary>
    /// Forgets that Apple refused the token (Invalid, terms not accepted): Apple has accepted it since. Writes only a token
    /// that holds such a mark; returns whether it did.
    /// </summary>
    bool ClearAppleRefusals(Guid id);

    /// <summary>Sets the token's modification time (a change of something that belongs to it, e.g. a default profile).</summary>
    void Touch(Guid id, DateTimeOffset modifiedAt);

    /// <summary>
    /// Deletes the token; its sync state, sync history and default-profile rows go with it. Its profiles and devices
    /// do not: a token that still has any cannot be deleted (the store refuses; the service checks first).
    /// </summary>
    void Delete(Guid id);
}

/// <summary>What Apple says about the MDM server a token belongs to (GET /account); any of it may be unknown.</summary>
internal sealed record TokenServerFacts(string? ServerName, string? ServerUuid, string? OrgName, string? OrgType, string? AdminId)
{
    public static readonly TokenServerFacts None = new(null, null, null, null, null);
}

/// <summary>What every read of a token row carries: the facts an <c>AdeToken</c> shows, without counts or history.</summary>
internal interface IStoredTokenFacts
{
    Guid Id { get; }
    string Name { get; }
    string AppleId { get; }
    DateTimeOffset ExpiresAt { get; }
    Guid RequestId { get; }
    string? EnrollmentUrl { get; }
    IReadOnlyList<string> ScopeTags { get; }
    Uri ServiceUri { get; }
    TokenServerFacts Server { get; }
    string? InvalidReason { get; }
    DateTimeOffset CreatedAt { get; }
    DateTimeOffset ModifiedAt { get; }
}

/// <summary>A row of table token. <see cref="Credentials"/> is sealed (encrypted under the store key) and never shown.</summary>
internal sealed record TokenRow(
    Guid Id,
    string Name,
    string AppleId,
    string ConsumerKeyHash,
    byte[] Credentials,
    DateTimeOffset ExpiresAt,
    Guid RequestId,
    string? EnrollmentUrl,
    IReadOnlyList<string> ScopeTags,
    Uri ServiceUri,
    TokenServerFacts Server,
    string? InvalidReason,
    DateTimeOffset? TermsNotSignedAt,
    DateTimeOffset CreatedAt,
    DateTimeOffset ModifiedAt) : IStoredTokenFacts;

/// <summary>A token's default profile for one platform.</summary>
internal sealed record TokenDefaultProfileRow(DevicePlatform Platform, Guid ProfileId, string ProfileName);

/// <summary>A row of the token list: the token without its credentials, with what the list shows about it.</summary>
internal sealed record TokenListRow(
    Guid Id,
    string Name,
    string AppleId,
    DateTimeOffset ExpiresAt,
    Guid RequestId,
    string? EnrollmentUrl,
    IReadOnlyList<string> ScopeTags,
    Uri ServiceUri,
    TokenServerFacts Server,
    string? InvalidReason,
    DateTimeOffset CreatedAt,
    DateTimeOffset ModifiedAt,
    int ProfileCount,
    int DeviceCount,
    int RemovedCount,
    IReadOnlyList<TokenDefaultProfileRow> DefaultProfiles,
    SyncHistoryState History) : IStoredTokenFacts;

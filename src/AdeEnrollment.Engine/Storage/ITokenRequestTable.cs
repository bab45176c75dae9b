namespace AdeEnrollment.Engine.Storage;

/// <summary>The home of table token_request (key pairs waiting for Apple's server token).</summary>
internal partial interface ITokenRequestTable
{
    /// <summary>How many requests the store holds (used or not).</summary>
    long Count();

    void Insert(TokenRequestRow row);

    /// <summary>The requests (or the one with <paramref name="id"/>) by creation time, with the name of the token each one made; <paramref name="pendingOnly"/>: only unused ones.</summary>
    IReadOnlyList<TokenRequestListRow> List(Guid? id = null, bool pendingOnly = false);

    /// <summary>The sealed private key of the request, or null when there is no such request.</summary>
    byte[]? PrivateKey(Guid id);

    /// <summary>Records that <paramref name="tokenId"/> was made from the request; false (nothing changed) when it is missing or already used.</summary>
    bool MarkUsed(Guid id, Guid tokenId);

    void Delete(Guid id);
}

/// <summary>A row of table token_request. <see cref="PrivateKey"/> is sealed (encrypted under the store key).</summary>
internal sealed record TokenRequestRow(Guid Id, DateTimeOffset CreatedAt, string Thumbprint, string CertificatePem, byte[] PrivateKey, Guid? TokenId);

/// <summary>A request as listed: no private key; the token made from it, if any.</summary>
internal sealed record TokenRequestListRow(Guid Id, DateTimeOffset CreatedAt, string Thumbprint, string CertificatePem, Guid? TokenId, string? TokenName);

namespace AdeEnrollment.Engine.Storage;

/// <summary>Reads of table token for Test-AdeHealth.</summary>
internal partial interface ITokenTable
{
    /// <summary>When Apple first answered that the token's organisation has not accepted its terms (still unresolved); null otherwise.</summary>
    DateTimeOffset? TermsNotSignedSince(Guid tokenId);
}

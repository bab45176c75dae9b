namespace AdeEnrollment.Engine.Storage;

/// <summary>Table token: what a device sync changes on its token.</summary>
internal partial interface ITokenTable
{
    /// <summary>Forgets that Apple refused the token for unsigned terms (a sync just succeeded); returns whether it was marked.</summary>
    bool ClearTermsNotSigned(Guid tokenId);
}

namespace AdeEnrollment.Engine.Storage;

/// <summary>Table token, the profile side: a change of a token's default profiles changes the token.</summary>
internal partial interface ITokenTable
{
    /// <summary>Sets the token's modification time; false when there is no such token.</summary>
    bool MarkModified(Guid tokenId, DateTimeOffset at);
}

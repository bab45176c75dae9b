namespace AdeEnrollment.Engine.Storage;

/// <summary>The home of table token (the stored ADE tokens, their credentials, default profiles by platform and Apple's state).</summary>
internal partial interface ITokenTable
{
}

namespace AdeEnrollment.Engine.Storage;

/// <summary>The home of table token_request (key pairs waiting for Apple's server token).</summary>
internal partial interface ITokenRequestTable
{
}

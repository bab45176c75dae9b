namespace AdeEnrollment.Engine.Storage;

/// <summary>The home of table profile and token_default_profile (enrollment profiles and each token's default per platform).</summary>
internal partial interface IProfileTable
{
}

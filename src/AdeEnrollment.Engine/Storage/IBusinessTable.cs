namespace AdeEnrollment.Engine.Storage;

/// <summary>The home of table business_account and business_activity (Apple Business API accounts and device activities).</summary>
internal partial interface IBusinessTable
{
}

namespace AdeEnrollment.Engine.Storage;

/// <summary>The home of table device (the devices Apple reported for each token and what was assigned to them).</summary>
internal partial interface IDeviceTable
{
}

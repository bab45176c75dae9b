namespace AdeEnrollment.Engine.Storage;

/// <summary>The home of table device_event (the device journal and its retention).</summary>
internal partial interface IDeviceEventTable
{
}

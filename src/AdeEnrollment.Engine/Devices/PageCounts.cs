namespace AdeEnrollment.Engine.Devices;

/// <summary>Counts of what one page changed in the store.</summary>
internal struct PageCounts
{
    public int Added;
    public int Modified;
    public int Removed;

    /// <summary>Serials that arrived without a profile (candidates for the default profile).</summary>
    public List<string>? WithoutProfile;
}

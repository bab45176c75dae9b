using AdeEnrollment.Engine.Model;
namespace AdeEnrollment.Engine.Devices;

/// <summary>Counts of what one page changed in the store.</summary>
internal struct PageCounts
{
    public int Added;
    public int Modified;
    public int Removed;

    /// <summary>Serials that arrived without a profile (candidates for a default profile), by device platform (null: unknown).</summary>
    public Dictionary<Model.DevicePlatform, List<string>>? WithoutProfile;

    /// <summary>Serials that arrived without a profile whose platform is unknown (they never get a default).</summary>
    public List<string>? WithoutProfileUnknownPlatform;
}

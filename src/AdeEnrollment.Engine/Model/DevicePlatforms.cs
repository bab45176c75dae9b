using AdeEnrollment.Engine.Model;
namespace AdeEnrollment.Engine.Model;

/// <summary>How a device's platform is read from what Apple reports about it.</summary>
public static class DevicePlatforms
{
    /// <summary>
    /// The platform of a device: by Apple's <c>device_family</c>; a device without one (older protocol) by its
    /// <c>os</c>; otherwise null (unknown).
    /// </summary>
    public static DevicePlatform? Of(string? deviceFamily, string? os)
    {
        switch (deviceFamily?.Trim().ToLowerInvariant())
        {
            case "iphone" or "ipad" or "ipod": return DevicePlatform.iOS;
            case "mac": return DevicePlatform.macOS;
            case "appletv": return DevicePlatform.tvOS;
            case "vision": return DevicePlatform.visionOS;
            case null or "": break;
            default: return null;
        }

        return os?.Trim().ToLowerInvariant() switch
        {
            "ios" or "ipados" => DevicePlatform.iOS,
            "osx" or "macos" => DevicePlatform.macOS,
            "tvos" => DevicePlatform.tvOS,
            "visionos" => DevicePlatform.visionOS,
            _ => null,
        };
    }

    /// <summary>
    /// Whether the device is an iPad (Shared iPad profiles are for iPads only): by <c>device_family</c>, else by an
    /// <c>os</c> of iPadOS; null when neither says (an iOS device of the older protocol, or an unknown one).
    /// </summary>
    public static bool? IsIPad(string? deviceFamily, string? os)
        => !string.IsNullOrWhiteSpace(deviceFamily) ? string.Equals(deviceFamily.Trim(), "iPad", StringComparison.OrdinalIgnoreCase)
            : string.Equals(os?.Trim(), "iPadOS", StringComparison.OrdinalIgnoreCase) ? true
            : null;

    /// <summary>The name used in messages and the sync result for a device of unknown platform.</summary>
    public const string Unknown = "Unknown";
}

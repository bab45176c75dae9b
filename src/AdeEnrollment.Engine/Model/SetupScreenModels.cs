
namespace AdeEnrollment.Engine.Model;

/// <summary>Where a pane exists on one platform: the first version, and when Apple deprecated or removed its key.</summary>
public sealed record SetupScreenSupport(DevicePlatform Platform, Version Since, Version? Deprecated, Version? Removed, bool NotAlways)
{
    public override string ToString()
        => $"{Platform} {Since}{(NotAlways ? " (not always)" : "")}{(Deprecated is null ? "" : $" (deprecated {Deprecated})")}{(Removed is null ? "" : $" (removed {Removed})")}";
}

/// <summary>One row per Setup Assistant skip key: the pane, Apple's key, and the platforms it applies to.</summary>
public sealed class AdeSetupScreen
{
    internal AdeSetupScreen() { }

    /// <summary>The -HiddenScreen value.</summary>
    public SetupScreen Screen { get; internal init; }

    /// <summary>Apple's skip key (sent in <c>skip_setup_items</c>).</summary>
    public string Key { get; internal init; } = "";

    public string Pane { get; internal init; } = "";

    public IReadOnlyList<DevicePlatform> Platforms { get; internal init; } = ValueList<DevicePlatform>.Empty;

    public string? iOS { get; internal init; }

    public string? macOS { get; internal init; }

    public string? tvOS { get; internal init; }

    public string? visionOS { get; internal init; }

    internal IReadOnlyList<SetupScreenSupport> Support { get; init; } = [];

    public SetupScreenSupport? On(DevicePlatform platform) => Support.FirstOrDefault(s => s.Platform == platform);

    public override string ToString() => Screen.ToString();
}

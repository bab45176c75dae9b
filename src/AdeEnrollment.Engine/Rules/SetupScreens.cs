using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Rules;

/// <summary>The table of Setup Assistant panes (docs/about_AdeEnrollment.md "Setup Assistant screens").</summary>
public static class SetupScreens
{
    // One row per key: screen, Apple key, pane, then iOS, macOS, tvOS, visionOS: "-" = not on that platform;
    // "9.3.2 dep 15.0" deprecated, "14.1 rem 26.0" removed, a trailing "!" = not always skippable (the pane can
    // appear before the device has its cloud configuration).
    private static readonly string[][] Rows =
    [
        ["Accessibility", "Accessibility", "Accessibility", "-", "11.0!", "-", "-"],
        ["ActionButton", "ActionButton", "Action Button", "17.0", "-", "-", "-"],
        ["AdditionalPrivacySettings", "AdditionalPrivacySettings", "Additional Privacy Settings", "-", "26.0", "-", "-"],
        ["AndroidMigration", "Android", "Move from Android", "9.0", "-", "-", "-"],
        ["Appearance", "Appearance", "Choose your Look", "13.0", "10.14", "-", "-"],
        ["AppleId", "AppleID", "Apple Account and iCloud", "7.0", "10.9", "10.2", "26.0"],
        ["AppStore", "AppStore", "App Store", "14.3", "11.1", "-", "-"],
        ["TouchIdFaceId", "Biometric", "Touch ID / Face ID", "8.1", "10.12.4", "-", "26.0"],
        ["CameraControl", "CameraButton", "Camera Control", "18.0", "-", "-", "-"],
        ["DeviceToDeviceMigration", "DeviceToDeviceMigration", "Device to Device Migration", "12.4", "-", "-", "-"],
        ["DiagnosticsData", "Diagnostics", "App Analytics", "7.0", "10.9", "10.2", "26.0"],
        ["DisplayTone", "DisplayTone", "True Tone", "9.3.2 dep 15.0", "10.13.6 dep 12.0", "-", "-"],
        ["LockdownMode", "EnableLockdownMode", "Lockdown Mode", "17.1", "14.0", "-", "-"],
        ["FileVault", "FileVault", "FileVault", "-", "10.10", "-", "-"],
        ["HomeButton", "HomeButtonSensitivity", "New Home Button", "10.0 dep 15.0", "-", "-", "-"],
        ["iCloudAnalytics", "iCloudDiagnostics", "iCloud Analytics", "-", "10.12.4", "-", "-"],
        ["iCloudStorage", "iCloudStorage", "iCloud Documents and Desktop", "-", "10.13.4", "-", "-"],
        ["iMessageAndFaceTime", "iMessageAndFaceTime", "iMessage and FaceTime", "12.0", "-", "-", "-"],
        ["Intelligence", "Intelligence", "Apple Intelligence", "18.0", "15.0", "-", "-"],
        ["Keyboard", "Keyboard", "Keyboard", "13.0!", "-", "-", "-"],
        ["LocationServices", "Location", "Location Services", "7.0", "10.11", "10.2", "26.0"],
        ["iMessageActivation", "MessagingActivationUsingPhoneNumber", "iMessage activation by phone number", "10.0", "-", "-", "-"],
        ["Multitasking", "Multitasking", "Multitasking", "26.0", "-", "-", "-"],
        ["Onboarding", "OnBoarding", "On-boarding", "11.0 dep 14.0", "-", "-", "-"],
        ["OSShowcase", "OSShowcase", "OS Showcase", "26.0", "-", "-", "-"],
        ["Passcode", "Passcode", "Passcode", "7.0", "10.9", "-", "26.0"],
        ["ApplePay", "Payment", "Apple Pay", "8.1", "10.12.4", "-", "26.0"],
        ["Privacy", "Privacy", "Data & Privacy", "11.3", "10.13.4", "11.3", "26.0"],
        ["Restore", "Restore", "Restore from backup", "7.0", "10.9", "-", "-"],
        ["RestoreCompleted", "RestoreCompleted", "Restore Completed", "14.0", "-", "-", "-"],
        ["EmergencySos", "Safety", "Emergency SOS (Safety)", "16.0", "-", "-", "-"],
        ["SafetyAndHandling", "SafetyAndHandling", "Safety and Handling", "18.4", "-", "-", "-"],
        ["ScreenSaver", "ScreenSaver", "Aerial screen savers", "-", "-", "10.2", "-"],
        ["ScreenTime", "ScreenTime", "Screen Time", "12.0", "10.15", "-", "26.0"],
        ["SimSetup", "SIMSetup", "Add cellular plan (eSIM)", "12.0", "-", "-", "-"],
        ["Siri", "Siri", "Siri", "7.0", "10.12", "10.2", "26.0"],
        ["SoftwareUpdate", "SoftwareUpdate", "Software update configuration", "12.0", "15.4", "-", "-"],
        ["Dictation", "SpokenLanguage", "Dictation", "13.0!", "-", "-", "-"],
        ["TapToSetUp", "TapToSetup", "Tap to Set Up", "-", "-", "10.2!", "-"],
        ["TermsOfAddress", "TermsOfAddress", "Terms of Address", "16.0!", "13.0!", "-", "-"],
        ["Tips", "Tips", "Tips", "-", "-", "-", "26.0"],
        ["TermsAndConditions", "TOS", "Terms and Conditions", "7.0", "10.9", "10.2", "26.0"],
        ["TVHomeScreenSync", "TVHomeScreenSync", "Home Screen layout sync", "-", "-", "11.0", "-"],
        ["TVProviderSignIn", "TVProviderSignIn", "TV provider sign-in", "-", "-", "11.0", "-"],
        ["TVRoom", "TVRoom", "Where is this Apple TV", "-", "-", "11.4", "-"],
        ["UnlockWithWatch", "UnlockWithWatch", "Unlock with Apple Watch", "-", "15.0", "-", "-"],
        ["SoftwareUpdateCompleted", "UpdateCompleted", "Software Update Complete", "14.0", "-", "-", "-"],
        ["Wallpaper", "Wallpaper", "Wallpaper", "-", "14.1 rem 26.0", "-", "-"],
        ["WatchMigration", "WatchMigration", "Apple Watch migration", "11.0", "-", "-", "-"],
        ["WebContentFiltering", "WebContentFiltering", "Web Content Filtering", "18.2", "-", "-", "-"],
        ["GetStarted", "Welcome", "Get Started", "13.0", "15.0", "-", "-"],
        ["Zoom", "Zoom", "Zoom", "8.3 dep 17.0", "-", "-", "-"],
    ];

    /// <summary>Every pane, ordered by Apple's key.</summary>
    public static readonly IReadOnlyList<AdeSetupScreen> All = Rows.Select(Parse).ToList();

    private static readonly Dictionary<SetupScreen, AdeSetupScreen> ByScreen = All.ToDictionary(s => s.Screen);

    private static readonly Dictionary<string, AdeSetupScreen> ByKey = All.ToDictionary(s => s.Key, StringComparer.Ordinal);

    public static AdeSetupScreen Of(SetupScreen screen) => ByScreen[screen];

    /// <summary>A known pane by Apple's exact key (keys are case-sensitive at Apple).</summary>
    public static AdeSetupScreen? ByAppleKey(string key) => ByKey.GetValueOrDefault(key);

    public static IEnumerable<AdeSetupScreen> On(DevicePlatform platform) => All.Where(s => s.On(platform) is not null);

    private static readonly Dictionary<string, AdeSetupScreen> ByKeyIgnoringCase = All.ToDictionary(s => s.Key, StringComparer.OrdinalIgnoreCase);

    /// <summary>The pane of one of Apple's skip keys, given in any case; null when the module does not know the key.</summary>
    public static AdeSetupScreen? ByAppleKeyIgnoringCase(string key) => ByKeyIgnoringCase.GetValueOrDefault(key.Trim());

    /// <summary>Apple's spelling of a skip key this module knows, given in any case ('filevault' → 'FileVault'); others as given.</summary>
    public static string AppleSpelling(string key) => ByKeyIgnoringCase.TryGetValue(key, out var known) ? known.Key : key;

    /// <summary>
    /// A -HiddenScreen value by the module's name or by Apple's skip key (both case-insensitive: 'TouchIdFaceId' or
    /// 'Biometric', 'TermsAndConditions' or 'TOS', as admins copy them from Apple's documentation or another MDM);
    /// anything else is ProfileSettingInvalid listing the names.
    /// </summary>
    public static SetupScreen Parse(string name)
    {
        var trimmed = name.Trim();
        if (SetupScreenName.TryParse(trimmed, out var screen))
        {
            return screen;
        }

        if (trimmed.Contains(','))
        {
            throw ProfileRules.Invalid("HiddenScreen", name, "one pane per value: give several as a list (-HiddenScreen Siri, Zoom, or an array), not as one text with commas.");
        }

        if (ByKeyIgnoringCase.TryGetValue(trimmed, out var byKey))
        {
            return byKey.Screen;
        }

        throw ProfileRules.Invalid("HiddenScreen", name, $"not a Setup Assistant pane; use one of {string.Join(", ", Enum.GetNames<SetupScreen>())} (or Apple's skip keys; Get-AdeSetupScreen lists both per platform), or -AdditionalSkipKey for a key Apple added later.");
    }

    private static AdeSetupScreen Parse(string[] row)
    {
        var support = new List<SetupScreenSupport>();
        var texts = new string?[4];
        for (var i = 0; i < 4; i++)
        {
            var cell = row[3 + i];
            if (cell == "-")
            {
                continue;
            }

            var notAlways = cell.EndsWith('!');
            var parts = cell.TrimEnd('!').Split(' ');
            var since = Version.Parse(parts[0]);
            Version? deprecated = parts.Length > 2 && parts[1] == "dep" ? Version.Parse(parts[2]) : null;
            Version? removed = parts.Length > 2 && parts[1] == "rem" ? Version.Parse(parts[2]) : null;
            var entry = new SetupScreenSupport((DevicePlatform)i, since, deprecated, removed, notAlways);
            support.Add(entry);
            texts[i] = entry.ToString()[(entry.Platform.ToString().Length + 1)..];
        }

        return new AdeSetupScreen
        {
            Screen = Enum.Parse<SetupScreen>(row[0]),
            Key = row[1],
            Pane = row[2],
            Support = support,
            Platforms = ValueList.Of(support.Select(s => s.Platform).ToList()),
            iOS = texts[0],
            macOS = texts[1],
            tvOS = texts[2],
            visionOS = texts[3],
        };
    }
}

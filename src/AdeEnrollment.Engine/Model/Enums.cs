using AdeEnrollment.Engine.Rules;
namespace AdeEnrollment.Engine.Model;

public enum AdeSyncKind
{
    Full,
    Delta,
}

public enum AdeSyncTrigger
{
    /// <summary>The first sync of a token (always full).</summary>
    First,

    /// <summary>Sync-AdeDevice without -IfDue.</summary>
    Manual,

    /// <summary>Sync-AdeDevice -IfDue: a scheduler's sync, due every 12 hours.</summary>
    Automatic,

    /// <summary>The full sync that follows a failed sync (or a sync whose lease lapsed).</summary>
    Recovery,

    /// <summary>
    /// A full re-fetch that Apple asked for during a delta sync: the sync cursor expired or is unknown to Apple
    /// (EXPIRED_CURSOR, INVALID_CURSOR). Nothing failed; the whole device list is read again.
    /// </summary>
    CursorExpired,
}

/// <summary>Apple's answer for one device of a device action.</summary>
public enum AdeDeviceActionStatus
{
    Success,

    /// <summary>Apple does not assign the serial to this token's MDM server.</summary>
    NotAccessible,

    Failed,

    /// <summary>The serial is not in the store (for the token given): nothing was sent for it.</summary>
    UnknownDevice,

    /// <summary>
    /// A request of the device's token failed as a whole (Apple unavailable, the token rejected, release not allowed …):
    /// this device was in it or after it and got no answer; the command's error for the token says why. A request that
    /// failed after reaching Apple (a time-out, an unreadable answer) may have been carried out: Update-AdeDevice or the
    /// next sync shows Apple's state.
    /// </summary>
    NotSent,
}

/// <summary>What happened to a device (Get-AdeDeviceEvent -Kind).</summary>
public enum AdeDeviceEventKind
{
    Added,
    Modified,
    DeletedFromAbm,
    ProfileAssigned,
    AssignmentFailed,
    AssignmentThrottled,
    ProfileCleared,
    Released,
    Purged,

    /// <summary>Remove-AdeDevice deleted the device from the store (Apple unchanged); Detail StillInAbm when ABM still assigned it.</summary>
    Removed,
}

/// <summary>What to do with devices: assign them to a server, unassign them from it, or release them from the organisation.</summary>
public enum OrgDeviceAction
{
    Assign,
    Unassign,
    Release,
}

public enum UserAffinity
{
    WithUserAffinity,

    /// <summary>Kiosk, point of sale, shared devices.</summary>
    WithoutUserAffinity,
}

public enum AuthenticationMethod
{
    CompanyPortal,
    SetupAssistantLegacy,

    /// <summary>Setup Assistant with modern authentication (iOS/iPadOS 13.0+; older devices fall back to legacy).</summary>
    SetupAssistantModern,
}

public enum SyncWithComputers
{
    AllowAll,

    /// <summary>The port is limited to charging.</summary>
    DenyAll,

    /// <summary>Only Macs holding one of the Apple Configurator certificates may pair.</summary>
    AllowByCertificate,
}

/// <summary>
/// Setup Assistant panes an enrollment profile can hide (-HiddenScreen). The first 25 are Intune's iOS names (their
/// order is the order profiles were stored in: never reorder, only append); the rest name Apple's newer skip keys.
/// Which platforms and versions each applies to is data in <see cref="SetupScreens.All"/>.
/// </summary>
public enum SetupScreen
{
    Passcode,
    LocationServices,
    Restore,
    AppleId,
    TermsAndConditions,
    TouchIdFaceId,
    ApplePay,
    Zoom,
    Siri,
    DiagnosticsData,
    DisplayTone,
    Privacy,
    AndroidMigration,
    iMessageAndFaceTime,
    Onboarding,
    ScreenTime,
    SimSetup,
    SoftwareUpdate,
    WatchMigration,
    Appearance,
    DeviceToDeviceMigration,
    RestoreCompleted,
    SoftwareUpdateCompleted,
    GetStarted,
    TermsOfAddress,

    // Appended: panes Intune's original form did not have.
    EmergencySos,
    ActionButton,
    Intelligence,
    Accessibility,
    AdditionalPrivacySettings,
    AppStore,
    CameraControl,
    LockdownMode,
    FileVault,
    HomeButton,
    iCloudAnalytics,
    iCloudStorage,
    Keyboard,
    iMessageActivation,
    Multitasking,
    OSShowcase,
    SafetyAndHandling,
    ScreenSaver,
    Dictation,
    TapToSetUp,
    Tips,
    TVHomeScreenSync,
    TVProviderSignIn,
    TVRoom,
    UnlockWithWatch,
    Wallpaper,
    WebContentFiltering,
}

/// <summary>
/// A <see cref="SetupScreen"/> by its exact name (any case). Not <c>Enum.TryParse</c>: that takes "Siri,Zoom" as the
/// two values' bits combined — another pane — and "+5" as a number.
/// </summary>
public static class SetupScreenName
{
    private static readonly Dictionary<string, SetupScreen> ByName = Enum.GetValues<SetupScreen>().ToDictionary(s => s.ToString(), StringComparer.OrdinalIgnoreCase);

    public static bool TryParse(string? name, out SetupScreen screen)
    {
        screen = default;
        return name is not null && ByName.TryGetValue(name.Trim(), out screen);
    }
}

/// <summary>The platform an enrollment profile is for, and the platform of a device (docs/about_AdeEnrollment.md "Platforms").</summary>
public enum DevicePlatform
{
    /// <summary>iPhone, iPad and iPod touch (iOS and iPadOS).</summary>
    iOS,
    macOS,
    tvOS,
    visionOS,
}

public enum AdeHealthStatus
{
    Pass,
    Warning,
    Fail,
}

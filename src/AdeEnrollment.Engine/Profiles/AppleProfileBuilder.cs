using System.Security.Cryptography;
using System.Text;
using AdeEnrollment.Engine.Apple;

namespace AdeEnrollment.Engine.Profiles;

/// <summary>Builds Apple's profile JSON (reference/apple-dep-protocol.md §3.6) from a profile's settings.</summary>
internal static class AppleProfileBuilder
{
    /// <summary>Each Setup Assistant pane and Apple's SkipKey for it.</summary>
    public static readonly IReadOnlyDictionary<SetupScreen, string> SkipKeys = new Dictionary<SetupScreen, string>
    {
        [SetupScreen.Passcode] = "Passcode",
        [SetupScreen.LocationServices] = "Location",
        [SetupScreen.Restore] = "Restore",
        [SetupScreen.AppleId] = "AppleID",
        [SetupScreen.TermsAndConditions] = "TOS",
        [SetupScreen.TouchIdFaceId] = "Biometric",
        [SetupScreen.ApplePay] = "Payment",
        [SetupScreen.Zoom] = "Zoom",
        [SetupScreen.Siri] = "Siri",
        [SetupScreen.DiagnosticsData] = "Diagnostics",
        [SetupScreen.DisplayTone] = "DisplayTone",
        [SetupScreen.Privacy] = "Privacy",
        [SetupScreen.AndroidMigration] = "Android",
        [SetupScreen.iMessageAndFaceTime] = "iMessageAndFaceTime",
        [SetupScreen.Onboarding] = "OnBoarding",
        [SetupScreen.ScreenTime] = "ScreenTime",
        [SetupScreen.SimSetup] = "SIMSetup",
        [SetupScreen.SoftwareUpdate] = "SoftwareUpdate",
        [SetupScreen.WatchMigration] = "WatchMigration",
        [SetupScreen.Appearance] = "Appearance",
        [SetupScreen.DeviceToDeviceMigration] = "DeviceToDeviceMigration",
        [SetupScreen.RestoreCompleted] = "RestoreCompleted",
        [SetupScreen.SoftwareUpdateCompleted] = "UpdateCompleted",
        [SetupScreen.GetStarted] = "Welcome",
        [SetupScreen.TermsOfAddress] = "TermsOfAddress",
    };

    public static AppleProfile Build(string name, ProfileSettings s, string enrollmentUrl)
    {
        var shared = s.SharedIPad == true;
        var skip = shared
            ? SkipKeys.Values.ToList() // Shared iPad skips every pane regardless
            : s.HiddenScreens?.Select(h => SkipKeys[h]).ToList();
        var modern = s.AuthenticationMethod == AuthenticationMethod.SetupAssistantModern;
        return new AppleProfile
        {
            ProfileName = name,
            Url = enrollmentUrl,
            ConfigurationWebUrl = modern ? enrollmentUrl : null,
            IsSupervised = s.Supervised ?? true,
            IsMandatory = true,
            IsMdmRemovable = s.LockedEnrollment != true,
            IsMultiUser = shared,
            AwaitDeviceConfigured = true,
            AllowPairing = s.SyncWithComputers != SyncWithComputers.DenyAll,
            SupervisingHostCerts = s.SyncWithComputers == SyncWithComputers.AllowByCertificate ? s.ConfiguratorCertificates?.ToList() : null,
            Department = s.Department,
            SupportPhoneNumber = s.DepartmentPhone,
            SkipSetupItems = skip is { Count: > 0 } ? skip : null,
            OrgMagic = "",
        };
    }

    /// <summary>What Apple holds for a profile: a change of any of it means the profile must be defined again.</summary>
    public static string Hash(AppleProfile profile)
    {
        var json = System.Text.Json.JsonSerializer.Serialize(profile, AppleJsonContext.Default.AppleProfile);
        return Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(json)));
    }
}

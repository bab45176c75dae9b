using AdeEnrollment.Engine.Rules;
using System.Security.Cryptography;
using System.Text;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Profiles;

/// <summary>Builds Apple's profile JSON (about_AdeEnrollment.md, "Enrollment profiles") from a profile's settings.</summary>
internal static class AppleProfileBuilder
{
    public static AppleProfile Build(string name, ProfileSettings s, string enrollmentUrl)
    {
        var platform = s.Platform ?? DevicePlatform.iOS;
        var shared = s.SharedIPad == true;
        // Shared iPad skips every pane regardless: every key iOS still has. The additional keys (panes Apple added
        // after this module's table) are skipped too, with or without it.
        var skip = shared
            ? SetupScreens.On(DevicePlatform.iOS).Where(r => r.On(DevicePlatform.iOS)!.Removed is null).Select(r => r.Key).ToList()
            : s.HiddenScreens?.Select(h => SetupScreens.Of(h).Key).ToList();
        foreach (var key in s.AdditionalSkipKeys ?? [])
        {
            if (!(skip ??= []).Contains(key, StringComparer.Ordinal))
            {
                skip.Add(key);
            }
        }

        var modern = s.AuthenticationMethod == AuthenticationMethod.SetupAssistantModern;
        var ios = platform == DevicePlatform.iOS;
        return new AppleProfile
        {
            ProfileName = name,
            Url = enrollmentUrl,
            ConfigurationWebUrl = modern ? enrollmentUrl : null,
            // Macs, Apple TVs and Vision Pros enrolled through ADE are supervised; Apple also needs it for is_mdm_removable = false.
            IsSupervised = ios ? s.Supervised ?? true : true,
            IsMandatory = true,
            IsMdmRemovable = s.LockedEnrollment != true,
            IsMultiUser = ios ? shared : null,
            AwaitDeviceConfigured = s.AwaitFinalConfiguration ?? true,
            // Apple's certificates name the hosts that may pair while pairing is off: AllowByCertificate is pairing off
            // with them (Intune's "requiresCertificate"); pairing on would let any computer pair, certificates or not.
            AllowPairing = ios ? (s.SyncWithComputers ?? SyncWithComputers.AllowAll) == SyncWithComputers.AllowAll : null,
            SupervisingHostCerts = ios && s.SyncWithComputers == SyncWithComputers.AllowByCertificate ? s.ConfiguratorCertificates?.ToList() : null,
            AnchorCerts = s.AnchorCertificates is { Count: > 0 } anchors ? anchors.ToList() : null,
            Department = s.Department,
            SupportPhoneNumber = s.DepartmentPhone,
            SupportEmailAddress = s.SupportEmail,
            Language = s.Language,
            Region = s.Region,
            AutoAdvanceSetup = s.AutoAdvanceSetup,
            DoNotUseProfileFromBackup = s.DoNotUseProfileFromBackup,
            IsReturnToService = s.ReturnToService,
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

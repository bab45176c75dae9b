using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using AdeEnrollment.Engine.Errors;

namespace AdeEnrollment.Engine.Profiles;

/// <summary>
/// Every rule of SPEC §4, in one place: defaults, validation (a violation is <c>ProfileSettingInvalid</c> naming the
/// setting, the value and the rule) and the warnings the spec asks for.
/// </summary>
public static class ProfileRules
{
    public const int MaxNameLength = 125;
    public const int MaxDescriptionLength = 1000;
    public const int MaxDepartmentLength = 125;
    public const int MaxDepartmentPhoneLength = 50;
    public const int MaxDeviceNameTemplateLength = 63;
    public const int MaxProfilesPerToken = 1000;
    private static readonly Regex TemplateVariable = new(@"\{\{([^{}]*)\}\}", RegexOptions.CultureInvariant);
    private static readonly string[] KnownVariables = ["SERIAL", "DEVICETYPE"];

    /// <summary>Applies the defaults: supervised, sync with all computers, modern authentication with user affinity.</summary>
    public static ProfileSettings Normalise(ProfileSettings s)
    {
        var withUser = s.UserAffinity == UserAffinity.WithUserAffinity;
        var shared = s.SharedIPad ?? false;
        return s with
        {
            Description = string.IsNullOrEmpty(s.Description) ? null : s.Description,
            AuthenticationMethod = withUser ? s.AuthenticationMethod ?? AuthenticationMethod.SetupAssistantModern : s.AuthenticationMethod,
            InstallCompanyPortal = s.InstallCompanyPortal ?? withUser,
            CompanyPortalVppToken = string.IsNullOrEmpty(s.CompanyPortalVppToken) ? null : s.CompanyPortalVppToken,
            RunCompanyPortalInSingleAppMode = s.RunCompanyPortalInSingleAppMode ?? false,
            Supervised = s.Supervised ?? true,
            LockedEnrollment = s.LockedEnrollment ?? false,
            SharedIPad = shared,
            RequireTemporarySession = s.RequireTemporarySession ?? (shared ? false : null),
            SyncWithComputers = s.SyncWithComputers ?? SyncWithComputers.AllowAll,
            ConfiguratorCertificates = s.ConfiguratorCertificates is { Count: > 0 } c ? c : null,
            DeviceNameTemplate = string.IsNullOrEmpty(s.DeviceNameTemplate) ? null : s.DeviceNameTemplate,
            CellularDataPlanUrl = string.IsNullOrEmpty(s.CellularDataPlanUrl) ? null : s.CellularDataPlanUrl,
            Department = string.IsNullOrEmpty(s.Department) ? null : s.Department,
            DepartmentPhone = string.IsNullOrEmpty(s.DepartmentPhone) ? null : s.DepartmentPhone,
            HiddenScreens = s.HiddenScreens is { Count: > 0 } h ? h.Distinct().OrderBy(x => x).ToList() : null,
        };
    }

    public static void ValidateName(string? name)
    {
        TextRules.RefuseControlCharacters("Name", name);
        if (string.IsNullOrWhiteSpace(name) || name.Length > MaxNameLength || name != name.Trim())
        {
            throw Invalid("Name", name ?? "", $"a profile name is 1 to {MaxNameLength} characters without leading or trailing spaces.");
        }
    }

    /// <summary>Validates normalised settings; returns the warnings to show. Throws on the first violation.</summary>
    public static IReadOnlyList<string> Validate(ProfileSettings s)
    {
        var warnings = new List<string>();
        if (s.Description is { Length: > MaxDescriptionLength })
        {
            throw Invalid("Description", Shorten(s.Description), $"at most {MaxDescriptionLength} characters.");
        }

        if (s.UserAffinity is null)
        {
            throw Invalid("UserAffinity", "", "choose WithUserAffinity or WithoutUserAffinity (kiosk, point of sale, shared devices).");
        }

        // Values outside the enumerations (a host other than PowerShell, or a number in an imported file).
        CheckDefined("UserAffinity", s.UserAffinity.Value);
        if (s.AuthenticationMethod is { } method) CheckDefined("AuthenticationMethod", method);
        if (s.SyncWithComputers is { } sync) CheckDefined("SyncWithComputers", sync);
        foreach (var screen in s.HiddenScreens ?? []) CheckDefined("HiddenScreen", screen);

        var withUser = s.UserAffinity == UserAffinity.WithUserAffinity;
        if (!withUser && s.AuthenticationMethod is not null)
        {
            throw Invalid("AuthenticationMethod", s.AuthenticationMethod.ToString()!, "an authentication method applies only to profiles WithUserAffinity.");
        }

        if (!withUser && s.InstallCompanyPortal == true)
        {
            throw Invalid("InstallCompanyPortal", "True", "Company Portal is installed only on devices enrolled WithUserAffinity.");
        }

        if (s.AuthenticationMethod == AuthenticationMethod.SetupAssistantLegacy && s.InstallCompanyPortal == false)
        {
            warnings.Add("With Setup Assistant (legacy) authentication, devices need Company Portal for conditional access and to install company apps; InstallCompanyPortal is off.");
        }

        if (s.CompanyPortalVppToken is not null)
        {
            if (s.InstallCompanyPortal != true)
            {
                throw Invalid("CompanyPortalVppToken", s.CompanyPortalVppToken, "a VPP token installs Company Portal, so it needs InstallCompanyPortal.");
            }

            warnings.Add($"Company Portal is installed with VPP token '{s.CompanyPortalVppToken}': make sure it has Company Portal licences left and does not expire, or installation fails on new devices.");
        }

        if (s.RunCompanyPortalInSingleAppMode == true)
        {
            if (s.CompanyPortalVppToken is null)
            {
                throw Invalid("RunCompanyPortalInSingleAppMode", "True", "Company Portal runs in single app mode only when it is installed with a VPP token (CompanyPortalVppToken).");
            }

            warnings.Add("Company Portal in single app mode needs iOS/iPadOS 11.3.1 or later, and multi-factor authentication cannot complete on a device locked to one app.");
        }

        if (s.Supervised == false)
        {
            warnings.Add("Supervised is off, but iOS/iPadOS 13 and later devices enrolled through ADE are supervised regardless.");
        }

        if (s.LockedEnrollment == true && s.Supervised != true)
        {
            throw Invalid("LockedEnrollment", "True", "locked enrollment requires Supervised.");
        }

        var shared = s.SharedIPad == true;
        if (shared)
        {
            if (withUser)
            {
                throw Invalid("SharedIPad", "True", "Shared iPad requires WithoutUserAffinity.");
            }

            if (s.Supervised != true)
            {
                throw Invalid("SharedIPad", "True", "Shared iPad requires Supervised.");
            }

            warnings.Add("Shared iPad applies to iPads with iPadOS 13.4 or later only; other devices enroll as single-user devices.");
        }

        RequireShared(shared, "MaximumCachedUsers", s.MaximumCachedUsers);
        RequireShared(shared, "PasscodeLockGracePeriodSeconds", s.PasscodeLockGracePeriodSeconds);
        RequireShared(shared, "UserSessionTimeoutSeconds", s.UserSessionTimeoutSeconds);
        if (!shared && s.RequireTemporarySession == true)
        {
            throw Invalid("RequireTemporarySession", "True", "temporary sessions apply only to Shared iPad profiles (SharedIPad).");
        }

        if (s.MaximumCachedUsers is { } users && users is < 1 or > 24)
        {
            throw Invalid("MaximumCachedUsers", users.ToString(), "from 1 to 24 users.");
        }

        if (s.PasscodeLockGracePeriodSeconds is { } grace && grace is < 0 or > 14_400)
        {
            throw Invalid("PasscodeLockGracePeriodSeconds", grace.ToString(), "from 0 to 14400 seconds (4 hours).");
        }

        CheckTimeout("UserSessionTimeoutSeconds", s.UserSessionTimeoutSeconds);
        if (s.RequireTemporarySession == true
            && (s.MaximumCachedUsers is not null || s.PasscodeLockGracePeriodSeconds is not null || s.UserSessionTimeoutSeconds is not null))
        {
            warnings.Add("RequireTemporarySession cancels MaximumCachedUsers, PasscodeLockGracePeriodSeconds and UserSessionTimeoutSeconds: with temporary sessions only, those settings have no effect.");
        }

        if (s.TemporarySessionTimeoutSeconds is not null && s.RequireTemporarySession != true)
        {
            throw Invalid("TemporarySessionTimeoutSeconds", s.TemporarySessionTimeoutSeconds.ToString()!, "a temporary session timeout needs RequireTemporarySession.");
        }

        CheckTimeout("TemporarySessionTimeoutSeconds", s.TemporarySessionTimeoutSeconds);

        if (s.SyncWithComputers == SyncWithComputers.AllowByCertificate && s.ConfiguratorCertificates is not { Count: > 0 })
        {
            throw Invalid("SyncWithComputers", "AllowByCertificate", "give at least one Apple Configurator certificate (ConfiguratorCertificate).");
        }

        if (s.ConfiguratorCertificates is { Count: > 0 } certificates)
        {
            if (s.SyncWithComputers != SyncWithComputers.AllowByCertificate)
            {
                throw Invalid("ConfiguratorCertificate", $"{certificates.Count} certificate(s)", "Apple Configurator certificates are used only with SyncWithComputers AllowByCertificate.");
            }

            foreach (var certificate in certificates)
            {
                CheckCertificate(certificate);
            }
        }

        if (s.DeviceNameTemplate is { } template)
        {
            if (template.Length > MaxDeviceNameTemplateLength)
            {
                throw Invalid("DeviceNameTemplate", template, $"at most {MaxDeviceNameTemplateLength} characters, variables included.");
            }

            foreach (Match m in TemplateVariable.Matches(template))
            {
                if (!KnownVariables.Contains(m.Groups[1].Value, StringComparer.Ordinal))
                {
                    throw Invalid("DeviceNameTemplate", template, $"'{m.Value}' is not a known variable; use {{{{SERIAL}}}} and {{{{DEVICETYPE}}}}.");
                }
            }

            if (TemplateVariable.Replace(template, "").Contains("{{", StringComparison.Ordinal) || TemplateVariable.Replace(template, "").Contains("}}", StringComparison.Ordinal))
            {
                throw Invalid("DeviceNameTemplate", template, "a variable is not closed; use {{SERIAL}} and {{DEVICETYPE}}.");
            }
        }

        if (s.CellularDataPlanUrl is { } url && (!Uri.TryCreate(url, UriKind.Absolute, out var u) || u.Scheme != Uri.UriSchemeHttps))
        {
            throw Invalid("CellularDataPlanUrl", url, "the carrier's activation server is an absolute https:// URL.");
        }

        if (s.Department is { Length: > MaxDepartmentLength })
        {
            throw Invalid("Department", Shorten(s.Department), $"at most {MaxDepartmentLength} characters.");
        }

        if (s.DepartmentPhone is { Length: > MaxDepartmentPhoneLength })
        {
            throw Invalid("DepartmentPhone", s.DepartmentPhone, $"at most {MaxDepartmentPhoneLength} characters.");
        }

        if (s.HiddenScreens is { } screens)
        {
            if (screens.Contains(SetupScreen.Passcode) || screens.Contains(SetupScreen.TouchIdFaceId))
            {
                warnings.Add("Hiding the Passcode or Touch ID/Face ID pane does not work on iOS/iPadOS 14.5 and later: those panes are shown anyway.");
            }
        }

        return warnings;
    }

    private static void CheckDefined<T>(string setting, T value) where T : struct, Enum
    {
        if (!Enum.IsDefined(value))
        {
            throw Invalid(setting, value.ToString(), $"use one of {string.Join(", ", Enum.GetNames<T>())}.");
        }
    }

    private static void RequireShared(bool shared, string setting, int? value)
    {
        if (!shared && value is not null)
        {
            throw Invalid(setting, value.Value.ToString(), "this setting applies only to Shared iPad profiles (SharedIPad).");
        }
    }

    private static void CheckTimeout(string setting, int? value)
    {
        if (value is { } v && v != 0 && v < 30)
        {
            throw Invalid(setting, v.ToString(), "0 (never) or at least 30 seconds.");
        }
    }

    private static void CheckCertificate(string base64)
    {
        try
        {
            using var _ = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(base64));
        }
        catch (Exception ex) when (ex is FormatException or System.Security.Cryptography.CryptographicException)
        {
            throw Invalid("ConfiguratorCertificate", Shorten(base64), "not an X.509 certificate (give the .cer file Apple Configurator exports, DER or PEM).");
        }
    }

    private static string Shorten(string s) => s.Length > 40 ? s[..40] + "…" : s;

    internal static AdeException Invalid(string setting, string value, string rule) => ErrorCatalog.ProfileSettingInvalid(setting, value, rule);
}

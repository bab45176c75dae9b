using System.Security.Cryptography.X509Certificates;
using System.Text.RegularExpressions;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Rules;

/// <summary>
/// Every profile rule (about_AdeEnrollment.md, "Enrollment profiles"), in one place: defaults, validation (a violation is <c>ProfileSettingInvalid</c> naming the
/// setting, the value and the rule) and the warnings the spec asks for.
/// </summary>
public static class ProfileRules
{
    public const int MaxNameLength = 125;
    public const int MaxDescriptionLength = 1000;
    public const int MaxDepartmentLength = 125;
    public const int MaxDepartmentPhoneLength = 50;

    /// <summary>Apple's limit on support_email_address (SUPPORT_EMAIL_INVALID beyond it), below e-mail's own 254.</summary>
    public const int MaxSupportEmailLength = 250;
    public const int MaxDeviceNameTemplateLength = 63;
    public const int MaxProfilesPerToken = 1000;
    private static readonly Regex TemplateVariable = new(@"\{\{([^{}]*)\}\}", RegexOptions.CultureInvariant);
    private static readonly string[] KnownVariables = ["SERIAL", "DEVICETYPE"];

    /// <summary>
    /// Applies the defaults of the profile's platform (iOS when none is given): on iOS supervised, sync with all
    /// computers, modern authentication with user affinity; everywhere await final configuration. Settings of other
    /// platforms are left as given, so that <see cref="Validate"/> can refuse them.
    /// </summary>
    public static ProfileSettings Normalise(ProfileSettings s)
    {
        var platform = s.Platform ?? DevicePlatform.iOS;
        var withUser = s.UserAffinity == UserAffinity.WithUserAffinity;
        var common = s with
        {
            Platform = platform,
            Description = string.IsNullOrEmpty(s.Description) ? null : s.Description,
            LockedEnrollment = s.LockedEnrollment ?? false,
            AwaitFinalConfiguration = s.AwaitFinalConfiguration ?? true,
            Department = string.IsNullOrEmpty(s.Department) ? null : s.Department,
            DepartmentPhone = string.IsNullOrEmpty(s.DepartmentPhone) ? null : s.DepartmentPhone,
            SupportEmail = string.IsNullOrWhiteSpace(s.SupportEmail) ? null : s.SupportEmail.Trim(),
            AnchorCertificates = s.AnchorCertificates is { Count: > 0 } a ? a.Distinct(StringComparer.Ordinal).ToList() : null,
            Language = string.IsNullOrWhiteSpace(s.Language) ? null : s.Language.Trim().ToLowerInvariant(),
            Region = string.IsNullOrWhiteSpace(s.Region) ? null : s.Region.Trim().ToUpperInvariant(),
            HiddenScreens = s.HiddenScreens is { Count: > 0 } h ? h.Distinct().OrderBy(x => x).ToList() : null,
            // Apple compares skip keys exactly: a known key typed in another case ('filevault') would hide nothing, so it
            // takes Apple's spelling (and is then sent once); a key the module does not know is sent as typed.
            AdditionalSkipKeys = s.AdditionalSkipKeys is { Count: > 0 } k ? k.Select(x => SetupScreens.AppleSpelling(x.Trim())).Distinct(StringComparer.Ordinal).ToList() : null,
            CompanyPortalVppToken = string.IsNullOrEmpty(s.CompanyPortalVppToken) ? null : s.CompanyPortalVppToken,
            ConfiguratorCertificates = s.ConfiguratorCertificates is { Count: > 0 } c ? c : null,
            DeviceNameTemplate = string.IsNullOrEmpty(s.DeviceNameTemplate) ? null : s.DeviceNameTemplate,
            CellularDataPlanUrl = string.IsNullOrEmpty(s.CellularDataPlanUrl) ? null : s.CellularDataPlanUrl,
        };
        if (platform != DevicePlatform.iOS)
        {
            return common with
            {
                UserAffinity = s.UserAffinity ?? Model.UserAffinity.WithoutUserAffinity,
                AuthenticationMethod = withUser ? s.AuthenticationMethod ?? AuthenticationMethod.SetupAssistantModern : s.AuthenticationMethod,
            };
        }

        var shared = s.SharedIPad ?? false;
        return common with
        {
            AuthenticationMethod = withUser ? s.AuthenticationMethod ?? AuthenticationMethod.SetupAssistantModern : s.AuthenticationMethod,
            InstallCompanyPortal = s.InstallCompanyPortal ?? withUser,
            RunCompanyPortalInSingleAppMode = s.RunCompanyPortalInSingleAppMode ?? false,
            Supervised = s.Supervised ?? true,
            SharedIPad = shared,
            RequireTemporarySession = s.RequireTemporarySession ?? (shared ? false : null),
            SyncWithComputers = s.SyncWithComputers ?? SyncWithComputers.AllowAll,
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

    /// <summary>
    /// Validates normalised settings; returns the warnings to show. Throws on the first violation. <paramref name="before"/>:
    /// the profile's settings before a change, whose language and region codes are not checked again.
    /// </summary>
    public static IReadOnlyList<string> Validate(ProfileSettings s, ProfileSettings? before = null)
    {
        var warnings = Check(s, before);
        if (before is null || warnings.Count == 0)
        {
            return warnings;
        }

        // A change warns about what it makes, not again about what the profile already had: a warning the settings
        // before the change gave word for word is left out (a rename does not repeat "Supervised is off").
        IReadOnlyList<string> had;
        try
        {
            had = Check(before, before);
        }
        catch (AdeException)
        {
            return warnings; // settings stored under older rules: every warning of the new settings stands
        }

        return [.. warnings.Except(had, StringComparer.Ordinal)];
    }

    /// <summary>Free-text settings Apple shows on the device or the module shows back, checked for control and invisible formatting characters.</summary>
    private static IEnumerable<(string Setting, string? Value)> FreeText(ProfileSettings s)
    {
        yield return ("Department", s.Department);
        yield return ("DepartmentPhone", s.DepartmentPhone);
        yield return ("CompanyPortalVppToken", s.CompanyPortalVppToken);
        yield return ("DeviceNameTemplate", s.DeviceNameTemplate);
        yield return ("CellularDataPlanUrl", s.CellularDataPlanUrl);
    }

    private static List<string> Check(ProfileSettings s, ProfileSettings? before)
    {
        var warnings = new List<string>();
        // a line break or a tab is kept in a description (notes for admins); any other control or invisible formatting
        // character — an escape sequence, a bidirectional override — could rewrite the terminal that shows it
        if (s.Description is { } description && description != before?.Description
            && TextRules.HasUnsafe(description.Replace("\r\n", " ", StringComparison.Ordinal).Replace('\n', ' ').Replace('\t', ' ')))
        {
            throw Invalid("Description", Shorten(description), "it contains control or invisible formatting characters (an escape sequence, a carriage return); line breaks and tabs are allowed.");
        }

        var kept = before is null ? [] : FreeText(before).ToDictionary(f => f.Setting, f => f.Value);
        foreach (var (setting, value) in FreeText(s))
        {
            // a value kept from before the change is not checked again (earlier versions stored such text)
            if (TextRules.HasUnsafe(value) && !(kept.TryGetValue(setting, out var had) && had == value))
            {
                throw Invalid(setting, Shorten(value!), "it contains control or invisible formatting characters (a line break, an escape sequence); Apple shows it on the device as it is.");
            }
        }

        if (s.Description is { Length: > MaxDescriptionLength })
        {
            throw Invalid("Description", Shorten(s.Description), $"at most {MaxDescriptionLength} characters.");
        }

        var platform = s.Platform ?? DevicePlatform.iOS;
        if (!Enum.IsDefined(platform))
        {
            throw Invalid("Platform", platform.ToString(), $"use one of {string.Join(", ", Enum.GetNames<DevicePlatform>())}.");
        }

        CheckNotOnPlatform(s, platform);

        if (s.UserAffinity is null)
        {
            throw Invalid("UserAffinity", null, "choose WithUserAffinity or WithoutUserAffinity (kiosk, point of sale, shared devices).");
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
            if (s.CompanyPortalVppToken.Length > MaxVppTokenNameLength)
            {
                throw Invalid("CompanyPortalVppToken", s.CompanyPortalVppToken, $"it is the name of a VPP token as Intune lists it, at most {MaxVppTokenNameLength} characters (not the token file's content).");
            }

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
            warnings.Add("Supervised is off, but iOS/iPadOS 13 and later devices enrolled through ADE are supervised regardless."
                + (s.AwaitFinalConfiguration != false ? " Older devices it leaves unsupervised ignore AwaitFinalConfiguration: they do not wait in Setup Assistant." : ""));
        }

        if (platform == DevicePlatform.iOS && s.LockedEnrollment == true && s.Supervised != true)
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

            warnings.Add("Shared iPad applies to iPads with iPadOS 13.4 or later only (older iPads enroll as single-user devices); iPhones and iPods are never given a Shared iPad profile.");
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
                CheckCertificate(certificate, "ConfiguratorCertificate", "not an X.509 certificate (give the .cer file Apple Configurator exports, DER or PEM).");
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
            var outdated = new List<string>();
            foreach (var screen in screens)
            {
                var row = SetupScreens.Of(screen);
                var support = row.On(platform)
                    ?? throw Invalid("HiddenScreen", screen.ToString(), $"the {row.Pane} pane does not exist on {platform} (it is a pane of {string.Join(", ", row.Platforms)}); Get-AdeSetupScreen -Platform {platform} lists the panes of {platform}.");
                if (support.Deprecated is not null || support.Removed is not null)
                {
                    outdated.Add($"{screen} ({(support.Removed is { } removed ? $"removed in {platform} {removed}" : $"deprecated in {platform} {support.Deprecated}")})");
                }
            }

            if (platform == DevicePlatform.iOS && (screens.Contains(SetupScreen.Passcode) || screens.Contains(SetupScreen.TouchIdFaceId)))
            {
                warnings.Add("Hiding the Passcode or Touch ID/Face ID pane does not work on iOS/iPadOS 14.5 and later: those panes are shown anyway.");
            }

            if (outdated.Count > 0)
            {
                warnings.Add($"Apple no longer uses these skip keys on newer versions, so the pane setting has no effect there: {string.Join(", ", outdated)}.");
            }
        }

        if (s.AdditionalSkipKeys is { Count: > MaxAdditionalSkipKeys } many)
        {
            throw Invalid("AdditionalSkipKey", $"{Counted.N(many.Count)} keys", $"give at most {MaxAdditionalSkipKeys} keys (Setup Assistant has fewer panes than that); use -HiddenScreen for the panes this module knows.");
        }

        foreach (var key in s.AdditionalSkipKeys ?? [])
        {
            if (!SkipKeyShape.IsMatch(key))
            {
                throw Invalid("AdditionalSkipKey", Shorten(key), "a skip key is a letter followed by up to 63 letters and digits, as Apple writes them (for example 'Wallpaper').");
            }

            if (SetupScreens.ByAppleKey(key) is { } known)
            {
                if (known.On(platform) is null)
                {
                    throw Invalid("AdditionalSkipKey", key, $"Apple's key {key} ({known.Pane}) does not exist on {platform} (it is a key of {string.Join(", ", known.Platforms)}).");
                }

                warnings.Add($"AdditionalSkipKey {key} is the {known.Pane} pane: -HiddenScreen {known.Screen} says the same.");
            }
            else
            {
                warnings.Add($"'{key}' is not a skip key this module knows for {platform}: it is sent to Apple as given (Apple's keys are case-sensitive), and a device that does not know it shows the pane.");
            }
        }

        if (s.SupportEmail is { Length: > MaxSupportEmailLength } tooLong)
        {
            throw Invalid("SupportEmail", Shorten(tooLong), $"at most {MaxSupportEmailLength} characters (Apple's limit).");
        }

        if (s.SupportEmail is { } email
            && (!System.Net.Mail.MailAddress.TryCreate(email, out var address) || address.Address != email || address.DisplayName.Length > 0 || !address.Host.Contains('.')))
        {
            throw Invalid("SupportEmail", Shorten(email), "one e-mail address such as it-help@contoso.com (no display name).");
        }

        foreach (var certificate in s.AnchorCertificates ?? [])
        {
            CheckCertificate(certificate, "AnchorCertificate", "not an X.509 certificate (give a .cer/.crt file, DER or PEM, or an X509Certificate2).");
        }

        // A code kept from before is not checked against the lists again: a profile stored by an earlier version, which
        // checked only the shape, can still be changed in other settings.
        if (s.Language is { } language && language != before?.Language && IsoCodes.LanguageName(language) is null)
        {
            throw Invalid("Language", language, "an ISO 639 language code: two letters (ISO 639-1, such as 'en') or three (ISO 639-2, such as 'deu')"
                + (IsoCodes.LanguageHint(language) is { } meant ? $"; perhaps {meant}." : "; Tab after -Language lists them."));
        }

        if (s.Region is { } region && region != before?.Region && IsoCodes.RegionName(region) is null)
        {
            throw Invalid("Region", region, "an ISO 3166-1 alpha-2 region code: two letters, such as 'US' or 'DE'"
                + (IsoCodes.RegionHint(region) is { } meant ? $"; perhaps {meant}." : "; Tab after -Region lists them."));
        }

        return warnings;
    }

    /// <summary>Which platforms each setting exists on (settings not listed exist on every platform).</summary>
    private static readonly (string Setting, Func<ProfileSettings, object?> Value, DevicePlatform[] Platforms)[] PlatformSettings =
    [
        ("InstallCompanyPortal", s => s.InstallCompanyPortal, [DevicePlatform.iOS]),
        ("CompanyPortalVppToken", s => s.CompanyPortalVppToken, [DevicePlatform.iOS]),
        ("RunCompanyPortalInSingleAppMode", s => s.RunCompanyPortalInSingleAppMode, [DevicePlatform.iOS]),
        ("Supervised", s => s.Supervised, [DevicePlatform.iOS]),
        ("SharedIPad", s => s.SharedIPad, [DevicePlatform.iOS]),
        ("MaximumCachedUsers", s => s.MaximumCachedUsers, [DevicePlatform.iOS]),
        ("PasscodeLockGracePeriodSeconds", s => s.PasscodeLockGracePeriodSeconds, [DevicePlatform.iOS]),
        ("UserSessionTimeoutSeconds", s => s.UserSessionTimeoutSeconds, [DevicePlatform.iOS]),
        ("RequireTemporarySession", s => s.RequireTemporarySession, [DevicePlatform.iOS]),
        ("TemporarySessionTimeoutSeconds", s => s.TemporarySessionTimeoutSeconds, [DevicePlatform.iOS]),
        ("SyncWithComputers", s => s.SyncWithComputers, [DevicePlatform.iOS]),
        ("ConfiguratorCertificate", s => s.ConfiguratorCertificates, [DevicePlatform.iOS]),
        ("DeviceNameTemplate", s => s.DeviceNameTemplate, [DevicePlatform.iOS]),
        ("CellularDataPlanUrl", s => s.CellularDataPlanUrl, [DevicePlatform.iOS]),
        ("DoNotUseProfileFromBackup", s => s.DoNotUseProfileFromBackup, [DevicePlatform.iOS, DevicePlatform.visionOS]),
        ("ReturnToService", s => s.ReturnToService, [DevicePlatform.iOS, DevicePlatform.visionOS]),
        ("Language", s => s.Language, [DevicePlatform.tvOS, DevicePlatform.macOS]),
        ("Region", s => s.Region, [DevicePlatform.tvOS, DevicePlatform.macOS]),
        ("AutoAdvanceSetup", s => s.AutoAdvanceSetup, [DevicePlatform.tvOS, DevicePlatform.macOS]),
    ];

    /// <summary>A setting that does not exist on the profile's platform is refused, naming setting and platform.</summary>
    private static void CheckNotOnPlatform(ProfileSettings s, DevicePlatform platform)
    {
        foreach (var (setting, value, platforms) in PlatformSettings)
        {
            if (value(s) is { } given && !platforms.Contains(platform))
            {
                throw Invalid(setting, Display(given), $"{setting} does not exist on {platform} profiles (it is a setting of {string.Join(", ", platforms)} profiles).");
            }
        }

        if (platform == DevicePlatform.tvOS && s.UserAffinity == UserAffinity.WithUserAffinity)
        {
            // Apple TV has no user to sign in at Setup Assistant: Intune enrolls it without user affinity only, and a
            // web-view authentication URL sent in its profile would leave the device at a sign-in it cannot show.
            throw Invalid("UserAffinity", nameof(UserAffinity.WithUserAffinity), "tvOS profiles enroll WithoutUserAffinity only: an Apple TV has no user to sign in.");
        }

        if (platform != DevicePlatform.iOS && s.AuthenticationMethod is { } method && method != AuthenticationMethod.SetupAssistantModern)
        {
            throw Invalid("AuthenticationMethod", method.ToString(), $"{platform} profiles authenticate with Setup Assistant's web view only (SetupAssistantModern); Company Portal and legacy authentication are iOS/iPadOS methods.");
        }
    }

    /// <summary>Whether a setting can be given on a platform (completion, docs).</summary>
    public static bool ExistsOn(string setting, DevicePlatform platform)
    {
        foreach (var entry in PlatformSettings)
        {
            if (entry.Setting == setting)
            {
                return entry.Platforms.Contains(platform);
            }
        }

        return true;
    }

    private static string Display(object value) => value is System.Collections.IEnumerable list and not string ? $"{list.Cast<object>().Count()} value(s)" : value.ToString()!;

    private static readonly Regex SkipKeyShape = new("^[A-Za-z][A-Za-z0-9]{0,63}$", RegexOptions.CultureInvariant);

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

    private static void CheckCertificate(string base64, string setting, string rule)
    {
        try
        {
            using var _ = X509CertificateLoader.LoadCertificate(Convert.FromBase64String(base64));
        }
        catch (Exception ex) when (ex is FormatException or System.Security.Cryptography.CryptographicException)
        {
            throw Invalid(setting, Shorten(base64), rule);
        }
    }

    /// <summary>The longest VPP token name taken (Intune's names are short; a longer value is a pasted token file).</summary>
    internal const int MaxVppTokenNameLength = 256;

    /// <summary>The most Setup Assistant keys given by their Apple name beside -HiddenScreen.</summary>
    internal const int MaxAdditionalSkipKeys = 100;

    private static string Shorten(string s) => s.Length > 40 ? s[..40] + "…" : s;

    internal static AdeException Invalid(string setting, string? value, string rule) => ErrorCatalog.ProfileSettingInvalid(setting, value, rule);
}

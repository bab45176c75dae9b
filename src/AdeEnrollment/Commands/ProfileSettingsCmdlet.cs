using System.Management.Automation;
using System.Security.Cryptography.X509Certificates;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Files;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Host;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Commands;

/// <summary>
/// The profile settings shared by New-AdeProfile and Set-AdeProfile. A parameter that is not given stays null, so
/// Set-AdeProfile changes only what it is told; defaults and every rule live in the engine (ProfileRules).
/// </summary>
public abstract class ProfileSettingsCmdlet : AdeCmdlet
{
    [Parameter]
    [AllowEmptyString]
    public string? Description { get; set; }

    [Parameter]
    public AuthenticationMethod AuthenticationMethod { get; set; }

    /// <summary>Kept for old scripts (Company Portal is installed by default with user affinity): use -NoCompanyPortal.</summary>
    [Parameter]
    public SwitchParameter InstallCompanyPortal { get; set; }

    /// <summary>Do not install Company Portal (it is installed by default on profiles with user affinity).</summary>
    [Parameter]
    public SwitchParameter NoCompanyPortal { get; set; }

    [Parameter]
    [AllowEmptyString]
    public string? CompanyPortalVppToken { get; set; }

    [Parameter]
    public SwitchParameter RunCompanyPortalInSingleAppMode { get; set; }

    /// <summary>Kept for old scripts (profiles are supervised by default): use -Unsupervised to turn supervision off.</summary>
    [Parameter]
    public SwitchParameter Supervised { get; set; }

    /// <summary>The profile does not ask for supervision (iOS/iPadOS 13+ devices are supervised regardless).</summary>
    [Parameter]
    public SwitchParameter Unsupervised { get; set; }

    [Parameter]
    public SwitchParameter LockedEnrollment { get; set; }

    [Parameter]
    public SwitchParameter SharedIPad { get; set; }

    [Parameter]
    public int MaximumCachedUsers { get; set; }

    [Parameter]
    public int PasscodeLockGracePeriodSeconds { get; set; }

    [Parameter]
    public int UserSessionTimeoutSeconds { get; set; }

    [Parameter]
    public SwitchParameter RequireTemporarySession { get; set; }

    [Parameter]
    public int TemporarySessionTimeoutSeconds { get; set; }

    [Parameter]
    public SyncWithComputers SyncWithComputers { get; set; }

    /// <summary>Paths of Apple Configurator certificates (.cer, DER or PEM).</summary>
    [Parameter]
    [ValidateNotNull]
    public string[]? ConfiguratorCertificate { get; set; }

    [Parameter]
    [AllowEmptyString]
    public string? DeviceNameTemplate { get; set; }

    [Parameter]
    [AllowEmptyString]
    public string? CellularDataPlanUrl { get; set; }

    [Parameter]
    [AllowEmptyString]
    public string? Department { get; set; }

    [Parameter]
    [AllowEmptyString]
    public string? DepartmentPhone { get; set; }

    [Parameter]
    [AllowEmptyCollection]
    [ArgumentCompleter(typeof(SetupScreenCompleter))]
    [ValidateNotNull]
    public string[]? HiddenScreen { get; set; } // names, not the enum: PowerShell completes enum parameters by type, never by platform

    /// <summary>Skip keys Apple added after this module's pane table, sent to Apple as given.</summary>
    [Parameter]
    [AllowEmptyCollection]
    [ValidateNotNull]
    public string[]? AdditionalSkipKey { get; set; }

    /// <summary>Devices wait in Setup Assistant until the MDM sends DeviceConfigured (default $true for new profiles).</summary>
    [Parameter]
    public bool AwaitFinalConfiguration { get; set; }

    [Parameter]
    [AllowEmptyString]
    public string? SupportEmail { get; set; }

    /// <summary>Trust anchors for the enrollment URL: certificate files (.cer/.crt, DER or PEM) or X509Certificate2 objects.</summary>
    [Parameter]
    [ValidateNotNull]
    public object[]? AnchorCertificate { get; set; }

    [Parameter]
    public SwitchParameter DoNotUseProfileFromBackup { get; set; }

    [Parameter]
    public SwitchParameter ReturnToService { get; set; }

    [Parameter]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(LocaleCodeCompleter))]
    public string? Language { get; set; }

    [Parameter]
    [AllowEmptyString]
    [ArgumentCompleter(typeof(LocaleCodeCompleter))]
    public string? Region { get; set; }

    [Parameter]
    public SwitchParameter AutoAdvanceSetup { get; set; }

    /// <summary>The platform given to this command (New-AdeProfile only).</summary>
    protected virtual DevicePlatform? GivenPlatform => null;

    /// <summary>The user affinity given to this command (its parameter is declared by each cmdlet).</summary>
    protected abstract UserAffinity? GivenUserAffinity { get; }

    /// <summary>The settings given on the command line; parameters not given are null.</summary>
    protected ProfileSettings GivenSettings()
    {
        var bound = MyInvocation.BoundParameters;
        T? Get<T>(string name, T value) where T : struct => bound.ContainsKey(name) ? value : null;
        if (bound.ContainsKey(nameof(Supervised)))
        {
            WriteWarning(Supervised.IsPresent
                ? "-Supervised is the default and no longer needed; to turn supervision off use -Unsupervised."
                : "-Supervised:$false is kept for old scripts; use -Unsupervised.");
        }

        if (bound.ContainsKey(nameof(InstallCompanyPortal)))
        {
            WriteWarning(InstallCompanyPortal.IsPresent
                ? "-InstallCompanyPortal is the default with user affinity and no longer needed; to leave Company Portal out use -NoCompanyPortal."
                : "-InstallCompanyPortal:$false is kept for old scripts; use -NoCompanyPortal.");
        }

        bool? supervised = bound.ContainsKey(nameof(Unsupervised)) ? !Unsupervised.IsPresent : Get(nameof(Supervised), Supervised.IsPresent);
        bool? companyPortal = bound.ContainsKey(nameof(NoCompanyPortal)) ? !NoCompanyPortal.IsPresent : Get(nameof(InstallCompanyPortal), InstallCompanyPortal.IsPresent);
        if (supervised is not null && bound.ContainsKey(nameof(Unsupervised)) && bound.ContainsKey(nameof(Supervised)) && supervised != Supervised.IsPresent)
        {
            throw ErrorCatalog.ProfileSettingInvalid("Unsupervised", "True", "-Supervised and -Unsupervised contradict each other: give one.");
        }

        if (companyPortal is not null && bound.ContainsKey(nameof(NoCompanyPortal)) && bound.ContainsKey(nameof(InstallCompanyPortal)) && companyPortal != InstallCompanyPortal.IsPresent)
        {
            throw ErrorCatalog.ProfileSettingInvalid("NoCompanyPortal", "True", "-InstallCompanyPortal and -NoCompanyPortal contradict each other: give one.");
        }

        return new ProfileSettings
        {
            Platform = GivenPlatform,
            Description = Description,
            UserAffinity = GivenUserAffinity,
            AuthenticationMethod = Get(nameof(AuthenticationMethod), AuthenticationMethod),
            InstallCompanyPortal = companyPortal,
            CompanyPortalVppToken = CompanyPortalVppToken,
            RunCompanyPortalInSingleAppMode = Get(nameof(RunCompanyPortalInSingleAppMode), RunCompanyPortalInSingleAppMode.IsPresent),
            Supervised = supervised,
            LockedEnrollment = Get(nameof(LockedEnrollment), LockedEnrollment.IsPresent),
            SharedIPad = Get(nameof(SharedIPad), SharedIPad.IsPresent),
            MaximumCachedUsers = Get(nameof(MaximumCachedUsers), MaximumCachedUsers),
            PasscodeLockGracePeriodSeconds = Get(nameof(PasscodeLockGracePeriodSeconds), PasscodeLockGracePeriodSeconds),
            UserSessionTimeoutSeconds = Get(nameof(UserSessionTimeoutSeconds), UserSessionTimeoutSeconds),
            RequireTemporarySession = Get(nameof(RequireTemporarySession), RequireTemporarySession.IsPresent),
            TemporarySessionTimeoutSeconds = Get(nameof(TemporarySessionTimeoutSeconds), TemporarySessionTimeoutSeconds),
            SyncWithComputers = Get(nameof(SyncWithComputers), SyncWithComputers),
            ConfiguratorCertificates = ConfiguratorCertificate?.SelectMany(ReadCertificates).ToList(),
            DeviceNameTemplate = DeviceNameTemplate,
            CellularDataPlanUrl = CellularDataPlanUrl,
            Department = Department,
            DepartmentPhone = DepartmentPhone,
            HiddenScreens = HiddenScreen?.Select(SetupScreens.Parse).ToList(),
            AdditionalSkipKeys = AdditionalSkipKey,
            AwaitFinalConfiguration = Get(nameof(AwaitFinalConfiguration), AwaitFinalConfiguration),
            SupportEmail = SupportEmail,
            AnchorCertificates = AnchorCertificate?.SelectMany(ReadAnchors).ToList(),
            DoNotUseProfileFromBackup = Get(nameof(DoNotUseProfileFromBackup), DoNotUseProfileFromBackup.IsPresent),
            ReturnToService = Get(nameof(ReturnToService), ReturnToService.IsPresent),
            Language = Language,
            Region = Region,
            AutoAdvanceSetup = Get(nameof(AutoAdvanceSetup), AutoAdvanceSetup.IsPresent),
        };
    }

    /// <summary>
    /// Anchor certificates given as a file path (DER, or PEM with one certificate or a chain of several) or an
    /// X509Certificate2 object, as base64 DER.
    /// </summary>
    private IReadOnlyList<string> ReadAnchors(object value)
    {
        var item = value is PSObject ps ? ps.BaseObject : value;
        if (item is X509Certificate2 certificate)
        {
            return [Convert.ToBase64String(certificate.RawData)];
        }

        var path = item is FileInfo file ? file.FullName : item?.ToString() ?? "";
        return CertificateFile.ReadAllAsBase64Der("AnchorCertificate", ResolvePath(path), path);
    }

    private IReadOnlyList<string> ReadCertificates(string path) => CertificateFile.ReadAllAsBase64Der("ConfiguratorCertificate", ResolvePath(path), path);
}

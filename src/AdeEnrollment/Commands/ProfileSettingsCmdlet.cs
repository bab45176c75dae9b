using System.Management.Automation;
using AdeEnrollment.Engine.Files;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>
/// The SPEC §4 settings shared by New-AdeProfile and Set-AdeProfile. A parameter that is not given stays null, so
/// Set-AdeProfile changes only what it is told; defaults and every rule live in the engine (ProfileRules).
/// </summary>
public abstract class ProfileSettingsCmdlet : AdeCmdlet
{
    [Parameter]
    [AllowEmptyString]
    public string? Description { get; set; }

    [Parameter]
    public AuthenticationMethod AuthenticationMethod { get; set; }

    [Parameter]
    public SwitchParameter InstallCompanyPortal { get; set; }

    [Parameter]
    [AllowEmptyString]
    public string? CompanyPortalVppToken { get; set; }

    [Parameter]
    public SwitchParameter RunCompanyPortalInSingleAppMode { get; set; }

    [Parameter]
    public SwitchParameter Supervised { get; set; }

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
    public SetupScreen[]? HiddenScreen { get; set; }

    /// <summary>The user affinity given to this command (its parameter is declared by each cmdlet).</summary>
    protected abstract UserAffinity? GivenUserAffinity { get; }

    /// <summary>The settings given on the command line; parameters not given are null.</summary>
    protected ProfileSettings GivenSettings()
    {
        var bound = MyInvocation.BoundParameters;
        T? Get<T>(string name, T value) where T : struct => bound.ContainsKey(name) ? value : null;
        return new ProfileSettings
        {
            Description = Description,
            UserAffinity = GivenUserAffinity,
            AuthenticationMethod = Get(nameof(AuthenticationMethod), AuthenticationMethod),
            InstallCompanyPortal = Get(nameof(InstallCompanyPortal), InstallCompanyPortal.IsPresent),
            CompanyPortalVppToken = CompanyPortalVppToken,
            RunCompanyPortalInSingleAppMode = Get(nameof(RunCompanyPortalInSingleAppMode), RunCompanyPortalInSingleAppMode.IsPresent),
            Supervised = Get(nameof(Supervised), Supervised.IsPresent),
            LockedEnrollment = Get(nameof(LockedEnrollment), LockedEnrollment.IsPresent),
            SharedIPad = Get(nameof(SharedIPad), SharedIPad.IsPresent),
            MaximumCachedUsers = Get(nameof(MaximumCachedUsers), MaximumCachedUsers),
            PasscodeLockGracePeriodSeconds = Get(nameof(PasscodeLockGracePeriodSeconds), PasscodeLockGracePeriodSeconds),
            UserSessionTimeoutSeconds = Get(nameof(UserSessionTimeoutSeconds), UserSessionTimeoutSeconds),
            RequireTemporarySession = Get(nameof(RequireTemporarySession), RequireTemporarySession.IsPresent),
            TemporarySessionTimeoutSeconds = Get(nameof(TemporarySessionTimeoutSeconds), TemporarySessionTimeoutSeconds),
            SyncWithComputers = Get(nameof(SyncWithComputers), SyncWithComputers),
            ConfiguratorCertificates = ConfiguratorCertificate?.Select(ReadCertificate).ToList(),
            DeviceNameTemplate = DeviceNameTemplate,
            CellularDataPlanUrl = CellularDataPlanUrl,
            Department = Department,
            DepartmentPhone = DepartmentPhone,
            HiddenScreens = HiddenScreen,
        };
    }

    private string ReadCertificate(string path) => CertificateFile.ReadAsBase64Der("ConfiguratorCertificate", ResolvePath(path), path);
}

using System.Text.Json;
using System.Text.Json.Serialization;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Model;

/// <summary>
/// The settings of an enrollment profile (about_AdeEnrollment.md, "Enrollment profiles"). As input to New-/Set-AdeProfile a null property means
/// "not given"; a stored profile has every default applied (<see cref="ProfileRules.Normalise"/>).
/// </summary>
public sealed record ProfileSettings
{
    /// <summary>The platform the profile is for (null in files and stores written before platforms: iOS). Fixed after creation.</summary>
    [JsonConverter(typeof(NamedEnumConverter<DevicePlatform>))]
    public DevicePlatform? Platform { get; init; }

    public string? Description { get; init; }

    [JsonConverter(typeof(NamedEnumConverter<UserAffinity>))]
    public UserAffinity? UserAffinity { get; init; }

    [JsonConverter(typeof(NamedEnumConverter<AuthenticationMethod>))]
    public AuthenticationMethod? AuthenticationMethod { get; init; }

    public bool? InstallCompanyPortal { get; init; }

    public string? CompanyPortalVppToken { get; init; }

    public bool? RunCompanyPortalInSingleAppMode { get; init; }

    public bool? Supervised { get; init; }

    public bool? LockedEnrollment { get; init; }

    public bool? SharedIPad { get; init; }

    public int? MaximumCachedUsers { get; init; }

    public int? PasscodeLockGracePeriodSeconds { get; init; }

    public int? UserSessionTimeoutSeconds { get; init; }

    public bool? RequireTemporarySession { get; init; }

    public int? TemporarySessionTimeoutSeconds { get; init; }

    [JsonConverter(typeof(NamedEnumConverter<SyncWithComputers>))]
    public SyncWithComputers? SyncWithComputers { get; init; }

    /// <summary>Apple Configurator certificates (base64 DER) for SyncWithComputers = AllowByCertificate.</summary>
    public IReadOnlyList<string>? ConfiguratorCertificates { get; init; }

    public string? DeviceNameTemplate { get; init; }

    public string? CellularDataPlanUrl { get; init; }

    public string? Department { get; init; }

    public string? DepartmentPhone { get; init; }

    [JsonConverter(typeof(SetupScreenListConverter))]
    public IReadOnlyList<SetupScreen>? HiddenScreens { get; init; }

    /// <summary>Skip keys Apple added after this module's table, sent as given (validated shape).</summary>
    public IReadOnlyList<string>? AdditionalSkipKeys { get; init; }

    /// <summary>Apple's <c>await_device_configured</c>: the device waits in Setup Assistant for the MDM's DeviceConfigured.</summary>
    public bool? AwaitFinalConfiguration { get; init; }

    /// <summary>Apple's <c>support_email_address</c>.</summary>
    public string? SupportEmail { get; init; }

    /// <summary>Apple's <c>anchor_certs</c> (base64 DER): trust anchors for the enrollment URL.</summary>
    public IReadOnlyList<string>? AnchorCertificates { get; init; }

    /// <summary>Apple's <c>do_not_use_profile_from_backup</c> (iOS/visionOS 26+).</summary>
    public bool? DoNotUseProfileFromBackup { get; init; }

    /// <summary>Apple's <c>is_return_to_service</c> (iOS/visionOS 26+).</summary>
    public bool? ReturnToService { get; init; }

    /// <summary>Apple's <c>language</c> (ISO 639; tvOS, macOS 11+).</summary>
    public string? Language { get; init; }

    /// <summary>Apple's <c>region</c> (ISO 3166-1 alpha-2; tvOS, macOS 11+).</summary>
    public string? Region { get; init; }

    /// <summary>Apple's <c>auto_advance_setup</c> (tvOS, macOS 11+).</summary>
    public bool? AutoAdvanceSetup { get; init; }

    /// <summary>The settings of <paramref name="current"/> with every property given in <paramref name="patch"/> replacing it.</summary>
    /// <remarks>
    /// A change that makes other settings meaningless clears them unless the patch gives them too (a number cannot be
    /// "cleared" otherwise): leaving user affinity drops the authentication method and Company Portal settings
    /// (entering it brings their defaults back), turning Shared iPad off drops the Shared iPad settings, turning
    /// temporary sessions off drops their timeout, leaving AllowByCertificate drops the Configurator certificates.
    /// </remarks>
    public static ProfileSettings Merge(ProfileSettings current, ProfileSettings patch)
    {
        var affinityChanged = patch.UserAffinity is not null && patch.UserAffinity != current.UserAffinity;
        var notShared = patch.SharedIPad == false;
        var noTemporarySession = notShared || patch.RequireTemporarySession == false;
        var noCertificates = patch.SyncWithComputers is { } sync && sync != Model.SyncWithComputers.AllowByCertificate;
        static T? Keep<T>(T? given, T? old, bool drop) where T : struct => given ?? (drop ? null : old);
        static TRef? KeepRef<TRef>(TRef? given, TRef? old, bool drop) where TRef : class => given ?? (drop ? null : old);
        return new()
        {
            Platform = current.Platform,
            Description = patch.Description ?? current.Description,
            UserAffinity = patch.UserAffinity ?? current.UserAffinity,
            AuthenticationMethod = Keep(patch.AuthenticationMethod, current.AuthenticationMethod, affinityChanged),
            InstallCompanyPortal = Keep(patch.InstallCompanyPortal, current.InstallCompanyPortal, affinityChanged),
            CompanyPortalVppToken = KeepRef(patch.CompanyPortalVppToken, current.CompanyPortalVppToken, affinityChanged),
            RunCompanyPortalInSingleAppMode = Keep(patch.RunCompanyPortalInSingleAppMode, current.RunCompanyPortalInSingleAppMode, affinityChanged),
            Supervised = patch.Supervised ?? current.Supervised,
            LockedEnrollment = patch.LockedEnrollment ?? current.LockedEnrollment,
            SharedIPad = patch.SharedIPad ?? current.SharedIPad,
            MaximumCachedUsers = Keep(patch.MaximumCachedUsers, current.MaximumCachedUsers, notShared),
            PasscodeLockGracePeriodSeconds = Keep(patch.PasscodeLockGracePeriodSeconds, current.PasscodeLockGracePeriodSeconds, notShared),
            UserSessionTimeoutSeconds = Keep(patch.UserSessionTimeoutSeconds, current.UserSessionTimeoutSeconds, notShared),
            RequireTemporarySession = Keep(patch.RequireTemporarySession, current.RequireTemporarySession, notShared),
            TemporarySessionTimeoutSeconds = Keep(patch.TemporarySessionTimeoutSeconds, current.TemporarySessionTimeoutSeconds, noTemporarySession),
            SyncWithComputers = patch.SyncWithComputers ?? current.SyncWithComputers,
            ConfiguratorCertificates = KeepRef(patch.ConfiguratorCertificates, current.ConfiguratorCertificates, noCertificates),
            DeviceNameTemplate = patch.DeviceNameTemplate ?? current.DeviceNameTemplate,
            CellularDataPlanUrl = patch.CellularDataPlanUrl ?? current.CellularDataPlanUrl,
            Department = patch.Department ?? current.Department,
            DepartmentPhone = patch.DepartmentPhone ?? current.DepartmentPhone,
            HiddenScreens = patch.HiddenScreens ?? current.HiddenScreens,
            AdditionalSkipKeys = patch.AdditionalSkipKeys ?? current.AdditionalSkipKeys,
            AwaitFinalConfiguration = patch.AwaitFinalConfiguration ?? current.AwaitFinalConfiguration,
            SupportEmail = patch.SupportEmail ?? current.SupportEmail,
            AnchorCertificates = patch.AnchorCertificates ?? current.AnchorCertificates,
            DoNotUseProfileFromBackup = patch.DoNotUseProfileFromBackup ?? current.DoNotUseProfileFromBackup,
            ReturnToService = patch.ReturnToService ?? current.ReturnToService,
            Language = patch.Language ?? current.Language,
            Region = patch.Region ?? current.Region,
            AutoAdvanceSetup = patch.AutoAdvanceSetup ?? current.AutoAdvanceSetup,
        };
    }

    /// <summary>
    /// The settings a Set-AdeProfile patch changes without naming them (leaving user affinity clears the authentication
    /// method and the Company Portal settings, turning Shared iPad off clears its settings …), as "Name (was value)".
    /// </summary>
    public static IReadOnlyList<string> ChangedAsSideEffect(ProfileSettings before, ProfileSettings patch, ProfileSettings after)
    {
        var list = new List<string>();
        foreach (var property in typeof(ProfileSettings).GetProperties())
        {
            if (property.GetIndexParameters().Length > 0 || property.Name == "EqualityContract" || property.GetValue(patch) is not null)
            {
                continue;
            }

            var old = Display(property.GetValue(before));
            if (old is null || old == Display(property.GetValue(after)))
            {
                continue;
            }

            // A VPP token name and certificates are named, not shown.
            list.Add(property.Name is nameof(CompanyPortalVppToken) or nameof(ConfiguratorCertificates) or nameof(AnchorCertificates) ? property.Name : $"{property.Name} (was {old})");
        }

        return list;
    }

    private static string? Display(object? value) => value switch
    {
        null => null,
        System.Collections.IEnumerable items and not string => items.Cast<object>().Any() ? string.Join(", ", items.Cast<object>()) : null,
        _ => value.ToString(),
    };

    /// <summary>True when nothing but the device name template differs (applies without a reset).</summary>
    public static bool OnlyDeviceNameDiffers(ProfileSettings a, ProfileSettings b)
        => a with { DeviceNameTemplate = null, Description = null } == b with { DeviceNameTemplate = null, Description = null };

    public bool Equals(ProfileSettings? other)
    {
        if (other is null)
        {
            return false;
        }

        return Description == other.Description && UserAffinity == other.UserAffinity && AuthenticationMethod == other.AuthenticationMethod
               && InstallCompanyPortal == other.InstallCompanyPortal && CompanyPortalVppToken == other.CompanyPortalVppToken
               && RunCompanyPortalInSingleAppMode == other.RunCompanyPortalInSingleAppMode && Supervised == other.Supervised
               && LockedEnrollment == other.LockedEnrollment && SharedIPad == other.SharedIPad && MaximumCachedUsers == other.MaximumCachedUsers
               && PasscodeLockGracePeriodSeconds == other.PasscodeLockGracePeriodSeconds && UserSessionTimeoutSeconds == other.UserSessionTimeoutSeconds
               && RequireTemporarySession == other.RequireTemporarySession && TemporarySessionTimeoutSeconds == other.TemporarySessionTimeoutSeconds
               && SyncWithComputers == other.SyncWithComputers && SequenceEqual(ConfiguratorCertificates, other.ConfiguratorCertificates)
               && DeviceNameTemplate == other.DeviceNameTemplate && CellularDataPlanUrl == other.CellularDataPlanUrl
               && Department == other.Department && DepartmentPhone == other.DepartmentPhone && SequenceEqual(HiddenScreens, other.HiddenScreens)
               && (Platform ?? DevicePlatform.iOS) == (other.Platform ?? DevicePlatform.iOS) && SequenceEqual(AdditionalSkipKeys, other.AdditionalSkipKeys)
               && AwaitFinalConfiguration == other.AwaitFinalConfiguration && SupportEmail == other.SupportEmail
               && SequenceEqual(AnchorCertificates, other.AnchorCertificates) && DoNotUseProfileFromBackup == other.DoNotUseProfileFromBackup
               && ReturnToService == other.ReturnToService && Language == other.Language && Region == other.Region
               && AutoAdvanceSetup == other.AutoAdvanceSetup;
    }

    public override int GetHashCode() => HashCode.Combine(UserAffinity, AuthenticationMethod, SharedIPad, DeviceNameTemplate, Department);

    private static bool SequenceEqual<T>(IReadOnlyList<T>? a, IReadOnlyList<T>? b)
        => (a is null || a.Count == 0) ? (b is null || b.Count == 0) : b is not null && a.SequenceEqual(b);
}

/// <summary>HiddenScreens as names in JSON (profiles as code stay readable).</summary>
internal sealed class SetupScreenListConverter : System.Text.Json.Serialization.JsonConverter<IReadOnlyList<SetupScreen>>
{
    public override IReadOnlyList<SetupScreen>? Read(ref System.Text.Json.Utf8JsonReader reader, Type typeToConvert, System.Text.Json.JsonSerializerOptions options)
    {
        if (reader.TokenType == System.Text.Json.JsonTokenType.Null)
        {
            return null;
        }

        var list = new List<SetupScreen>();
        if (reader.TokenType != System.Text.Json.JsonTokenType.StartArray)
        {
            throw new System.Text.Json.JsonException("HiddenScreens must be an array of pane names.");
        }

        while (reader.Read() && reader.TokenType != System.Text.Json.JsonTokenType.EndArray)
        {
            var name = reader.GetString();
            if (!SetupScreenName.TryParse(name, out var screen))
            {
                throw new System.Text.Json.JsonException(name?.Contains(',') == true
                    ? $"'{name}' is several panes in one text: give one pane per item of HiddenScreens."
                    : $"'{name}' is not a Setup Assistant pane. Valid panes: {string.Join(", ", Enum.GetNames<SetupScreen>())}.");
            }

            list.Add(screen);
        }

        return list;
    }

    public override void Write(System.Text.Json.Utf8JsonWriter writer, IReadOnlyList<SetupScreen> value, System.Text.Json.JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var screen in value)
        {
            writer.WriteStringValue(screen.ToString());
        }

        writer.WriteEndArray();
    }
}

/// <summary>
/// An enum in a profile's JSON (a store row, an Import-AdeProfile file) by the name of one member only, in any case: a
/// number ("Platform": 1) or a list of names ("macOS, tvOS", which .NET reads as the members' combined value) is refused
/// as malformed rather than read as whichever member has that value. Written as the member's name.
/// </summary>
internal sealed class NamedEnumConverter<T> : JsonConverter<T>
    where T : struct, Enum
{
    public override T Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String && reader.GetString() is { } text)
        {
            foreach (var name in Enum.GetNames<T>())
            {
                if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase))
                {
                    return Enum.Parse<T>(name);
                }
            }
        }

        throw new JsonException(); // without a message of its own: the serializer's "could not be converted", with the member and where it is
    }

    public override void Write(Utf8JsonWriter writer, T value, JsonSerializerOptions options) => writer.WriteStringValue(value.ToString());
}

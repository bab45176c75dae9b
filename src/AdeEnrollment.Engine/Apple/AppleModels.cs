using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace AdeEnrollment.Engine.Apple;

// Apple's ADE web service objects (src/AdeEnrollment.Engine/Apple/README.md). Property names map to Apple's snake_case
// keys through AppleJsonContext. Strings that Apple extends over time (profile_status, op_type, os, …) stay strings.

/// <summary><c>GET /account</c> (AccountDetail).</summary>
internal sealed class AppleAccount
{
    public string? ServerName { get; set; }
    public string? ServerUuid { get; set; }
    public string? AdminId { get; set; }
    public string? FacilitatorId { get; set; }
    public string? OrgName { get; set; }
    public string? OrgEmail { get; set; }
    public string? OrgPhone { get; set; }
    public string? OrgAddress { get; set; }
    public string? OrgId { get; set; }
    public string? OrgIdHash { get; set; }
    public string? OrgType { get; set; }
    public string? OrgVersion { get; set; }
    public List<AppleUrl>? Urls { get; set; }
}

internal sealed class AppleUrl
{
    public string? Uri { get; set; }
    public List<string>? HttpMethod { get; set; }
    public AppleLimit? Limit { get; set; }
}

internal sealed class AppleLimit
{
    public int? Default { get; set; }
    public int? Maximum { get; set; }
}

/// <summary>A device as Apple describes it (fetch, sync and device details).</summary>
internal sealed class AppleDevice
{
    public string SerialNumber { get; set; } = "";
    public string? Model { get; set; }
    public string? Description { get; set; }
    public string? Color { get; set; }
    public string? AssetTag { get; set; }
    public string? ProfileStatus { get; set; }
    public string? ProfileUuid { get; set; }
    public DateTimeOffset? ProfileAssignTime { get; set; }
    public DateTimeOffset? ProfilePushTime { get; set; }
    public DateTimeOffset? DeviceAssignedDate { get; set; }
    public string? DeviceAssignedBy { get; set; }
    public string? Os { get; set; }
    public string? DeviceFamily { get; set; }
    public DateTimeOffset? MdmMigrationDeadline { get; set; }
    public bool? IsReplacementDevice { get; set; }

    /// <summary>Sync only: added, modified or deleted.</summary>
    public string? OpType { get; set; }

    /// <summary>Sync only: when the change happened; resolves duplicates of one serial within a sync.</summary>
    public DateTimeOffset? OpDate { get; set; }

    /// <summary>Device details only (SUCCESS, NOT_ACCESSIBLE…).</summary>
    public string? ResponseStatus { get; set; }
}

/// <summary>One page of <c>POST /server/devices</c> or <c>POST /devices/sync</c> (FetchDeviceResponse).</summary>
internal sealed class AppleDevicePage
{
    public string? Cursor { get; set; }
    public bool MoreToFollow { get; set; }
    public DateTimeOffset? FetchedUntil { get; set; }
    public List<AppleDevice> Devices { get; set; } = [];
}

/// <summary>An enrollment profile as Apple defines it (<c>POST /profile</c>, <c>GET /profile</c>).</summary>
internal sealed class AppleProfile
{
    public string? ProfileName { get; set; }
    public string? Url { get; set; }
    public string? ConfigurationWebUrl { get; set; }
    public bool? AllowPairing { get; set; }
    public bool? IsSupervised { get; set; }
    public bool? IsMandatory { get; set; }

    /// <summary>Always sent (Apple's default is true; false requires supervision).</summary>
    public bool IsMdmRemovable { get; set; } = true;
    public bool? IsMultiUser { get; set; }
    public bool? AwaitDeviceConfigured { get; set; }
    public bool? AutoAdvanceSetup { get; set; }
    public string? SupportPhoneNumber { get; set; }
    public string? SupportEmailAddress { get; set; }
    public string? Department { get; set; }
    public string? OrgMagic { get; set; }
    public List<string>? AnchorCerts { get; set; }
    public List<string>? SupervisingHostCerts { get; set; }
    public List<string>? SkipSetupItems { get; set; }
    public string? Language { get; set; }
    public string? Region { get; set; }
    public bool? DoNotUseProfileFromBackup { get; set; }
    public bool? IsReturnToService { get; set; }
    public List<string>? Devices { get; set; }

    /// <summary>Returned by <c>GET /profile</c>; never set on define.</summary>
    public string? ProfileUuid { get; set; }
}

/// <summary><c>POST /profile</c> answer.</summary>
internal sealed class AppleDefineProfileResponse
{
    public string ProfileUuid { get; set; } = "";
    public Dictionary<string, string>? Devices { get; set; }
}

/// <summary><c>POST/PUT /profile/devices</c> answer; THROTTLED and retry_after_seconds need protocol 9/10.</summary>
internal sealed class AppleAssignProfileResponse
{
    public string? ProfileUuid { get; set; }
    public Dictionary<string, string> Devices { get; set; } = [];
    public int? RetryAfterSeconds { get; set; }
}

/// <summary><c>DELETE /profile/devices</c> and <c>POST /devices/disown</c> answers.</summary>
internal sealed class AppleDeviceStatusResponse
{
    public Dictionary<string, string> Devices { get; set; } = [];

    /// <summary>
    /// Not Apple's: set by the client when this answer is to a request sent again after an attempt that may have
    /// reached Apple (a lost connection, a time-out or a server error after the request went out), so that Apple may
    /// already have carried out the request the answer is about.
    /// </summary>
    [JsonIgnore]
    public bool AfterPossiblyDeliveredAttempt { get; set; }
}

/// <summary><c>POST /devices</c> answer.</summary>
internal sealed class AppleDeviceDetailsResponse
{
    public Dictionary<string, AppleDevice> Devices { get; set; } = [];
}

internal sealed class AppleSessionResponse
{
    public string? AuthSessionToken { get; set; }
}

internal sealed class AppleFetchRequest
{
    public string? Cursor { get; set; }
    public int? Limit { get; set; }
}

internal sealed class AppleDeviceListRequest
{
    public List<string> Devices { get; set; } = [];
}

internal sealed class AppleAssignProfileRequest
{
    public string ProfileUuid { get; set; } = "";
    public List<string> Devices { get; set; } = [];
}

internal sealed class AppleRemoveProfileRequest
{
    public List<string> Devices { get; set; } = [];
    public string? ProfileUuid { get; set; }
}

/// <summary>Apple's per-device answers (assign, remove, disown, define).</summary>
internal static class AppleDeviceStatus
{
    public const string Success = "SUCCESS";
    public const string NotAccessible = "NOT_ACCESSIBLE";
    public const string Failed = "FAILED";
    public const string Throttled = "THROTTLED";
}

/// <summary>
/// Reads Apple's ISO 8601 times leniently (a zone written +0000, fractional seconds, or a date Apple leaves empty),
/// writes them as <c>yyyy-MM-ddTHH:mm:ssZ</c>.
/// </summary>
internal sealed class AppleDateTimeConverter : JsonConverter<DateTimeOffset?>
{
    public override DateTimeOffset? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.Null)
        {
            return null;
        }

        if (reader.TokenType != JsonTokenType.String)
        {
            throw new JsonException("A date was expected.");
        }

        if (reader.TryGetDateTimeOffset(out var value))
        {
            return value;
        }

        var text = reader.GetString();
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out value)
            || DateTimeOffset.TryParseExact(text, ["yyyy-MM-dd'T'HH:mm:ss.FFFFFFFzzz", "yyyy-MM-dd'T'HH:mm:sszzz", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK"],
                CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value))
        {
            return value;
        }

        var compactZone = System.Text.RegularExpressions.Regex.Replace(text, @"([+-]\d\d)(\d\d)$", "$1:$2");
        if (DateTimeOffset.TryParse(compactZone, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out value))
        {
            return value;
        }

        throw new JsonException($"'{text}' is not an ISO 8601 date and time.");
    }

    public override void Write(Utf8JsonWriter writer, DateTimeOffset? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value.Value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture));
        }
    }
}

/// <summary>Source-generated (reflection-free) JSON for every Apple object.</summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    Converters = [typeof(AppleDateTimeConverter)])]
[JsonSerializable(typeof(AppleAccount))]
[JsonSerializable(typeof(AppleDevicePage))]
[JsonSerializable(typeof(AppleProfile))]
[JsonSerializable(typeof(AppleDefineProfileResponse))]
[JsonSerializable(typeof(AppleAssignProfileResponse))]
[JsonSerializable(typeof(AppleDeviceStatusResponse))]
[JsonSerializable(typeof(AppleDeviceDetailsResponse))]
[JsonSerializable(typeof(AppleSessionResponse))]
[JsonSerializable(typeof(AppleFetchRequest))]
[JsonSerializable(typeof(AppleDeviceListRequest))]
[JsonSerializable(typeof(AppleAssignProfileRequest))]
[JsonSerializable(typeof(AppleRemoveProfileRequest))]
internal sealed partial class AppleJsonContext : JsonSerializerContext
{
}

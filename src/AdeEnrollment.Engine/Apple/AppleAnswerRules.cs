using System.Globalization;
using System.Runtime.CompilerServices;
using AdeEnrollment.Engine.Rules;

namespace AdeEnrollment.Engine.Apple;

/// <summary>
/// What an answer of Apple's must look like before anything of it is used (Apple/README.md "Limits"): identifiers
/// (serial numbers, profile UUIDs, cursors) within their length and free of control characters, free text within its
/// length and neutralised (<see cref="TextRules.Neutralise"/>), no null entries, and no more devices than were asked
/// for. The client applies these to every answer, so the store never sees an answer that breaks them.
/// </summary>
internal static class AppleAnswerRules
{
    public const int MaxSerialLength = 64;
    public const int MaxIdentifierLength = 128;
    public const int MaxCursorLength = 4096;
    public const int MaxTextLength = 1024;
    public const int MaxSessionTokenLength = 4096;

    /// <summary>Checks and neutralises <paramref name="answer"/> in place; returns what is wrong, or null.</summary>
    public static string? Check(object answer) => answer switch
    {
        AppleDevicePage page => CheckPage(page),
        AppleAccount account => CheckAccount(account),
        AppleDeviceDetailsResponse details => CheckDetails(details),
        AppleAssignProfileResponse assign => Identifier("profile_uuid", assign.ProfileUuid, MaxIdentifierLength) ?? CheckStatuses(assign.Devices)
            ?? (assign.RetryAfterSeconds is < 0 or > 86_400 ? "retry_after_seconds is outside 0 to 86400." : null),
        AppleDeviceStatusResponse status => CheckStatuses(status.Devices),
        AppleDefineProfileResponse define => (string.IsNullOrEmpty(define.ProfileUuid) ? "profile_uuid is missing." : null)
            ?? Identifier("profile_uuid", define.ProfileUuid, MaxIdentifierLength) ?? CheckStatuses(define.Devices),
        AppleProfile profile => Identifier("profile_uuid", profile.ProfileUuid, MaxIdentifierLength) ?? CheckProfile(profile),
        _ => null,
    };

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
    private static string? CheckPage(AppleDevicePage page)
    {
        if (Identifier("cursor", page.Cursor, MaxCursorLength) is { } bad)
        {
            return bad;
        }

        page.Devices ??= [];
        for (var i = 0; i < page.Devices.Count; i++)
        {
            if (page.Devices[i] is not { } device)
            {
                return string.Create(CultureInfo.InvariantCulture, $"devices[{i}] is null.");
            }

            if (CheckDevice(device, string.Create(CultureInfo.InvariantCulture, $"devices[{i}]")) is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    private static string? CheckDetails(AppleDeviceDetailsResponse details)
    {
        details.Devices ??= [];
        foreach (var (serial, device) in details.Devices)
        {
            if (Identifier("a serial number", serial, MaxSerialLength) is { } bad)
            {
                return bad;
            }

            if (device is null)
            {
                return "a device entry is null.";
            }

            if (string.IsNullOrEmpty(device.SerialNumber))
            {
                device.SerialNumber = serial;
            }

            if (CheckDevice(device, "devices") is { } problem)
            {
                return problem;
            }
        }

        return null;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
    private static string? CheckDevice(AppleDevice device, string where)
    {
        if (string.IsNullOrEmpty(device.SerialNumber))
        {
            return where + ".serial_number is missing.";
        }

        var problem = Identifier(where + ".serial_number", device.SerialNumber, MaxSerialLength)
            ?? Identifier(where + ".profile_uuid", device.ProfileUuid, MaxIdentifierLength)
            ?? Identifier(where + ".op_type", device.OpType, MaxIdentifierLength)
            ?? Identifier(where + ".profile_status", device.ProfileStatus, MaxIdentifierLength)
            ?? Identifier(where + ".response_status", device.ResponseStatus, MaxIdentifierLength);
        if (problem is not null)
        {
            return problem;
        }

        device.Model = Text(where + ".model", device.Model, ref problem);
        device.Description = Text(where + ".description", device.Description, ref problem);
        device.Color = Text(where + ".color", device.Color, ref problem);
        device.AssetTag = Text(where + ".asset_tag", device.AssetTag, ref problem);
        device.DeviceAssignedBy = Text(where + ".device_assigned_by", device.DeviceAssignedBy, ref problem);
        device.Os = Text(where + ".os", device.Os, ref problem);
        device.DeviceFamily = Text(where + ".device_family", device.DeviceFamily, ref problem);
        return problem;
    }

    private static string? CheckAccount(AppleAccount account)
    {
        string? problem = null;
        account.ServerName = Text("server_name", account.ServerName, ref problem);
        account.ServerUuid = Text("server_uuid", account.ServerUuid, ref problem);
        account.AdminId = Text("admin_id", account.AdminId, ref problem);
        account.FacilitatorId = Text("facilitator_id", account.FacilitatorId, ref problem);
        account.OrgName = Text("org_name", account.OrgName, ref problem);
        account.OrgEmail = Text("org_email", account.OrgEmail, ref problem);
        account.OrgPhone = Text("org_phone", account.OrgPhone, ref problem);
        account.OrgAddress = Text("org_address", account.OrgAddress, ref problem);
        account.OrgId = Text("org_id", account.OrgId, ref problem);
        account.OrgIdHash = Text("org_id_hash", account.OrgIdHash, ref problem);
        account.OrgType = Text("org_type", account.OrgType, ref problem);
        account.OrgVersion = Text("org_version", account.OrgVersion, ref problem);
        if (account.Urls is { Count: > 100 })
        {
            return "urls holds more than 100 entries.";
        }

        return problem;
    }

    private static string? CheckProfile(AppleProfile profile)
    {
        string? problem = null;
        profile.ProfileName = Text("profile_name", profile.ProfileName, ref problem);
        profile.Department = Text("department", profile.Department, ref problem);
        return problem;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
    private static string? CheckStatuses(Dictionary<string, string>? statuses)
    {
        if (statuses is null)
        {
            return null;
        }

        if (statuses.Count > AppleClientOptions.MaxDevicesPerRequest)
        {
            return string.Create(CultureInfo.InvariantCulture, $"it reports on {statuses.Count} devices, more than the {AppleClientOptions.MaxDevicesPerRequest} a request may name.");
        }

        foreach (var (serial, status) in statuses)
        {
            if ((Identifier("a serial number", serial, MaxSerialLength) ?? Identifier("a device status", status ?? "", MaxIdentifierLength)) is { } bad)
            {
                return bad;
            }

            if (status is null)
            {
                return "a device status is null.";
            }
        }

        return null;
    }

    /// <summary>An identifier is used as is (stored, compared, sent back): too long or with control characters, it is refused.</summary>
    private static string? Identifier(string field, string? value, int max)
    {
        if (value is null)
        {
            return null;
        }

        if (value.Length > max)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{field} is {value.Length:N0} characters long, more than {max:N0}.");
        }

        return TextRules.HasUnsafe(value) ? field + " contains control characters." : null;
    }

    /// <summary>Free text is stored and shown: too long, it is refused; control characters are neutralised.</summary>
    private static string? Text(string field, string? value, ref string? problem)
    {
        if (value is not null && value.Length > MaxTextLength)
        {
            problem ??= string.Create(CultureInfo.InvariantCulture, $"{field} is {value.Length:N0} characters long, more than {MaxTextLength:N0}.");
            return value;
        }

        return TextRules.Neutralise(value);
    }

    /// <summary>A session token becomes a request header: visible ASCII only, bounded.</summary>
    public static bool IsValidHeaderValue(string? value, int max = MaxSessionTokenLength)
    {
        if (string.IsNullOrEmpty(value) || value.Length > max)
        {
            return false;
        }

        foreach (var ch in value)
        {
            if (ch is < (char)0x20 or > (char)0x7E)
            {
                return false;
            }
        }

        return true;
    }
}

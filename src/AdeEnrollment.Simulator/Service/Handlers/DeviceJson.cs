using System.Globalization;
using System.Text.Json;

namespace AdeEnrollment.Simulator.Service.Handlers;

/// <summary>Apple's JSON shapes shared by the device and profile endpoints.</summary>
internal static class DeviceJson
{
    public static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>"devices": {serial: status, …} of the assign, remove and disown answers.</summary>
    public static void WriteStatusMap(Utf8JsonWriter w, Dictionary<string, string> results)
    {
        w.WriteStartObject("devices");
        foreach (var (serial, status) in results)
        {
            w.WriteString(serial, status);
        }

        w.WriteEndObject();
    }

    /// <summary>A device in Apple's shape for the client's protocol version; a deleted sync entry carries little more than the serial.</summary>
    public static void WriteDevice(Utf8JsonWriter w, AdeSimDevice d, int version, SimEvent? e, string? responseStatus = null)
    {
        w.WriteStartObject();
        w.WriteString("serial_number", d.SerialNumber);
        if (e?.OpType != "deleted")
        {
            w.WriteString("model", d.Model);
            w.WriteString("description", d.Description);
            w.WriteString("color", d.Color);
            if (d.AssetTag is not null) w.WriteString("asset_tag", d.AssetTag);
            w.WriteString("profile_status", d.ProfileStatus);
            if (d.ProfileUuid is not null) w.WriteString("profile_uuid", d.ProfileUuid);
            if (d.ProfileAssignTime is { } assigned) w.WriteString("profile_assign_time", Iso(assigned));
            if (d.ProfilePushTime is { } pushed) w.WriteString("profile_push_time", Iso(pushed));
            w.WriteString("device_assigned_date", Iso(d.DeviceAssignedDate));
            w.WriteString("device_assigned_by", d.DeviceAssignedBy);
            if (version >= 2)
            {
                w.WriteString("os", d.Os == "iPadOS" && version < 7 ? "iOS" : d.Os);
                w.WriteString("device_family", d.DeviceFamily);
            }

            WriteDeviceActionFields(w, d, version);
        }

        if (e is not null)
        {
            w.WriteString("op_type", e.OpType);
            w.WriteString("op_date", Iso(e.OpDate));
        }

        if (responseStatus is not null)
        {
            w.WriteString("response_status", responseStatus);
        }

        w.WriteEndObject();
    }

    /// <summary>The fields ABM sets on a device (Set-AdeSimDevice): the migration deadline (protocol 8+) and the replacement flag.</summary>
    private static void WriteDeviceActionFields(Utf8JsonWriter w, AdeSimDevice d, int version)
    {
        if (version >= 8 && d.MdmMigrationDeadline is { } deadline)
        {
            w.WriteString("mdm_migration_deadline", Iso(deadline));
        }

        if (d.IsReplacementDevice is { } replacement)
        {
            w.WriteBoolean("is_replacement_device", replacement);
        }
    }
}

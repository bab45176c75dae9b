using System.Text.Json;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Service.Handlers;

/// <summary>
/// POST or PUT /profile/devices: assigns a defined profile to devices; per device SUCCESS, NOT_ACCESSIBLE or an
/// injected FAILED/THROTTLED (retry_after_seconds from protocol 10).
/// </summary>
internal static class AssignProfileHandler
{
    public static Answer Assign(DepRequest r)
    {
        if (!RequestBody.TryParse(r, allowEmpty: false, out var root, out var bad))
        {
            return bad!;
        }

        var uuid = root.TryGetProperty("profile_uuid", out var u) && u.ValueKind == JsonValueKind.String ? u.GetString() : null;
        if (string.IsNullOrWhiteSpace(uuid))
        {
            return r.Error(400, "PROFILE_UUID_REQUIRED");
        }

        if (!RequestBody.TryDeviceList(r, out var serials, out bad, root))
        {
            return bad!;
        }

        var server = r.Server;
        if (!server.Profiles.ContainsKey(uuid))
        {
            return r.Error(404, "PROFILE_NOT_FOUND");
        }

        var now = r.Now;
        var version = r.X.ProtocolVersion;
        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        int? retryAfter = null;
        foreach (var serial in serials)
        {
            results[serial] = ProfileAssignment.Assign(server, serial, uuid, version, now, out var wait);
            if (wait is { } seconds)
            {
                retryAfter = Math.Max(retryAfter ?? 0, seconds);
            }
        }

        var answer = r.Json(w =>
        {
            w.WriteString("profile_uuid", uuid);
            DeviceJson.WriteStatusMap(w, results);
            if (retryAfter is { } seconds && version >= 10)
            {
                w.WriteNumber("retry_after_seconds", seconds);
            }
        });
        answer.DeviceCount = serials.Count;
        answer.SerialNumbers = serials;
        answer.ProfileUuid = uuid;
        return answer;
    }
}

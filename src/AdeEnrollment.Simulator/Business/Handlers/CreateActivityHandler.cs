using System.Globalization;
using System.Text.Json;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Business.Handlers;

/// <summary>
/// POST /v1/orgDeviceActivities: assign, unassign, release, and the three MDM migration types of API 2.3 (switch).
/// Checks the request (400), the server and serials of the account's organisation (409, or unknown serials failing
/// in the log with PartialUnknownSerials), the optional device cap (422, 400 or 413 by switch); answers 201 IN_PROGRESS. The devices move
/// when the activity completes (<see cref="ActivityCompletion"/>).
/// </summary>
internal static class CreateActivityHandler
{
    private static readonly string[] ActivityTypes = ["ASSIGN_DEVICES", "UNASSIGN_DEVICES", "RELEASE_DEVICES"];
    private static readonly string[] MigrationTypes = ["ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE", "UPDATE_MDM_MIGRATION_DEADLINE", "CANCEL_MDM_MIGRATION"];

    public static Answer Create(BusinessRequest r)
    {
        var (b, x, account, settings) = (r.B, r.X, r.Account, r.B.Settings);
        JsonElement data;
        try
        {
            data = JsonDocument.Parse(x.Body).RootElement.GetProperty("data");
        }
        catch (Exception ex) when (ex is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            return BusinessJson.Error(400, "PARAMETER_ERROR.INVALID", "The request body is not a valid OrgDeviceActivityCreateRequest.");
        }

        string? type = null;
        if (data.ValueKind != JsonValueKind.Object || !data.TryGetProperty("type", out var t) || t.GetString() != "orgDeviceActivities"
            || !data.TryGetProperty("attributes", out var attrs) || !attrs.TryGetProperty("activityType", out var at) || at.ValueKind != JsonValueKind.String
            || !(ActivityTypes.Contains(type = at.GetString()) || (settings.MigrationActivities && MigrationTypes.Contains(type))))
        {
            return BusinessJson.Error(400, "PARAMETER_ERROR.INVALID", "data.type must be orgDeviceActivities and activityType one of "
                + string.Join(", ", settings.MigrationActivities ? ActivityTypes.Concat(MigrationTypes) : ActivityTypes) + ".");
        }

        DateTimeOffset? deadline = null;
        if (type is "ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE" or "UPDATE_MDM_MIGRATION_DEADLINE")
        {
            if (!attrs.TryGetProperty("activityTypeMetadata", out var meta) || meta.ValueKind != JsonValueKind.Object
                || !meta.TryGetProperty("mdmMigrationDeadlineDateTime", out var dl) || dl.ValueKind != JsonValueKind.String
                || !DateTimeOffset.TryParse(dl.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var parsed))
            {
                return BusinessJson.Error(400, "PARAMETER_ERROR.REQUIRED", type + " needs activityTypeMetadata.mdmMigrationDeadlineDateTime.");
            }

            var now = b.Time.GetUtcNow();
            if (parsed > now + TimeSpan.FromDays(90) || (type == "ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE" && parsed <= now))
            {
                return BusinessJson.Error(409, "ENTITY_ERROR.ATTRIBUTE.INVALID", "The migration deadline must be in the next 90 days.", "/data/attributes/activityTypeMetadata/mdmMigrationDeadlineDateTime");
            }

            deadline = parsed;
        }

        if (type == "RELEASE_DEVICES" && account.Scope == "school.api")
        {
            return BusinessJson.Error(400, "PARAMETER_ERROR.INVALID", "RELEASE_DEVICES is not available in Apple School Manager.");
        }

        var serials = new List<string>();
        if (!data.TryGetProperty("relationships", out var rel) || rel.ValueKind != JsonValueKind.Object
            || !rel.TryGetProperty("devices", out var devs) || !devs.TryGetProperty("data", out var list) || list.ValueKind != JsonValueKind.Array || list.GetArrayLength() == 0)
        {
            return BusinessJson.Error(400, "PARAMETER_ERROR.REQUIRED", "relationships.devices.data must list at least one device.");
        }

        foreach (var item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object || !item.TryGetProperty("type", out var it) || it.GetString() != "orgDevices" || !item.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String)
            {
                return BusinessJson.Error(400, "PARAMETER_ERROR.INVALID", "Every device is {\"type\":\"orgDevices\",\"id\":\"<serial>\"}.");
            }

            var s = settings.CaseSensitiveSerials ? id.GetString()!.Trim() : id.GetString()!.Trim().ToUpperInvariant();
            if (!serials.Contains(s)) serials.Add(s);
        }

        if (settings.MaxDevicesPerActivity is { } cap && serials.Count > cap)
        {
            var refusal = settings.ActivityCapAnswer switch
            {
                "Parameter400" => BusinessJson.Error(400, "PARAMETER_ERROR.INVALID", "Too many devices in the request.", pointer: "/data/relationships/devices/data"),
                "TooLarge413" => Answers.Error(413, "Request Entity Too Large"),
                _ => BusinessJson.Error(422, "ENTITY_ERROR.ATTRIBUTE.INVALID", $"At most {cap} devices per activity."),
            };
            refusal.DeviceCount = serials.Count; // the request log shows the size refused
            return refusal;
        }

        string? serverId = null;
        if (type is "ASSIGN_DEVICES" or "UNASSIGN_DEVICES" or "ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE")
        {
            if (!rel.TryGetProperty("mdmServer", out var ms) || !ms.TryGetProperty("data", out var msd) || msd.ValueKind != JsonValueKind.Object
                || !msd.TryGetProperty("id", out var msid) || msid.ValueKind != JsonValueKind.String)
            {
                return BusinessJson.Error(400, "PARAMETER_ERROR.REQUIRED", type + " needs relationships.mdmServer.");
            }

            serverId = msid.GetString()!;
            if (b.ServerById(serverId, r.OrgName) is null)
            {
                return BusinessJson.Error(409, "ENTITY_ERROR.RELATIONSHIP.INVALID", "An invalid device management service ID was given.", "/data/relationships/mdmServer/data/id");
            }
        }

        var unknown = serials.Where(s => b.OrgDeviceOf(s, r.OrgName) is null).ToList();
        if (unknown.Count > 0 && !settings.PartialUnknownSerials)
        {
            return BusinessJson.Error(409, "ENTITY_ERROR.RELATIONSHIP.INVALID", "An invalid device serial number was given: " + unknown[0], "/data/relationships/devices/data");
        }

        var activity = new SimActivity
        {
            Id = Guid.NewGuid().ToString("D"),
            ClientId = account.ClientId,
            OrgName = r.OrgName,
            Type = type!,
            ServerId = serverId,
            Serials = serials,
            CreatedAt = b.Time.GetUtcNow(),
            Deadline = deadline,
        };
        activity.UnknownSerials.UnionWith(unknown);
        b.Activities[activity.Id] = activity;
        b.PendingActivities++;
        return BusinessJson.Api(w =>
        {
            w.WritePropertyName("data");
            ActivityCompletion.Write(w, b, activity, null, created: true);
            w.WriteStartObject("links");
            w.WriteString("self", b.Link("v1/orgDeviceActivities"));
            w.WriteEndObject();
        }, status: 201, deviceCount: serials.Count);
    }
}

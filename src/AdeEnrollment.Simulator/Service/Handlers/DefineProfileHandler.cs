using System.Buffers;
using System.Text.Json;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Service.Handlers;

/// <summary>POST /profile: defines a profile (Apple's field rules) and assigns it to the devices the body lists.</summary>
internal static class DefineProfileHandler
{
    public static Answer Define(DepRequest r)
    {
        if (!RequestBody.TryParse(r, allowEmpty: false, out var root, out var bad))
        {
            return bad!;
        }

        var problem = ProfileValidation.Validate(root);
        if (problem is not null)
        {
            return r.Error(400, problem);
        }

        var serials = new List<string>();
        if (root.TryGetProperty("devices", out var devices))
        {
            if (!RequestBody.TryStrings(devices, out serials))
            {
                return r.Error(400, "MALFORMED_REQUEST_BODY");
            }

            if (serials.Count > DepLimits.MaxDevicesPerRequest)
            {
                return r.Error(400, "DEVICE_LIMIT_EXCEEDED");
            }
        }

        var server = r.Server;
        var now = r.Now;
        var uuid = r.State.Generator.NewUuid();
        var buffer = new ArrayBufferWriter<byte>();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            foreach (var property in root.EnumerateObject())
            {
                if (property.Name is not ("devices" or "profile_uuid"))
                {
                    property.WriteTo(w);
                }
            }

            w.WriteEndObject();
        }

        using (var definition = JsonDocument.Parse(buffer.WrittenMemory))
        {
            server.Profiles[uuid] = new SimProfile(uuid, definition.RootElement.Clone(), now);
        }

        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var serial in serials)
        {
            results[serial] = ProfileAssignment.Assign(server, serial, uuid, r.X.ProtocolVersion, now, out _);
        }

        var answer = r.Json(w =>
        {
            w.WriteString("profile_uuid", uuid);
            DeviceJson.WriteStatusMap(w, results);
        });
        answer.DeviceCount = serials.Count;
        answer.SerialNumbers = serials;
        answer.ProfileUuid = uuid;
        return answer;
    }
}

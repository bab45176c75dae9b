using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Service.Handlers;

/// <summary>POST /devices: the named devices as the server holds them; serials it does not hold are NOT_ACCESSIBLE.</summary>
internal static class DeviceDetailsHandler
{
    public static Answer Details(DepRequest r)
    {
        if (!RequestBody.TryDeviceList(r, out var serials, out var bad))
        {
            return bad!;
        }

        var server = r.Server;
        var version = r.X.ProtocolVersion;
        var answer = r.Json(w =>
        {
            w.WriteStartObject("devices");
            foreach (var serial in serials)
            {
                w.WritePropertyName(serial);
                if (server.Devices.TryGetValue(serial, out var device))
                {
                    DeviceJson.WriteDevice(w, device, version, null, "SUCCESS");
                }
                else
                {
                    w.WriteStartObject();
                    w.WriteString("serial_number", serial);
                    w.WriteString("response_status", "NOT_ACCESSIBLE");
                    w.WriteEndObject();
                }
            }

            w.WriteEndObject();
        });
        answer.DeviceCount = serials.Count;
        answer.SerialNumbers = serials;
        return answer;
    }
}

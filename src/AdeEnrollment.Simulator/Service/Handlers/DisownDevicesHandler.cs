using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Service.Handlers;

/// <summary>POST /devices/disown: the MDM server releases devices (403 ACCESS_DENIED unless the server may release).</summary>
internal static class DisownDevicesHandler
{
    public static Answer Disown(DepRequest r)
    {
        if (!RequestBody.TryDeviceList(r, out var serials, out var bad))
        {
            return bad!;
        }

        var server = r.Server;
        if (!server.AllowDeviceRelease)
        {
            return r.Error(403, "ACCESS_DENIED"); // the organisation does not let this MDM server release devices
        }

        var now = r.Now;
        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var serial in serials)
        {
            if (server.Devices.TryGetValue(serial, out var device))
            {
                r.State.Release(server, device, now);
                results[serial] = "SUCCESS";
            }
            else
            {
                results[serial] = "NOT_ACCESSIBLE";
            }
        }

        var answer = r.Json(w => DeviceJson.WriteStatusMap(w, results));
        answer.DeviceCount = serials.Count;
        answer.SerialNumbers = serials;
        return answer;
    }
}

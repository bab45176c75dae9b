using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Service.Handlers;

/// <summary>DELETE /profile/devices: removes the profile from devices (profile_status becomes removed).</summary>
internal static class RemoveProfileHandler
{
    public static Answer Remove(DepRequest r)
    {
        if (!RequestBody.TryDeviceList(r, out var serials, out var bad))
        {
            return bad!;
        }

        var now = r.Now;
        var results = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var serial in serials)
        {
            results[serial] = ProfileAssignment.Remove(r.Server, serial, now);
        }

        var answer = r.Json(w => DeviceJson.WriteStatusMap(w, results));
        answer.DeviceCount = serials.Count;
        answer.SerialNumbers = serials;
        return answer;
    }
}

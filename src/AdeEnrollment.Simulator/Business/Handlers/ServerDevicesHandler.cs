using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Business.Handlers;

/// <summary>
/// GET /v1/mdmServers/{id}/relationships/devices (the serials on a server, cursor paged) and …/devices, which Apple
/// refuses with 403 (only the relationship may be read).
/// </summary>
internal static class ServerDevicesHandler
{
    public static Answer Linkage(BusinessRequest r)
    {
        var b = r.B;
        var server = b.ServerById(r.Id, r.OrgName);
        if (server is null) return BusinessJson.NotFound("mdmServers", r.Id);
        if (!BusinessJson.TryPaging(b, r.X, out var limit, out var after, out var bad)) return bad!;
        var keys = server.Devices.Keys.Select(b.OrderKey).Order(StringComparer.Ordinal).Where(s => after is null || string.CompareOrdinal(s, after) > 0).Take(limit + 1).ToList();
        var more = keys.Count > limit;
        if (more) keys.RemoveAt(limit);
        var lastKey = more ? keys[^1] : null;
        var id = b.ServerId(server);
        return BusinessJson.Api(w =>
        {
            w.WriteStartArray("data");
            foreach (var key in keys)
            {
                w.WriteStartObject();
                w.WriteString("type", "orgDevices");
                w.WriteString("id", BusinessState.IdOfKey(key));
                w.WriteEndObject();
            }

            w.WriteEndArray();
            BusinessJson.WritePaging(w, b, $"v1/mdmServers/{id}/relationships/devices", limit, lastKey, server.Devices.Count);
        });
    }

    public static Answer Related(BusinessRequest r) => BusinessJson.Error(403, "FORBIDDEN_ERROR",
        "The relationship 'devices' does not allow 'GET_RELATED'. Allowed operation is: GET_RELATIONSHIP");
}

using System.Text.Json;
using AdeEnrollment.Simulator.Service;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Business.Handlers;

/// <summary>
/// GET /v1/mdmServers (paged; without fields[] Apple's small default subset, or every attribute with the
/// FullServerAttributes switch) and GET /v1/mdmServers/{id}. The servers are the DEP servers of the account's
/// organisation; their id is the DEP UUID as 32 upper-case hex, or unrelated to it (UnrelatedServerIds).
/// </summary>
internal static class MdmServersHandler
{
    public static readonly HashSet<string> AllFields = new(StringComparer.Ordinal)
    {
        "serverName", "serverType", "createdDateTime", "updatedDateTime", "status", "deviceCount", "enableMdmDisownFlag",
        "defaultProductFamilies", "lastConnectedDateTime", "lastConnectedIp", "devices",
    };

    private static readonly HashSet<string> DefaultFields = new(StringComparer.Ordinal) { "serverName", "serverType", "createdDateTime", "updatedDateTime", "devices" };

    public static Answer List(BusinessRequest r)
    {
        var b = r.B;
        if (!BusinessJson.TryPaging(b, r.X, out var limit, out var after, out var bad)) return bad!;
        var fields = BusinessJson.Fields(r.X, "mdmServers") ?? (b.Settings.FullServerAttributesByDefault ? AllFields : DefaultFields);
        var mine = b.ListedServersOf(r.OrgName).ToList();
        var ordered = mine.OrderBy(s => b.OrderKey(b.ServerId(s)), StringComparer.Ordinal).Where(s => after is null || string.CompareOrdinal(b.OrderKey(b.ServerId(s)), after) > 0).ToList();
        var page = ordered.Take(limit).ToList();
        var more = ordered.Count > limit;
        return BusinessJson.Api(w =>
        {
            w.WriteStartArray("data");
            foreach (var s in page) Write(w, b, s, fields);
            w.WriteEndArray();
            BusinessJson.WritePaging(w, b, "v1/mdmServers", limit, more ? b.OrderKey(b.ServerId(page[^1])) : null, mine.Count);
        });
    }

    public static Answer Get(BusinessRequest r)
    {
        var b = r.B;
        if (b.Settings.ForbidServerRead)
        {
            // accounts of an older API version have been answered 403 here while the listing works (ForbidServerRead)
            return BusinessJson.Error(403, "FORBIDDEN_ERROR", "This API account is not allowed to read a single device management service.");
        }

        var server = b.ListedServersOf(r.OrgName).FirstOrDefault(s => b.ServerId(s).Equals(r.Id, StringComparison.OrdinalIgnoreCase));
        if (server is null) return BusinessJson.NotFound("mdmServers", r.Id);
        var fields = BusinessJson.Fields(r.X, "mdmServers") ?? AllFields;
        return BusinessJson.Api(w =>
        {
            w.WritePropertyName("data");
            Write(w, b, server, fields);
            w.WriteStartObject("links");
            w.WriteString("self", b.Link("v1/mdmServers/" + b.ServerId(server)));
            w.WriteEndObject();
        });
    }

    public static void Write(Utf8JsonWriter w, BusinessState b, ServerState s, HashSet<string> fields)
    {
        var id = b.ServerId(s);
        w.WriteStartObject();
        w.WriteString("type", "mdmServers");
        w.WriteString("id", id);
        w.WriteStartObject("attributes");
        if (fields.Contains("serverName")) w.WriteString("serverName", s.Name);
        if (fields.Contains("serverType")) w.WriteString("serverType", s.ServerType);
        var service = b.Service(s);
        if (fields.Contains("createdDateTime")) w.WriteString("createdDateTime", BusinessJson.Iso(service.CreatedAt));
        if (fields.Contains("updatedDateTime")) w.WriteString("updatedDateTime", BusinessJson.Iso(service.UpdatedAt));
        if (fields.Contains("status")) w.WriteString("status", b.DeletedServers.Contains(s.Name) ? "DELETED" : "ACTIVE");
        if (fields.Contains("deviceCount")) w.WriteNumber("deviceCount", s.Devices.Count);
        if (fields.Contains("enableMdmDisownFlag")) w.WriteBoolean("enableMdmDisownFlag", s.AllowDeviceRelease);
        if (fields.Contains("defaultProductFamilies"))
        {
            // the list set with PATCH (new devices of these families come here by default), not what the devices happen to be
            w.WriteStartArray("defaultProductFamilies");
            foreach (var family in service.DefaultProductFamilies) w.WriteStringValue(family);
            w.WriteEndArray();
        }

        var lastCall = b.Org.Sessions.Values.Where(v => v.Server == s).Select(v => (DateTimeOffset?)(v.ExpiresAt - b.Org.Settings.SessionLifetime)).Max();
        if (fields.Contains("lastConnectedDateTime") && lastCall is { } at) w.WriteString("lastConnectedDateTime", BusinessJson.Iso(at));
        if (fields.Contains("lastConnectedIp") && lastCall is not null) w.WriteString("lastConnectedIp", "127.0.0.1");
        w.WriteEndObject();
        if (fields.Contains("devices"))
        {
            w.WriteStartObject("relationships");
            w.WriteStartObject("devices");
            w.WriteStartObject("links");
            w.WriteString("self", b.Link($"v1/mdmServers/{id}/relationships/devices"));
            w.WriteEndObject();
            if (b.Settings.ServerDevicesLinkage)
            {
                // as Apple's model allows (for include): the first linkages and their paging, beside the link
                const int Shown = 10;
                w.WriteStartArray("data");
                foreach (var serial in s.Devices.Keys.Order(StringComparer.Ordinal).Take(Shown))
                {
                    w.WriteStartObject();
                    w.WriteString("type", "orgDevices");
                    w.WriteString("id", serial);
                    w.WriteEndObject();
                }

                w.WriteEndArray();
                w.WriteStartObject("meta");
                w.WriteStartObject("paging");
                w.WriteNumber("limit", Shown);
                if (s.Devices.Count > Shown) w.WriteString("nextCursor", "linkage");
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteStartObject("links");
        w.WriteString("self", b.Link("v1/mdmServers/" + id));
        w.WriteEndObject();
        w.WriteEndObject();
    }
}

using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Business.Handlers;

/// <summary>
/// GET /v1/orgDevices/{serial}/relationships/assignedServer (the linkage) and …/assignedServer (the server itself).
/// An unassigned device answers <c>data: null</c>, or 404 with the UnassignedServerAsNotFound switch.
/// </summary>
internal static class AssignedServerHandler
{
    public static Answer Linkage(BusinessRequest r)
    {
        var b = r.B;
        if (b.OrgDeviceOf(r.Id, r.OrgName) is null) return BusinessJson.NotFound("orgDevices", r.Id);
        var server = b.OwnerOf(r.Id);
        if (server is null && b.Settings.UnassignedServerAsNotFound) return BusinessJson.Error(404, "NOT_FOUND", "The device is not assigned to a device management service.");
        return BusinessJson.Api(w =>
        {
            if (server is null)
            {
                w.WriteNull("data");
            }
            else
            {
                w.WriteStartObject("data");
                w.WriteString("type", "mdmServers");
                w.WriteString("id", b.ServerId(server));
                w.WriteEndObject();
            }

            w.WriteStartObject("links");
            w.WriteString("self", b.Link($"v1/orgDevices/{r.Id}/relationships/assignedServer"));
            w.WriteString("related", b.Link($"v1/orgDevices/{r.Id}/assignedServer"));
            w.WriteEndObject();
        });
    }

    public static Answer Related(BusinessRequest r)
    {
        var b = r.B;
        if (b.OrgDeviceOf(r.Id, r.OrgName) is null) return BusinessJson.NotFound("orgDevices", r.Id);
        if (b.OwnerOf(r.Id) is not { } server)
        {
            return b.Settings.UnassignedServerAsNotFound ? BusinessJson.Error(404, "NOT_FOUND", "The device is not assigned.") : BusinessJson.Api(w => w.WriteNull("data"));
        }

        var fields = BusinessJson.Fields(r.X, "mdmServers") ?? MdmServersHandler.AllFields;
        return BusinessJson.Api(w => { w.WritePropertyName("data"); MdmServersHandler.Write(w, b, server, fields); });
    }
}

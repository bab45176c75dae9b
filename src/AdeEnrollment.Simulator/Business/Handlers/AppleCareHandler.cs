using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Business.Handlers;

/// <summary>GET /v1/orgDevices/{serial}/appleCareCoverage: the device's coverage (none: an empty list).</summary>
internal static class AppleCareHandler
{
    public static Answer Get(BusinessRequest r)
    {
        var b = r.B;
        var device = b.OrgDeviceOf(r.Id, r.OrgName);
        if (device is null) return BusinessJson.NotFound("orgDevices", r.Id);
        return BusinessJson.Api(w =>
        {
            w.WriteStartArray("data");
            if (device.AppleCareStatus is not null)
            {
                w.WriteStartObject();
                w.WriteString("type", "appleCareCoverage");
                w.WriteString("id", device.SerialNumber);
                w.WriteStartObject("attributes");
                w.WriteString("status", device.AppleCareStatus);
                w.WriteString("paymentType", "NONE");
                w.WriteString("description", device.AppleCareDescription);
                w.WriteString("startDateTime", BusinessJson.IsoZ(device.AddedToOrgDate));
                if (device.AppleCareEndDate is { } end) w.WriteString("endDateTime", BusinessJson.IsoZ(end));
                w.WriteBoolean("isRenewable", false);
                w.WriteBoolean("isCanceled", false);
                w.WriteNull("agreementNumber");
                w.WriteNull("contractCancelDateTime");
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteStartObject("links");
            w.WriteString("self", b.Link($"v1/orgDevices/{device.SerialNumber}/appleCareCoverage"));
            w.WriteEndObject();
            w.WriteStartObject("meta");
            w.WriteStartObject("paging");
            w.WriteNumber("limit", 100);
            w.WriteEndObject();
            w.WriteEndObject();
        });
    }
}

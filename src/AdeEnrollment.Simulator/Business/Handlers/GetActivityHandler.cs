using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Business.Handlers;

/// <summary>GET /v1/orgDeviceActivities/{id}: fields[] honoured; another account's, or one older than 30 days, is 404.</summary>
internal static class GetActivityHandler
{
    public static Answer Get(BusinessRequest r)
    {
        var b = r.B;
        if (!b.Activities.TryGetValue(r.Id, out var activity) || activity.ClientId != r.Account.ClientId || b.Time.GetUtcNow() - activity.CreatedAt > TimeSpan.FromDays(30))
        {
            return BusinessJson.NotFound("orgDeviceActivities", r.Id);
        }

        var fields = BusinessJson.Fields(r.X, "orgDeviceActivities");
        return BusinessJson.Api(w =>
        {
            w.WritePropertyName("data");
            ActivityCompletion.Write(w, b, activity, fields);
            w.WriteStartObject("links");
            w.WriteString("self", b.Link("v1/orgDeviceActivities/" + activity.Id));
            w.WriteEndObject();
        });
    }
}

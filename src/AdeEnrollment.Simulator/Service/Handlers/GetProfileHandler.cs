using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Service.Handlers;

/// <summary>GET /profile?profile_uuid=…: the profile as it was defined (or changed at Apple), with its UUID.</summary>
internal static class GetProfileHandler
{
    public static Answer Get(DepRequest r)
    {
        var uuid = r.X.Query("profile_uuid");
        if (string.IsNullOrWhiteSpace(uuid))
        {
            return r.Error(400, "PROFILE_UUID_REQUIRED");
        }

        if (!r.Server.Profiles.TryGetValue(uuid, out var profile))
        {
            return r.Error(404, "PROFILE_NOT_FOUND");
        }

        return r.Json(w =>
        {
            foreach (var property in profile.Definition.EnumerateObject())
            {
                property.WriteTo(w);
            }

            w.WriteString("profile_uuid", profile.Uuid);
        });
    }
}

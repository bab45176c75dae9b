using System.Security.Cryptography;
using System.Text;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Service.Handlers;

/// <summary>GET /account: the server and its organisation; from protocol 3 the org ids and the endpoint list.</summary>
internal static class AccountHandler
{
    private static readonly (string Uri, string[] Methods)[] Urls =
    [
        ("/session", ["GET"]), ("/account", ["GET"]), ("/server/devices", ["POST"]), ("/devices/sync", ["POST"]),
        ("/devices", ["POST"]), ("/devices/disown", ["POST"]), ("/profile", ["POST", "GET"]), ("/profile/devices", ["DELETE", "POST", "PUT"]),
    ];

    public static Answer Get(DepRequest r)
    {
        var server = r.Server;
        var version = r.X.ProtocolVersion;
        return r.Json(w =>
        {
            w.WriteString("server_name", server.Name);
            w.WriteString("server_uuid", server.Uuid);
            w.WriteString("admin_id", server.AdminId);
            w.WriteString("facilitator_id", server.AdminId);
            w.WriteString("org_name", server.OrgName);
            w.WriteString("org_email", server.AdminId);
            w.WriteString("org_phone", "+1 555 0100");
            w.WriteString("org_address", "1 Example Way, Springfield");
            if (version < 3)
            {
                return;
            }

            w.WriteString("org_id", "1" + server.Uuid[..7]);
            w.WriteString("org_id_hash", Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(server.OrgName))).ToLowerInvariant());
            w.WriteString("org_type", "org");
            w.WriteString("org_version", "v2");
            w.WriteStartArray("urls");
            foreach (var (uri, methods) in Urls)
            {
                w.WriteStartObject();
                w.WriteString("uri", uri);
                w.WriteStartArray("http_method");
                foreach (var m in methods) w.WriteStringValue(m);
                w.WriteEndArray();
                if (uri is "/server/devices" or "/devices/sync")
                {
                    w.WriteStartObject("limit");
                    w.WriteNumber("default", DepLimits.DefaultPageSize);
                    w.WriteNumber("maximum", DepLimits.MaxPageSize);
                    w.WriteEndObject();
                }

                w.WriteEndObject();
            }

            w.WriteEndArray();
        });
    }
}

using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using AdeEnrollment.Simulator.Service;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Business.Handlers;

/// <summary>
/// POST /v1/mdmServers (create), PATCH /v1/mdmServers/{id} (partial update) and DELETE /v1/mdmServers/{id}: the
/// writes of device management services, on the Business host only (the School host answers 403). A service is a
/// DEP server of the account's organisation: a created one is a real DEP server whose public key is the uploaded
/// certificate, a rename renames the DEP server, a deletion ends its DEP token. Every check is made before anything
/// changes, so a refused request changes nothing.
/// </summary>
internal static class MdmServerWriteHandler
{
    private const string Attributes = "/data/attributes/";

    /// <summary>Attributes Apple computes: sending one in a write is an entity error (409), not a malformed request.</summary>
    private static readonly string[] ReadOnly = ["serverType", "status", "deviceCount", "createdDateTime", "updatedDateTime", "lastConnectedDateTime", "lastConnectedIp"];

    public static Answer Create(BusinessRequest r)
    {
        var b = r.B;
        if (r.School) return SchoolRefusal("create");
        if (Body(r, out _, out var attrs) is { } bad) return bad;
        if (ReadOnlyAttribute(attrs) is { } readOnly) return readOnly;
        if (!attrs.TryGetProperty("serverName", out var nameValue)) return Invalid("serverName is required.", Attributes + "serverName");
        if (Name(nameValue, out var name) is { } badName) return badName;
        if (!attrs.TryGetProperty("serverCertificate", out var certificate)) return Invalid("serverCertificate is required.", Attributes + "serverCertificate");
        if (CertificatePem(certificate, out var pem) is { } badCertificate) return badCertificate;
        var disown = false;
        if (attrs.TryGetProperty("enableMdmDisownFlag", out var flag) && Flag(flag, out disown) is { } badFlag) return badFlag;
        if (Taken(b, name, r.OrgName, null) is { } taken) return taken;

        var server = b.CreateServer(name, pem, r.OrgName, disown);
        return Resource(b, server, 201);
    }

    public static Answer Update(BusinessRequest r)
    {
        var b = r.B;
        if (r.School) return SchoolRefusal("update");
        var server = b.ServerById(r.Id, r.OrgName);
        if (server is null) return BusinessJson.NotFound("mdmServers", r.Id);
        if (Body(r, out var data, out var attrs, requireAttributes: false) is { } bad) return bad;
        if (!data.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.String)
        {
            return Invalid("data.id is required and must be the id of the path.", "/data/id");
        }

        if (!string.Equals(id.GetString(), r.Id, StringComparison.OrdinalIgnoreCase))
        {
            return BusinessJson.Error(b.Settings.ConflictStatus, "ENTITY_ERROR.ATTRIBUTE.INVALID", "data.id does not match the id of the path.", "/data/id");
        }

        if (attrs.ValueKind == JsonValueKind.Object && ReadOnlyAttribute(attrs) is { } readOnly) return readOnly;

        // check every attribute given before changing any
        string? name = null, pem = null;
        bool? disown = null;
        List<string>? families = null;
        if (attrs.ValueKind == JsonValueKind.Object)
        {
            if (attrs.TryGetProperty("serverName", out var nameValue))
            {
                if (Name(nameValue, out var given) is { } badName) return badName;
                if (Taken(b, given, r.OrgName, server) is { } taken) return taken;
                name = given;
            }

            if (attrs.TryGetProperty("serverCertificate", out var certificate))
            {
                if (CertificatePem(certificate, out var given) is { } badCertificate) return badCertificate;
                pem = given;
            }

            if (attrs.TryGetProperty("defaultProductFamilies", out var list))
            {
                if (Families(list, out var given) is { } badFamilies) return badFamilies;
                // Apple does not document how the list is cleared: under ClearFamiliesWith, the other form is taken
                // without a word and changes nothing
                var ignored = given.Count == 0 && b.Settings.ClearFamiliesWith switch
                {
                    "EmptyList" => list.ValueKind == JsonValueKind.Null,
                    "Null" => list.ValueKind != JsonValueKind.Null,
                    "None" => true,
                    _ => false,
                };
                families = ignored ? null : given;
            }

            if (attrs.TryGetProperty("enableMdmDisownFlag", out var flag))
            {
                if (Flag(flag, out var given) is { } badFlag) return badFlag;
                disown = given;
            }
        }

        var now = b.Time.GetUtcNow();
        var service = b.Service(server);
        var changed = false;
        if (name is not null && name != server.Name)
        {
            b.Rename(server, name);
            changed = true;
        }

        if (pem is not null && pem != server.CertificatePem)
        {
            // the next token download (Export-AdeSimServerToken without -PublicKeyPath) is encrypted to this key
            server.CertificatePem = pem;
            changed = true;
        }

        if (families is not null)
        {
            // set even when unchanged: under ExclusiveDefaultFamilies the same list again still takes them from other servers
            changed |= !families.SequenceEqual(service.DefaultProductFamilies);
            b.SetDefaultFamilies(server, families, now);
        }

        if (disown is { } d && d != server.AllowDeviceRelease)
        {
            server.AllowDeviceRelease = d; // the same switch as Set-AdeSimServer -AllowDeviceRelease: POST /devices/disown follows it
            changed = true;
        }

        if (changed)
        {
            service.UpdatedAt = now;
        }

        return Resource(b, server, 200);
    }

    public static Answer Delete(BusinessRequest r)
    {
        var b = r.B;
        if (r.School) return SchoolRefusal("delete");
        var server = b.ServerById(r.Id, r.OrgName);
        if (server is null) return BusinessJson.NotFound("mdmServers", r.Id);
        if (b.DevicesOn(server) is var count and > 0)
        {
            return BusinessJson.Error(b.Settings.ConflictStatus, "ENTITY_ERROR", $"A device management service that has devices assigned to it can't be deleted ({count} devices). Unassign all devices before deleting.");
        }

        b.Delete(server);
        return new Answer { Status = 204, ContentType = "", Server = server.Name };
    }

    private static Answer SchoolRefusal(string what)
        => BusinessJson.Error(403, "FORBIDDEN_ERROR", $"Apple School Manager does not allow API accounts to {what} device management services.");

    private static Answer Invalid(string detail, string pointer) => BusinessJson.Error(400, "PARAMETER_ERROR.INVALID", detail, pointer);

    /// <summary>The full resource (every attribute) with links.self, as create and update answer.</summary>
    private static Answer Resource(BusinessState b, ServerState server, int status)
    {
        var answer = BusinessJson.Api(w =>
        {
            w.WritePropertyName("data");
            MdmServersHandler.Write(w, b, server, MdmServersHandler.AllFields);
            w.WriteStartObject("links");
            w.WriteString("self", b.Link("v1/mdmServers/" + b.ServerId(server)));
            w.WriteEndObject();
        }, status);
        answer.Server = server.Name;
        return answer;
    }

    /// <summary>The body's data (type mdmServers) and its attributes object; a 400 naming the pointer when it is not that.</summary>
    private static Answer? Body(BusinessRequest r, out JsonElement data, out JsonElement attributes, bool requireAttributes = true)
    {
        data = default;
        attributes = default;
        try
        {
            using var doc = JsonDocument.Parse(r.X.Body);
            if (doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("data", out var d) || d.ValueKind != JsonValueKind.Object)
            {
                return Invalid("The request body must be a JSON object with a data object.", "/data");
            }

            data = d.Clone();
        }
        catch (JsonException)
        {
            return Invalid("The request body is not valid JSON.", "/data");
        }

        if (!data.TryGetProperty("type", out var type) || type.ValueKind != JsonValueKind.String || type.GetString() != "mdmServers")
        {
            return Invalid("data.type must be mdmServers.", "/data/type");
        }

        if (data.TryGetProperty("attributes", out var attrs) && attrs.ValueKind == JsonValueKind.Object)
        {
            attributes = attrs;
        }
        else if (requireAttributes || (data.TryGetProperty("attributes", out var other) && other.ValueKind != JsonValueKind.Null))
        {
            return Invalid("data.attributes must be an object.", "/data/attributes");
        }

        return null;
    }

    private static Answer? ReadOnlyAttribute(JsonElement attrs)
    {
        var given = ReadOnly.FirstOrDefault(a => attrs.TryGetProperty(a, out _));
        return given is null ? null
            : BusinessJson.Error(409, "ENTITY_ERROR.ATTRIBUTE.INVALID", $"The attribute '{given}' is read-only and cannot be set.", Attributes + given);
    }

    private static Answer? Name(JsonElement value, out string name)
    {
        name = value.ValueKind == JsonValueKind.String ? value.GetString()!.Trim() : "";
        return name.Length == 0 ? Invalid("serverName must be a non-empty string.", Attributes + "serverName") : null;
    }

    /// <summary>
    /// A name a live server of the organisation has (ignoring case) is a conflict. The simulator also refuses a name
    /// another organisation's or a deleted server holds, because DEP server names are unique across one simulator.
    /// </summary>
    private static Answer? Taken(BusinessState b, string name, string orgName, ServerState? except)
    {
        if (b.NameHolder(name, except) is not { } holder)
        {
            return null;
        }

        var detail = b.ServersOf(orgName).Contains(holder)
            ? $"A device management service named '{holder.Name}' already exists in the organization."
            : $"The name '{holder.Name}' is held by a deleted service or one of another organization in this simulator (its server names are unique across organizations).";
        return BusinessJson.Error(b.Settings.ConflictStatus, "ENTITY_ERROR.ATTRIBUTE.INVALID", detail, Attributes + "serverName");
    }

    private static Answer? Flag(JsonElement value, out bool flag)
    {
        flag = value.ValueKind == JsonValueKind.True;
        return value.ValueKind is JsonValueKind.True or JsonValueKind.False ? null : Invalid("enableMdmDisownFlag must be true or false.", Attributes + "enableMdmDisownFlag");
    }

    /// <summary>
    /// serverCertificate {name, data}: data is the Base64 of a DER X.509 certificate with an RSA key (the DEP token is
    /// encrypted to it, and Apple refuses EC keys). Gives the certificate as PEM, the form the token writer reads.
    /// </summary>
    private static Answer? CertificatePem(JsonElement value, out string pem)
    {
        const string Pointer = Attributes + "serverCertificate";
        pem = "";
        if (value.ValueKind != JsonValueKind.Object)
        {
            return Invalid("serverCertificate must be an object with name and data.", Pointer);
        }

        if (!value.TryGetProperty("name", out var name) || name.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(name.GetString()))
        {
            return Invalid("serverCertificate.name (the certificate's file name) is required.", Pointer + "/name");
        }

        if (!value.TryGetProperty("data", out var data) || data.ValueKind != JsonValueKind.String || string.IsNullOrWhiteSpace(data.GetString()))
        {
            return Invalid("serverCertificate.data (the Base64-encoded certificate) is required.", Pointer + "/data");
        }

        byte[] der;
        try
        {
            der = Convert.FromBase64String(data.GetString()!);
        }
        catch (FormatException)
        {
            return Invalid("serverCertificate.data is not Base64.", Pointer + "/data");
        }

        try
        {
            // DER only: a PEM file encoded once more is not what Apple takes
            if (der.Length == 0 || der[0] != 0x30) throw new CryptographicException("not DER");
            using var certificate = X509CertificateLoader.LoadCertificate(der);
            using var rsa = certificate.GetRSAPublicKey();
            if (rsa is null)
            {
                return Invalid("The certificate's key must be RSA.", Pointer + "/data");
            }

            pem = certificate.ExportCertificatePem();
            return null;
        }
        catch (CryptographicException)
        {
            return Invalid("serverCertificate.data is not an X.509 certificate.", Pointer + "/data");
        }
    }

    /// <summary>defaultProductFamilies: null or an array of Apple's families in any case, stored upper case, once each, sorted.</summary>
    private static Answer? Families(JsonElement value, out List<string> families)
    {
        const string Pointer = Attributes + "defaultProductFamilies";
        families = [];
        if (value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (value.ValueKind != JsonValueKind.Array)
        {
            return Invalid("defaultProductFamilies must be an array.", Pointer);
        }

        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            var family = item.ValueKind == JsonValueKind.String ? item.GetString()!.Trim().ToUpperInvariant() : "";
            if (!BusinessState.ServiceFamilies.ContainsKey(family))
            {
                return Invalid($"'{item}' is not a product family; use {string.Join(", ", BusinessState.ServiceFamilies.Keys)}.", Pointer + "/" + i);
            }

            if (!families.Contains(family)) families.Add(family);
            i++;
        }

        families.Sort(StringComparer.Ordinal);
        return null;
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using AdeEnrollment.Simulator.Service;
using AdeEnrollment.Simulator.Service.Handlers;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Business;

/// <summary>The JSON:API pieces the Business handlers share: answers, Apple's ErrorResponse, fields[], cursor paging.</summary>
internal static class BusinessJson
{
    public static Answer Api(Action<Utf8JsonWriter> write, int status = 200, int deviceCount = 0)
    {
        var json = Answers.Json(write, null);
        return new Answer { Status = status, Body = json.Body, ContentType = "application/json", DeviceCount = deviceCount };
    }

    /// <summary>Apple's ErrorResponse: <c>{"errors":[{id,status,code,title,detail,source?}]}</c>.</summary>
    public static Answer Error(int status, string code, string detail, string? pointer = null, string? parameter = null)
    {
        var body = Answers.Json(w =>
        {
            w.WriteStartArray("errors");
            w.WriteStartObject();
            w.WriteString("id", Guid.NewGuid().ToString("D"));
            w.WriteString("status", status.ToString(CultureInfo.InvariantCulture));
            w.WriteString("code", code);
            w.WriteString("title", code.Replace('_', ' ').ToLowerInvariant());
            w.WriteString("detail", detail);
            if (pointer is not null || parameter is not null)
            {
                w.WriteStartObject("source");
                if (pointer is not null) w.WriteString("pointer", pointer);
                if (parameter is not null) w.WriteString("parameter", parameter);
                w.WriteEndObject();
            }

            w.WriteEndObject();
            w.WriteEndArray();
        }, null);
        return new Answer { Status = status, Body = body.Body, ContentType = "application/json", ErrorCode = code };
    }

    public static Answer NotFound(string type, string id) => Error(404, "NOT_FOUND", $"There is no resource of type '{type}' with id '{id}'.");

    /// <summary>A timestamp as Apple's live answers write the record times (added, created, updated, completed, last connected): with milliseconds.</summary>
    public static string Iso(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    /// <summary>A timestamp without a fraction, as Apple writes order dates, deadlines and coverage dates.</summary>
    public static string IsoZ(DateTimeOffset t) => DeviceJson.Iso(t);

    /// <summary>fields[type] (brackets raw or percent-encoded), or null when absent.</summary>
    public static HashSet<string>? Fields(Exchange x, string type)
    {
        var value = x.Query($"fields[{type}]");
        return value is null ? null : new HashSet<string>(value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries), StringComparer.Ordinal);
    }

    /// <summary>The field names Apple documents per type (API 2.4 / School 1.6): what RejectUnknownFields accepts.</summary>
    public static readonly IReadOnlyDictionary<string, HashSet<string>> DocumentedFields = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal)
    {
        ["orgDevices"] = new(StringComparer.Ordinal)
        {
            "serialNumber", "addedToOrgDateTime", "releasedFromOrgDateTime", "updatedDateTime", "deviceModel", "productFamily", "productType",
            "deviceCapacity", "partNumber", "orderNumber", "color", "status", "orderDateTime", "imei", "meid", "eid", "purchaseSourceId",
            "purchaseSourceType", "wifiMacAddress", "bluetoothMacAddress", "ethernetMacAddress", "assignedServer", "appleCareCoverage",
        },
        ["mdmServers"] = new(StringComparer.Ordinal)
        {
            "serverName", "serverType", "createdDateTime", "updatedDateTime", "status", "deviceCount", "enableMdmDisownFlag",
            "defaultProductFamilies", "lastConnectedDateTime", "lastConnectedIp", "devices",
        },
        ["orgDeviceActivities"] = new(StringComparer.Ordinal) { "status", "subStatus", "createdDateTime", "completedDateTime", "downloadUrl" },
        ["appleCareCoverage"] = new(StringComparer.Ordinal)
        {
            "status", "paymentType", "description", "agreementNumber", "startDateTime", "endDateTime", "isRenewable", "isCanceled", "contractCancelDateTime",
        },
    };

    /// <summary>A 400 for the first fields[type] (raw or encoded brackets) naming a type or field Apple does not document; null when all are documented.</summary>
    public static Answer? UnknownField(Exchange x)
    {
        var query = System.Web.HttpUtility.ParseQueryString(x.Url.Query);
        foreach (var key in query.AllKeys)
        {
            if (key is null || !key.StartsWith("fields[", StringComparison.Ordinal) || !key.EndsWith(']'))
            {
                continue;
            }

            var type = key["fields[".Length..^1];
            if (!DocumentedFields.TryGetValue(type, out var known))
            {
                return Error(400, "PARAMETER_ERROR.INVALID", $"'{type}' is not a valid resource type for fields.", parameter: key);
            }

            foreach (var name in (query.Get(key) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                if (!known.Contains(name))
                {
                    return Error(400, "PARAMETER_ERROR.INVALID", $"'{name}' is not a valid field name for {key}.", parameter: key);
                }
            }
        }

        return null;
    }

    /// <summary>A 400 for the first query parameter Apple does not document (documented: limit, cursor, fields[type]); null when all are.</summary>
    public static Answer? UnknownParameter(Exchange x)
    {
        var query = System.Web.HttpUtility.ParseQueryString(x.Url.Query);
        foreach (var key in query.AllKeys)
        {
            var name = key ?? "";
            if (name is "limit" or "cursor" || (name.StartsWith("fields[", StringComparison.Ordinal) && name.EndsWith(']')))
            {
                continue;
            }

            return Error(400, "PARAMETER_ERROR.INVALID", $"'{name}' is not a valid query parameter.", parameter: name);
        }

        return null;
    }

    public static byte[] Base64Url(string s)
    {
        var b = s.Replace('-', '+').Replace('_', '/');
        if (b.Contains('=', StringComparison.Ordinal)) throw new FormatException("padding");
        return Convert.FromBase64String(b.PadRight(b.Length + ((4 - (b.Length % 4)) % 4), '='));
    }

    /// <summary>
    /// limit (1 to <see cref="BusinessSettings.MaxLimit"/>, 1000 by default) and cursor of a collection request; a bad
    /// one is answered 400 with source.parameter naming it (a limit above the maximum is clamped instead under
    /// LimitOutOfRange Clamp). A cursor carries the simulator
    /// time it was issued at; older than <see cref="BusinessSettings.CursorLifetime"/> it has expired: 400
    /// PARAMETER_ERROR.INVALID with source.parameter "cursor" (Apple documents no lifetime and no answer for it).
    /// </summary>
    public static bool TryPaging(BusinessState b, Exchange x, out int limit, out string? after, out Answer? bad)
    {
        var max = b.Settings.MaxLimit;
        limit = Math.Min(DepLimits.DefaultPageSize, max);
        after = null;
        bad = null;
        var text = x.Query("limit");
        if (text is not null)
        {
            // not a number or below 1: always refused; above the maximum: refused, or clamped (LimitOutOfRange)
            var number = int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out limit);
            if (!number && text.Length > 0 && text.All(char.IsAsciiDigit))
            {
                limit = int.MaxValue; // digits beyond int: out of range, not malformed
                number = true;
            }

            if (!number || limit < 1 || (limit > max && b.Settings.LimitOutOfRange != "Clamp"))
            {
                bad = Error(400, "PARAMETER_ERROR.INVALID", $"limit must be 1 to {max.ToString(CultureInfo.InvariantCulture)}.", parameter: "limit");
                return false;
            }

            limit = Math.Min(limit, max);
        }

        var cursor = x.Query("cursor");
        if (cursor is not null)
        {
            try
            {
                var decoded = Encoding.UTF8.GetString(Base64Url(cursor));
                if (!decoded.StartsWith("after:", StringComparison.Ordinal)) throw new FormatException("cursor");
                after = decoded["after:".Length..];
                var at = after.LastIndexOf('@');
                if (at >= 0)
                {
                    var issued = DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(after[(at + 1)..], NumberStyles.None, CultureInfo.InvariantCulture));
                    after = after[..at];
                    if (b.Settings.CursorLifetime is { } life && b.Time.GetUtcNow() - issued > life)
                    {
                        bad = Error(400, "PARAMETER_ERROR.INVALID", "The cursor has expired. Request the collection again without a cursor.", parameter: "cursor");
                        return false;
                    }
                }
            }
            catch (Exception ex) when (ex is FormatException or OverflowException or ArgumentException)
            {
                bad = Error(400, "PARAMETER_ERROR.INVALID", "The cursor is not valid.", parameter: "cursor");
                return false;
            }
        }

        return true;
    }

    /// <summary>links.self/next and meta.paging (limit, nextCursor, total when the switch says so).</summary>
    public static void WritePaging(Utf8JsonWriter w, BusinessState b, string path, int limit, string? lastKey, int total)
    {
        var issued = b.Time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture);
        var cursor = lastKey is null ? null : Convert.ToBase64String(Encoding.UTF8.GetBytes("after:" + lastKey + "@" + issued)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        w.WriteStartObject("links");
        w.WriteString("self", b.Link(path));
        if (cursor is not null) w.WriteString("next", b.Link(path + "?cursor=" + cursor + (b.Settings.NextLinkWithoutLimit ? "" : "&limit=" + limit.ToString(CultureInfo.InvariantCulture))));
        w.WriteEndObject();
        w.WriteStartObject("meta");
        w.WriteStartObject("paging");
        w.WriteNumber("limit", b.Settings.PagingLimitAsAsked ? limit : 100); // Apple's own example shows 100 for a request of limit=1
        if (cursor is not null) w.WriteString("nextCursor", cursor);
        if (b.Settings.PagingTotal) w.WriteNumber("total", total);
        w.WriteEndObject();
        w.WriteEndObject();
    }
}

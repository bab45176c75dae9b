using System.Text.Json;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Service.Handlers;

/// <summary>Reading the JSON bodies of the ADE endpoints, with Apple's error codes for what is wrong in them.</summary>
internal static class RequestBody
{
    public static bool TryParse(DepRequest r, bool allowEmpty, out JsonElement root, out Answer? bad)
    {
        bad = null;
        root = default;
        if (r.X.Body.Length == 0)
        {
            if (allowEmpty)
            {
                return true;
            }

            bad = r.Error(400, "MALFORMED_REQUEST_BODY");
            return false;
        }

        try
        {
            using var document = JsonDocument.Parse(r.X.Body);
            root = document.RootElement.Clone();
        }
        catch (JsonException)
        {
            bad = r.Error(400, "MALFORMED_REQUEST_BODY");
            return false;
        }

        if (root.ValueKind != JsonValueKind.Object)
        {
            bad = r.Error(400, "MALFORMED_REQUEST_BODY");
            return false;
        }

        return true;
    }

    /// <summary>limit: default 100, at most 1000 (larger values are served as 1000), never more than the page cap.</summary>
    public static bool TryLimit(DepRequest r, JsonElement root, out int limit, out Answer? bad)
    {
        bad = null;
        var cap = r.State.Settings.PageSizeCap ?? DepLimits.MaxPageSize;
        limit = Math.Min(DepLimits.DefaultPageSize, cap);
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("limit", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt32(out var requested) || requested < 0)
        {
            bad = r.Error(400, "MALFORMED_REQUEST_BODY");
            return false;
        }

        limit = Math.Min(requested == 0 ? DepLimits.DefaultPageSize : Math.Min(requested, DepLimits.MaxPageSize), cap);
        return true;
    }

    public static bool TryCursor(DepRequest r, JsonElement root, out string? cursor, out Answer? bad)
    {
        bad = null;
        cursor = null;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("cursor", out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return true;
        }

        if (value.ValueKind != JsonValueKind.String)
        {
            bad = r.Error(400, "INVALID_CURSOR");
            return false;
        }

        cursor = value.GetString();
        return true;
    }

    /// <summary>{"devices": [serial…]}: 1 to 1000 serial numbers (from <paramref name="parsed"/> when the body is already read).</summary>
    public static bool TryDeviceList(DepRequest r, out List<string> serials, out Answer? bad, JsonElement? parsed = null)
    {
        serials = [];
        bad = null;
        JsonElement root;
        if (parsed is { } p)
        {
            root = p;
        }
        else if (!TryParse(r, allowEmpty: false, out root, out bad))
        {
            if (r.X.Body.Length == 0)
            {
                bad = r.Error(400, "DEVICE_ID_REQUIRED");
            }

            return false;
        }

        if (!root.TryGetProperty("devices", out var devices) || devices.ValueKind == JsonValueKind.Null)
        {
            bad = r.Error(400, "DEVICE_ID_REQUIRED");
            return false;
        }

        if (!TryStrings(devices, out serials))
        {
            bad = r.Error(400, "MALFORMED_REQUEST_BODY");
            return false;
        }

        if (serials.Count == 0)
        {
            bad = r.Error(400, "DEVICE_ID_REQUIRED");
            return false;
        }

        if (serials.Count > DepLimits.MaxDevicesPerRequest)
        {
            bad = r.Error(400, "DEVICE_LIMIT_EXCEEDED");
            return false;
        }

        return true;
    }

    /// <summary>A JSON array of strings (false for anything else).</summary>
    public static bool TryStrings(JsonElement array, out List<string> values)
    {
        values = [];
        if (array.ValueKind != JsonValueKind.Array)
        {
            return false;
        }

        foreach (var item in array.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                return false;
            }

            values.Add(item.GetString()!);
        }

        return true;
    }
}

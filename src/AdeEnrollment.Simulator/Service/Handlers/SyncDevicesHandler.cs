using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Service.Handlers;

/// <summary>POST /devices/sync: the changes (added, modified, deleted) after the cursor's place in the server's change log.</summary>
internal static class SyncDevicesHandler
{
    public static Answer Sync(DepRequest r)
    {
        if (!RequestBody.TryParse(r, allowEmpty: true, out var root, out var bad) || !RequestBody.TryLimit(r, root, out var limit, out bad)
            || !RequestBody.TryCursor(r, root, out var cursorText, out bad))
        {
            return bad!;
        }

        if (string.IsNullOrEmpty(cursorText))
        {
            return r.Error(400, "CURSOR_REQUIRED");
        }

        var server = r.Server;
        var key = r.State.CursorKey;
        var cursor = Cursor.Decode(cursorText, key);
        if (cursor is null || cursor.Server != server.Uuid)
        {
            return r.Error(400, "INVALID_CURSOR");
        }

        var now = r.Now;
        if (now - cursor.IssuedAt > DepLimits.CursorLifetime)
        {
            return r.Error(400, "EXPIRED_CURSOR");
        }

        var first = server.FirstEventAfter(cursor.Sequence);
        var take = Math.Min(limit, server.Events.Count - first);
        var last = take > 0 ? server.Events[first + take - 1].Sequence : cursor.Sequence;
        var next = new Cursor('S', server.Uuid, 0, 0, 0, last, now).Encode(key);
        var version = r.X.ProtocolVersion;
        var answer = r.Json(w =>
        {
            w.WriteString("cursor", next);
            w.WriteBoolean("more_to_follow", first + take < server.Events.Count);
            w.WriteString("fetched_until", DeviceJson.Iso(now));
            w.WriteStartArray("devices");
            for (var i = first; i < first + take; i++)
            {
                var e = server.Events[i];
                DeviceJson.WriteDevice(w, e.Device, version, e);
            }

            w.WriteEndArray();
        });
        answer.DeviceCount = take;
        return answer;
    }
}

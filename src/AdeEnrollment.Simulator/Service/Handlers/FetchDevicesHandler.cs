using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Service.Handlers;

/// <summary>
/// POST /server/devices: the full list. Without a cursor it freezes a snapshot of the server's devices (oldest
/// assignment first) whose cursors page through it; the cursor also remembers where the change log stood, for sync.
/// </summary>
internal static class FetchDevicesHandler
{
    public static Answer Fetch(DepRequest r)
    {
        if (!RequestBody.TryParse(r, allowEmpty: true, out var root, out var bad) || !RequestBody.TryLimit(r, root, out var limit, out bad)
            || !RequestBody.TryCursor(r, root, out var cursorText, out bad))
        {
            return bad!;
        }

        var server = r.Server;
        var key = r.State.CursorKey;
        var now = r.Now;
        AdeSimDevice[] snapshot;
        long snapshotId, position, sequence;
        if (string.IsNullOrEmpty(cursorText))
        {
            snapshot = [.. server.Devices.Values.OrderBy(d => d.DeviceAssignedDate).ThenBy(d => d.SerialNumber, StringComparer.Ordinal)];
            snapshotId = ++server.LastSnapshot;
            server.Snapshots[snapshotId] = snapshot;
            while (server.Snapshots.Count > ServerState.MaxSnapshots)
            {
                server.Snapshots.Remove(server.Snapshots.Keys.Min());
            }

            position = 0;
            sequence = server.LastSequence;
        }
        else
        {
            var cursor = Cursor.Decode(cursorText, key);
            if (cursor is null || cursor.Server != server.Uuid)
            {
                return r.Error(400, "INVALID_CURSOR");
            }

            if (cursor.Kind == 'S' || cursor.Position >= cursor.Count)
            {
                return r.Error(400, "EXHAUSTED_CURSOR");
            }

            if (!server.Snapshots.TryGetValue(cursor.Snapshot, out snapshot!))
            {
                return r.Error(400, "INVALID_CURSOR");
            }

            snapshotId = cursor.Snapshot;
            position = cursor.Position;
            sequence = cursor.Sequence;
        }

        var take = (int)Math.Min(limit, snapshot.Length - position);
        var next = new Cursor('F', server.Uuid, snapshotId, position + take, snapshot.Length, sequence, now).Encode(key);
        var version = r.X.ProtocolVersion;
        var answer = r.Json(w =>
        {
            w.WriteString("cursor", next);
            w.WriteBoolean("more_to_follow", position + take < snapshot.Length);
            w.WriteString("fetched_until", DeviceJson.Iso(now));
            w.WriteStartArray("devices");
            for (var i = position; i < position + take; i++)
            {
                DeviceJson.WriteDevice(w, snapshot[i], version, null);
            }

            w.WriteEndArray();
        });
        answer.DeviceCount = take;
        return answer;
    }
}

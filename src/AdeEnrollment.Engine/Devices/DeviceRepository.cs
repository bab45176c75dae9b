using System.Text.Json;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Devices;

/// <summary>Filters of Get-AdeDevice (SPEC §3). Null means "any".</summary>
public sealed record DeviceQuery(Guid? TokenId = null, string? SerialNumber = null, Guid? ProfileId = null, bool Unassigned = false, bool RemovedFromAbm = false);

/// <summary>The device table: pages from Apple applied in the caller's transaction, queries streamed row by row.</summary>
internal static class DeviceRepository
{
    public static readonly TimeSpan PurgeDelay = TimeSpan.FromDays(45);

    private const string UpsertSql =
        """
        INSERT INTO device (token_id, serial_number, model, description, color, asset_tag, os, device_family,
                            profile_id, profile_uuid, profile_status, profile_assign_time, profile_push_time,
                            device_assigned_date, device_assigned_by, removed_at, purge_after, updated_at,
                            last_seen_sync, last_op_date, first_seen_sync)
        VALUES ($t, $s, $model, $desc, $color, $asset, $os, $family,
                (SELECT id FROM profile WHERE token_id = $t AND apple_profile_uuid = $pu), $pu, $ps, $pat, $ppt,
                $dad, $dab, NULL, NULL, $now, $sync, $op, $sync)
        ON CONFLICT (token_id, serial_number) DO UPDATE SET
            model = excluded.model, description = excluded.description, color = excluded.color,
            asset_tag = excluded.asset_tag, os = excluded.os, device_family = excluded.device_family,
            profile_id = CASE WHEN excluded.profile_uuid IS NULL THEN NULL
                              WHEN excluded.profile_uuid = device.profile_uuid AND excluded.profile_id IS NULL THEN device.profile_id
                              ELSE excluded.profile_id END,
            profile_uuid = excluded.profile_uuid, profile_status = excluded.profile_status,
            profile_assign_time = excluded.profile_assign_time, profile_push_time = excluded.profile_push_time,
            device_assigned_date = excluded.device_assigned_date, device_assigned_by = excluded.device_assigned_by,
            removed_at = NULL, purge_after = NULL, updated_at = excluded.updated_at,
            last_seen_sync = excluded.last_seen_sync, last_op_date = excluded.last_op_date
        WHERE excluded.last_op_date IS NULL OR device.last_op_date IS NULL OR excluded.last_op_date >= device.last_op_date
        RETURNING first_seen_sync
        """;

    private const string DeleteOpSql =
        """
        UPDATE device SET removed_at = $at, purge_after = $purge, updated_at = $now, last_op_date = $op
        WHERE token_id = $t AND serial_number = $s AND removed_at IS NULL
          AND ($op IS NULL OR last_op_date IS NULL OR $op >= last_op_date)
        """;

    /// <summary>
    /// Applies one page in the caller's transaction. Within a page, duplicates of a serial are resolved by the
    /// latest op_date; across pages the stored op_date keeps an older event from overwriting a newer one.
    /// </summary>
    public static PageCounts ApplyPage(SqliteConnection c, SqliteTransaction tx, Guid tokenId, long syncId, IReadOnlyList<AppleDevice> page, DateTimeOffset now)
    {
        var counts = new PageCounts { WithoutProfile = [], WithoutProfileUnknownPlatform = [] };
        var latest = new Dictionary<string, AppleDevice>(page.Count, StringComparer.Ordinal);
        foreach (var device in page)
        {
            var serial = NormaliseSerial(device.SerialNumber);
            if (serial.Length == 0)
            {
                continue;
            }

            if (!latest.TryGetValue(serial, out var seen) || (device.OpDate ?? DateTimeOffset.MinValue) >= (seen.OpDate ?? DateTimeOffset.MinValue))
            {
                device.SerialNumber = serial;
                latest[serial] = device;
            }
        }

        // "Added" means the row did not exist before this page. (first_seen_sync cannot tell: a device fetched earlier in
        // the same sync — the delta after a full fetch, or a recovery re-fetch — has this sync's id already.)
        var existing = ExistingSerials(c, tx, tokenId, latest.Keys);
        // Prepared once per page and bound by position: per device, SQLite's own work is then most of the cost.
        using var upsert = new SqliteStatement(c, UpsertSql, "$t", "$s", "$model", "$desc", "$color", "$asset", "$os", "$family", "$pu", "$ps", "$pat", "$ppt", "$dad", "$dab", "$now", "$sync", "$op");
        using var delete = new SqliteStatement(c, DeleteOpSql, "$t", "$s", "$at", "$purge", "$now", "$op");
        var token = tokenId.ToString();
        var nowMs = ToUnixMs(now);
        upsert.Bind(0, token);
        upsert.Bind(14, nowMs);
        upsert.Bind(15, syncId);
        delete.Bind(0, token);
        delete.Bind(4, nowMs);
        foreach (var d in latest.Values)
        {
            long? op = d.OpDate is { } o ? ToUnixMs(o) : null;
            if (string.Equals(d.OpType, "deleted", StringComparison.OrdinalIgnoreCase))
            {
                var at = d.OpDate ?? now;
                delete.Bind(1, d.SerialNumber);
                delete.Bind(2, ToUnixMs(at));
                delete.Bind(3, ToUnixMs(at + PurgeDelay));
                delete.Bind(5, op);
                counts.Removed += delete.Execute();
                continue;
            }

            var profileUuid = string.IsNullOrEmpty(d.ProfileUuid) ? null : d.ProfileUuid;
            upsert.Bind(1, d.SerialNumber);
            upsert.Bind(2, d.Model);
            upsert.Bind(3, d.Description);
            upsert.Bind(4, d.Color);
            upsert.Bind(5, d.AssetTag);
            upsert.Bind(6, d.Os);
            upsert.Bind(7, d.DeviceFamily);
            upsert.Bind(8, profileUuid);
            upsert.Bind(9, d.ProfileStatus?.ToLowerInvariant());
            upsert.Bind(10, Ms(d.ProfileAssignTime));
            upsert.Bind(11, Ms(d.ProfilePushTime));
            upsert.Bind(12, Ms(d.DeviceAssignedDate));
            upsert.Bind(13, d.DeviceAssignedBy);
            upsert.Bind(16, op);
            var firstSeen = upsert.ExecuteScalarInt64();
            if (firstSeen is null)
            {
                continue; // an older event than the one stored: ignored
            }

            var added = !existing.TryGetValue(d.SerialNumber, out var stored);
            if (added)
            {
                counts.Added++;
            }
            else if (stored != Fingerprint(d, profileUuid))
            {
                // Modified counts what Apple changed. An event that only confirms what the store holds — above all
                // the echo of a profile the module assigned itself (DefaultProfileAssigned) — is not a modification.
                counts.Modified++;
            }

            if (profileUuid is null && (added || !string.Equals(d.OpType, "modified", StringComparison.OrdinalIgnoreCase)))
            {
                // The platform comes from the page in hand (no read per device): each one gets its own platform's default.
                if (Profiles.DevicePlatforms.Of(d.DeviceFamily, d.Os) is { } platform)
                {
                    if (!counts.WithoutProfile!.TryGetValue(platform, out var list))
                    {
                        counts.WithoutProfile[platform] = list = [];
                    }

                    list.Add(d.SerialNumber);
                }
                else
                {
                    counts.WithoutProfileUnknownPlatform!.Add(d.SerialNumber);
                }
            }
        }

        return counts;
    }

    /// <summary>The page's serials already stored, each with the fingerprint of what Apple last said about it.</summary>
    private static Dictionary<string, string> ExistingSerials(SqliteConnection c, SqliteTransaction tx, Guid tokenId, IEnumerable<string> serials)
    {
        using var command = c.Command(
            // CROSS JOIN keeps the page's serials as the outer loop: one primary-key probe per serial, never a scan.
            """
            SELECT d.serial_number, d.model, d.description, d.color, d.asset_tag, d.os, d.device_family, d.profile_uuid,
                   d.profile_status, d.profile_push_time, d.device_assigned_date, d.device_assigned_by, d.removed_at
            FROM json_each($s) j CROSS JOIN device d WHERE d.token_id = $t AND d.serial_number = j.value
            """,
            ("$s", JsonSerializer.Serialize(serials)), ("$t", tokenId.ToString()));
        command.Transaction = tx;
        using var r = command.ExecuteReader();
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        while (r.Read())
        {
            map[r.GetString(0)] = r.IsDBNull(12)
                ? Fingerprint(r.GetStringOrNull(1), r.GetStringOrNull(2), r.GetStringOrNull(3), r.GetStringOrNull(4), r.GetStringOrNull(5),
                    r.GetStringOrNull(6), r.GetStringOrNull(7), r.GetStringOrNull(8), r.GetInt64OrNull(9), r.GetInt64OrNull(10), r.GetStringOrNull(11))
                : "removed"; // a device Apple lists again after it was removed from ABM has changed
        }

        return map;
    }

    // The fields of Apple's device record that the store keeps, except the profile assign time (re-assigning the same
    // profile is no change of the device).
    private static string Fingerprint(AppleDevice d, string? profileUuid)
        => Fingerprint(d.Model, d.Description, d.Color, d.AssetTag, d.Os, d.DeviceFamily, profileUuid, d.ProfileStatus?.ToLowerInvariant(),
            Ms(d.ProfilePushTime), Ms(d.DeviceAssignedDate), d.DeviceAssignedBy);

    private static string Fingerprint(string? model, string? description, string? color, string? assetTag, string? os, string? family,
        string? profileUuid, string? profileStatus, long? pushTime, long? assignedDate, string? assignedBy)
        => string.Join('\u001f', model, description, color, assetTag, os, family, profileUuid, profileStatus, pushTime, assignedDate, assignedBy);

    /// <summary>After a complete full fetch: devices Apple no longer returned are marked RemovedFromAbm.</summary>
    public static int MarkUnseenRemoved(SqliteConnection c, SqliteTransaction tx, Guid tokenId, long syncId, DateTimeOffset now)
    {
        using var command = c.Command(
            """
            UPDATE device SET removed_at = $now, purge_after = $purge, updated_at = $now
            WHERE token_id = $t AND removed_at IS NULL AND (last_seen_sync IS NULL OR last_seen_sync <> $sync)
            """,
            ("$t", tokenId.ToString()), ("$now", ToUnixMs(now)), ("$purge", ToUnixMs(now + PurgeDelay)), ("$sync", syncId));
        command.Transaction = tx;
        return command.ExecuteNonQuery();
    }

    /// <summary>Deletes devices whose 45 days after removal from ABM have passed.</summary>
    public static int Purge(SqliteConnection c, SqliteTransaction tx, Guid tokenId, DateTimeOffset now)
    {
        using var command = c.Command("DELETE FROM device WHERE token_id = $t AND purge_after IS NOT NULL AND purge_after <= $now",
            ("$t", tokenId.ToString()), ("$now", ToUnixMs(now)));
        command.Transaction = tx;
        return command.ExecuteNonQuery();
    }

    /// <summary>Streams devices matching <paramref name="query"/>, ordered by token then serial. Never materialises the set.</summary>
    public static IEnumerable<AdeDevice> Query(AdeStore store, DeviceQuery query)
    {
        using var c = store.OpenConnection();
        var serial = query.SerialNumber is null ? null : query.SerialNumber.Trim().ToUpperInvariant();
        var serialPattern = serial is not null && Wildcard.HasWildcard(serial) ? Wildcard.Parse(serial) : null;
        // Only the filters given are in the WHERE clause: "($s IS NULL OR d.serial_number = $s)" would keep SQLite from
        // using an index, and one serial among 200,000 would be a scan of every device.
        var filters = new List<string>(5);
        var parameters = new List<(string Name, object? Value)>(3);
        if (query.TokenId is { } tokenId)
        {
            filters.Add("d.token_id = $t");
            parameters.Add(("$t", tokenId.ToString()));
        }

        if (serial is not null && serialPattern is null)
        {
            filters.Add("d.serial_number = $s");
            parameters.Add(("$s", serial));
        }

        if (query.ProfileId is { } profileId)
        {
            filters.Add("d.profile_id = $p");
            parameters.Add(("$p", profileId.ToString()));
        }

        if (query.Unassigned)
        {
            filters.Add("d.profile_id IS NULL");
        }

        if (query.RemovedFromAbm)
        {
            filters.Add("d.removed_at IS NOT NULL");
        }

        using var command = c.Command(
            $"""
            SELECT d.serial_number, d.model, d.description, d.color, d.asset_tag, d.os, d.device_family,
                   p.name, d.profile_id, d.profile_status, d.profile_assign_time, d.profile_push_time,
                   d.device_assigned_date, d.device_assigned_by, d.removed_at, d.purge_after, t.name, t.id, t.scope_tags
            FROM device d JOIN token t ON t.id = d.token_id LEFT JOIN profile p ON p.id = d.profile_id
            {(filters.Count == 0 ? "" : "WHERE " + string.Join(" AND ", filters))}
            ORDER BY t.name, d.serial_number
            """,
            [.. parameters]);
        using var reader = command.ExecuteReader();
        string? lastTags = null;
        IReadOnlyList<string> tags = ValueList<string>.Empty;
        while (reader.Read())
        {
            var sn = reader.GetString(0);
            if (serialPattern is not null && !serialPattern.IsMatch(sn))
            {
                continue;
            }

            var tagJson = reader.GetString(18);
            if (!ReferenceEquals(tagJson, lastTags) && tagJson != lastTags)
            {
                tags = ValueList.Of(JsonSerializer.Deserialize<string[]>(tagJson));
                lastTags = tagJson;
            }

            var removedAt = reader.GetInt64OrNull(14);
            yield return new AdeDevice
            {
                SerialNumber = sn,
                Model = reader.GetStringOrNull(1),
                Description = reader.GetStringOrNull(2),
                Color = reader.GetStringOrNull(3),
                AssetTag = reader.GetStringOrNull(4),
                OS = reader.GetStringOrNull(5),
                DeviceFamily = reader.GetStringOrNull(6),
                EnrollmentProfileName = reader.GetStringOrNull(7) ?? "",
                ProfileId = reader.GetStringOrNull(8) is { } pid ? Guid.Parse(pid) : null,
                ProfileStatus = ParseStatus(reader.GetStringOrNull(9)),
                ProfileAssignedAt = Time(reader.GetInt64OrNull(10)),
                ProfilePushedAt = Time(reader.GetInt64OrNull(11)),
                AssignedAt = Time(reader.GetInt64OrNull(12)),
                AssignedBy = reader.GetStringOrNull(13),
                AbmState = removedAt is null ? AdeAbmState.Assigned : AdeAbmState.RemovedFromAbm,
                RemovedAt = Time(removedAt),
                PurgeAfter = Time(reader.GetInt64OrNull(15)),
                Token = reader.GetString(16),
                TokenId = Guid.Parse(reader.GetString(17)),
                ScopeTags = tags,
            };
        }
    }

    public static string NormaliseSerial(string? serial) => (serial ?? "").Trim().ToUpperInvariant();

    private static AdeProfileStatus ParseStatus(string? status) => status switch
    {
        "assigned" => AdeProfileStatus.Assigned,
        "pushed" => AdeProfileStatus.Pushed,
        "removed" => AdeProfileStatus.Removed,
        _ => AdeProfileStatus.Empty,
    };

    private static DateTimeOffset? Time(long? ms) => ms is null ? null : ToTime(ms.Value);

    private static long? Ms(DateTimeOffset? t) => t is null ? null : ToUnixMs(t.Value);
}

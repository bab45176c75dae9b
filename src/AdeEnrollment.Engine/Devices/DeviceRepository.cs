using System.Text.Json;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Devices;

/// <summary>Filters of Get-AdeDevice (docs/Get-AdeDevice.md). Null means "any".</summary>
public sealed record DeviceQuery(Guid? TokenId = null, string? SerialNumber = null, Guid? ProfileId = null, bool Unassigned = false, bool RemovedFromAbm = false,
    string? LastAssignmentResult = null, bool ReplacementDevice = false, DateTimeOffset? MigrationDeadlineBefore = null);

/// <summary>The device table: pages from Apple applied in the caller's transaction, queries streamed row by row.</summary>
internal static class DeviceRepository
{
    public static readonly TimeSpan PurgeDelay = TimeSpan.FromDays(45);

    private const string UpsertSql =
        """
        INSERT INTO device (token_id, serial_number, model, description, color, asset_tag, os, device_family,
                            profile_id, profile_uuid, profile_status, profile_assign_time, profile_push_time,
                            device_assigned_date, device_assigned_by, removed_at, purge_after, updated_at,
                            last_seen_sync, last_op_date, first_seen_sync, mdm_migration_deadline, is_replacement_device)
        VALUES ($t, $s, $model, $desc, $color, $asset, $os, $family,
                (SELECT id FROM profile WHERE token_id = $t AND apple_profile_uuid = $pu), $pu, $ps, $pat, $ppt,
                $dad, $dab, NULL, NULL, $now, $sync, $op, $sync, $mmd, $rep)
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
            last_seen_sync = excluded.last_seen_sync, last_op_date = excluded.last_op_date,
            mdm_migration_deadline = excluded.mdm_migration_deadline, is_replacement_device = excluded.is_replacement_device
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
        var existing = ExistingDevices(c, tx, tokenId, latest.Keys);
        // The journal entries of the page, written by one statement at the end (DeviceJournal.Write).
        var events = new List<DeviceJournal.Entry>(latest.Count);
        // Prepared once per page and bound by position: per device, SQLite's own work is then most of the cost.
        using var upsert = new SqliteStatement(c, UpsertSql, "$t", "$s", "$model", "$desc", "$color", "$asset", "$os", "$family", "$pu", "$ps", "$pat", "$ppt", "$dad", "$dab", "$now", "$sync", "$op", "$mmd", "$rep");
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
                if (delete.Execute() > 0)
                {
                    counts.Removed++;
                    events.Add(new(d.SerialNumber, AdeDeviceEventKind.DeletedFromAbm));
                }

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
            upsert.Bind(17, Ms(d.MdmMigrationDeadline));
            upsert.Bind(18, d.IsReplacementDevice is { } r ? (r ? 1L : 0L) : null);
            var firstSeen = upsert.ExecuteScalarInt64();
            if (firstSeen is null)
            {
                continue; // an older event than the one stored: ignored
            }

            var added = !existing.TryGetValue(d.SerialNumber, out var before);
            if (added)
            {
                counts.Added++;
                events.Add(new(d.SerialNumber, AdeDeviceEventKind.Added));
            }
            else if (ChangedFields(before!, d, profileUuid) is { Length: > 0 } changed && changed != "ProfileAssignedAt")
            {
                // Modified counts (and journals) what Apple changed. An event that only confirms what the store holds —
                // above all the echo of a profile the module assigned itself, whose assign time is Apple's — is not one.
                counts.Modified++;
                events.Add(new(d.SerialNumber, AdeDeviceEventKind.Modified, changed));
            }

            if (profileUuid is null && (added || !string.Equals(d.OpType, "modified", StringComparison.OrdinalIgnoreCase)))
            {
                // The platform comes from the page in hand (no read per device): each one gets its own platform's default.
                if (Model.DevicePlatforms.Of(d.DeviceFamily, d.Os) is { } platform)
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

        DeviceJournal.Write(c, tx, tokenId, now, events);
        return counts;
    }

    /// <summary>What the store held for a device before a page: compared with Apple's record for the Modified event.</summary>
    private sealed record Before(string?[] Text, long?[] Numbers);

    private static readonly string[] TextFields = ["Model", "Description", "Color", "AssetTag", "OS", "DeviceFamily", "ProfileUuid", "ProfileStatus", "AssignedBy"];
    private static readonly string[] TimeFields = ["ProfileAssignedAt", "ProfilePushedAt", "AssignedAt", "MdmMigrationDeadline", "IsReplacementDevice", "AbmState"];

    private static Dictionary<string, Before> ExistingDevices(SqliteConnection c, SqliteTransaction tx, Guid tokenId, IEnumerable<string> serials)
    {
        using var command = c.Command(
            // CROSS JOIN keeps the page's serials as the outer loop: one primary-key probe per serial, never a scan.
            """
            SELECT d.serial_number, d.model, d.description, d.color, d.asset_tag, d.os, d.device_family, d.profile_uuid,
                   d.profile_status, d.device_assigned_by, d.profile_assign_time, d.profile_push_time, d.device_assigned_date,
                   d.mdm_migration_deadline, d.is_replacement_device, d.removed_at
            FROM json_each($s) j CROSS JOIN device d WHERE d.token_id = $t AND d.serial_number = j.value
            """,
            ("$s", JsonSerializer.Serialize(serials)), ("$t", tokenId.ToString()));
        command.Transaction = tx;
        using var r = command.ExecuteReader();
        var map = new Dictionary<string, Before>(StringComparer.Ordinal);
        while (r.Read())
        {
            var text = new string?[TextFields.Length];
            for (var i = 0; i < text.Length; i++) text[i] = r.GetStringOrNull(1 + i);
            var numbers = new long?[TimeFields.Length];
            for (var i = 0; i < numbers.Length - 1; i++) numbers[i] = r.GetInt64OrNull(1 + TextFields.Length + i);
            numbers[^1] = r.IsDBNull(15) ? 0 : 1; // AbmState: 1 = was RemovedFromAbm
            map[r.GetString(0)] = new Before(text, numbers);
        }

        return map;
    }

    /// <summary>The names of the device properties Apple's record changes, joined with ", " (empty: nothing changed).</summary>
    private static string ChangedFields(Before before, AppleDevice d, string? profileUuid)
    {
        string?[] text = [d.Model, d.Description, d.Color, d.AssetTag, d.Os, d.DeviceFamily, profileUuid, d.ProfileStatus?.ToLowerInvariant(), d.DeviceAssignedBy];
        long?[] numbers = [Ms(d.ProfileAssignTime), Ms(d.ProfilePushTime), Ms(d.DeviceAssignedDate), Ms(d.MdmMigrationDeadline),
            d.IsReplacementDevice is { } r ? (r ? 1 : 0) : null, 0];
        var changed = new List<string>();
        for (var i = 0; i < text.Length; i++)
        {
            if (!string.Equals(before.Text[i], text[i], StringComparison.Ordinal))
            {
                changed.Add(TextFields[i] == "ProfileUuid" ? "EnrollmentProfile" : TextFields[i]);
            }
        }

        for (var i = 0; i < numbers.Length; i++)
        {
            if (before.Numbers[i] != numbers[i])
            {
                changed.Add(TimeFields[i]);
            }
        }

        return string.Join(", ", changed);
    }

    /// <summary>
    /// Update-AdeDevice: Apple's details of known devices (POST /devices) written over the stored ones, with a Modified
    /// event naming the changed fields, in the caller's transaction. Devices not in the store are not added.
    /// </summary>
    public static int ApplyDetails(SqliteConnection c, SqliteTransaction tx, Guid tokenId, IReadOnlyList<AppleDevice> devices, DateTimeOffset now)
    {
        if (devices.Count == 0)
        {
            return 0;
        }

        var existing = ExistingDevices(c, tx, tokenId, devices.Select(d => d.SerialNumber));
        var events = new List<DeviceJournal.Entry>();
        using var update = new SqliteStatement(c,
            """
            UPDATE device SET model = coalesce($model, model), description = coalesce($desc, description), color = coalesce($color, color),
                   asset_tag = coalesce($asset, asset_tag), os = coalesce($os, os), device_family = coalesce($family, device_family),
                   profile_id = CASE WHEN $pu IS NULL THEN NULL WHEN $pu = profile_uuid THEN profile_id
                                     ELSE (SELECT id FROM profile WHERE token_id = $t AND apple_profile_uuid = $pu) END,
                   profile_uuid = $pu, profile_status = $ps, profile_assign_time = $pat, profile_push_time = $ppt,
                   device_assigned_date = coalesce($dad, device_assigned_date), device_assigned_by = coalesce($dab, device_assigned_by),
                   mdm_migration_deadline = $mmd, is_replacement_device = $rep, updated_at = $now
            WHERE token_id = $t AND serial_number = $s
            """, "$t", "$s", "$model", "$desc", "$color", "$asset", "$os", "$family", "$pu", "$ps", "$pat", "$ppt", "$dad", "$dab", "$mmd", "$rep", "$now");
        update.Bind(0, tokenId.ToString());
        update.Bind(16, ToUnixMs(now));
        var n = 0;
        foreach (var d in devices)
        {
            if (!existing.TryGetValue(d.SerialNumber, out var before))
            {
                continue;
            }

            var profileUuid = string.IsNullOrEmpty(d.ProfileUuid) ? null : d.ProfileUuid;
            update.Bind(1, d.SerialNumber);
            update.Bind(2, d.Model);
            update.Bind(3, d.Description);
            update.Bind(4, d.Color);
            update.Bind(5, d.AssetTag);
            update.Bind(6, d.Os);
            update.Bind(7, d.DeviceFamily);
            update.Bind(8, profileUuid);
            update.Bind(9, d.ProfileStatus?.ToLowerInvariant());
            update.Bind(10, Ms(d.ProfileAssignTime));
            update.Bind(11, Ms(d.ProfilePushTime));
            update.Bind(12, Ms(d.DeviceAssignedDate));
            update.Bind(13, d.DeviceAssignedBy);
            update.Bind(14, Ms(d.MdmMigrationDeadline));
            update.Bind(15, d.IsReplacementDevice is { } r ? (r ? 1L : 0L) : null);
            n += update.Execute();
            // Fields Apple left out of the details keep their stored value, so they are compared as unchanged.
            var merged = new AppleDevice
            {
                Model = d.Model ?? before.Text[0], Description = d.Description ?? before.Text[1], Color = d.Color ?? before.Text[2],
                AssetTag = d.AssetTag ?? before.Text[3], Os = d.Os ?? before.Text[4], DeviceFamily = d.DeviceFamily ?? before.Text[5],
                ProfileStatus = d.ProfileStatus, DeviceAssignedBy = d.DeviceAssignedBy ?? before.Text[8],
                ProfileAssignTime = d.ProfileAssignTime, ProfilePushTime = d.ProfilePushTime,
                DeviceAssignedDate = d.DeviceAssignedDate ?? Time(before.Numbers[2]), MdmMigrationDeadline = d.MdmMigrationDeadline,
                IsReplacementDevice = d.IsReplacementDevice,
            };
            var changed = ChangedFields(before with { Numbers = [.. before.Numbers[..^1], 0] }, merged, profileUuid);
            if (changed.Length > 0)
            {
                events.Add(new(d.SerialNumber, AdeDeviceEventKind.Modified, changed));
            }
        }

        DeviceJournal.Write(c, tx, tokenId, now, events);
        return n;
    }

    /// <summary>After a complete full fetch: devices Apple no longer returned are marked RemovedFromAbm.</summary>
    public static int MarkUnseenRemoved(SqliteConnection c, SqliteTransaction tx, Guid tokenId, long syncId, DateTimeOffset now)
    {
        DeviceJournal.WriteWhere(c, tx, AdeDeviceEventKind.DeletedFromAbm, now,
            "token_id = $t AND removed_at IS NULL AND (last_seen_sync IS NULL OR last_seen_sync <> $sync)", ("$t", tokenId.ToString()), ("$sync", syncId));
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
        DeviceJournal.WriteWhere(c, tx, AdeDeviceEventKind.Purged, now,
            "token_id = $t AND purge_after IS NOT NULL AND purge_after <= $now", ("$t", tokenId.ToString()), ("$now", ToUnixMs(now)));
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

        if (query.LastAssignmentResult is { } result)
        {
            filters.Add("d.last_attempt_result = $lar");
            parameters.Add(("$lar", result));
        }

        if (query.ReplacementDevice)
        {
            filters.Add("d.is_replacement_device = 1");
        }

        if (query.MigrationDeadlineBefore is { } deadline)
        {
            filters.Add("d.mdm_migration_deadline < $mmd");
            parameters.Add(("$mmd", ToUnixMs(deadline)));
        }

        using var command = c.Command(
            $"""
            SELECT d.serial_number, d.model, d.description, d.color, d.asset_tag, d.os, d.device_family,
                   p.name, d.profile_id, d.profile_status, d.profile_assign_time, d.profile_push_time,
                   d.device_assigned_date, d.device_assigned_by, d.removed_at, d.purge_after, t.name, t.id, t.scope_tags,
                   d.mdm_migration_deadline, d.is_replacement_device, d.last_attempt_at, d.last_attempt_profile, d.last_attempt_result, d.released_at
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
                MdmMigrationDeadline = Time(reader.GetInt64OrNull(19)),
                IsReplacementDevice = reader.GetInt64OrNull(20) is { } rep ? rep != 0 : null,
                LastAssignmentAt = Time(reader.GetInt64OrNull(21)),
                LastAssignmentProfile = reader.GetStringOrNull(22),
                LastAssignmentResult = reader.GetStringOrNull(23),
                ReleasedAt = Time(reader.GetInt64OrNull(24)),
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

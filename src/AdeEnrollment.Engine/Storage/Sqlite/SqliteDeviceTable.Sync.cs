using System.Runtime.CompilerServices;
using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: the writes of a device sync on table device.</summary>
internal sealed partial class SqliteDeviceTable
{
    // A device's profile: the one an attempt of this page assigned ($pid), else the store's profile with Apple's UUID;
    // when the UUID is unchanged and the store has no profile of that UUID, the device keeps the profile it has.
    private const string SyncUpsertSql =
        """
        INSERT INTO device (token_id, serial_number, model, description, color, asset_tag, os, device_family,
                            profile_id, profile_uuid, profile_status, profile_assign_time, profile_push_time,
                            device_assigned_date, device_assigned_by, removed_at, purge_after, updated_at,
                            last_seen_sync, last_op_date, first_seen_sync, mdm_migration_deadline, is_replacement_device,
                            assign_failed_at, last_attempt_at, last_attempt_profile, last_attempt_result)
        VALUES ($t, $s, $model, $desc, $color, $asset, $os, $family,
                CASE WHEN $pid IS NOT NULL THEN $pid WHEN $pu IS NOT NULL THEN (SELECT id FROM profile WHERE token_id = $t AND apple_profile_uuid = $pu) END, $pu, $ps, $pat, $ppt,
                $dad, $dab, NULL, NULL, $now, $sync, $op, $sync, $mmd, $rep,
                $afa, $lat, $lap, $lar)
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
            mdm_migration_deadline = excluded.mdm_migration_deadline, is_replacement_device = excluded.is_replacement_device,
            assign_failed_at = CASE WHEN excluded.last_attempt_at IS NULL THEN device.assign_failed_at ELSE excluded.assign_failed_at END,
            last_attempt_at = coalesce(excluded.last_attempt_at, device.last_attempt_at),
            last_attempt_profile = CASE WHEN excluded.last_attempt_at IS NULL THEN device.last_attempt_profile ELSE excluded.last_attempt_profile END,
            last_attempt_result = CASE WHEN excluded.last_attempt_at IS NULL THEN device.last_attempt_result ELSE excluded.last_attempt_result END
        """;

    private const string SyncRemovalSql =
        "UPDATE device SET removed_at = $at, purge_after = $purge, updated_at = $now, last_op_date = $op WHERE token_id = $t AND serial_number = $s";

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
    public IReadOnlyDictionary<string, StoredSyncDevice> GetForSync(Guid tokenId, IReadOnlyCollection<string> serials)
    {
        var map = new Dictionary<string, StoredSyncDevice>(serials.Count, StringComparer.Ordinal);
        if (serials.Count == 0)
        {
            return map;
        }

        using var command = SyncCommand(
            // CROSS JOIN keeps the page's serials as the outer loop: one primary-key probe per serial, never a scan.
            """
            SELECT d.serial_number, d.model, d.description, d.color, d.asset_tag, d.os, d.device_family, d.profile_uuid,
                   d.profile_status, d.profile_assign_time, d.profile_push_time, d.device_assigned_date, d.device_assigned_by,
                   d.mdm_migration_deadline, d.is_replacement_device, d.removed_at, d.last_op_date
            FROM json_each($s) j CROSS JOIN device d WHERE d.token_id = $t AND d.serial_number = j.value
            """,
            ("$s", JsonArray(serials, s => s)), ("$t", tokenId.ToString()));
        using var r = command.ExecuteReader();
        int serial = r.GetOrdinal("serial_number"), model = r.GetOrdinal("model"), description = r.GetOrdinal("description"), color = r.GetOrdinal("color"),
            asset = r.GetOrdinal("asset_tag"), os = r.GetOrdinal("os"), family = r.GetOrdinal("device_family"), uuid = r.GetOrdinal("profile_uuid"),
            status = r.GetOrdinal("profile_status"), assignTime = r.GetOrdinal("profile_assign_time"), pushTime = r.GetOrdinal("profile_push_time"),
            assignedAt = r.GetOrdinal("device_assigned_date"), assignedBy = r.GetOrdinal("device_assigned_by"),
            deadline = r.GetOrdinal("mdm_migration_deadline"), replacement = r.GetOrdinal("is_replacement_device"),
            removed = r.GetOrdinal("removed_at"), lastOp = r.GetOrdinal("last_op_date");
        while (r.Read())
        {
            var details = new DeviceDetailsRow(
                r.GetString(serial),
                r.GetStringOrNull(model),
                r.GetStringOrNull(description),
                r.GetStringOrNull(color),
                r.GetStringOrNull(asset),
                r.GetStringOrNull(os),
                r.GetStringOrNull(family),
                r.GetStringOrNull(uuid),
                r.GetStringOrNull(status),
                SyncTime(r.GetInt64OrNull(assignTime)),
                SyncTime(r.GetInt64OrNull(pushTime)),
                SyncTime(r.GetInt64OrNull(assignedAt)),
                r.GetStringOrNull(assignedBy),
                SyncTime(r.GetInt64OrNull(deadline)),
                r.GetInt64OrNull(replacement) is { } rep ? rep != 0 : null);
            map[details.SerialNumber] = new StoredSyncDevice(new DeviceStateRow(details, !r.IsDBNull(removed)), SyncTime(r.GetInt64OrNull(lastOp)));
        }

        return map;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
    public void WriteSyncPage(Guid tokenId, long syncId, DateTimeOffset now, IReadOnlyList<SyncDeviceUpsert> upserts, IReadOnlyList<SyncDeviceRemoval> removals)
    {
        var token = tokenId.ToString();
        var nowMs = ToUnixMs(now);
        if (upserts.Count > 0)
        {
            // Prepared once per page and bound by position: per device, SQLite's own work is then most of the cost.
            using var upsert = new SqliteStatement(connection, SyncUpsertSql, "$t", "$s", "$model", "$desc", "$color", "$asset", "$os", "$family", "$pu", "$ps",
                "$pat", "$ppt", "$dad", "$dab", "$now", "$sync", "$op", "$mmd", "$rep", "$pid", "$afa", "$lat", "$lap", "$lar");
            upsert.Bind(0, token);
            upsert.Bind(14, nowMs);
            upsert.Bind(15, syncId);
            foreach (var (d, opDate, attempt, _) in upserts)
            {
                upsert.Bind(1, d.SerialNumber);
                upsert.Bind(2, d.Model);
                upsert.Bind(3, d.Description);
                upsert.Bind(4, d.Color);
                upsert.Bind(5, d.AssetTag);
                upsert.Bind(6, d.Os);
                upsert.Bind(7, d.DeviceFamily);
                upsert.Bind(10, SyncMs(d.ProfileAssignTime));
                upsert.Bind(11, SyncMs(d.ProfilePushTime));
                upsert.Bind(12, SyncMs(d.AssignedAt));
                upsert.Bind(13, d.AssignedBy);
                upsert.Bind(16, SyncMs(opDate));
                upsert.Bind(17, SyncMs(d.MdmMigrationDeadline));
                upsert.Bind(18, d.IsReplacementDevice is { } r ? (r ? 1L : 0L) : null);
                if (attempt?.Assigned is { } assigned)
                {
                    // The profile the attempt gave it, as it would be after Apple's next report of it.
                    upsert.Bind(8, assigned.ProfileUuid);
                    upsert.Bind(9, "assigned");
                    upsert.Bind(10, ToUnixMs(attempt.At));
                    upsert.Bind(19, assigned.ProfileId.ToString());
                }
                else
                {
                    upsert.Bind(8, d.ProfileUuid);
                    upsert.Bind(9, d.ProfileStatus);
                    upsert.Bind(19, (string?)null);
                }

                upsert.Bind(20, attempt is { Failed: true } ? ToUnixMs(attempt.At) : null);
                upsert.Bind(21, attempt is null ? null : ToUnixMs(attempt.At));
                upsert.Bind(22, attempt?.ProfileName);
                upsert.Bind(23, attempt?.Result);
                upsert.Execute();
            }
        }

        if (removals.Count > 0)
        {
            using var remove = new SqliteStatement(connection, SyncRemovalSql, "$t", "$s", "$at", "$purge", "$now", "$op");
            remove.Bind(0, token);
            remove.Bind(4, nowMs);
            foreach (var d in removals)
            {
                remove.Bind(1, d.SerialNumber);
                remove.Bind(2, ToUnixMs(d.RemovedAt));
                remove.Bind(3, ToUnixMs(d.PurgeAfter));
                remove.Bind(5, SyncMs(d.OpDate));
                remove.Execute();
            }
        }
    }

    public IReadOnlyList<string> MarkUnseenRemoved(Guid tokenId, long syncId, DateTimeOffset now, DateTimeOffset purgeAfter)
        => SyncSerials(
            """
            UPDATE device SET removed_at = $now, purge_after = $purge, updated_at = $now
            WHERE token_id = $t AND removed_at IS NULL AND (last_seen_sync IS NULL OR last_seen_sync <> $sync)
            RETURNING serial_number
            """,
            ("$t", tokenId.ToString()), ("$now", ToUnixMs(now)), ("$purge", ToUnixMs(purgeAfter)), ("$sync", syncId));

    public IReadOnlyList<string> PurgeDue(Guid tokenId, DateTimeOffset now)
        => SyncSerials("DELETE FROM device WHERE token_id = $t AND purge_after IS NOT NULL AND purge_after <= $now RETURNING serial_number",
            ("$t", tokenId.ToString()), ("$now", ToUnixMs(now)));

    public SyncDeviceTotals CountForSync(Guid tokenId)
    {
        using var command = SyncCommand("SELECT count(*) AS all_devices, count(*) - count(removed_at) AS in_abm FROM device WHERE token_id = $t", ("$t", tokenId.ToString()));
        using var r = command.ExecuteReader();
        r.Read();
        return new SyncDeviceTotals(r.GetInt64(r.GetOrdinal("all_devices")), r.GetInt64(r.GetOrdinal("in_abm")));
    }

    private List<string> SyncSerials(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = SyncCommand(sql, parameters);
        using var r = command.ExecuteReader();
        var serial = r.GetOrdinal("serial_number");
        var list = new List<string>();
        while (r.Read())
        {
            list.Add(r.GetString(serial));
        }

        return list;
    }

    private SqliteCommand SyncCommand(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.Command(sql, parameters);
        command.Transaction = transaction;
        return command;
    }

    private static DateTimeOffset? SyncTime(long? ms) => ms is { } v ? ToTime(v) : null;

    private static long? SyncMs(DateTimeOffset? time) => time is { } t ? ToUnixMs(t) : null;
}

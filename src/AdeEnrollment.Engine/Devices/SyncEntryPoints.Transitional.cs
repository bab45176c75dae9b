using AdeEnrollment.Engine.Apple;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Storage.Sqlite;
using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Devices;

// TRANSITIONAL: the entry points that SyncService, AssignmentService and StoreService still call with a raw SQLite
// connection and transaction. They are thin wrappers over a session (SqliteSession over the caller's transaction);
// the page writes of a sync (upsert of a page, unseen and purged devices) keep their SQL here only until they move to
// IDeviceTable.Sync / SqliteDeviceTable.Sync. Delete this file once no caller is left.

internal static partial class DeviceRepository
{
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
        var s = new SqliteSession(c, tx);
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
        var existing = s.Devices.States(tokenId, latest.Keys);
        // The journal entries of the page, appended as one batch at the end.
        var events = new List<NewDeviceEventRow>(latest.Count);
        // Prepared once per page and bound by position: per device, SQLite's own work is then most of the cost.
        using var upsert = new SqliteStatement(c, UpsertSql, [.. SqliteDeviceTable.DetailParameters, "$t", "$now", "$sync", "$op"]);
        using var delete = new SqliteStatement(c, DeleteOpSql, "$t", "$s", "$at", "$purge", "$now", "$op");
        var token = tokenId.ToString();
        var nowMs = ToUnixMs(now);
        var extra = SqliteDeviceTable.DetailParameters.Length;
        upsert.Bind(extra, token);
        upsert.Bind(extra + 1, nowMs);
        upsert.Bind(extra + 2, syncId);
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

            var details = Details(d);
            SqliteDeviceTable.BindDetails(upsert, details);
            upsert.Bind(extra + 3, op);
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
            else if (ChangedFields(before!, details) is { Length: > 0 } changed && changed != "ProfileAssignedAt")
            {
                // Modified counts (and journals) what Apple changed. An event that only confirms what the store holds —
                // above all the echo of a profile the module assigned itself, whose assign time is Apple's — is not one.
                counts.Modified++;
                events.Add(new(d.SerialNumber, AdeDeviceEventKind.Modified, changed));
            }

            if (details.ProfileUuid is null && (added || !string.Equals(d.OpType, "modified", StringComparison.OrdinalIgnoreCase)))
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

        s.DeviceEvents.Append(tokenId, now, events);
        return counts;
    }

    /// <summary>After a complete full fetch: devices Apple no longer returned are marked RemovedFromAbm.</summary>
    public static int MarkUnseenRemoved(SqliteConnection c, SqliteTransaction tx, Guid tokenId, long syncId, DateTimeOffset now)
    {
        EventForEachDevice(c, tx, AdeDeviceEventKind.DeletedFromAbm, now,
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
        EventForEachDevice(c, tx, AdeDeviceEventKind.Purged, now,
            "token_id = $t AND purge_after IS NOT NULL AND purge_after <= $now", ("$t", tokenId.ToString()), ("$now", ToUnixMs(now)));
        using var command = c.Command("DELETE FROM device WHERE token_id = $t AND purge_after IS NOT NULL AND purge_after <= $now",
            ("$t", tokenId.ToString()), ("$now", ToUnixMs(now)));
        command.Transaction = tx;
        return command.ExecuteNonQuery();
    }

    /// <summary>An event of one kind for every device a WHERE clause over <c>device</c> selects (purged, unseen after a fetch).</summary>
    private static int EventForEachDevice(SqliteConnection c, SqliteTransaction tx, AdeDeviceEventKind kind, DateTimeOffset now, string where, params (string Name, object? Value)[] parameters)
    {
        using var command = c.Command(
            $"INSERT INTO device_event (token_id, serial_number, at, kind) SELECT token_id, serial_number, $evnow, '{kind}' FROM device WHERE {where}",
            [.. parameters, ("$evnow", ToUnixMs(now))]);
        command.Transaction = tx;
        return command.ExecuteNonQuery();
    }
}

internal static partial class DeviceJournal
{
    /// <summary>Kept for StoreService until it reads <see cref="JournalRetention.DefaultDays"/>.</summary>
    public const int DefaultRetentionDays = JournalRetention.DefaultDays;

    /// <summary>A journal entry as AssignmentService writes it (now <see cref="NewDeviceEventRow"/>).</summary>
    internal readonly record struct Entry(string Serial, AdeDeviceEventKind Kind, string? Detail = null);

    /// <summary>Appends the entries as one batch in the caller's transaction.</summary>
    public static int Write(SqliteConnection c, SqliteTransaction? tx, Guid tokenId, DateTimeOffset now, IReadOnlyCollection<Entry> entries)
        => new SqliteSession(c, tx).DeviceEvents.Append(tokenId, now, entries.Select(e => new NewDeviceEventRow(e.Serial, e.Kind, e.Detail)).ToList());

    public static int RetentionDays(SqliteConnection c) => RetentionDays(new SqliteSession(c, null));

    public static void SetRetentionDays(SqliteConnection c, int days) => SetRetentionDays(new SqliteSession(c, null), days);

    public static int Prune(SqliteConnection c, SqliteTransaction? tx, DateTimeOffset now) => Prune(new SqliteSession(c, tx), now);
}

using System.Runtime.CompilerServices;
using Npgsql;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>
/// PostgreSQL: the page writes of a sync on table device. A page (up to 1,000 devices) is merged into device by one
/// INSERT … ON CONFLICT over the page's columns as array parameters: one round trip for the page instead of one per
/// device. (The journal rows of the page are appended by the device_event table.)
/// </summary>
internal sealed partial class PostgresDeviceTable
{
    // The page's columns, each one array parameter of the merge (the page reaches the server in the merge's own round
    // trip: no staging table, no COPY, no statement before the merge).
    private const string SyncPageColumns =
        """
        unnest(@serial::text[], @model::text[], @description::text[], @color::text[], @asset::text[], @os::text[],
               @family::text[], @profile::text[], @uuid::text[], @status::text[], @assign_time::bigint[], @push_time::bigint[],
               @assigned_at::bigint[], @assigned_by::text[], @op::bigint[], @deadline::bigint[], @replacement::bigint[],
               @failed_at::bigint[], @attempt_at::bigint[], @attempt_profile::text[], @attempt_result::text[])
            WITH ORDINALITY AS u(serial_number, model, description, color, asset_tag, os, device_family, profile_id, profile_uuid,
                                 profile_status, profile_assign_time, profile_push_time, device_assigned_date, device_assigned_by,
                                 last_op_date, mdm_migration_deadline, is_replacement_device, assign_failed_at, last_attempt_at,
                                 last_attempt_profile, last_attempt_result, n)
        """;

    // A device's profile: the one an attempt of this page assigned (p.profile_id), else the store's profile with Apple's
    // UUID (the lowest id among the token's profiles of that UUID: one hash join per page, not a profile scan per row);
    // when the UUID is unchanged and the store has no profile of that UUID, the device keeps the profile it has.
    // A serial given twice is written once, with its last record (as writing the rows one by one would leave it).
    private const string SyncPageInsertSql =
        $"""
        INSERT INTO device AS d (token_id, serial_number, model, description, color, asset_tag, os, device_family,
                            profile_id, profile_uuid, profile_status, profile_assign_time, profile_push_time,
                            device_assigned_date, device_assigned_by, removed_at, purge_after, updated_at,
                            last_seen_sync, last_op_date, first_seen_sync, mdm_migration_deadline, is_replacement_device,
                            assign_failed_at, last_attempt_at, last_attempt_profile, last_attempt_result)
        SELECT @t, p.serial_number, p.model, p.description, p.color, p.asset_tag, p.os, p.device_family,
               CASE WHEN p.profile_id IS NOT NULL THEN p.profile_id
                    WHEN p.profile_uuid IS NOT NULL THEN pr.id END,
               p.profile_uuid, p.profile_status, p.profile_assign_time, p.profile_push_time,
               p.device_assigned_date, p.device_assigned_by, NULL, NULL, @now,
               @sync, p.last_op_date, @sync, p.mdm_migration_deadline, p.is_replacement_device,
               p.assign_failed_at, p.last_attempt_at, p.last_attempt_profile, p.last_attempt_result
        FROM (SELECT DISTINCT ON (serial_number) * FROM {SyncPageColumns} ORDER BY serial_number, n DESC) p
        LEFT JOIN (SELECT DISTINCT ON (apple_profile_uuid) apple_profile_uuid, id FROM profile
                   WHERE token_id = @t AND apple_profile_uuid IS NOT NULL ORDER BY apple_profile_uuid, id) pr
               ON pr.apple_profile_uuid = p.profile_uuid
        """;

    /// <summary>
    /// The page merged over the stored rows. A page whose devices are all new to the store (<see cref="SyncDeviceUpsert.New"/>:
    /// the whole of a first full sync) is inserted by <see cref="SyncPageInsertSql"/> alone: the arbiter check and
    /// speculative insertion of ON CONFLICT cost the server ≈ 4 ms of ≈ 10 ms per page of 1,000 new devices.
    /// </summary>
    private const string SyncPageMergeSql =
        SyncPageInsertSql +
        """

        ON CONFLICT (token_id, serial_number) DO UPDATE SET
            model = excluded.model, description = excluded.description, color = excluded.color,
            asset_tag = excluded.asset_tag, os = excluded.os, device_family = excluded.device_family,
            profile_id = CASE WHEN excluded.profile_uuid IS NULL THEN NULL
                              WHEN excluded.profile_uuid = d.profile_uuid AND excluded.profile_id IS NULL THEN d.profile_id
                              ELSE excluded.profile_id END,
            profile_uuid = excluded.profile_uuid, profile_status = excluded.profile_status,
            profile_assign_time = excluded.profile_assign_time, profile_push_time = excluded.profile_push_time,
            device_assigned_date = excluded.device_assigned_date, device_assigned_by = excluded.device_assigned_by,
            removed_at = NULL, purge_after = NULL, updated_at = excluded.updated_at,
            last_seen_sync = excluded.last_seen_sync, last_op_date = excluded.last_op_date,
            mdm_migration_deadline = excluded.mdm_migration_deadline, is_replacement_device = excluded.is_replacement_device,
            assign_failed_at = CASE WHEN excluded.last_attempt_at IS NULL THEN d.assign_failed_at ELSE excluded.assign_failed_at END,
            last_attempt_at = coalesce(excluded.last_attempt_at, d.last_attempt_at),
            last_attempt_profile = CASE WHEN excluded.last_attempt_at IS NULL THEN d.last_attempt_profile ELSE excluded.last_attempt_profile END,
            last_attempt_result = CASE WHEN excluded.last_attempt_at IS NULL THEN d.last_attempt_result ELSE excluded.last_attempt_result END
        """;

    // Removals are few (Apple's deletions of a delta); the last one given for a serial wins.
    private const string SyncRemovalSql =
        """
        UPDATE device AS d SET removed_at = r.removed_at, purge_after = r.purge_after, updated_at = @now, last_op_date = r.op
        FROM (SELECT DISTINCT ON (s) s, removed_at, purge_after, op
              FROM unnest(@s::text[], @removed::bigint[], @purge::bigint[], @op::bigint[]) WITH ORDINALITY AS u(s, removed_at, purge_after, op, n)
              ORDER BY s, n DESC) r
        WHERE d.token_id = @t AND d.serial_number = r.s
        """;

    /// <summary>
    /// The stored state of a page's serials, each serial looked up on the primary key by itself (a LATERAL subquery with
    /// LIMIT 1, which the planner cannot flatten into a join): an index probe per serial whatever the planner statistics
    /// say. "token_id = @t AND serial_number = ANY(@s)" was planned, during a token's first sync (statistics taken while it
    /// had a few rows, or none), as a read of the token's whole key range per page: 199,000 rows read for the last page
    /// of 200,000, quadratic over the sync. An unknown serial has no row; a serial given twice reads the same row twice.
    /// </summary>
    internal const string SyncReadSql =
        """
        SELECT d.serial_number, d.model, d.description, d.color, d.asset_tag, d.os, d.device_family, d.profile_uuid,
               d.profile_status, d.profile_assign_time, d.profile_push_time, d.device_assigned_date, d.device_assigned_by,
               d.mdm_migration_deadline, d.is_replacement_device, d.removed_at, d.last_op_date
        FROM unnest(@s::text[]) AS s(serial)
        CROSS JOIN LATERAL (SELECT * FROM device WHERE token_id = @t AND serial_number = s.serial LIMIT 1) d
        """;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
    public IReadOnlyDictionary<string, StoredSyncDevice> GetForSync(Guid tokenId, IReadOnlyCollection<string> serials)
    {
        var map = new Dictionary<string, StoredSyncDevice>(serials.Count, StringComparer.Ordinal);
        if (serials.Count == 0)
        {
            return map;
        }

        using var command = connection.Command(transaction, SyncReadSql, ("t", tokenId.ToString()), ("s", serials as string[] ?? [.. serials]));
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

    public void WriteSyncPage(Guid tokenId, long syncId, DateTimeOffset now, IReadOnlyList<SyncDeviceUpsert> upserts, IReadOnlyList<SyncDeviceRemoval> removals)
    {
        var token = tokenId.ToString();
        if (upserts.Count > 0)
        {
            MergeSyncPage(token, syncId, now, upserts);
        }

        if (removals.Count > 0)
        {
            var serials = new string[removals.Count];
            var removedAt = new long[removals.Count];
            var purgeAfter = new long[removals.Count];
            var opDates = new long?[removals.Count];
            for (var i = 0; i < removals.Count; i++)
            {
                (serials[i], removedAt[i], purgeAfter[i], opDates[i]) = (removals[i].SerialNumber, ToUnixMs(removals[i].RemovedAt), ToUnixMs(removals[i].PurgeAfter), SyncMs(removals[i].OpDate));
            }

            connection.Execute(transaction, SyncRemovalSql,
                ("t", token), ("now", ToUnixMs(now)), ("s", serials), ("removed", removedAt), ("purge", purgeAfter), ("op", opDates));
        }
    }

    /// <summary>Writes the page's rows into device: one statement (a plain insert when every row is new to the store, else the merge), the page's columns as arrays in the page's order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // once per page: docs/architecture.md, "Per-page code compiled once"
    private void MergeSyncPage(string token, long syncId, DateTimeOffset now, IReadOnlyList<SyncDeviceUpsert> upserts)
    {
        var count = upserts.Count;
        string[] serial = new string[count];
        string?[] model = new string?[count], description = new string?[count], color = new string?[count], asset = new string?[count],
            os = new string?[count], family = new string?[count], profile = new string?[count], uuid = new string?[count], status = new string?[count],
            assignedBy = new string?[count], attemptProfile = new string?[count], attemptResult = new string?[count];
        long?[] assignTime = new long?[count], pushTime = new long?[count], assignedAt = new long?[count], op = new long?[count],
            deadline = new long?[count], replacement = new long?[count], failedAt = new long?[count], attemptAt = new long?[count];
        for (var i = 0; i < count; i++)
        {
            var (d, opDate, attempt, _) = upserts[i];
            (serial[i], model[i], description[i], color[i], asset[i], os[i], family[i]) = (d.SerialNumber, d.Model, d.Description, d.Color, d.AssetTag, d.Os, d.DeviceFamily);
            if (attempt?.Assigned is { } assigned)
            {
                // The profile the attempt gave it, as it would be after Apple's next report of it.
                (profile[i], uuid[i], status[i], assignTime[i]) = (assigned.ProfileId.ToString(), assigned.ProfileUuid, "assigned", ToUnixMs(attempt.At));
            }
            else
            {
                (uuid[i], status[i], assignTime[i]) = (d.ProfileUuid, d.ProfileStatus, SyncMs(d.ProfileAssignTime));
            }

            (pushTime[i], assignedAt[i], assignedBy[i], op[i], deadline[i]) = (SyncMs(d.ProfilePushTime), SyncMs(d.AssignedAt), d.AssignedBy, SyncMs(opDate), SyncMs(d.MdmMigrationDeadline));
            replacement[i] = d.IsReplacementDevice is { } r ? (r ? 1L : 0L) : null;
            failedAt[i] = attempt is { Failed: true } ? ToUnixMs(attempt.At) : null;
            attemptAt[i] = attempt is null ? null : ToUnixMs(attempt.At);
            (attemptProfile[i], attemptResult[i]) = (attempt?.ProfileName, attempt?.Result);
        }

        var parameters = new (string Name, object? Value)[]
        {
            ("t", token), ("now", ToUnixMs(now)), ("sync", syncId),
            ("serial", serial), ("model", model), ("description", description), ("color", color), ("asset", asset), ("os", os),
            ("family", family), ("profile", profile), ("uuid", uuid), ("status", status), ("assign_time", assignTime), ("push_time", pushTime),
            ("assigned_at", assignedAt), ("assigned_by", assignedBy), ("op", op), ("deadline", deadline), ("replacement", replacement),
            ("failed_at", failedAt), ("attempt_at", attemptAt), ("attempt_profile", attemptProfile), ("attempt_result", attemptResult),
        };
        if (upserts.All(u => u.New))
        {
            // New devices only: an insert that reads no device row, so its plan does not depend on the table's size and
            // may be prepared (the merge reads the stored rows and is planned for each page).
            connection.ExecutePrepared(transaction, SyncPageInsertSql, parameters);
        }
        else
        {
            connection.Execute(transaction, SyncPageMergeSql, parameters);
        }
    }

    public IReadOnlyList<string> MarkUnseenRemoved(Guid tokenId, long syncId, DateTimeOffset now, DateTimeOffset purgeAfter)
        => SyncSerials(
            """
            WITH marked AS (
                UPDATE device SET removed_at = @now, purge_after = @purge, updated_at = @now
                WHERE token_id = @t AND removed_at IS NULL AND (last_seen_sync IS NULL OR last_seen_sync <> @sync)
                RETURNING serial_number)
            SELECT serial_number FROM marked ORDER BY serial_number
            """,
            ("t", tokenId.ToString()), ("now", ToUnixMs(now)), ("purge", ToUnixMs(purgeAfter)), ("sync", syncId));

    public IReadOnlyList<string> PurgeDue(Guid tokenId, DateTimeOffset now)
        => SyncSerials(
            """
            WITH purged AS (
                DELETE FROM device WHERE token_id = @t AND purge_after IS NOT NULL AND purge_after <= @now RETURNING serial_number)
            SELECT serial_number FROM purged ORDER BY serial_number
            """,
            ("t", tokenId.ToString()), ("now", ToUnixMs(now)));

    public SyncDeviceTotals CountForSync(Guid tokenId)
    {
        using var command = connection.Command(transaction,
            "SELECT count(*) AS all_devices, count(*) - count(removed_at) AS in_abm FROM device WHERE token_id = @t", ("t", tokenId.ToString())).Prepared();
        using var r = command.ExecuteReader();
        r.Read();
        return new SyncDeviceTotals(r.GetInt64(r.GetOrdinal("all_devices")), r.GetInt64(r.GetOrdinal("in_abm")));
    }

    private List<string> SyncSerials(string sql, params (string Name, object? Value)[] parameters)
    {
        using var command = connection.Command(transaction, sql, parameters).Prepared();
        using var r = command.ExecuteReader();
        var serial = r.GetOrdinal("serial_number");
        var list = new List<string>();
        while (r.Read())
        {
            list.Add(r.GetString(serial));
        }

        return list;
    }

    private static DateTimeOffset? SyncTime(long? ms) => ms is { } v ? ToTime(v) : null;

    private static long? SyncMs(DateTimeOffset? time) => time is { } t ? ToUnixMs(t) : null;
}

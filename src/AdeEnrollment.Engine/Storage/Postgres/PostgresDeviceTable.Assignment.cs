using Npgsql;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>
/// PostgreSQL: table device, the assignment side. A batch of serials travels as one text[] parameter
/// (<c>serial_number = ANY(@serials)</c>): one round trip per batch, each row found on the primary key.
/// </summary>
internal sealed partial class PostgresDeviceTable
{
    public IReadOnlyList<DeviceAssignmentState> GetAssignmentStates(Guid tokenId, IReadOnlyCollection<string> serials)
    {
        if (serials.Count == 0)
        {
            return [];
        }

        using var command = AssignmentCommand(
            """
            SELECT d.serial_number AS serial_number, p.name AS profile_name, d.assign_failed_at AS assign_failed_at,
                   d.device_family AS device_family, d.os AS os
            FROM device d LEFT JOIN profile p ON p.id = d.profile_id
            WHERE d.token_id = @t AND d.serial_number = ANY(@serials)
            """, ("t", tokenId.ToString()), ("serials", serials.ToArray()));
        using var r = command.ExecuteReader();
        int serial = r.GetOrdinal("serial_number"), profile = r.GetOrdinal("profile_name"), failed = r.GetOrdinal("assign_failed_at"),
            family = r.GetOrdinal("device_family"), os = r.GetOrdinal("os");
        var list = new List<DeviceAssignmentState>(serials.Count);
        while (r.Read())
        {
            list.Add(new DeviceAssignmentState(r.GetString(serial), r.GetStringOrNull(profile),
                r.IsDBNull(failed) ? null : ToTime(r.GetInt64(failed)), r.GetStringOrNull(family), r.GetStringOrNull(os)));
        }

        return list;
    }

    public void RecordAssignments(AssignmentRecord record)
    {
        // One statement per answer, its serials one array parameter: the attempt and its effect in one update of each row.
        foreach (var outcome in record.Outcomes)
        {
            if (outcome.Serials.Count == 0)
            {
                continue;
            }

            var parameters = new List<(string Name, object? Value)>
            {
                ("now", ToUnixMs(record.At)), ("name", record.ProfileName), ("r", outcome.Result), ("t", record.TokenId.ToString()),
                ("serials", outcome.Serials.ToArray()),
            };
            var effect = "";
            switch (outcome.Effect)
            {
                case AssignmentEffect.Assigned:
                    effect = ", profile_id = @p, profile_uuid = @u, profile_status = 'assigned', profile_assign_time = @now, assign_failed_at = NULL, updated_at = @now";
                    parameters.Add(("p", record.ProfileId.ToString()));
                    parameters.Add(("u", record.AppleProfileUuid));
                    break;
                case AssignmentEffect.Failed:
                    effect = ", assign_failed_at = @now";
                    break;
            }

            using var command = AssignmentCommand(
                $"""
                UPDATE device SET last_attempt_at = @now, last_attempt_profile = @name, last_attempt_result = @r{effect}
                WHERE token_id = @t AND serial_number = ANY(@serials)
                """,
                [.. parameters]);
            command.ExecuteNonQuery();
        }
    }

    /// <summary>Rows changed since the last ANALYZE of table device above which an assignment samples it again.</summary>
    internal const long StaleRows = 1000;

    public bool RefreshPlannerStatistics()
    {
        // Right after a sync of many devices, autovacuum has often not analyzed the table yet: the planner then thinks a
        // token has a few hundred devices and reads all of the token's rows (its whole key range) for each batch of a
        // thousand serials, 200 batches x 200,000 rows. Stale: more rows changed than StaleRows and than a fifth of what
        // the planner last counted (reltuples is -1 before the first ANALYZE).
        using var command = AssignmentCommand(
            """
            SELECT coalesce(s.n_mod_since_analyze, 0) AS changed, c.reltuples::bigint AS known
            FROM pg_class c LEFT JOIN pg_stat_user_tables s ON s.relid = c.oid
            WHERE c.oid = 'device'::regclass
            """);
        long changed, known;
        using (var r = command.ExecuteReader())
        {
            r.Read();
            (changed, known) = (r.GetInt64(r.GetOrdinal("changed")), r.GetInt64(r.GetOrdinal("known")));
        }

        if (changed <= StaleRows || changed <= Math.Max(known, 0) / 5)
        {
            return false;
        }

        connection.Execute(transaction, "ANALYZE device");
        return true;
    }

    public IReadOnlyList<string> GetProfileHolders(Guid profileId)
    {
        using var command = AssignmentCommand("SELECT serial_number FROM device WHERE profile_id = @p AND removed_at IS NULL", ("p", profileId.ToString()));
        using var r = command.ExecuteReader();
        var list = new List<string>();
        while (r.Read())
        {
            list.Add(r.GetString(0));
        }

        return list;
    }

    public ProfileHolderCounts CountProfileHolders(Guid profileId)
    {
        using var command = AssignmentCommand(
            """
            SELECT count(*) AS holders, count(*) FILTER (WHERE profile_status = 'pushed') AS pushed
            FROM device WHERE profile_id = @p AND removed_at IS NULL
            """, ("p", profileId.ToString()));
        using var r = command.ExecuteReader();
        r.Read();
        return new ProfileHolderCounts(r.GetInt64(r.GetOrdinal("holders")), r.GetInt64(r.GetOrdinal("pushed")));
    }

    public int ReleaseProfileFromRemovedDevices(Guid profileId)
        => connection.Execute(transaction, "UPDATE device SET profile_id = NULL WHERE profile_id = @p AND removed_at IS NOT NULL", ("p", profileId.ToString()));

    private NpgsqlCommand AssignmentCommand(string sql, params (string Name, object? Value)[] parameters) => connection.Command(transaction, sql, parameters);
}

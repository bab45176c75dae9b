using System.Text.Json;
using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: table device, the assignment side. A batch of serials travels as one JSON array parameter.</summary>
internal sealed partial class SqliteDeviceTable
{
    public IReadOnlyList<DeviceAssignmentState> GetAssignmentStates(Guid tokenId, IReadOnlyCollection<string> serials)
    {
        // A thousand named parameters cost more to bind than the query: the batch is one JSON array.
        using var command = AssignmentCommand(
            """
            SELECT d.serial_number AS serial_number, p.name AS profile_name, d.assign_failed_at AS assign_failed_at,
                   d.device_family AS device_family, d.os AS os
            FROM device d LEFT JOIN profile p ON p.id = d.profile_id
            WHERE d.token_id = $t AND d.serial_number IN (SELECT value FROM json_each($serials))
            """, ("$t", tokenId.ToString()), ("$serials", JsonSerializer.Serialize(serials)));
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
        // One statement per answer: the attempt and its effect in one update of each row (a primary-key lookup each).
        foreach (var outcome in record.Outcomes)
        {
            if (outcome.Serials.Count == 0)
            {
                continue;
            }

            var effect = outcome.Effect switch
            {
                AssignmentEffect.Assigned => ", profile_id = $p, profile_uuid = $u, profile_status = 'assigned', profile_assign_time = $now, assign_failed_at = NULL, updated_at = $now",
                AssignmentEffect.Failed => ", assign_failed_at = $now",
                _ => "",
            };
            using var command = AssignmentCommand(
                $"""
                UPDATE device SET last_attempt_at = $now, last_attempt_profile = $name, last_attempt_result = $r{effect}
                WHERE token_id = $t AND serial_number IN (SELECT value FROM json_each($serials))
                """,
                ("$now", ToUnixMs(record.At)), ("$name", record.ProfileName), ("$r", outcome.Result), ("$t", record.TokenId.ToString()),
                ("$serials", JsonSerializer.Serialize(outcome.Serials)), ("$p", record.ProfileId.ToString()), ("$u", record.AppleProfileUuid));
            command.ExecuteNonQuery();
        }
    }

    /// <summary>The store never runs ANALYZE: without sqlite_stat1 SQLite plans from the schema, a batch by its key.</summary>
    public bool RefreshPlannerStatistics() => false;

    public IReadOnlyList<string> GetProfileHolders(Guid profileId)
    {
        using var command = AssignmentCommand("SELECT serial_number FROM device WHERE profile_id = $p AND removed_at IS NULL", ("$p", profileId.ToString()));
        using var r = command.ExecuteReader();
        var serial = r.GetOrdinal("serial_number");
        var list = new List<string>();
        while (r.Read())
        {
            list.Add(r.GetString(serial));
        }

        return list;
    }

    public ProfileHolderCounts CountProfileHolders(Guid profileId)
    {
        using var command = AssignmentCommand(
            """
            SELECT count(*) AS holders, coalesce(sum(profile_status = 'pushed'), 0) AS pushed
            FROM device WHERE profile_id = $p AND removed_at IS NULL
            """, ("$p", profileId.ToString()));
        using var r = command.ExecuteReader();
        r.Read();
        return new ProfileHolderCounts(r.GetInt64(r.GetOrdinal("holders")), r.GetInt64(r.GetOrdinal("pushed")));
    }

    public int ReleaseProfileFromRemovedDevices(Guid profileId)
    {
        using var command = AssignmentCommand("UPDATE device SET profile_id = NULL WHERE profile_id = $p AND removed_at IS NOT NULL", ("$p", profileId.ToString()));
        return command.ExecuteNonQuery();
    }

    private SqliteCommand AssignmentCommand(string sql, params (string Name, object? Value)[] parameters)
    {
        var command = connection.Command(sql, parameters);
        command.Transaction = transaction;
        return command;
    }
}

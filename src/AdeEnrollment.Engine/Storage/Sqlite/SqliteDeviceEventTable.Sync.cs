using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: the journal writes of a device sync on table device_event.</summary>
internal sealed partial class SqliteDeviceEventTable
{
    public void AppendBatch(Guid tokenId, DateTimeOffset at, IReadOnlyList<NewDeviceEvent> events)
    {
        if (events.Count == 0)
        {
            return;
        }

        // One prepared statement for the batch, bound by position (see SqliteStatement).
        using var insert = new SqliteStatement(connection,
            "INSERT INTO device_event (token_id, serial_number, at, kind, detail) VALUES ($t, $s, $at, $k, $d)", "$t", "$s", "$at", "$k", "$d");
        insert.Bind(0, tokenId.ToString());
        insert.Bind(2, ToUnixMs(at));
        foreach (var e in events)
        {
            insert.Bind(1, e.SerialNumber);
            insert.Bind(3, e.Kind.ToString());
            insert.Bind(4, e.Detail);
            insert.Execute();
        }
    }

    public int DeleteBefore(DateTimeOffset cutoff)
    {
        using var command = connection.Command("DELETE FROM device_event WHERE at < $cutoff", ("$cutoff", ToUnixMs(cutoff)));
        command.Transaction = transaction;
        return command.ExecuteNonQuery();
    }
}

using System.Text.Json;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Storage.Sqlite;

internal sealed partial class SqliteDeviceEventTable
{
    public void AppendForSerials(Guid tokenId, DateTimeOffset at, AdeDeviceEventKind kind, string? detail, IReadOnlyCollection<string> serials)
    {
        if (serials.Count == 0)
        {
            return;
        }

        // The batch as one JSON array parameter, in order: one statement for the whole batch.
        using var command = connection.Command(
            """
            INSERT INTO device_event (token_id, serial_number, at, kind, detail)
            SELECT $t, j.value, $at, $kind, $detail FROM json_each($serials) j ORDER BY j.key
            """,
            ("$t", tokenId.ToString()), ("$at", SqliteExtensions.ToUnixMs(at)), ("$kind", kind.ToString()), ("$detail", detail),
            ("$serials", JsonSerializer.Serialize(serials)));
        command.Transaction = transaction;
        command.ExecuteNonQuery();
    }
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Devices;

/// <summary>One entry of the change journal.</summary>
public sealed class AdeDeviceEvent
{
    internal AdeDeviceEvent() { }

    /// <summary>Increases with every event: a script can remember the last one it processed.</summary>
    public long Id { get; internal init; }

    public DateTimeOffset At { get; internal init; }

    public AdeDeviceEventKind Kind { get; internal init; }

    public string SerialNumber { get; internal init; } = "";

    public string Token { get; internal init; } = "";

    public Guid TokenId { get; internal init; }

    /// <summary>Modified: the fields that changed. Assignments: the profile and Apple's answer.</summary>
    public string? Detail { get; internal init; }

    /// <summary>Modified: the names of the device properties that changed.</summary>
    public IReadOnlyList<string> ChangedFields { get; internal init; } = ValueList<string>.Empty;

    public override string ToString() => $"{At:u} {Kind} {SerialNumber}";
}

/// <summary>Filters of Get-AdeDeviceEvent. Null means "any".</summary>
public sealed record DeviceEventQuery(Guid? TokenId = null, string? SerialNumber = null, DateTimeOffset? Since = null, IReadOnlyCollection<AdeDeviceEventKind>? Kinds = null, long? AfterId = null);

/// <summary>
/// The change journal (docs/architecture.md "Device journal and health"). Events are written in the caller's
/// transaction, so an event exists exactly when its change was committed. Writes are set-based: a batch of events is
/// one INSERT … SELECT over a JSON array, never one statement per device.
/// </summary>
internal static class DeviceJournal
{
    public const int DefaultRetentionDays = 90;
    public const string RetentionKey = "journal_retention_days";

    internal readonly record struct Entry(string Serial, AdeDeviceEventKind Kind, string? Detail = null);

    /// <summary>One statement for the whole batch.</summary>
    public static int Write(SqliteConnection c, SqliteTransaction? tx, Guid tokenId, DateTimeOffset now, IReadOnlyCollection<Entry> entries)
    {
        if (entries.Count == 0)
        {
            return 0;
        }

        var json = new StringBuilder(entries.Count * 40).Append('[');
        var first = true;
        foreach (var e in entries)
        {
            if (!first) json.Append(',');
            first = false;
            json.Append('[').Append(JsonSerializer.Serialize(e.Serial)).Append(',').Append(JsonSerializer.Serialize(e.Kind.ToString()))
                .Append(',').Append(e.Detail is null ? "null" : JsonSerializer.Serialize(e.Detail)).Append(']');
        }

        json.Append(']');
        using var command = c.Command(
            """
            INSERT INTO device_event (token_id, serial_number, at, kind, detail)
            SELECT $t, json_extract(j.value, '$[0]'), $now, json_extract(j.value, '$[1]'), json_extract(j.value, '$[2]')
            FROM json_each($events) j ORDER BY j.key
            """,
            ("$t", tokenId.ToString()), ("$now", ToUnixMs(now)), ("$events", json.ToString()));
        command.Transaction = tx;
        return command.ExecuteNonQuery();
    }

    public static int RetentionDays(SqliteConnection c)
        => RetentionDays(c.Scalar<string>("SELECT value FROM meta WHERE key = $k", ("$k", RetentionKey)));

    /// <summary>The journal retention in days from the value stored under <see cref="RetentionKey"/> (null: the default).</summary>
    public static int RetentionDays(string? stored)
        => stored is { } v && int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var days) ? days : DefaultRetentionDays;

    public static void SetRetentionDays(SqliteConnection c, int days)
        => c.Execute("INSERT INTO meta (key, value) VALUES ($k, $v) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            ("$k", RetentionKey), ("$v", days.ToString(CultureInfo.InvariantCulture)));

    /// <summary>Deletes events older than the store's retention (run by every sync).</summary>
    public static int Prune(SqliteConnection c, SqliteTransaction? tx, DateTimeOffset now)
    {
        var cutoff = now - TimeSpan.FromDays(RetentionDays(c));
        using var command = c.Command("DELETE FROM device_event WHERE at < $cutoff", ("$cutoff", ToUnixMs(cutoff)));
        command.Transaction = tx;
        return command.ExecuteNonQuery();
    }

    /// <summary>Streams events oldest first.</summary>
    public static IEnumerable<AdeDeviceEvent> Query(AdeStore store, DeviceEventQuery query)
    {
        using var c = store.OpenConnection();
        var serial = query.SerialNumber is null ? null : DeviceRepository.NormaliseSerial(query.SerialNumber);
        var serialPattern = serial is not null && Wildcard.HasWildcard(serial) ? Wildcard.Parse(serial) : null;
        var filters = new List<string>();
        var parameters = new List<(string Name, object? Value)>();
        if (query.TokenId is { } tokenId)
        {
            filters.Add("e.token_id = $t");
            parameters.Add(("$t", tokenId.ToString()));
        }

        if (serial is not null && serialPattern is null)
        {
            filters.Add("e.serial_number = $s");
            parameters.Add(("$s", serial));
        }

        if (query.Since is { } since)
        {
            filters.Add("e.at >= $since");
            parameters.Add(("$since", ToUnixMs(since)));
        }

        if (query.AfterId is { } after)
        {
            filters.Add("e.id > $after");
            parameters.Add(("$after", after));
        }

        if (query.Kinds is { Count: > 0 } kinds)
        {
            filters.Add("e.kind IN (SELECT value FROM json_each($k))");
            parameters.Add(("$k", JsonSerializer.Serialize(kinds.Select(k => k.ToString()).ToArray())));
        }

        using var command = c.Command(
            $"""
            SELECT e.id, e.at, e.kind, e.serial_number, e.detail, e.token_id, t.name
            FROM device_event e LEFT JOIN token t ON t.id = e.token_id
            {(filters.Count == 0 ? "" : "WHERE " + string.Join(" AND ", filters))}
            ORDER BY e.id
            """, [.. parameters]);
        using var r = command.ExecuteReader();
        while (r.Read())
        {
            var sn = r.GetString(3);
            if (serialPattern is not null && !serialPattern.IsMatch(sn))
            {
                continue;
            }

            var kind = Enum.TryParse<AdeDeviceEventKind>(r.GetString(2), out var k) ? k : AdeDeviceEventKind.Modified;
            var detail = r.GetStringOrNull(4);
            yield return new AdeDeviceEvent
            {
                Id = r.GetInt64(0),
                At = ToTime(r.GetInt64(1)),
                Kind = kind,
                SerialNumber = sn,
                Detail = detail,
                ChangedFields = kind == AdeDeviceEventKind.Modified && detail is not null
                    ? ValueList.Of(detail.Split(", ", StringSplitOptions.RemoveEmptyEntries))
                    : ValueList<string>.Empty,
                TokenId = Guid.Parse(r.GetString(5)),
                Token = r.GetStringOrNull(6) ?? "",
            };
        }
    }
}

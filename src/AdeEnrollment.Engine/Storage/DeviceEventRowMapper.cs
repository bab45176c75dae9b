using System.Data.Common;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Storage;

/// <summary>
/// The one mapping of a journal row (with its token's name) to a <see cref="DeviceEventRow"/>, shared by every provider;
/// ordinals looked up once per reader.
/// </summary>
internal sealed class DeviceEventRowMapper(DbDataReader r)
{
    private readonly int id = r.GetOrdinal("id");
    private readonly int at = r.GetOrdinal("at");
    private readonly int kind = r.GetOrdinal("kind");
    private readonly int serialNumber = r.GetOrdinal("serial_number");
    private readonly int detail = r.GetOrdinal("detail");
    private readonly int token = r.GetOrdinal("token_id");
    private readonly int tokenName = r.GetOrdinal("token_name");

    public DeviceEventRow Read()
    {
        // A kind this version does not know (written by a newer one) reads as Modified rather than failing the query.
        var k = Enum.TryParse<AdeDeviceEventKind>(r.GetString(kind), out var parsed) ? parsed : AdeDeviceEventKind.Modified;
        return new DeviceEventRow(r.GetInt64(id), SqliteExtensions.ToTime(r.GetInt64(at)), k, r.GetString(serialNumber),
            r.IsDBNull(detail) ? null : r.GetString(detail), Guid.Parse(r.GetString(token)), r.IsDBNull(tokenName) ? null : r.GetString(tokenName));
    }
}

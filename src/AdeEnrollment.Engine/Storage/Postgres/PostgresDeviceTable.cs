using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using Npgsql;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>
/// PostgreSQL: table device. One partial class split by area like its SQLite twin: this file holds the queries and the
/// device actions, <c>.Sync.cs</c> the page writes of a sync, <c>.Assignment.cs</c> the assignment records.
/// </summary>
internal sealed partial class PostgresDeviceTable(NpgsqlConnection connection, NpgsqlTransaction? transaction, string location) : IDeviceTable
{
    private readonly NpgsqlConnection connection = connection;
    private readonly NpgsqlTransaction? transaction = transaction;

    /// <summary>A member not yet built on PostgreSQL answers with the catalogued StoreNotSupported.</summary>
    private AdeException Missing(string part) => ErrorCatalog.StoreNotSupported(location, "PostgreSQL", part);

    public IEnumerable<AdeDevice> Query(DeviceFilter filter) => throw Missing("device queries");

    public IReadOnlyDictionary<string, DeviceStateRow> States(Guid tokenId, IReadOnlyCollection<string> serials) => throw Missing("device states");

    public IReadOnlyList<DeviceRefRow> Find(IReadOnlyCollection<string> serials) => throw Missing("device lookups");

    public int ApplyDetails(Guid tokenId, IReadOnlyList<DeviceDetailsRow> details, DateTimeOffset now) => throw Missing("device details");

    public int Delete(Guid tokenId, string serialNumber) => throw Missing("device removal");

    public int MarkProfileCleared(Guid tokenId, IReadOnlyCollection<string> serials, DateTimeOffset now) => throw Missing("device actions");

    public int MarkReleased(Guid tokenId, IReadOnlyCollection<string> serials, DateTimeOffset now, DateTimeOffset purgeAfter) => throw Missing("device actions");

    public IReadOnlyList<DeviceFamilyCount> CountWithoutProfile(Guid tokenId, DateTimeOffset before) => throw Missing("device health");

    public long CountAssignFailedSince(Guid tokenId, DateTimeOffset since) => throw Missing("device health");
}

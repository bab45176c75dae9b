using AdeEnrollment.Engine.Tests.TestSupport;

namespace AdeEnrollment.Engine.Tests.Storage.Contract;

/// <summary>The profile table contract (and the device table's assignment side) on PostgreSQL; device rows are seeded with plain SQL.</summary>
public sealed class PostgresProfileTableContract : ProfileTableContract
{
    protected override TestStore CreateStore() => PostgresTestStores.Create();

    private TestPostgresSchema Schema => Store.PostgresSchema!;

    protected override void AddDevice(Guid tokenId, string serial, string? deviceFamily = "iPad", string? os = "iOS", Guid? profileId = null,
        string? profileStatus = null, bool removed = false)
        => Schema.Execute(
            """
            INSERT INTO device (token_id, serial_number, device_family, os, profile_id, profile_status, removed_at, updated_at)
            VALUES (@t, @s, @f::text, @os::text, @p::text, @ps::text, @r::bigint, 0)
            """,
            ("t", tokenId.ToString()), ("s", serial), ("f", deviceFamily), ("os", os), ("p", profileId?.ToString()), ("ps", profileStatus),
            ("r", removed ? 1L : null));

    protected override void AddDevices(Guid tokenId, IReadOnlyList<string> serials)
        => Schema.Execute(
            "INSERT INTO device (token_id, serial_number, device_family, os, updated_at) SELECT @t, s, 'iPad', 'iOS', 0 FROM unnest(@s::text[]) AS s",
            ("t", tokenId.ToString()), ("s", serials.ToArray()));

    protected override string? DeviceFacts(Guid tokenId, string serial) => Schema.Scalar<string>(DeviceFactsSql("@"), ("t", tokenId.ToString()), ("s", serial));

    protected override long CountWhere(string table, string condition) => Schema.Scalar<long>($"SELECT count(*) FROM {table} WHERE {condition}");
}

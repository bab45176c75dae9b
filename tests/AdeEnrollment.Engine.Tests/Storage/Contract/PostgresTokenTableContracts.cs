using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Tests.TestSupport;

namespace AdeEnrollment.Engine.Tests.Storage.Contract;

/// <summary>The token table contract on PostgreSQL; rows of tables it does not test are written with plain SQL.</summary>
public sealed class PostgresTokenTableContract : TokenTableContract
{
    protected override TestStore CreateStore() => PostgresTestStores.Create();

    private TestPostgresSchema Schema => Store.PostgresSchema!;

    protected override Guid AddProfile(Guid tokenId, string name)
    {
        var id = Guid.NewGuid();
        Schema.Execute("INSERT INTO profile (id, token_id, name, settings, created_at, modified_at) VALUES (@id, @t, @n, '{}', 0, 0)",
            ("id", id.ToString()), ("t", tokenId.ToString()), ("n", name));
        return id;
    }

    protected override void AddDevice(Guid tokenId, string serial)
        => Schema.Execute("INSERT INTO device (token_id, serial_number, updated_at) VALUES (@t, @s, 0)", ("t", tokenId.ToString()), ("s", serial));

    protected override void SetDefaultProfile(Guid tokenId, Guid profileId, DevicePlatform platform)
        => Schema.Execute(
            "INSERT INTO token_default_profile (token_id, platform, profile_id) VALUES (@t, @p, @id) ON CONFLICT (token_id, platform) DO UPDATE SET profile_id = excluded.profile_id",
            ("t", tokenId.ToString()), ("p", platform.ToString()), ("id", profileId.ToString()));

    protected override void AddSyncState(Guid tokenId, DateTimeOffset started, DateTimeOffset? success, DateTimeOffset? full, bool nextMustBeFull)
    {
        Schema.Execute(
            "INSERT INTO sync_state (token_id, last_started_at, last_success_at, last_full_at, next_must_be_full) VALUES (@t, @s, @ok::bigint, @f::bigint, @n)",
            ("t", tokenId.ToString()), ("s", started.ToUnixTimeMilliseconds()), ("ok", success?.ToUnixTimeMilliseconds()),
            ("f", full?.ToUnixTimeMilliseconds()), ("n", nextMustBeFull ? 1L : 0L));
        Schema.Execute("INSERT INTO sync_history (token_id, kind, trigger_kind, status, started_at) VALUES (@t, 'Full', 'Manual', 'Succeeded', @s)",
            ("t", tokenId.ToString()), ("s", started.ToUnixTimeMilliseconds()));
    }

    protected override long SyncRows(Guid tokenId)
        => Schema.Scalar<long>("SELECT (SELECT count(*) FROM sync_state WHERE token_id = @t) + (SELECT count(*) FROM sync_history WHERE token_id = @t)",
            ("t", tokenId.ToString()));
}

public sealed class PostgresTokenRequestTableContract : TokenRequestTableContract
{
    protected override TestStore CreateStore() => PostgresTestStores.Create();
}

using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>PostgreSQL: reads of table sync_state for Test-AdeHealth.</summary>
internal sealed partial class PostgresSyncTable
{
    public SyncHealthRow? HealthState(Guid tokenId)
    {
        using var command = connection.Command(transaction, "SELECT last_success_at, lease_id, lease_expires_at FROM sync_state WHERE token_id = @t", ("t", tokenId.ToString()));
        using var r = command.ExecuteReader();
        if (!r.Read())
        {
            return null;
        }

        int lastSuccess = r.GetOrdinal("last_success_at"), leaseId = r.GetOrdinal("lease_id"), leaseExpires = r.GetOrdinal("lease_expires_at");
        return new SyncHealthRow(
            r.GetInt64OrNull(lastSuccess) is { } ls ? ToTime(ls) : null,
            r.GetStringOrNull(leaseId),
            r.GetInt64OrNull(leaseExpires) is { } le ? ToTime(le) : null);
    }
}

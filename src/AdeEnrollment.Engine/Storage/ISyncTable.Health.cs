namespace AdeEnrollment.Engine.Storage;

/// <summary>Reads of table sync_state for Test-AdeHealth.</summary>
internal partial interface ISyncTable
{
    /// <summary>A token's last successful sync and its sync lease; null when the token has never started a sync.</summary>
    SyncHealthRow? HealthState(Guid tokenId);
}

/// <summary>A token's last successful sync, and the lease a running (or stopped) sync holds: null when none.</summary>
internal sealed record SyncHealthRow(DateTimeOffset? LastSuccessAt, string? LeaseId, DateTimeOffset? LeaseExpiresAt);

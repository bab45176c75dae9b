namespace AdeEnrollment.Engine.Storage;

/// <summary>The home of table sync_state and sync_history (the sync lease, cursors and each sync's record).</summary>
internal partial interface ISyncTable
{
}

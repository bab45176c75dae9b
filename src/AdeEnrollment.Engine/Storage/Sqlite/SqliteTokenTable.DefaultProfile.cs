namespace AdeEnrollment.Engine.Storage.Sqlite;

internal sealed partial class SqliteTokenTable
{
    public bool MarkModified(Guid tokenId, DateTimeOffset at)
    {
        using var command = connection.Command("UPDATE token SET modified_at = $at WHERE id = $t",
            ("$at", SqliteExtensions.ToUnixMs(at)), ("$t", tokenId.ToString()));
        command.Transaction = transaction;
        return command.ExecuteNonQuery() > 0;
    }
}

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: what a device sync changes on table token.</summary>
internal sealed partial class SqliteTokenTable
{
    public bool ClearTermsNotSigned(Guid tokenId)
    {
        using var command = connection.Command("UPDATE token SET terms_not_signed_at = NULL WHERE id = $t AND terms_not_signed_at IS NOT NULL", ("$t", tokenId.ToString()));
        command.Transaction = transaction;
        return command.ExecuteNonQuery() > 0;
    }
}

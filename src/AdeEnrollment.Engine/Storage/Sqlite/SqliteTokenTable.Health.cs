using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: reads of table token for Test-AdeHealth.</summary>
internal sealed partial class SqliteTokenTable
{
    public DateTimeOffset? TermsNotSignedSince(Guid tokenId)
    {
        using var command = connection.Command("SELECT terms_not_signed_at FROM token WHERE id = $t", ("$t", tokenId.ToString()));
        command.Transaction = transaction;
        return command.ExecuteScalar() is long ms ? ToTime(ms) : null;
    }
}

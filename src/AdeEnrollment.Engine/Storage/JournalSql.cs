namespace AdeEnrollment.Engine.Storage;

/// <summary>SQL of the device journal that both providers speak alike.</summary>
internal static class JournalSql
{
    /// <summary>
    /// <c>journal_tokens(id)</c>: the distinct tokens of the journal, found one seek at a time on its token-first index
    /// (a loose index scan; tokens deleted since keep their rows and are found too). A lookup by serial alone takes its tokens
    /// as the list of an index condition on (token_id, serial_number): one probe per token.
    /// </summary>
    public const string Tokens =
        """
        WITH RECURSIVE journal_tokens(id) AS (
            SELECT (SELECT min(token_id) FROM device_event)
            UNION ALL
            SELECT (SELECT min(token_id) FROM device_event WHERE token_id > journal_tokens.id) FROM journal_tokens WHERE journal_tokens.id IS NOT NULL)
        """;
}

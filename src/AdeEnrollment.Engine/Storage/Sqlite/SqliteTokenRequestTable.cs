using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>SQLite: table token_request (key pairs waiting for Apple's server token).</summary>
internal sealed partial class SqliteTokenRequestTable(SqliteConnection connection, SqliteTransaction? transaction) : ITokenRequestTable
{
    private readonly SqliteConnection connection = connection;
    private readonly SqliteTransaction? transaction = transaction;

    public long Count() => connection.Scalar<long>("SELECT count(*) FROM token_request");

    public void Insert(TokenRequestRow row)
        => connection.Execute(
            "INSERT INTO token_request (id, created_at, thumbprint, certificate_pem, private_key, token_id) VALUES ($id, $t, $tp, $pem, $key, $token)",
            ("$id", row.Id.ToString()), ("$t", ToUnixMs(row.CreatedAt)), ("$tp", row.Thumbprint), ("$pem", row.CertificatePem), ("$key", row.PrivateKey),
            ("$token", row.TokenId?.ToString()));

    public IReadOnlyList<TokenRequestListRow> List(Guid? id = null, bool pendingOnly = false)
    {
        using var command = connection.Command(
            """
            SELECT r.id, r.created_at, r.thumbprint, r.certificate_pem, r.token_id, t.name AS token_name
            FROM token_request r LEFT JOIN token t ON t.id = r.token_id
            WHERE ($id IS NULL OR r.id = $id) AND ($pending = 0 OR r.token_id IS NULL)
            ORDER BY r.created_at, r.id
            """,
            ("$id", id?.ToString()), ("$pending", pendingOnly ? 1 : 0));
        using var r = command.ExecuteReader();
        var (idCol, created, thumbprint, pem, token, name) = (r.GetOrdinal("id"), r.GetOrdinal("created_at"), r.GetOrdinal("thumbprint"),
            r.GetOrdinal("certificate_pem"), r.GetOrdinal("token_id"), r.GetOrdinal("token_name"));
        var list = new List<TokenRequestListRow>();
        while (r.Read())
        {
            list.Add(new TokenRequestListRow(Guid.Parse(r.GetString(idCol)), ToTime(r.GetInt64(created)), r.GetString(thumbprint), r.GetString(pem),
                r.IsDBNull(token) ? null : Guid.Parse(r.GetString(token)), r.GetStringOrNull(name)));
        }

        return list;
    }

    public byte[]? PrivateKey(Guid id)
    {
        using var command = connection.Command("SELECT private_key FROM token_request WHERE id = $id", ("$id", id.ToString()));
        return command.ExecuteScalar() as byte[];
    }

    public bool MarkUsed(Guid id, Guid tokenId)
        => connection.Execute("UPDATE token_request SET token_id = $t WHERE id = $id AND token_id IS NULL", ("$t", tokenId.ToString()), ("$id", id.ToString())) == 1;

    public void Delete(Guid id) => connection.Execute("DELETE FROM token_request WHERE id = $id", ("$id", id.ToString()));
}

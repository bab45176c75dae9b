using AdeEnrollment.Engine.Storage;

namespace AdeEnrollment.Engine.Tests.Storage.Contract;

/// <summary>What every provider's token_request table promises (ITokenRequestTable).</summary>
public abstract class TokenRequestTableContract : IDisposable
{
    private static readonly DateTimeOffset T0 = new(2025, 3, 1, 12, 0, 0, 456, TimeSpan.Zero);
    private TestStore? store;

    protected abstract TestStore CreateStore();

    protected TestStore Store => store ??= CreateStore();

    private AdeStore Db => Store.Store;

    public void Dispose()
    {
        store?.Dispose();
        GC.SuppressFinalize(this);
    }

    private TokenRequestRow Insert(DateTimeOffset created, byte[]? key = null)
    {
        var id = Guid.NewGuid();
        var row = new TokenRequestRow(id, created, "THUMB" + id.ToString("N")[..8], $"-----BEGIN CERTIFICATE-----\n{id}\n-----END CERTIFICATE-----\n",
            key ?? [.. Enumerable.Range(0, 256).Select(i => (byte)i)], null);
        Db.Write(s =>
        {
            s.TokenRequests.Insert(row);
            return 0;
        });
        return row;
    }

    private Guid AddToken(TokenRequestRow request, string name)
    {
        var id = Guid.NewGuid();
        Db.Write(s =>
        {
            s.Tokens.Insert(new TokenRow(id, name, "a@b.example", name + "-hash", [1], T0.AddDays(1), request.Id, null, ["Default"],
                new Uri("https://mdmenrollment.apple.com/"), TokenServerFacts.None, null, null, T0, T0));
            return s.TokenRequests.MarkUsed(request.Id, id);
        });
        return id;
    }

    [Fact]
    public void Every_column_round_trips_and_the_private_key_is_read_on_its_own()
    {
        var row = Insert(T0, key: [0, 0, 7, 255, 0]);

        var listed = Assert.Single(Db.Read(s => s.TokenRequests.List(row.Id)));
        Assert.Equal(new TokenRequestListRow(row.Id, row.CreatedAt, row.Thumbprint, row.CertificatePem, null, null), listed);
        Assert.Equal(row.PrivateKey, Db.Read(s => s.TokenRequests.PrivateKey(row.Id)));
        Assert.Null(Db.Read(s => s.TokenRequests.PrivateKey(Guid.NewGuid())));
    }

    [Fact]
    public void Requests_are_listed_oldest_first_and_pending_only_leaves_out_used_ones()
    {
        var newest = Insert(T0.AddHours(2));
        var oldest = Insert(T0);
        var middle = Insert(T0.AddHours(1));
        var tokenId = AddToken(middle, "Contoso");

        var all = Db.Read(s => s.TokenRequests.List());
        Assert.Equal([oldest.Id, middle.Id, newest.Id], all.Select(r => r.Id));
        Assert.Equal((tokenId, "Contoso"), (all[1].TokenId, all[1].TokenName));
        Assert.Equal([oldest.Id, newest.Id], Db.Read(s => s.TokenRequests.List(pendingOnly: true)).Select(r => r.Id));
        Assert.Empty(Db.Read(s => s.TokenRequests.List(middle.Id, pendingOnly: true)));
    }

    [Fact]
    public void A_request_is_marked_used_once()
    {
        var request = Insert(T0);
        var first = AddToken(request, "First");

        Assert.False(Db.Write(s => s.TokenRequests.MarkUsed(request.Id, Guid.NewGuid())));
        Assert.False(Db.Write(s => s.TokenRequests.MarkUsed(Guid.NewGuid(), first)));
        Assert.Equal(first, Assert.Single(Db.Read(s => s.TokenRequests.List(request.Id))).TokenId);
    }

    [Fact]
    public void Count_and_delete()
    {
        var a = Insert(T0);
        var b = Insert(T0.AddSeconds(1));
        Assert.Equal(2, Db.Read(s => s.TokenRequests.Count()));

        Db.Write(s =>
        {
            s.TokenRequests.Delete(a.Id);
            return 0;
        });

        Assert.Equal(1, Db.Read(s => s.TokenRequests.Count()));
        Assert.Equal(b.Id, Assert.Single(Db.Read(s => s.TokenRequests.List())).Id);
        Assert.Null(Db.Read(s => s.TokenRequests.PrivateKey(a.Id)));
    }
}

public sealed class SqliteTokenRequestTableContract : TokenRequestTableContract
{
    protected override TestStore CreateStore() => new();
}

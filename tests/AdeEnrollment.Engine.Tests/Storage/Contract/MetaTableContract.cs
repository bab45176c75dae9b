using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tests.TestSupport;

namespace AdeEnrollment.Engine.Tests.Storage.Contract;

/// <summary>
/// What every provider's meta table promises (IMetaTable): text values by key with replace-on-set, writes that
/// vanish with a failed transaction, the store's key rows, and the facts Get-AdeStore shows.
/// </summary>
public abstract class MetaTableContract : IDisposable
{
    private TestStore? store;

    protected abstract TestStore CreateStore();

    protected TestStore Store => store ??= CreateStore();

    private AdeStore Db => Store.Store;

    public void Dispose()
    {
        store?.Dispose();
        GC.SuppressFinalize(this);
    }

    [Fact]
    public void AMissingKey_IsNull()
        => Assert.Null(Db.Read(s => s.Meta.Get("no-such-key")));

    [Fact]
    public void Set_StoresAValue_AndSetAgainReplacesIt()
    {
        Db.Write(s => { s.Meta.Set("setting", "first"); return 0; });
        Assert.Equal("first", Db.Read(s => s.Meta.Get("setting")));

        Db.Write(s => { s.Meta.Set("setting", "second ünïcode ✓"); return 0; });
        Assert.Equal("second ünïcode ✓", Db.Read(s => s.Meta.Get("setting")));
    }

    [Fact]
    public void AValueSetInAWrite_IsSeenLaterInTheSameWrite()
        => Assert.Equal("v", Db.Write(s => { s.Meta.Set("k", "v"); return s.Meta.Get("k"); }));

    [Fact]
    public void AFailedWrite_LeavesNoValue()
    {
        Assert.Throws<InvalidOperationException>(() => Db.Write<int>(s =>
        {
            s.Meta.Set("half", "done");
            throw new InvalidOperationException("rule");
        }));

        Assert.Null(Db.Read(s => s.Meta.Get("half")));
    }

    [Fact]
    public void ANewStore_RecordsItsKeyProtection()
    {
        Assert.Equal(Db.KeyProtection.ToString(), Db.Read(s => s.Meta.Get("key_protection")));
        Assert.False(string.IsNullOrEmpty(Db.Read(s => s.Meta.Get("key_check"))));
    }

    [Fact]
    public void Facts_OfANewStore_AreTheLatestSchemaAndNoRows()
    {
        var facts = Db.Read(s => s.Meta.Facts());

        Assert.Equal(Schema.LatestVersion, facts.SchemaVersion);
        Assert.Equal(0, facts.Tokens + facts.TokenRequests + facts.Profiles + facts.Devices);
        Assert.True(facts.SizeBytes > 0);
    }
}

public sealed class SqliteMetaTableContract : MetaTableContract
{
    protected override TestStore CreateStore() => new();
}

public sealed class PostgresMetaTableContract : MetaTableContract
{
    protected override TestStore CreateStore() => PostgresTestStores.Create();
}

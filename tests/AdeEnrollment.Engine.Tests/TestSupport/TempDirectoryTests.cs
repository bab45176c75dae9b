using AdeEnrollment.Engine.Storage;

namespace AdeEnrollment.Engine.Tests.TestSupport;

public sealed class TempDirectoryTests
{
    [Fact]
    public void Dispose_DeletesTheFolderWithAnOpenStoreInIt()
    {
        var temp = new TempDirectory();
        var store = AdeStore.Open(temp.File("ade.db"));
        RequestSeeder.Seed(store, DateTimeOffset.UtcNow); // pooled connections now hold the store, -wal and -shm open
        Assert.True(File.Exists(temp.File("ade.db-wal")));

        temp.Dispose();

        Assert.False(Directory.Exists(temp.Path));
    }
}

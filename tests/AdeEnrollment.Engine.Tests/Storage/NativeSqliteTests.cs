using System.Runtime.InteropServices;
using AdeEnrollment.Engine.Storage;

namespace AdeEnrollment.Engine.Tests.Storage;

public sealed class NativeSqliteTests
{
    private static readonly string BaseDir = Path.Combine(Path.GetTempPath(), "module-root");

    private static string ExpectedOs => OperatingSystem.IsWindows() ? "win" : OperatingSystem.IsMacOS() ? "osx" : "linux";

    private static string ExpectedFile => OperatingSystem.IsWindows() ? "e_sqlite3.dll" : OperatingSystem.IsMacOS() ? "libe_sqlite3.dylib" : "libe_sqlite3.so";

    private static string Arch => RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();

    [Fact]
    public void CandidatePaths_StartWithThisMachinesRidAndEndWithTheModuleFolder()
    {
        var candidates = NativeSqlite.CandidatePaths(BaseDir).ToList();

        Assert.True(candidates.Count >= 2, "never a single guess");
        var first = candidates[0];
        var rid = Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(first)))!;
        Assert.EndsWith("-" + Arch, rid, StringComparison.Ordinal);
        Assert.StartsWith(ExpectedOs, rid, StringComparison.Ordinal);
        Assert.Equal(Path.Combine(BaseDir, "runtimes", rid, "native", ExpectedFile), first);
        Assert.Equal(Path.Combine(BaseDir, ExpectedFile), candidates[^1]);
        Assert.All(candidates, c => Assert.Equal(ExpectedFile, Path.GetFileName(c)));
        Assert.All(candidates, c => Assert.StartsWith(BaseDir + Path.DirectorySeparatorChar, c, StringComparison.Ordinal));
        Assert.Equal(candidates.Count, candidates.Distinct().Count());
    }

    [Fact]
    public void CandidatePaths_OnMuslFallBackToTheGlibcRidOfTheSameArchitecture()
    {
        var candidates = NativeSqlite.CandidatePaths(BaseDir).ToList();
        var rids = candidates.Take(candidates.Count - 1).Select(c => Path.GetFileName(Path.GetDirectoryName(Path.GetDirectoryName(c)))).ToList();

        if (rids[0] == $"linux-musl-{Arch}")
        {
            Assert.Equal([$"linux-musl-{Arch}", $"linux-{Arch}"], rids);
        }
        else
        {
            Assert.Equal([$"{ExpectedOs}-{Arch}"], rids);
        }
    }

    [Fact]
    public void CandidatePaths_FindTheNativeLibraryThatShipsBesideTheEngine()
    {
        // The test output has the NuGet layout (runtimes/<rid>/native/...) that the module folder reproduces.
        var engineFolder = Path.GetDirectoryName(typeof(NativeSqlite).Assembly.Location)!;

        Assert.Contains(NativeSqlite.CandidatePaths(engineFolder), File.Exists);
    }
}

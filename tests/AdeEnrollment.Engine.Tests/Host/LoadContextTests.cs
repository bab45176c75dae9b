using System.Runtime.InteropServices;
using AdeEnrollment.Loader;

namespace AdeEnrollment.Engine.Tests.Host;

/// <summary>Which file the module's load context takes for an assembly (src/AdeEnrollment.Loader/LoadContext.cs).</summary>
public sealed class LoadContextTests : IDisposable
{
    private readonly string bin = Path.Combine(Path.GetTempPath(), "ade-loader-" + Guid.NewGuid().ToString("N"));

    public LoadContextTests()
    {
        Directory.CreateDirectory(Path.Combine(bin, "readytorun", "linux-x64"));
        File.WriteAllText(Path.Combine(bin, "Engine.dll"), "il");
        File.WriteAllText(Path.Combine(bin, "readytorun", "linux-x64", "Engine.dll"), "compiled");
        File.WriteAllText(Path.Combine(bin, "Polly.dll"), "il");
    }

    public void Dispose() => Directory.Delete(bin, recursive: true);

    [Fact]
    public void Takes_the_ReadyToRun_copy_of_this_platform_when_the_module_ships_one()
        => Assert.Equal(Path.Combine(bin, "readytorun", "linux-x64", "Engine.dll"), LoadContext.Locate(bin, "Engine", "linux-x64"));

    [Fact]
    public void Takes_the_IL_assembly_on_a_platform_without_ReadyToRun_copies()
    {
        Assert.Equal(Path.Combine(bin, "Engine.dll"), LoadContext.Locate(bin, "Engine", null));
        Assert.Equal(Path.Combine(bin, "Engine.dll"), LoadContext.Locate(bin, "Engine", "win-x64"));
    }

    [Fact]
    public void Takes_the_IL_assembly_that_has_no_ReadyToRun_copy()
        => Assert.Equal(Path.Combine(bin, "Polly.dll"), LoadContext.Locate(bin, "Polly", "linux-x64"));

    [Fact]
    public void Looks_for_ReadyToRun_copies_on_linux_x64_only()
    {
        // A ReadyToRun image compiled for another OS or architecture fails to load (BadImageFormatException).
        var expected = OperatingSystem.IsLinux() && RuntimeInformation.ProcessArchitecture == System.Runtime.InteropServices.Architecture.X64 ? "linux-x64" : null;

        Assert.Equal(expected, LoadContext.ReadyToRunPlatform);
    }
}

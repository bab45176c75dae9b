using System.Reflection;
using System.Runtime.InteropServices;

namespace AdeEnrollment.Engine.Storage;

/// <summary>
/// Makes the native e_sqlite3 library loadable inside pwsh. pwsh does not read a module's deps.json, so it never
/// probes <c>runtimes/&lt;rid&gt;/native/</c> (docs/architecture.md, "Native SQLite inside the context"). We register a DllImport resolver on the
/// SQLitePCLRaw provider assembly that tries the RID candidates for this machine under the engine's own folder,
/// and fall back to the runtime's default probing (which is what a normal app, such as the xunit host, uses).
/// </summary>
internal static class NativeSqlite
{
    private const string LibraryName = "e_sqlite3";
    private static int registered;

    public static void EnsureResolver()
    {
        if (Interlocked.Exchange(ref registered, 1) == 1)
        {
            return;
        }

        Assembly provider;
        try
        {
            provider = Assembly.Load("SQLitePCLRaw.provider.e_sqlite3");
        }
        catch (FileNotFoundException)
        {
            return; // a host that ships another provider
        }

        try
        {
            NativeLibrary.SetDllImportResolver(provider, Resolve);
        }
        catch (InvalidOperationException)
        {
            // Someone (another module or host) already registered a resolver for this assembly; theirs wins.
        }
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? searchPath)
    {
        if (!name.Equals(LibraryName, StringComparison.Ordinal))
        {
            return IntPtr.Zero;
        }

        var baseDir = Path.GetDirectoryName(typeof(NativeSqlite).Assembly.Location);
        if (string.IsNullOrEmpty(baseDir))
        {
            return IntPtr.Zero;
        }

        foreach (var candidate in CandidatePaths(baseDir))
        {
            if (File.Exists(candidate) && NativeLibrary.TryLoad(candidate, out var handle))
            {
                return handle;
            }
        }

        return IntPtr.Zero; // default probing
    }

    /// <summary>The files to try, most specific RID first (never a single guess: docs/architecture.md, "Native SQLite inside the context").</summary>
    internal static IEnumerable<string> CandidatePaths(string baseDir)
    {
        string os, file;
        if (OperatingSystem.IsWindows())
        {
            os = "win";
            file = "e_sqlite3.dll";
        }
        else if (OperatingSystem.IsMacOS())
        {
            os = "osx";
            file = "libe_sqlite3.dylib";
        }
        else
        {
            os = IsMusl() ? "linux-musl" : "linux";
            file = "libe_sqlite3.so";
        }

        var arch = RuntimeInformation.ProcessArchitecture.ToString().ToLowerInvariant();
        var rids = new List<string> { $"{os}-{arch}" };
        if (os == "linux-musl")
        {
            rids.Add($"linux-{arch}");
        }

        foreach (var rid in rids)
        {
            yield return Path.Combine(baseDir, "runtimes", rid, "native", file);
        }

        yield return Path.Combine(baseDir, file);
    }

    private static bool IsMusl()
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        return RuntimeInformation.RuntimeIdentifier.Contains("musl", StringComparison.OrdinalIgnoreCase)
               || File.Exists("/etc/alpine-release")
               || (Directory.Exists("/lib") && Directory.EnumerateFiles("/lib", "ld-musl-*").Any());
    }
}

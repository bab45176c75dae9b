using System.Reflection;
using System.Runtime.Loader;

namespace AdeEnrollment.Loader;

/// <summary>
/// The module's own AssemblyLoadContext (docs/architecture.md, "Dependency isolation"). The cmdlets, the engine and
/// every third-party dependency (SQLite, BouncyCastle, Polly, ProtectedData) load here from the module's <c>bin</c>
/// folder, so a session that loaded other versions of them, before or after this module, keeps its own and this
/// module keeps its own. Anything not shipped in <c>bin</c> (the framework, PowerShell itself) comes from the default
/// context. One context per process, shared by every module that loads through it (the simulator module does), so
/// they share one engine and one clock.
/// </summary>
public sealed class LoadContext : AssemblyLoadContext
{
    private static readonly object Gate = new();
    private static LoadContext? instance;

    private readonly Assembly loader = typeof(LoadContext).Assembly;
    private readonly List<string> folders = [];

    private LoadContext()
        : base("AdeEnrollment", isCollectible: false)
    {
    }

    /// <summary>The context, once a module has loaded through it.</summary>
    public static AssemblyLoadContext? Current => instance;

    /// <summary>
    /// Loads <paramref name="assemblyPath"/> into the module context and adds its folder to the folders the context
    /// resolves dependencies from. Idempotent: a module imported again gets the assembly already loaded.
    /// </summary>
    public static Assembly Initialize(string assemblyPath)
    {
        var path = Path.GetFullPath(assemblyPath);
        var name = AssemblyName.GetAssemblyName(path).Name;
        lock (Gate)
        {
            instance ??= new LoadContext();
            var folder = Path.GetDirectoryName(path)!;
            if (!instance.folders.Contains(folder, StringComparer.Ordinal))
            {
                instance.folders.Add(folder);
            }

            return instance.Assemblies.FirstOrDefault(a => a.GetName().Name == name) ?? instance.LoadFromAssemblyPath(path);
        }
    }

    protected override Assembly? Load(AssemblyName assemblyName)
    {
        if (assemblyName.Name == loader.GetName().Name)
        {
            return loader; // one identity for the loader, whoever asks
        }

        string[] snapshot;
        lock (Gate)
        {
            snapshot = [.. folders];
        }

        foreach (var folder in snapshot)
        {
            var candidate = Path.Combine(folder, assemblyName.Name + ".dll");
            if (File.Exists(candidate))
            {
                return LoadFromAssemblyPath(candidate);
            }
        }

        return null; // the framework and PowerShell: the default context
    }
}

using System.Management.Automation;
using System.Reflection;
using System.Runtime.Loader;

namespace AdeEnrollment.Simulator.Host;

/// <summary>
/// The simulator module ships only its own dll: the engine, BouncyCastle and the rest come from the AdeEnrollment
/// module (RequiredModules). When the runtime asks for one of those that is not loaded yet, load it from the folder
/// the engine was loaded from — and nothing else.
/// </summary>
public sealed class ModuleInitializer : IModuleAssemblyInitializer, IModuleAssemblyCleanup
{
    /// <summary>The folder of the AdeEnrollment module: where its (already loaded) cmdlet assembly came from.</summary>
    private static string? EngineFolder => AppDomain.CurrentDomain.GetAssemblies()
        .Where(a => a.GetName().Name is "AdeEnrollment" or "AdeEnrollment.Engine" && !a.IsDynamic && a.Location.Length > 0)
        .Select(a => Path.GetDirectoryName(a.Location))
        .FirstOrDefault();

    public void OnImport() => AssemblyLoadContext.Default.Resolving += Resolve;

    public void OnRemove(PSModuleInfo psModuleInfo) => AssemblyLoadContext.Default.Resolving -= Resolve;

    private static Assembly? Resolve(AssemblyLoadContext context, AssemblyName name)
    {
        var folder = EngineFolder;
        if (folder is null || name.Name is null)
        {
            return null;
        }

        var candidate = Path.Combine(folder, name.Name + ".dll");
        return File.Exists(candidate) ? context.LoadFromAssemblyPath(candidate) : null;
    }
}

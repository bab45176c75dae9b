using System.Text.RegularExpressions;
using NetArchTest.Rules;
using Xunit;

namespace AdeEnrollment.Engine.Tests.Architecture;

/// <summary>
/// The engine's namespaces form layers (docs/architecture.md "Layers"): a namespace may use only the layers below it,
/// and the namespaces of one layer do not use each other. So there is no dependency cycle between namespaces, and a
/// rule cannot reach up into the service that uses it. Read from the compiled engine (type references in signatures
/// and method bodies), so a fully qualified name or a hidden <c>using</c> cannot slip past.
/// </summary>
public sealed class LayeringTests
{
    private const string Root = "AdeEnrollment.Engine";

    /// <summary>Bottom to top. <c>""</c> is the root namespace's own helpers (clock, text rules, wildcard).</summary>
    public static readonly string[][] Layers =
    [
        [""],
        ["Errors"],
        ["Hosting", "Security"],
        ["Files"],
        ["Model"],
        ["Rules"],
        ["Storage", "Apple"],
        ["Tokens"],
        ["Devices"],
        ["Profiles"],
        ["Sync"],
        ["Business", "Health"],
    ];

    /// <summary>The composition root: builds every service, so it sits above all layers.</summary>
    private const string CompositionRoot = Root + ".AdeEngine";

    public static TheoryData<string> Namespaces()
    {
        var data = new TheoryData<string>();
        foreach (var ns in Layers.SelectMany(l => l))
        {
            data.Add(ns);
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Namespaces))]
    public void Namespace_UsesOnlyLowerLayers(string ns)
    {
        var layer = Array.FindIndex(Layers, l => l.Contains(ns));
        var forbidden = Layers.Skip(layer + 1).SelectMany(l => l)
            .Concat(Layers[layer].Where(sibling => sibling != ns))
            .SelectMany(Targets)
            .Append(CompositionRoot)
            .ToArray();

        var result = Types.InAssembly(typeof(AdeEngine).Assembly)
            .That().ResideInNamespaceMatching(Pattern(ns))
            .And().DoNotHaveName(nameof(AdeEngine))
            .ShouldNot().HaveDependencyOnAny(forbidden)
            .GetResult();

        Assert.True(result.IsSuccessful,
            $"{Full(ns)} uses a namespace of its own or a higher layer: " +
            string.Join(", ", (result.FailingTypes ?? []).Select(t => t.FullName + (string.IsNullOrEmpty(t.Explanation) ? "" : $" ({t.Explanation})"))));
    }

    [Fact]
    public void EveryEngineNamespace_HasALayer()
    {
        var known = Layers.SelectMany(l => l).ToHashSet();
        var unplaced = typeof(AdeEngine).Assembly.GetTypes()
            .Where(t => t.Namespace is not null && t.Namespace.StartsWith(Root, StringComparison.Ordinal) && !t.Name.StartsWith('<'))
            .Select(t => TopNamespace(t.Namespace!))
            .Where(ns => !known.Contains(ns))
            .Distinct()
            .ToList();

        Assert.True(unplaced.Count == 0, "Give these engine namespaces a layer in LayeringTests.Layers and docs/architecture.md: " + string.Join(", ", unplaced));
    }

    [Fact]
    public void TheTest_SeesAnUpwardReference()
    {
        // Guard against a rule that can never fail: the composition root does reach every service.
        var result = Types.InAssembly(typeof(AdeEngine).Assembly)
            .That().HaveName(nameof(AdeEngine))
            .ShouldNot().HaveDependencyOnAny(Full("Sync"))
            .GetResult();

        Assert.False(result.IsSuccessful);
    }

    private static string Full(string ns) => ns.Length == 0 ? Root : $"{Root}.{ns}";

    /// <summary>
    /// What a dependency on <paramref name="ns"/> is matched by (names match as prefixes): the namespace, or for the
    /// root namespace each of its own types, since the root's name is a prefix of every engine namespace.
    /// </summary>
    private static IEnumerable<string> Targets(string ns)
        => ns.Length > 0
            ? [Full(ns)]
            : typeof(AdeEngine).Assembly.GetTypes()
                .Where(t => t.Namespace == Root && !t.IsNested && !t.Name.StartsWith('<') && t != typeof(AdeEngine))
                .Select(t => t.FullName!);

    /// <summary>The namespace and its children; for the root, only the root itself.</summary>
    private static string Pattern(string ns)
        => ns.Length == 0 ? $"^{Regex.Escape(Root)}$" : $"^{Regex.Escape(Full(ns))}(\\..+)?$";

    private static string TopNamespace(string ns)
    {
        if (ns == Root)
        {
            return "";
        }

        var rest = ns[(Root.Length + 1)..];
        var dot = rest.IndexOf('.');
        return dot < 0 ? rest : rest[..dot];
    }
}

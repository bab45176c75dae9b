using System.Collections.ObjectModel;

namespace AdeEnrollment.Engine.Model;

/// <summary>
/// A read-only list property of an output object (ScopeTags, HiddenScreens, …). Format views show its items; as
/// text (Export-Csv, string interpolation) it is its items joined with "; " rather than a .NET type name.
/// </summary>
public sealed class ValueList<T> : ReadOnlyCollection<T>
{
    public static new readonly ValueList<T> Empty = new([]);

    public ValueList(IList<T> items)
        : base(items)
    {
    }

    public override string ToString() => string.Join("; ", this);
}

internal static class ValueList
{
    public static ValueList<T> Of<T>(IEnumerable<T>? items) => items is null ? ValueList<T>.Empty : new ValueList<T>(items.ToArray());
}

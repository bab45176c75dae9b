using System.Management.Automation;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Transforms;

/// <summary>
/// Lets -Token / -Profile / -Request take an object, an Id or a name. The parameters are typed <c>object</c> so that
/// their syntax says so; this transformation turns whatever is given into the one string the engine resolves: objects
/// become their Id (a token renamed meanwhile is still found), a Guid its text, anything else its string form (name,
/// wildcard or Id), exactly as a string parameter would have converted it.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ReferenceTransformationAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData) => ToReference(inputData);

    /// <summary>The reference as the engine takes it, for the commands (their parameters were transformed already).</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(value))]
    internal static string? Ref(object? value) => ToReference(value);

    /// <summary>The reference as the engine takes it; null stays null.</summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(inputData))]
    public static string? ToReference(object? inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        return value switch
        {
            null => null,
            string s => s,
            AdeToken token => token.Id.ToString(),
            AdeTokenRequest request => request.Id.ToString(),
            AdeProfile profile => profile.Id.ToString(),
            Guid id => id.ToString(),
            object[] { Length: 1 } one => ToReference(one[0]),
            _ => LanguagePrimitives.ConvertTo<string>(value),
        };
    }
}

using System.Management.Automation;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Transforms;

/// <summary>
/// Lets -Token / -Profile / -Request take an object, an Id or a name. The parameters are typed <c>object</c> so that
/// their syntax says so; this transformation turns whatever is given into the one string the engine resolves: objects
/// become their Id (a token renamed meanwhile is still found), a Guid its text, a row or hashtable its Id or Name
/// property (a CSV of exported tokens or profiles pipes back in), anything else its string form (name, wildcard or Id),
/// exactly as a string parameter would have converted it.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class ReferenceTransformationAttribute : ArgumentTransformationAttribute
{
    /// <summary>
    /// Set to "Token" on a -Token parameter that also takes pipeline input by property name: an object parameter
    /// binds every piped object by value, so a piped object that belongs to a token — a profile, a device, a sync
    /// result, a CSV row with a TokenId or Token column — is read here for the token it names, as binding by property
    /// name did for the string parameter. A token, its name or its Id is taken as itself.
    /// </summary>
    public string? Of { get; set; }

    /// <summary>With <see cref="Of"/> "Token": a piped profile is kept as the profile, for a command that acts on it and its token.</summary>
    public bool KeepProfile { get; set; }

    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        // one reference per parameter: a list given to it (-Token 'A','B') would otherwise become the text "A B"
        if (value is System.Collections.IList { Count: > 1 } list)
        {
            throw new ArgumentTransformationMetadataException(
                $"This parameter takes one value, not a list of {list.Count}. To act on several, pipe them to the command (for example: 'A', 'B' | Sync-AdeDevice).");
        }

        if (Of == "Token")
        {
            if (value is AdeProfile profile)
            {
                return KeepProfile ? profile : profile.TokenId.ToString();
            }

            if (value is not (string or Guid or AdeToken or null))
            {
                var row = inputData as PSObject ?? PSObject.AsPSObject(value);
                var property = row.Properties["TokenId"] ?? row.Properties["Token"];
                if (property is not null)
                {
                    return ToReference(property.Value);
                }

                if (value is System.Collections.IDictionary dictionary && dictionary.Keys.Cast<object>().OrderBy(k => string.Equals(k.ToString(), "TokenId", StringComparison.OrdinalIgnoreCase) ? 0 : 1)
                        .FirstOrDefault(k => string.Equals(k.ToString(), "TokenId", StringComparison.OrdinalIgnoreCase) || string.Equals(k.ToString(), "Token", StringComparison.OrdinalIgnoreCase)) is { } key)
                {
                    return ToReference(dictionary[key]);
                }
            }
        }

        return ToReference(inputData);
    }

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
            System.Collections.IDictionary or PSCustomObject => FromProperties(inputData!),
            _ => LanguagePrimitives.ConvertTo<string>(value),
        };
    }

    /// <summary>
    /// A row or hashtable (Import-Csv of exported tokens or profiles, @{ Name = … }) names what it stands for by its
    /// Id, else its Name; one with neither is refused naming its properties, never turned into the text of the object.
    /// </summary>
    private static string FromProperties(object input)
    {
        var value = input is PSObject ps ? ps.BaseObject : input;
        List<(string Name, object? Value)> members = value is System.Collections.IDictionary dictionary
            ? [.. dictionary.Keys.Cast<object>().Select(k => (k.ToString() ?? "", dictionary[k]))]
            : [.. PSObject.AsPSObject(input).Properties.Select(p => (p.Name, p.Value))];
        foreach (var wanted in new[] { "Id", "Name" })
        {
            var member = members.FirstOrDefault(m => string.Equals(m.Name, wanted, StringComparison.OrdinalIgnoreCase));
            // a member's value is taken as it is (a string, an Id, an object of the module), never read for members
            // of its own: a row that holds itself must not recurse
            var inner = member.Value is PSObject wrapped ? wrapped.BaseObject : member.Value;
            if (member.Name is not null && (inner is System.Collections.IDictionary or PSCustomObject ? null : ToReference(inner)) is { Length: > 0 } reference)
            {
                return reference;
            }
        }

        var names = members.Count == 0 ? "none" : string.Join(", ", members.Take(8).Select(m => m.Name)) + (members.Count > 8 ? ", …" : "");
        throw new ArgumentTransformationMetadataException(
            $"This parameter takes an object of the module, a name or an Id; the {(value is System.Collections.IDictionary ? "hashtable" : "object")} given has no Id or Name property (its properties: {names}).");
    }
}

using System.Management.Automation;
using AdeEnrollment.Engine;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Transforms;

/// <summary>
/// A token or profile that crossed a process boundary (Export-Clixml/Import-Clixml, the output of Start-Job) arrives as
/// a property bag typed "Deserialized.&lt;type&gt;". Piped, it stands for the object of that Id, read again from the store,
/// as a live one would; anything else is passed on as it is.
/// </summary>
internal static class DeserializedInput
{
    private const string Prefix = "Deserialized.";

    public static object Live(PSObject item, AdeEngine engine)
    {
        if (item.BaseObject is not PSCustomObject || item.TypeNames.Count == 0 || !item.TypeNames[0].StartsWith(Prefix, StringComparison.Ordinal)
            || !Guid.TryParse(item.Properties["Id"]?.Value?.ToString(), out var id))
        {
            return item.BaseObject;
        }

        var type = item.TypeNames[0][Prefix.Length..];
        if (type == typeof(AdeToken).FullName)
        {
            return engine.Tokens.GetTokens(id: id).SingleOrDefault() ?? throw ErrorCatalog.TokenNotFound(id.ToString());
        }

        return type == typeof(AdeProfile).FullName ? engine.Profiles.Resolve(id.ToString()) : item.BaseObject;
    }
}

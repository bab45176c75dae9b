using System.Collections;
using System.Management.Automation;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Transforms;

/// <summary>
/// Reads the device a piped object names, the same way for Get-AdeDevice, Set-AdeDeviceProfile and Remove-AdeDevice:
/// an AdeDevice (serial and token), a string (a serial), or any row or object with a serial number property under
/// one of the names of <see cref="SerialColumns"/> (and, if present, a TokenId, or a Token name
/// resolved by <c>resolveToken</c>). An object without such a property
/// is refused with a catalogued error that names its properties, never turned into a serial like '@{...}'.
/// </summary>
internal static class PipelineDevice
{
    public static DeviceTarget Read(object input, Func<string, Guid> resolveToken)
    {
        var value = input is PSObject ps ? ps.BaseObject : input;
        switch (value)
        {
            case AdeDevice device:
                return new DeviceTarget(device.SerialNumber, device.TokenId);
            case string serial:
                return new DeviceTarget(serial);
            case IDictionary dictionary:
                {
                    var keys = dictionary.Keys.Cast<object>().Select(k => k.ToString() ?? "").ToList();
                    var key = SerialColumns.Find(keys) ?? throw Missing("hashtable", keys);
                    var tokenKey = keys.FirstOrDefault(k => string.Equals(k, "TokenId", StringComparison.OrdinalIgnoreCase));
                    return new DeviceTarget(Text(dictionary[key]), Token(tokenKey is null ? null : dictionary[tokenKey]));
                }
        }

        var row = PSObject.AsPSObject(input);
        var names = row.Properties.Select(p => p.Name).ToList();
        var name = SerialColumns.Find(names) ?? throw Missing(Describe(value), names);
        var tokenId = Token(row.Properties["TokenId"]?.Value);
        if (tokenId is null && row.Properties["Token"]?.Value is { } tokenName && Text(tokenName) is { Length: > 0 } text)
        {
            tokenId = resolveToken(text);
        }

        return new DeviceTarget(Text(row.Properties[name].Value), tokenId);
    }

    private static string Text(object? value) => (value is PSObject ps ? ps.BaseObject : value)?.ToString() ?? "";

    private static Guid? Token(object? value) => Guid.TryParse(Text(value), out var id) ? id : null;

    private static string Describe(object value) => value is PSCustomObject ? "object" : value.GetType().Name;

    private static AdeException Missing(string type, IReadOnlyList<string> properties)
        => ErrorCatalog.SerialNumberMissing(type, properties, SerialColumns.Described);
}

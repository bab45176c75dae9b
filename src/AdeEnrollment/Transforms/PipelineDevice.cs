using System.Collections;
using System.Management.Automation;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Transforms;

/// <summary>
/// Reads the device a piped object names, the same way for the device cmdlets (Get-AdeDevice, Set-AdeDeviceProfile,
/// Remove-AdeDevice, the device actions) and the Apple Business device cmdlets (Get-AdeOrgDevice and the activities):
/// an AdeDevice (serial and token), an AdeOrgDevice, a string (a serial), or any row or object with a serial number
/// property under one of the names of <see cref="SerialColumns"/> (and, if present, a TokenId, or a Token name
/// resolved by <c>resolveToken</c>). An object without such a property
/// is refused with a catalogued error that names its properties, never turned into a serial like '@{...}'.
/// </summary>
internal static class PipelineDevice
{
    /// <summary>The device and, when the input names one, its token (a store device: the device cmdlets).</summary>
    public static DeviceTarget Read(object input, Func<string, Guid> resolveToken)
    {
        var found = Find(input);
        var tokenId = found.TokenId;
        if (tokenId is null && found.TokenName is { Length: > 0 } name)
        {
            try
            {
                tokenId = resolveToken(name);
            }
            catch (AdeException ex)
            {
                // in a file of many rows, the row is found by its serial number
                throw ex.WithCompleted($"(It is the Token of the row of serial number '{Engine.Rules.TextRules.Neutralise(found.SerialNumber)}'; that device was skipped.)", []);
            }
        }

        return new DeviceTarget(found.SerialNumber, tokenId);
    }

    /// <summary>
    /// The serial number alone, for the Apple Business cmdlets: they act on the organisation's devices, which belong
    /// to no token, so a Token or TokenId column is not read (nor a token name resolved).
    /// </summary>
    public static string SerialNumber(object input) => Find(input).SerialNumber;

    private readonly record struct Found(string SerialNumber, Guid? TokenId = null, string? TokenName = null);

    private static Found Find(object input)
    {
        var value = input is PSObject ps ? ps.BaseObject : input;
        switch (value)
        {
            case AdeDevice device:
                return new Found(device.SerialNumber, device.TokenId);
            case AdeOrgDevice orgDevice:
                return new Found(orgDevice.SerialNumber);
            case string serial:
                return new Found(serial);
            case IDictionary dictionary:
                {
                    var keys = dictionary.Keys.Cast<object>().Select(k => k.ToString() ?? "").ToList();
                    var key = SerialColumns.Find(keys) ?? throw Missing("hashtable", keys, input);
                    var tokenKey = keys.FirstOrDefault(k => string.Equals(k, "TokenId", StringComparison.OrdinalIgnoreCase));
                    return new Found(Text(dictionary[key]), Token(tokenKey is null ? null : dictionary[tokenKey]));
                }
        }

        var row = PSObject.AsPSObject(input);
        var names = row.Properties.Select(p => p.Name).ToList();
        var name = SerialColumns.Find(names) ?? throw Missing(Describe(value), names, input);
        var tokenId = Token(row.Properties["TokenId"]?.Value);
        var tokenName = tokenId is null && row.Properties["Token"]?.Value is { } token ? Text(token) : null;
        return new Found(Text(row.Properties[name].Value), tokenId, tokenName);
    }

    private static string Text(object? value) => (value is PSObject ps ? ps.BaseObject : value)?.ToString() ?? "";

    private static Guid? Token(object? value) => Guid.TryParse(Text(value), out var id) ? id : null;

    private static string Describe(object value) => value is PSCustomObject ? "object" : value.GetType().Name;

    private static AdeException Missing(string type, IReadOnlyList<string> properties, object input)
        => ErrorCatalog.SerialNumberMissing(type, properties, SerialColumns.Described, input);
}

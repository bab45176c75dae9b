namespace AdeEnrollment.Engine.Devices;

/// <summary>A device named by serial number, with the token it belongs to when the caller knows it (a piped device).</summary>
public sealed record DeviceTarget(string SerialNumber, Guid? TokenId = null);

/// <summary>
/// The column (property) names the device cmdlets read a serial number from when rows are piped in
/// (Import-Csv serials.csv | Set-AdeDeviceProfile): the one list for the device cmdlets (Get-AdeDevice, Set-AdeDeviceProfile,
/// Remove-AdeDevice, the device actions) and the Apple Business device cmdlets (Get-AdeOrgDevice and the activities),
/// documented in about_AdeEnrollment. A name matches ignoring case, spaces, '_', '-' and '.',
/// so 'Serial Number', 'serial_number' and 'SERIAL-NO.' are all accepted.
/// </summary>
public static class SerialColumns
{
    /// <summary>The accepted names, most specific first: when a row has more than one, the first in this list wins.</summary>
    public static readonly IReadOnlyList<string> Names =
        ["SerialNumber", "DeviceSerialNumber", "Serial", "SerialNo", "SerialNr", "DeviceSerial"];

    private static readonly string[] Keys = Names.Select(Key).ToArray();

    /// <summary>
    /// The property among <paramref name="propertyNames"/> that holds the serial number, or null when none does.
    /// </summary>
    public static string? Find(IEnumerable<string> propertyNames)
    {
        var byKey = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var name in propertyNames)
        {
            byKey.TryAdd(Key(name), name);
        }

        foreach (var key in Keys)
        {
            if (byKey.TryGetValue(key, out var name))
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>The accepted names as a user reads them in an error message.</summary>
    public static string Described => "SerialNumber, Serial Number, Serial, SerialNo, Serial No, SerialNr, DeviceSerialNumber, Device Serial Number, DeviceSerial (any case; spaces, '_', '-' or '.' between the words)";

    private static string Key(string name)
        => new(name.Where(ch => ch is not (' ' or '_' or '-' or '.' or '\t')).Select(char.ToLowerInvariant).ToArray());
}

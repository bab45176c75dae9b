using System.Buffers.Text;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace AdeEnrollment.Simulator.Service;

/// <summary>
/// An opaque, tamper-evident cursor: kind (F fetch, S sync), server, fetch snapshot and position, the change-log
/// sequence it stands at and when it was issued; base64url with an HMAC tag. A forged or foreign cursor does not decode.
/// </summary>
internal sealed record Cursor(char Kind, string Server, long Snapshot, long Position, long Count, long Sequence, DateTimeOffset IssuedAt)
{
    private const int TagLength = 12;

    public string Encode(byte[] key)
    {
        var payload = Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture,
            $"{Kind}|{Server}|{Snapshot}|{Position}|{Count}|{Sequence}|{IssuedAt.ToUnixTimeMilliseconds()}"));
        var tag = HMACSHA256.HashData(key, payload).AsSpan(0, TagLength);
        return Base64Url.EncodeToString([.. payload, .. tag]);
    }

    public static Cursor? Decode(string text, byte[] key)
    {
        byte[] bytes;
        try
        {
            bytes = Base64Url.DecodeFromChars(text);
        }
        catch (FormatException)
        {
            return null;
        }

        if (bytes.Length <= TagLength)
        {
            return null;
        }

        var payload = bytes.AsSpan(0, bytes.Length - TagLength);
        var expected = HMACSHA256.HashData(key, payload).AsSpan(0, TagLength);
        if (!CryptographicOperations.FixedTimeEquals(expected, bytes.AsSpan(bytes.Length - TagLength)))
        {
            return null;
        }

        var parts = Encoding.ASCII.GetString(payload).Split('|');
        if (parts.Length != 7 || parts[0].Length != 1)
        {
            return null;
        }

        var n = new long[5];
        for (var i = 0; i < 5; i++)
        {
            if (!long.TryParse(parts[i + 2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out n[i]))
            {
                return null;
            }
        }

        return new Cursor(parts[0][0], parts[1], n[0], n[1], n[2], n[3], DateTimeOffset.FromUnixTimeMilliseconds(n[4]));
    }
}

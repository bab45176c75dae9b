using System.Text;

namespace AdeEnrollment.Engine.Tests.Fuzz;

/// <summary>
/// Deterministic mutations of valid inputs: every case is a function of (seed, case number), so a failure message
/// names what reproduces it. The number of cases comes from ADE_FUZZ_CASES (build.ps1 Fuzz sets it high).
/// </summary>
public static class Mutator
{
    /// <summary>The total cases of the store/file fuzz classes; the default keeps them to well under a minute.</summary>
    public static int Cases(int defaultCount)
        => int.TryParse(Environment.GetEnvironmentVariable("ADE_FUZZ_CASES"), out var n) && n > 0 ? n : defaultCount;

    public static byte[] FlipBits(Random r, byte[] input)
    {
        var copy = (byte[])input.Clone();
        if (copy.Length == 0) return copy;
        for (int i = 0, n = r.Next(1, 9); i < n; i++)
        {
            copy[r.Next(copy.Length)] ^= (byte)(1 << r.Next(8));
        }

        return copy;
    }

    public static byte[] Truncate(Random r, byte[] input) => input[..r.Next(input.Length)];

    public static byte[] Insert(Random r, byte[] input)
    {
        var extra = new byte[r.Next(1, 17)];
        r.NextBytes(extra);
        var at = r.Next(input.Length + 1);
        return [.. input[..at], .. extra, .. input[at..]];
    }

    /// <summary>Replaces a run of bytes with a copy of another run of the same input (a splice).</summary>
    public static byte[] Splice(Random r, byte[] input)
    {
        if (input.Length < 4) return Insert(r, input);
        var from = r.Next(input.Length);
        var length = r.Next(1, Math.Min(64, input.Length - from) + 1);
        var to = r.Next(input.Length);
        var chunk = input.AsSpan(from, length).ToArray();
        return [.. input[..to], .. chunk, .. input[Math.Min(input.Length, to + length)..]];
    }

    /// <summary>The offsets of every tag-length header of a DER value, walking constructed values recursively.</summary>
    public static List<(int Offset, int HeaderLength, int Length)> AsnHeaders(byte[] der)
    {
        var result = new List<(int, int, int)>();
        Walk(der, 0, der.Length, result, 0);
        return result;
    }

    private static void Walk(byte[] der, int start, int end, List<(int, int, int)> result, int depth)
    {
        var i = start;
        while (i < end && depth < 40)
        {
            var offset = i;
            var tag = der[i++];
            if ((tag & 0x1F) == 0x1F) return; // multi-byte tags do not occur in these files
            if (i >= end) return;
            int length = der[i++];
            if (length == 0x80) return; // indefinite: not in DER
            if (length > 0x80)
            {
                var count = length & 0x7F;
                if (count > 4 || i + count > end) return;
                length = 0;
                for (var k = 0; k < count; k++) length = (length << 8) | der[i++];
            }

            if (length < 0 || i + length > end) return;
            result.Add((offset, i - offset, length));
            if ((tag & 0x20) != 0) Walk(der, i, i + length, result, depth + 1);
            i += length;
        }
    }

    /// <summary>Rewrites one ASN.1 length: zero, indefinite, off by one either way, huge, or a long form that lies.</summary>
    public static byte[] TamperAsnLength(Random r, byte[] der)
    {
        var headers = AsnHeaders(der);
        if (headers.Count == 0) return FlipBits(r, der);
        var (offset, headerLength, length) = headers[r.Next(headers.Count)];
        byte[] newLength = r.Next(7) switch
        {
            0 => [0x00],
            1 => [0x80], // indefinite length
            2 => EncodeLength(length + 1),
            3 => EncodeLength(Math.Max(0, length - 1)),
            4 => [0x84, 0x7F, 0xFF, 0xFF, 0xFF],
            5 => [0x84, 0xFF, 0xFF, 0xFF, 0xFF],
            _ => [0x88, 0, 0, 0, 0, 0, 0, 0, 0x10],
        };
        return [.. der[..(offset + 1)], .. newLength, .. der[(offset + headerLength)..]];
    }

    /// <summary>
    /// Structure-keeping damage: the DER still decodes, but one value is wrong — its tag changed to another universal
    /// type, or its content bytes replaced by random bytes of the same length (OIDs, integers, parameters).
    /// </summary>
    public static byte[] TamperAsnValue(Random r, byte[] der)
    {
        var headers = AsnHeaders(der);
        if (headers.Count == 0) return FlipBits(r, der);
        var (offset, headerLength, length) = headers[r.Next(headers.Count)];
        var copy = (byte[])der.Clone();
        if (r.Next(2) == 0 || length == 0)
        {
            byte[] tags = [0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x0C, 0x13, 0x17, 0x30, 0x31, 0xA0, 0xA1, 0x80];
            var constructed = (der[offset] & 0x20) != 0;
            var choices = tags.Where(t => ((t & 0x20) != 0) == constructed).ToArray();
            copy[offset] = choices[r.Next(choices.Length)];
        }
        else
        {
            var content = copy.AsSpan(offset + headerLength, Math.Min(length, 8));
            r.NextBytes(content);
        }

        return copy;
    }

    private static byte[] EncodeLength(int length)
        => length < 0x80 ? [(byte)length]
            : length <= 0xFF ? [0x81, (byte)length]
            : length <= 0xFFFF ? [0x82, (byte)(length >> 8), (byte)length]
            : [0x83, (byte)(length >> 16), (byte)(length >> 8), (byte)length];

    /// <summary>Damages the S/MIME header block of a text file.</summary>
    public static string DamageMime(Random r, string smime)
    {
        var blank = smime.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var headers = blank < 0 ? "" : smime[..blank];
        var body = blank < 0 ? smime : smime[(blank + 4)..];
        return r.Next(10) switch
        {
            0 => headers + "\r\n" + body,                                   // no blank line after the headers
            1 => body,                                                      // no headers
            2 => headers + "\r\n\r\n" + headers + "\r\n\r\n" + body,        // headers twice
            3 => smime.Replace("\r\n", "\r", StringComparison.Ordinal),     // old Mac line ends
            4 => "X-Long: " + new string('a', r.Next(1000, 200_000)) + "\r\n" + smime,
            5 => headers.Replace("base64", "quoted-printable", StringComparison.Ordinal) + "\r\n\r\n" + body,
            6 => "Content-Type: text/plain\r\n\u0000\u00ff\ufffd: x\r\n\r\n" + body,
            7 => headers + "\r\n\r\n" + body.Replace("\r\n", "\r\n" + new string(' ', r.Next(1, 5)), StringComparison.Ordinal),
            8 => headers + "\r\n\r\n" + body.Insert(r.Next(body.Length), "-----BEGIN CERTIFICATE-----"),
            _ => headers + "\r\n\r\n" + body.Replace('A', '*'),
        };
    }

    /// <summary>Mutates the base64 body of an S/MIME file at the DER level (re-encoded), keeping the headers.</summary>
    public static string MutateDerInside(string smime, Func<byte[], byte[]> mutate)
    {
        var blank = smime.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        var der = Convert.FromBase64String(string.Concat(smime[(blank + 4)..].Where(c => !char.IsWhiteSpace(c))));
        var mutated = mutate(der);
        return smime[..(blank + 4)] + Convert.ToBase64String(mutated, Base64FormattingOptions.InsertLineBreaks) + "\r\n";
    }

    public static byte[] Utf8(string s) => Encoding.UTF8.GetBytes(s);
}

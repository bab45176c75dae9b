namespace AdeEnrollment.Engine.Storage;

/// <summary>
/// How a list of serials is found across tokens. The device table has no serial-first index (docs/architecture.md,
/// "Serial lookups"): its key is (token_id, serial_number), so a serial is found with one probe per token.
/// </summary>
internal static class SerialLookup
{
    /// <summary>Above this many probes (serials × tokens) one read of every device is cheaper.</summary>
    public const long ProbeLimit = 200_000;

    /// <summary>Whether <paramref name="serials"/> serials are probed per token (else every device is read once and matched).</summary>
    public static bool ProbePerToken(int serials, long tokens) => (long)serials * Math.Max(tokens, 1) <= ProbeLimit;
}

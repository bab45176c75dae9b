namespace AdeEnrollment.Engine.Model;

/// <summary>What Copy-AdeStore shows per table: the rows copied and the checksum that was verified on the destination.</summary>
public sealed class AdeStoreCopyTable
{
    internal AdeStoreCopyTable() { }

    /// <summary>The table's name in the store.</summary>
    public string Table { get; internal init; } = "";

    /// <summary>The rows copied (equal on both sides when <see cref="Verified"/>).</summary>
    public long Rows { get; internal init; }

    /// <summary>
    /// SHA-256 (hex) of the table's rows in key order, every column in a provider-neutral form; encrypted secrets are
    /// taken as their decrypted value, so the same store gives the same checksum under any key. Never the secret itself.
    /// </summary>
    public string Checksum { get; internal init; } = "";

    /// <summary>True when the destination read back the same row count and checksum before the copy was committed.</summary>
    public bool Verified { get; internal init; }

    /// <summary>The store copied from (a file, or postgresql://server:port/database).</summary>
    public string Source { get; internal init; } = "";

    /// <summary>The store copied to.</summary>
    public string Destination { get; internal init; } = "";

    public override string ToString() => Table;
}

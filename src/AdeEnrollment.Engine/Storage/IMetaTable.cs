namespace AdeEnrollment.Engine.Storage;

/// <summary>The home of table meta (schema facts, key protection, store-wide settings): text values by key.</summary>
internal partial interface IMetaTable
{
    /// <summary>The value stored under <paramref name="key"/>, or null.</summary>
    string? Get(string key);

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>, replacing what was there.</summary>
    void Set(string key, string value);

    /// <summary>The store at a glance (Get-AdeStore): schema version, row counts of the main tables, size on disk.</summary>
    StoreFacts Facts();
}

/// <summary>What Get-AdeStore shows of a store's contents; <paramref name="SizeBytes"/> is the space its tables take.</summary>
internal sealed record StoreFacts(int SchemaVersion, long Tokens, long TokenRequests, long Profiles, long Devices, long SizeBytes);

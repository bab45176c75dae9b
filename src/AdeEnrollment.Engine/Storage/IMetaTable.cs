namespace AdeEnrollment.Engine.Storage;

/// <summary>The home of table meta (schema facts, key protection, store-wide settings): text values by key.</summary>
internal partial interface IMetaTable
{
    /// <summary>The value stored under <paramref name="key"/>, or null.</summary>
    string? Get(string key);

    /// <summary>Stores <paramref name="value"/> under <paramref name="key"/>, replacing what was there.</summary>
    void Set(string key, string value);
}

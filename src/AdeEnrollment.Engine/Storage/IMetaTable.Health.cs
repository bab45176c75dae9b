namespace AdeEnrollment.Engine.Storage;

/// <summary>Reads of the store's schema facts for Test-AdeHealth.</summary>
internal partial interface IMetaTable
{
    /// <summary>The schema version the store is at (the number of migrations applied).</summary>
    int ReadSchemaVersion();
}

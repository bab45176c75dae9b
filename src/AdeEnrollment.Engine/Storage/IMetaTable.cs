namespace AdeEnrollment.Engine.Storage;

/// <summary>The home of table meta (schema facts, key protection, store-wide settings).</summary>
internal interface IMetaTable
{
}

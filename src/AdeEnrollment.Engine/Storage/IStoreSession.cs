namespace AdeEnrollment.Engine.Storage;

/// <summary>
/// One unit of work on the store: every table, bound to one connection (and, for a write, one transaction that
/// commits only when the work returns). Services reach the tables only through this; they never see SQL or a
/// provider's connection. Each provider (SQLite today) implements the tables; a table's SQL has one home.
/// </summary>
internal interface IStoreSession
{
    ITokenTable Tokens { get; }

    ITokenRequestTable TokenRequests { get; }

    IProfileTable Profiles { get; }

    IDeviceTable Devices { get; }

    IDeviceEventTable DeviceEvents { get; }

    ISyncTable Sync { get; }

    IBusinessTable Business { get; }

    IMetaTable Meta { get; }
}

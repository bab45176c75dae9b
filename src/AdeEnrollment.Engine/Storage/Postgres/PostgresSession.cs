using AdeEnrollment.Engine.Errors;
using Npgsql;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>
/// The PostgreSQL unit of work: the tables over one connection and its transaction (a write holds the store's write
/// lock). A table that has no PostgreSQL implementation yet answers with the catalogued StoreNotSupported.
/// </summary>
internal sealed class PostgresSession(NpgsqlConnection connection, NpgsqlTransaction? transaction, string location) : IStoreSession
{
    private IMetaTable? meta;
    private ITokenTable? tokens;
    private ITokenRequestTable? tokenRequests;
    private IBusinessTable? business;
    private IDeviceTable? devices;
    private IDeviceEventTable? deviceEvents;
    private ISyncTable? sync;

    public ITokenTable Tokens => tokens ??= new PostgresTokenTable(connection, transaction);

    public ITokenRequestTable TokenRequests => tokenRequests ??= new PostgresTokenRequestTable(connection, transaction);

    public IProfileTable Profiles => throw Missing("profiles");

    public IDeviceTable Devices => devices ??= new PostgresDeviceTable(connection, transaction, location);

    public IDeviceEventTable DeviceEvents => deviceEvents ??= new PostgresDeviceEventTable(connection, transaction);

    public ISyncTable Sync => sync ??= new PostgresSyncTable(connection, transaction);

    public IBusinessTable Business => business ??= new PostgresBusinessTable(connection, transaction);

    public IMetaTable Meta => meta ??= new PostgresMetaTable(connection, transaction);

    private AdeException Missing(string part) => ErrorCatalog.StoreNotSupported(location, "PostgreSQL", part);
}

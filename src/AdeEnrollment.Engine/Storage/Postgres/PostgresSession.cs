using Npgsql;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>
/// The PostgreSQL unit of work: the tables over one connection and its transaction (a write holds the store's write
/// lock).
/// </summary>
internal sealed class PostgresSession(NpgsqlConnection connection, NpgsqlTransaction? transaction) : IStoreSession
{
    private IMetaTable? meta;
    private ITokenTable? tokens;
    private ITokenRequestTable? tokenRequests;
    private IBusinessTable? business;
    private IDeviceTable? devices;
    private IDeviceEventTable? deviceEvents;
    private ISyncTable? sync;
    private IProfileTable? profiles;

    public ITokenTable Tokens => tokens ??= new PostgresTokenTable(connection, transaction);

    public ITokenRequestTable TokenRequests => tokenRequests ??= new PostgresTokenRequestTable(connection, transaction);

    public IProfileTable Profiles => profiles ??= new PostgresProfileTable(connection, transaction);

    public IDeviceTable Devices => devices ??= new PostgresDeviceTable(connection, transaction);

    public IDeviceEventTable DeviceEvents => deviceEvents ??= new PostgresDeviceEventTable(connection, transaction);

    public ISyncTable Sync => sync ??= new PostgresSyncTable(connection, transaction);

    public IBusinessTable Business => business ??= new PostgresBusinessTable(connection, transaction);

    public IMetaTable Meta => meta ??= new PostgresMetaTable(connection, transaction);
}

using Microsoft.Data.Sqlite;

namespace AdeEnrollment.Engine.Storage.Sqlite;

/// <summary>The SQLite unit of work: the tables over one connection and (for writes) its BEGIN IMMEDIATE transaction.</summary>
internal sealed class SqliteSession(SqliteConnection connection, SqliteTransaction? transaction) : IStoreSession
{
    private ITokenTable? tokens;
    private ITokenRequestTable? tokenRequests;
    private IProfileTable? profiles;
    private IDeviceTable? devices;
    private IDeviceEventTable? deviceEvents;
    private ISyncTable? sync;
    private IBusinessTable? business;
    private IMetaTable? meta;

    public ITokenTable Tokens => tokens ??= new SqliteTokenTable(connection, transaction);

    public ITokenRequestTable TokenRequests => tokenRequests ??= new SqliteTokenRequestTable(connection, transaction);

    public IProfileTable Profiles => profiles ??= new SqliteProfileTable(connection, transaction);

    public IDeviceTable Devices => devices ??= new SqliteDeviceTable(connection, transaction);

    public IDeviceEventTable DeviceEvents => deviceEvents ??= new SqliteDeviceEventTable(connection, transaction);

    public ISyncTable Sync => sync ??= new SqliteSyncTable(connection, transaction);

    public IBusinessTable Business => business ??= new SqliteBusinessTable(connection, transaction);

    public IMetaTable Meta => meta ??= new SqliteMetaTable(connection, transaction);
}

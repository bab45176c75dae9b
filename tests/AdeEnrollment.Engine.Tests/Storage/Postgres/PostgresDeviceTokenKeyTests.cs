using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Storage.Postgres;
using AdeEnrollment.Engine.Tests.TestSupport;
using Npgsql;
using static AdeEnrollment.Engine.Tests.TestSupport.PostgresKeyRaces;

namespace AdeEnrollment.Engine.Tests.Storage.Postgres;

/// <summary>
/// On PostgreSQL the device -> token key is held by triggers that check once per statement (schema migration 8), not by
/// a foreign key that checks every row. These tests hold the triggers to what the foreign key guaranteed: no device of
/// a token that does not exist, no token deleted or renumbered while it has devices, also when the two race in
/// concurrent transactions; and the error is the foreign key's (SQLSTATE 23503, constraint device_token_id_fkey).
/// </summary>
public sealed class PostgresDeviceTokenKeyTests : IDisposable
{
    private const string Token = "t1";

    private readonly TestPostgresSchema schema = new();

    public PostgresDeviceTokenKeyTests()
    {
        schema.Open().Release();
        schema.Execute(
            """
            INSERT INTO token_request VALUES ('r', 0, 't', 'p', '\x00', null);
            INSERT INTO token (id, name, apple_id, consumer_key_hash, credentials, expires_at, request_id, service_uri, created_at, modified_at)
                VALUES ('t1', 'T', 'a', 'h', '\x00', 0, 'r', 'u', 0, 0), ('t2', 'U', 'a', 'h2', '\x00', 0, 'r', 'u', 0, 0);
            """);
    }

    public void Dispose() => schema.Dispose();

    private long Devices() => schema.Scalar<long>("SELECT count(*) FROM device");

    private static void AssertKeyViolation(Action action) => PostgresKeyRaces.AssertKeyViolation("device_token_id_fkey", action);

    [Fact]
    public void Migration8_ReplacesTheKeyWithTriggers()
    {
        Assert.Equal(0L, schema.Scalar<long>("SELECT count(*) FROM pg_constraint WHERE conname = 'device_token_id_fkey' AND connamespace = current_schema()::regnamespace"));
        // since migration 11 an insert's token key is checked by device_insert, with its count and profile key
        Assert.Equal(4L, schema.Scalar<long>(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgname IN ('device_insert', 'device_token_update', 'token_device_delete', 'token_device_update') AND tgrelid IN ('device'::regclass, 'token'::regclass)"));
        Assert.Equal(0L, schema.Scalar<long>("SELECT count(*) FROM pg_trigger WHERE tgname IN ('device_token_insert', 'device_tokens_count_insert') AND tgrelid = 'device'::regclass"));
    }

    [Fact]
    public void AnInsert_NamingAnUnknownToken_IsRefusedWhole()
    {
        schema.Execute("INSERT INTO device (token_id, serial_number, updated_at) VALUES ('t1', 'A', 1)");

        AssertKeyViolation(() => schema.Execute("INSERT INTO device (token_id, serial_number, updated_at) VALUES ('t1', 'B', 1), ('t2', 'C', 1), ('nope', 'D', 1)"));
        AssertKeyViolation(() => schema.Execute("INSERT INTO device (token_id, serial_number, updated_at) SELECT 'nope', 'S' || g, 1 FROM generate_series(1, 50) g"));

        Assert.Equal(1L, Devices());
    }

    [Fact]
    public void ACopy_NamingAnUnknownToken_IsRefused()
    {
        using var connection = schema.Connect();
        var ex = Assert.Throws<PostgresException>(() =>
        {
            using var copy = connection.BeginBinaryImport("COPY device (token_id, serial_number, updated_at) FROM STDIN (FORMAT BINARY)");
            foreach (var (token, serial) in new[] { ("t1", "A"), ("gone", "B") })
            {
                copy.StartRow();
                copy.Write(token);
                copy.Write(serial);
                copy.Write(1L);
            }

            copy.Complete();
        });
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, ex.SqlState);
        Assert.Equal(0L, Devices());
    }

    [Fact]
    public void MovingADevice_ToAnUnknownToken_IsRefused_AndToAKnownOneIsAllowed()
    {
        schema.Execute("INSERT INTO device (token_id, serial_number, updated_at) VALUES ('t1', 'A', 1)");

        AssertKeyViolation(() => schema.Execute("UPDATE device SET token_id = 'nope' WHERE serial_number = 'A'"));
        schema.Execute("UPDATE device SET token_id = 't2' WHERE serial_number = 'A'");

        Assert.Equal("t2", schema.Scalar<string>("SELECT token_id FROM device WHERE serial_number = 'A'"));
    }

    [Fact]
    public void AToken_WithDevices_CanBeNeitherDeletedNorRenumbered_ButWithoutThemItCanBeDeleted()
    {
        schema.Execute("INSERT INTO device (token_id, serial_number, updated_at) VALUES ('t1', 'A', 1)");

        AssertKeyViolation(() => schema.Execute("DELETE FROM token WHERE id = 't1'"));
        AssertKeyViolation(() => schema.Execute("UPDATE token SET id = 't9' WHERE id = 't1'"));
        schema.Execute("UPDATE token SET name = 'Renamed' WHERE id = 't1'"); // any other change of the token is free
        schema.Execute("DELETE FROM token WHERE id = 't2'"); // a token without devices

        schema.Execute("DELETE FROM device WHERE token_id = 't1'");
        schema.Execute("DELETE FROM token WHERE id = 't1'");
        Assert.Equal(0L, schema.Scalar<long>("SELECT count(*) FROM token"));
    }

    [Fact]
    public void ADeleteOfTheToken_WhileAnInsertIsOpen_WaitsForIt_AndThenFails()
    {
        using var inserter = schema.Connect();
        using var deleter = schema.Connect();
        using var observer = schema.Connect();
        using var insert = inserter.BeginTransaction();
        Run(inserter, insert, "INSERT INTO device (token_id, serial_number, updated_at) VALUES ('t1', 'A', 1)");

        var delete = Task.Run(() => Run(deleter, null, "DELETE FROM token WHERE id = 't1'"));
        WaitUntilBlocked(observer, deleter.ProcessID);
        insert.Commit();

        var ex = Assert.Throws<AggregateException>(() => delete.Wait());
        var postgres = Assert.IsType<PostgresException>(ex.InnerException);
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, postgres.SqlState);
        Assert.Equal(1L, schema.Scalar<long>("SELECT count(*) FROM token WHERE id = 't1'"));
        Assert.Equal(1L, Devices());
    }

    [Fact]
    public void AnInsert_WhileADeleteOfItsTokenIsOpen_WaitsForIt_AndThenFails()
    {
        using var inserter = schema.Connect();
        using var deleter = schema.Connect();
        using var observer = schema.Connect();
        using var delete = deleter.BeginTransaction();
        Assert.Equal(1, Run(deleter, delete, "DELETE FROM token WHERE id = 't1'"));

        var insert = Task.Run(() => Run(inserter, null, "INSERT INTO device (token_id, serial_number, updated_at) VALUES ('t1', 'A', 1), ('t2', 'B', 1)"));
        WaitUntilBlocked(observer, inserter.ProcessID);
        delete.Commit();

        var ex = Assert.Throws<AggregateException>(() => insert.Wait());
        var postgres = Assert.IsType<PostgresException>(ex.InnerException);
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, postgres.SqlState);
        Assert.Equal("device_token_id_fkey", postgres.ConstraintName);
        Assert.Equal(0L, Devices());
        Assert.Equal(0L, schema.Scalar<long>("SELECT count(*) FROM token WHERE id = 't1'"));
    }

    [Fact]
    public void Migration8_FromVersion7_KeepsTheDevicesAndTheJournal()
    {
        using var old = new TestPostgresSchema();
        old.CreateAtVersion(7,
            "INSERT INTO token_request VALUES ('r', 0, 't', 'p', '\\x00', null);"
            + "INSERT INTO token (id, name, apple_id, consumer_key_hash, credentials, expires_at, request_id, service_uri, created_at, modified_at) VALUES ('t1', 'T', 'a', 'h', '\\x00', 0, 'r', 'u', 0, 0);"
            + "INSERT INTO device (token_id, serial_number, updated_at) VALUES ('t1', 'A1', 1), ('t1', 'B2', 2);"
            + "INSERT INTO device_event (token_id, serial_number, at, kind) VALUES ('t1', 'A1', 5, 'Added'), ('t1', 'B2', 6, 'Added'), ('t1', 'A1', 7, 'Modified');");
        Assert.Equal(1L, old.Scalar<long>("SELECT count(*) FROM pg_constraint WHERE conname = 'device_token_id_fkey' AND connamespace = current_schema()::regnamespace"));

        old.MigrateToLatest();

        Assert.Equal(PostgresSchema.LatestVersion, old.Scalar<int>("SELECT version FROM ade_schema"));
        Assert.Equal(0L, old.Scalar<long>("SELECT count(*) FROM pg_constraint WHERE conname = 'device_token_id_fkey' AND connamespace = current_schema()::regnamespace"));
        Assert.Equal("A1,B2", old.Scalar<string>("SELECT string_agg(serial_number, ',' ORDER BY serial_number) FROM device"));
        Assert.Equal("5:Added,7:Modified", old.Scalar<string>("SELECT string_agg(at || ':' || kind, ',' ORDER BY id) FROM device_event WHERE serial_number = 'A1'"));
        AssertKeyViolation(() => old.Execute("DELETE FROM token WHERE id = 't1'"));
    }
}

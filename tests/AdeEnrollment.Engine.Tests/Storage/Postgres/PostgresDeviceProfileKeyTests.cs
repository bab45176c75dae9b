using AdeEnrollment.Engine.Storage.Postgres;
using AdeEnrollment.Engine.Tests.TestSupport;
using Npgsql;
using static AdeEnrollment.Engine.Tests.TestSupport.PostgresKeyRaces;

namespace AdeEnrollment.Engine.Tests.Storage.Postgres;

/// <summary>
/// On PostgreSQL the device -> profile key is held by triggers that check once per statement (schema migration 11), not
/// by a foreign key that checks every row. These tests hold the triggers to what the key guaranteed: a device names an
/// existing profile or none; a profile that devices name can be neither deleted nor renumbered, also when the two race
/// in concurrent transactions; the error is the key's (SQLSTATE 23503, constraint device_profile_id_fkey). An insert's
/// check runs in device_insert, with the token key and the device count (PostgresDeviceTokenKeyTests,
/// PostgresTokenDeviceCountTests hold those).
/// </summary>
public sealed class PostgresDeviceProfileKeyTests : IDisposable
{
    private readonly TestPostgresSchema schema = new();

    public PostgresDeviceProfileKeyTests()
    {
        schema.Open().Release();
        schema.Execute(
            """
            INSERT INTO token_request VALUES ('r', 0, 't', 'p', '\x00', null);
            INSERT INTO token (id, name, apple_id, consumer_key_hash, credentials, expires_at, request_id, service_uri, created_at, modified_at)
                VALUES ('t1', 'T', 'a', 'h', '\x00', 0, 'r', 'u', 0, 0);
            INSERT INTO profile (id, token_id, name, settings, created_at, modified_at)
                VALUES ('p1', 't1', 'One', '{}', 0, 0), ('p2', 't1', 'Two', '{}', 0, 0);
            """);
    }

    public void Dispose() => schema.Dispose();

    private string Holders() => schema.Scalar<string>("SELECT coalesce(string_agg(serial_number || ':' || coalesce(profile_id, '-'), ',' ORDER BY serial_number), '') FROM device")!;

    private static void AssertKeyViolation(Action action) => PostgresKeyRaces.AssertKeyViolation("device_profile_id_fkey", action);

    [Fact]
    public void Migration11_ReplacesTheKeyWithTriggers()
    {
        Assert.Equal(0L, schema.Scalar<long>("SELECT count(*) FROM pg_constraint WHERE conname = 'device_profile_id_fkey' AND connamespace = current_schema()::regnamespace"));
        Assert.Equal(4L, schema.Scalar<long>(
            "SELECT count(*) FROM pg_trigger WHERE NOT tgisinternal AND tgname IN ('device_insert', 'device_profile_update', 'profile_device_delete', 'profile_device_update') AND tgrelid IN ('device'::regclass, 'profile'::regclass)"));
        // the profile's other key (a token's default profile) stays a foreign key
        Assert.Equal(1L, schema.Scalar<long>("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid = 'token_default_profile'::regclass AND confrelid = 'profile'::regclass"));
    }

    [Fact]
    public void AnInsert_NamingAnUnknownProfile_IsRefusedWhole_AndWithoutOrWithAKnownOneIsAllowed()
    {
        schema.Execute("INSERT INTO device (token_id, serial_number, profile_id, updated_at) VALUES ('t1', 'A', 'p1', 1), ('t1', 'B', NULL, 1)");

        AssertKeyViolation(() => schema.Execute("INSERT INTO device (token_id, serial_number, profile_id, updated_at) VALUES ('t1', 'C', 'p2', 1), ('t1', 'D', 'nope', 1)"));
        AssertKeyViolation(() => schema.Execute(
            "INSERT INTO device (token_id, serial_number, profile_id, updated_at) VALUES ('t1', 'A', 'nope', 2) ON CONFLICT (token_id, serial_number) DO UPDATE SET profile_id = excluded.profile_id"));

        Assert.Equal("A:p1,B:-", Holders());
    }

    [Fact]
    public void AnInsert_OfAnUnknownTokenAndAnUnknownProfile_FailsWithTheTokenKey_AndCountsNothing()
    {
        var ex = Assert.Throws<PostgresException>(() => schema.Execute("INSERT INTO device (token_id, serial_number, profile_id, updated_at) VALUES ('nope', 'A', 'gone', 1)"));
        Assert.Equal("device_token_id_fkey", ex.ConstraintName);

        // rows of two tokens (the insert trigger's general path) with a profile each: checked and counted per token
        schema.Execute(
            """
            INSERT INTO token (id, name, apple_id, consumer_key_hash, credentials, expires_at, request_id, service_uri, created_at, modified_at)
                VALUES ('t2', 'U', 'a', 'h2', '\x00', 0, 'r', 'u', 0, 0);
            INSERT INTO profile (id, token_id, name, settings, created_at, modified_at) VALUES ('q1', 't2', 'One', '{}', 0, 0);
            """);
        AssertKeyViolation(() => schema.Execute("INSERT INTO device (token_id, serial_number, profile_id, updated_at) VALUES ('t1', 'B', 'p1', 1), ('t2', 'C', 'gone', 1)"));
        schema.Execute("INSERT INTO device (token_id, serial_number, profile_id, updated_at) VALUES ('t1', 'B', 'p1', 1), ('t2', 'C', 'q1', 1), ('t2', 'D', NULL, 1)");

        Assert.Equal("B:p1,C:q1,D:-", Holders());
        Assert.Equal("t1:1,t2:2", schema.Scalar<string>("SELECT string_agg(token_id || ':' || devices, ',' ORDER BY token_id) FROM ade_token_devices WHERE devices <> 0"));
    }

    [Fact]
    public void AnUpdate_ToAnUnknownProfile_IsRefusedWhole_AndToAKnownOneIsAllowed()
    {
        schema.Execute("INSERT INTO device (token_id, serial_number, updated_at) SELECT 't1', 'S' || g, 1 FROM generate_series(1, 3) g");

        AssertKeyViolation(() => schema.Execute("UPDATE device SET profile_id = CASE serial_number WHEN 'S3' THEN 'nope' ELSE 'p1' END"));
        Assert.Equal("S1:-,S2:-,S3:-", Holders());

        schema.Execute("UPDATE device SET profile_id = 'p2' WHERE serial_number = ANY(@s)", ("s", new[] { "S1", "S3" }));
        schema.Execute("UPDATE device SET updated_at = 2"); // an update that changes no profile passes
        Assert.Equal("S1:p2,S2:-,S3:p2", Holders());
    }

    [Fact]
    public void AProfile_ThatDevicesName_CanBeNeitherDeletedNorRenumbered_ButOnceReleasedItCanBeDeleted()
    {
        schema.Execute("INSERT INTO device (token_id, serial_number, profile_id, updated_at) VALUES ('t1', 'A', 'p1', 1)");

        AssertKeyViolation(() => schema.Execute("DELETE FROM profile WHERE id = 'p1'"));
        AssertKeyViolation(() => schema.Execute("UPDATE profile SET id = 'p9' WHERE id = 'p1'"));
        schema.Execute("UPDATE profile SET name = 'Renamed' WHERE id = 'p1'"); // any other change of the profile is free
        schema.Execute("DELETE FROM profile WHERE id = 'p2'"); // a profile no device names

        schema.Execute("UPDATE device SET profile_id = NULL WHERE serial_number = 'A'");
        schema.Execute("DELETE FROM profile WHERE id = 'p1'");
        Assert.Equal(0L, schema.Scalar<long>("SELECT count(*) FROM profile"));
    }

    [Fact]
    public void ADeleteOfTheProfile_WhileAnAssignmentIsOpen_WaitsForIt_AndThenFails()
    {
        schema.Execute("INSERT INTO device (token_id, serial_number, updated_at) VALUES ('t1', 'A', 1)");
        using var assigner = schema.Connect();
        using var deleter = schema.Connect();
        using var observer = schema.Connect();
        using var assign = assigner.BeginTransaction();
        Run(assigner, assign, "UPDATE device SET profile_id = 'p1' WHERE serial_number = 'A'");

        var delete = Task.Run(() => Run(deleter, null, "DELETE FROM profile WHERE id = 'p1'"));
        WaitUntilBlocked(observer, deleter.ProcessID);
        assign.Commit();

        var ex = Assert.Throws<AggregateException>(() => delete.Wait());
        var postgres = Assert.IsType<PostgresException>(ex.InnerException);
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, postgres.SqlState);
        Assert.Equal(1L, schema.Scalar<long>("SELECT count(*) FROM profile WHERE id = 'p1'"));
        Assert.Equal("A:p1", Holders());
    }

    [Fact]
    public void AnAssignment_WhileADeleteOfItsProfileIsOpen_WaitsForIt_AndThenFails()
    {
        schema.Execute("INSERT INTO device (token_id, serial_number, updated_at) VALUES ('t1', 'A', 1), ('t1', 'B', 1)");
        using var assigner = schema.Connect();
        using var deleter = schema.Connect();
        using var observer = schema.Connect();
        using var delete = deleter.BeginTransaction();
        Assert.Equal(1, Run(deleter, delete, "DELETE FROM profile WHERE id = 'p1'"));

        var assign = Task.Run(() => Run(assigner, null, "UPDATE device SET profile_id = 'p1'"));
        WaitUntilBlocked(observer, assigner.ProcessID);
        delete.Commit();

        var ex = Assert.Throws<AggregateException>(() => assign.Wait());
        var postgres = Assert.IsType<PostgresException>(ex.InnerException);
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, postgres.SqlState);
        Assert.Equal("device_profile_id_fkey", postgres.ConstraintName);
        Assert.Equal("A:-,B:-", Holders());
    }

    [Fact]
    public void Migration11_FromVersion10_KeepsTheAssignments_AndHoldsTheRule()
    {
        using var old = new TestPostgresSchema();
        old.CreateAtVersion(10,
            "INSERT INTO token_request VALUES ('r', 0, 't', 'p', '\\x00', null);"
            + "INSERT INTO token (id, name, apple_id, consumer_key_hash, credentials, expires_at, request_id, service_uri, created_at, modified_at) VALUES ('t1', 'T', 'a', 'h', '\\x00', 0, 'r', 'u', 0, 0);"
            + "INSERT INTO profile (id, token_id, name, settings, created_at, modified_at) VALUES ('p1', 't1', 'One', '{}', 0, 0);"
            + "INSERT INTO device (token_id, serial_number, profile_id, updated_at) VALUES ('t1', 'A1', 'p1', 1), ('t1', 'B2', NULL, 2);");
        Assert.Equal(1L, old.Scalar<long>("SELECT count(*) FROM pg_constraint WHERE conname = 'device_profile_id_fkey' AND connamespace = current_schema()::regnamespace"));

        old.MigrateToLatest();

        Assert.Equal(PostgresSchema.LatestVersion, old.Scalar<int>("SELECT version FROM ade_schema"));
        Assert.Equal(0L, old.Scalar<long>("SELECT count(*) FROM pg_constraint WHERE conname = 'device_profile_id_fkey' AND connamespace = current_schema()::regnamespace"));
        Assert.Equal("A1:p1,B2:-", old.Scalar<string>("SELECT string_agg(serial_number || ':' || coalesce(profile_id, '-'), ',' ORDER BY serial_number) FROM device"));
        var ex = Assert.Throws<PostgresException>(() => old.Execute("DELETE FROM profile WHERE id = 'p1'"));
        Assert.Equal("device_profile_id_fkey", ex.ConstraintName);
    }
}

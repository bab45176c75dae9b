using AdeEnrollment.Engine.Storage.Postgres;
using AdeEnrollment.Engine.Tests.TestSupport;
using Npgsql;

namespace AdeEnrollment.Engine.Tests.Storage.Postgres;

/// <summary>
/// On PostgreSQL a token's device count is read from ade_token_devices, which triggers on table device keep exact
/// (schema migration 9). These tests hold the table to a count of the device table after every kind of statement a
/// writer can send (multi-row and multi-token inserts, COPY, upserts, moves between tokens, deletes, rolled-back and
/// refused writes), after the migration of a store that already has devices, and with writers running at once.
/// </summary>
public sealed class PostgresTokenDeviceCountTests : IDisposable
{
    private const string Tokens = """
        INSERT INTO token_request VALUES ('r', 0, 't', 'p', '\x00', null);
        INSERT INTO token (id, name, apple_id, consumer_key_hash, credentials, expires_at, request_id, service_uri, created_at, modified_at)
            VALUES ('t1', 'T', 'a', 'h', '\x00', 0, 'r', 'u', 0, 0), ('t2', 'U', 'a', 'h2', '\x00', 0, 'r', 'u', 0, 0),
                   ('t3', 'V', 'a', 'h3', '\x00', 0, 'r', 'u', 0, 0);
        """;

    private readonly TestPostgresSchema schema = new();

    public void Dispose() => schema.Dispose();

    private void OpenLatest()
    {
        schema.Open().Release();
        schema.Execute(Tokens);
    }


    /// <summary>The kept counts and the counted ones, as "token:n" lists (a kept count of 0 is the same as none).</summary>
    private static (string? Kept, string? Counted) Counts(TestPostgresSchema of) => (
        of.Scalar<string>("SELECT coalesce(string_agg(token_id || ':' || devices, ',' ORDER BY token_id), '') FROM ade_token_devices WHERE devices <> 0"),
        of.Scalar<string>("SELECT coalesce(string_agg(token_id || ':' || n, ',' ORDER BY token_id), '') FROM (SELECT token_id, count(*) AS n FROM device GROUP BY token_id) d"));

    private void AssertCounts(string expected, TestPostgresSchema? of = null)
    {
        var (kept, counted) = Counts(of ?? schema);
        Assert.Equal(expected, counted); // the test's own expectation of the device table
        Assert.Equal(counted, kept);
    }

    [Fact]
    public void TheCount_FollowsEveryKindOfStatementOnTheDeviceTable()
    {
        OpenLatest();
        AssertCounts("");

        schema.Execute("INSERT INTO device (token_id, serial_number, updated_at) VALUES ('t1', 'A', 1), ('t2', 'B', 1), ('t1', 'C', 1)");
        AssertCounts("t1:2,t2:1");
        schema.Execute("INSERT INTO device (token_id, serial_number, updated_at) SELECT 't3', 'S' || g, 1 FROM generate_series(1, 500) g");
        AssertCounts("t1:2,t2:1,t3:500");

        using (var connection = schema.Connect())
        {
            using var copy = connection.BeginBinaryImport("COPY device (token_id, serial_number, updated_at) FROM STDIN (FORMAT BINARY)");
            foreach (var (token, serial) in new[] { ("t2", "D"), ("t2", "E"), ("t1", "F") })
            {
                copy.StartRow();
                copy.Write(token);
                copy.Write(serial);
                copy.Write(1L);
            }

            copy.Complete();
        }

        AssertCounts("t1:3,t2:3,t3:500");

        // An upsert counts only the rows it inserts; an update that keeps the token changes nothing.
        schema.Execute(
            """
            INSERT INTO device (token_id, serial_number, updated_at) VALUES ('t1', 'A', 2), ('t1', 'G', 2), ('t2', 'B', 2)
            ON CONFLICT (token_id, serial_number) DO UPDATE SET updated_at = excluded.updated_at
            """);
        AssertCounts("t1:4,t2:3,t3:500");
        schema.Execute("UPDATE device SET updated_at = 9, removed_at = 9");
        AssertCounts("t1:4,t2:3,t3:500");

        // A move between tokens moves the count (no writer does this today; the rule holds anyway).
        schema.Execute("UPDATE device SET token_id = 't2' WHERE token_id = 't1' AND serial_number IN ('A', 'C')");
        AssertCounts("t1:2,t2:5,t3:500");
        schema.Execute("UPDATE device SET token_id = 't1' WHERE token_id = 't3' AND serial_number LIKE 'S1%'");
        AssertCounts("t1:113,t2:5,t3:389");

        schema.Execute("DELETE FROM device WHERE serial_number LIKE 'S2%' OR serial_number IN ('B', 'F')");
        AssertCounts("t1:112,t2:4,t3:278");

        // Refused and rolled-back writes count nothing.
        var refused = Assert.Throws<PostgresException>(() => schema.Execute("INSERT INTO device (token_id, serial_number, updated_at) VALUES ('t1', 'X', 1), ('nope', 'Y', 1)"));
        Assert.Equal("device_token_id_fkey", refused.ConstraintName); // the device_token_* triggers fire before the count's
        using (var connection = schema.Connect())
        {
            using var transaction = connection.BeginTransaction();
            using (var command = new NpgsqlCommand("INSERT INTO device (token_id, serial_number, updated_at) VALUES ('t2', 'Z', 1); DELETE FROM device WHERE token_id = 't3'", connection, transaction))
            {
                command.ExecuteNonQuery();
            }

            transaction.Rollback();
        }

        AssertCounts("t1:112,t2:4,t3:278");

        // A token goes with its count once its devices are gone.
        schema.Execute("DELETE FROM device WHERE token_id = 't3'");
        AssertCounts("t1:112,t2:4");
        schema.Execute("DELETE FROM token WHERE id = 't3'");
        Assert.Equal(0L, schema.Scalar<long>("SELECT count(*) FROM ade_token_devices WHERE token_id = 't3'"));
    }

    [Fact]
    public void Migration9_FromVersion8_CountsTheDevicesAlreadyStored_AndKeepsCountingAfterwards()
    {
        schema.CreateAtVersion(8,
            Tokens
            + "INSERT INTO device (token_id, serial_number, updated_at) SELECT 't1', 'A' || g, 1 FROM generate_series(1, 120) g;"
            + "INSERT INTO device (token_id, serial_number, updated_at, removed_at) VALUES ('t2', 'B1', 1, 5), ('t2', 'B2', 2, null);");
        Assert.Equal(0L, schema.Scalar<long>("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = 'ade_token_devices'"));

        schema.MigrateToLatest();

        Assert.Equal(PostgresSchema.LatestVersion, schema.Scalar<int>("SELECT version FROM ade_schema"));
        AssertCounts("t1:120,t2:2");
        Assert.Equal(0L, schema.Scalar<long>("SELECT count(*) FROM ade_token_devices WHERE token_id = 't3'")); // no row for a token without devices

        schema.Execute("INSERT INTO device (token_id, serial_number, updated_at) VALUES ('t2', 'B3', 1), ('t3', 'C1', 1); DELETE FROM device WHERE serial_number = 'A7'");
        AssertCounts("t1:119,t2:3,t3:1");
    }

    [Fact]
    public async Task WritersAtOnce_OfTheSameTokens_KeepTheCountExact()
    {
        OpenLatest();
        const int Writers = 4, Rounds = 20;

        // Each writer inserts devices of two tokens in one statement (in its own token order), and deletes some of them
        // again; all write t1 and t2 at the same time, so their count rows are contended.
        var tasks = Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            using var connection = schema.Connect();
            var (first, second) = w % 2 == 0 ? ("t1", "t2") : ("t2", "t1");
            for (var round = 0; round < Rounds; round++)
            {
                using var transaction = connection.BeginTransaction();
                using var insert = new NpgsqlCommand(
                    "INSERT INTO device (token_id, serial_number, updated_at) SELECT @a, @p || g, 1 FROM generate_series(1, 5) g UNION ALL SELECT @b, @p || g, 1 FROM generate_series(1, 3) g",
                    connection, transaction);
                insert.Parameters.AddWithValue("a", first);
                insert.Parameters.AddWithValue("b", second);
                insert.Parameters.AddWithValue("p", $"W{w}R{round}-");
                insert.ExecuteNonQuery();
                using var delete = new NpgsqlCommand("DELETE FROM device WHERE serial_number = @s", connection, transaction);
                delete.Parameters.AddWithValue("s", $"W{w}R{round}-1");
                delete.ExecuteNonQuery();
                transaction.Commit();
            }
        })).ToArray();
        await Task.WhenAll(tasks);

        // Per round a writer keeps 5 + 3 - 2 devices (serial "-1" exists for both of its tokens); over both tokens:
        // writers 0 and 2 put 4 in t1 and 2 in t2 per round, writers 1 and 3 the other way round.
        AssertCounts($"t1:{Rounds * 2 * (4 + 2)},t2:{Rounds * 2 * (4 + 2)}");
    }
}

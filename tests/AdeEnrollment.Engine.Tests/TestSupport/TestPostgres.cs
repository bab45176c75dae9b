using System.Diagnostics;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Storage.Postgres;
using Npgsql;

namespace AdeEnrollment.Engine.Tests.TestSupport;

/// <summary>
/// The PostgreSQL server of the tests (README, "The PostgreSQL leg"): $env:ADE_TEST_POSTGRES (a keyword connection
/// string with a user that may create schemas; .ci/run and build.ps1 Test set it), else — outside CI — a throw-away
/// server started once per test run with tests/postgres/test-postgres.sh and stopped when the run ends. Without a
/// server, every PostgreSQL test fails with a message that says how to get one; none is skipped.
/// </summary>
public static class TestPostgres
{
    public const string Variable = "ADE_TEST_POSTGRES";

    private static readonly Lazy<string> Server = new(StartOrFind, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The server's connection string (a superuser on the test server), or a failure that says what is missing.</summary>
    public static string ConnectionString => Server.Value;

    private static string StartOrFind()
    {
        var given = Environment.GetEnvironmentVariable(Variable);
        if (!string.IsNullOrWhiteSpace(given))
        {
            return given;
        }

        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidOperationException($"CI must provide a PostgreSQL server in ${Variable} (.ci/run starts one with tests/postgres/test-postgres.sh).");
        }

        var script = FindScript() ?? throw new InvalidOperationException(
            $"No PostgreSQL test server: set ${Variable} to a connection string, or run from the repository so tests/postgres/test-postgres.sh can start one.");
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(script);
        start.ArgumentList.Add("start");
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"No PostgreSQL test server: {script} start failed ({process.ExitCode}): {error.Trim()} Install PostgreSQL (Debian: apt-get install -y postgresql) or set ${Variable}.");
        }

        string? connection = null, folder = null;
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            var value = line[(eq + 1)..].Trim('\'');
            if (line.StartsWith(Variable + "=", StringComparison.Ordinal))
            {
                connection = value;
            }
            else if (line.StartsWith(Variable + "_DIR=", StringComparison.Ordinal))
            {
                folder = value;
            }
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            using var stop = Process.Start("bash", [script, "stop", folder!]);
            stop.WaitForExit(30_000);
        };
        return connection ?? throw new InvalidOperationException($"{script} start printed no connection string.");
    }

    private static string? FindScript()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, "tests", "postgres", "test-postgres.sh");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        return null;
    }

    /// <summary>Runs SQL as the test server's administrator (outside any store).</summary>
    public static void Admin(string sql)
    {
        using var connection = new NpgsqlConnection(ConnectionString);
        connection.Open();
        using var command = new NpgsqlCommand(sql, connection);
        command.ExecuteNonQuery();
    }
}

/// <summary>
/// A fresh, empty schema on the test server for one store (its own search_path): stores of parallel tests never see
/// each other's tables. Dispose drops the schema.
/// </summary>
/// <param name="ownDatabase">
/// The schema in a database of its own, for a test that holds the store's advisory locks while it waits for its own
/// writes: the locks are per database, so in the shared one another test's writer could queue between them and wait
/// for the test as long as the test waits for it.
/// </param>
public sealed class TestPostgresSchema : IDisposable
{
    public const string Passphrase = "correct horse battery staple";

    private readonly string? database;

    public TestPostgresSchema(bool ownDatabase = false)
    {
        Name = "ade_t_" + Guid.NewGuid().ToString("N")[..16];
        AdminConnectionString = TestPostgres.ConnectionString;
        if (ownDatabase)
        {
            database = "ade_d_" + Guid.NewGuid().ToString("N")[..16];
            TestPostgres.Admin($"CREATE DATABASE {database}");
            AdminConnectionString = new NpgsqlConnectionStringBuilder(TestPostgres.ConnectionString) { Database = database }.ConnectionString;
        }

        using (var connection = new NpgsqlConnection(AdminConnectionString))
        {
            connection.Open();
            using var command = new NpgsqlCommand($"CREATE SCHEMA {Name}", connection);
            command.ExecuteNonQuery();
        }

        var builder = new NpgsqlConnectionStringBuilder(AdminConnectionString) { SearchPath = Name };
        Password = builder.Password!;
        UserName = builder.Username!;
        builder.Password = null;
        ConnectionStringWithoutPassword = builder.ConnectionString;
    }

    /// <summary>The administrator's connection string for this schema's database (with the password).</summary>
    public string AdminConnectionString { get; }

    public string Name { get; }

    /// <summary>The database of its own (ownDatabase), else null (the server's default database).</summary>
    public string? Database => database;

    public string UserName { get; }

    /// <summary>The test server's password: tests assert it never shows.</summary>
    public string Password { get; }

    public string ConnectionStringWithoutPassword { get; }

    /// <summary>An open connection of its own to this schema (for tests that race two transactions).</summary>
    public NpgsqlConnection Connect()
    {
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(AdminConnectionString) { SearchPath = Name }.ConnectionString);
        connection.Open();
        return connection;
    }

    public PostgresConnectionInfo Connection(string? password = null) => PostgresConnectionInfo.Parse(ConnectionStringWithoutPassword, password: password ?? Password);

    public AdeStore Open(string passphrase = Passphrase) => AdeStore.Open(Connection(), System.Text.Encoding.UTF8.GetBytes(passphrase));

    /// <summary>Makes this schema a store as a module of schema <paramref name="version"/> left it (its first migrations only), then runs <paramref name="rows"/>.</summary>
    public void CreateAtVersion(int version, string rows = "")
        => Execute(PostgresSchema.VersionTable + $"INSERT INTO ade_schema VALUES ('AdeEnrollment', {version});" + string.Concat(PostgresSchema.Migrations.Take(version)) + rows);

    /// <summary>Migrates the store in this schema to the latest version, as opening it with the module does.</summary>
    public void MigrateToLatest()
    {
        var provider = new PostgresProvider(Connection());
        provider.Migrate(_ => { });
        provider.Release();
    }

    /// <summary>Runs SQL in this schema as the administrator, with @named parameters.</summary>
    public void Execute(string sql, params (string Name, object? Value)[] parameters)
    {
        using var connection = new NpgsqlConnection(AdminConnectionString);
        connection.Open();
        using (var set = new NpgsqlCommand($"SET search_path = {Name}", connection))
        {
            set.ExecuteNonQuery();
        }

        using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name.TrimStart('@'), value ?? DBNull.Value);
        }

        command.ExecuteNonQuery();
    }

    public T? Scalar<T>(string sql, params (string Name, object? Value)[] parameters)
    {
        using var connection = new NpgsqlConnection(AdminConnectionString);
        connection.Open();
        using (var set = new NpgsqlCommand($"SET search_path = {Name}", connection))
        {
            set.ExecuteNonQuery();
        }

        using var command = new NpgsqlCommand(sql, connection);
        foreach (var (name, value) in parameters)
        {
            command.Parameters.AddWithValue(name.TrimStart('@'), value ?? DBNull.Value);
        }

        var result = command.ExecuteScalar();
        return result is null or DBNull ? default : (T)Convert.ChangeType(result, typeof(T), System.Globalization.CultureInfo.InvariantCulture);
    }

    public void Dispose()
    {
        try
        {
            TestPostgres.Admin(database is null ? $"DROP SCHEMA IF EXISTS {Name} CASCADE" : $"DROP DATABASE IF EXISTS {database} WITH (FORCE)");
        }
        catch (NpgsqlException)
        {
            // The server may be gone at the end of a run; the schema goes with it.
        }
    }
}

/// <summary>Test stores on the PostgreSQL test server, one fresh schema each.</summary>
public static class PostgresTestStores
{
    /// <summary>A <see cref="TestStore"/> (engine, fake clock, recording host) over a new PostgreSQL store in its own schema.</summary>
    public static TestStore Create() => Create(out _);

    /// <summary><see cref="Create()"/>, and the schema, for tests that write rows of tables they do not test.</summary>
    public static TestStore Create(out TestPostgresSchema created)
    {
        var schema = created = new TestPostgresSchema();
        AdeStore? store = null;
        return new TestStore(_ => store = schema.Open(), new Cleanup(() =>
        {
            store?.Release();
            schema.Dispose();
        }))
        { PostgresSchema = schema };
    }

    private sealed class Cleanup(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}

/// <summary>Helpers of the tests that hold the store's keys against racing transactions (device -> token, device -> profile).</summary>
public static class PostgresKeyRaces
{
    public static int Run(NpgsqlConnection connection, NpgsqlTransaction? transaction, string sql)
    {
        using var command = new NpgsqlCommand(sql, connection, transaction);
        return command.ExecuteNonQuery();
    }

    /// <summary>The foreign key's error: SQLSTATE 23503 with the key's constraint name.</summary>
    public static void AssertKeyViolation(string constraint, Action action)
    {
        var ex = Assert.Throws<PostgresException>(action);
        Assert.Equal(PostgresErrorCodes.ForeignKeyViolation, ex.SqlState);
        Assert.Equal(constraint, ex.ConstraintName);
    }

    /// <summary>Waits (without a time limit the test depends on) until the backend is blocked on a lock.</summary>
    public static void WaitUntilBlocked(NpgsqlConnection observer, int pid)
    {
        for (var i = 0; i < 6000; i++)
        {
            using var command = new NpgsqlCommand("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = @p", observer);
            command.Parameters.AddWithValue("p", pid);
            if (command.ExecuteScalar() is true)
            {
                return;
            }

            Thread.Sleep(10);
        }

        Assert.Fail($"backend {pid} never waited for a lock");
    }
}

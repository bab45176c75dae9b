using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Storage.Postgres;
using AdeEnrollment.Engine.Tests.TestSupport;
using Npgsql;

namespace AdeEnrollment.Engine.Tests.Storage.Postgres;

/// <summary>Connection strings for a PostgreSQL store: keyword strings, URIs, where the password comes from, and that it never shows.</summary>
[Collection(nameof(PgPasswordVariable))]
public sealed class PostgresStoreConnectionStringTests
{
    [Fact]
    public void KeywordString_IsParsed_AndTheLocationNamesServerAndDatabaseOnly()
    {
        var info = PostgresConnectionInfo.Parse("Host=db.contoso.com;Port=6432;Database=ade;Username=ade_app;Password=hunter2-very-secret;SSL Mode=VerifyFull");

        Assert.Equal("db.contoso.com:6432", info.Server);
        Assert.Equal("ade", info.Database);
        Assert.Equal("ade_app", info.UserName);
        Assert.Equal("postgresql://db.contoso.com:6432/ade", info.Location);
        Assert.Equal(SslMode.VerifyFull, info.Builder.SslMode);
        Assert.Equal("hunter2-very-secret", info.Password);
        Assert.DoesNotContain("hunter2", info.Builder.ConnectionString);
        Assert.DoesNotContain("hunter2", info.ToString());
    }

    [Fact]
    public void Uri_IsParsed_WithTlsParametersPassedThrough()
    {
        var info = PostgresConnectionInfo.Parse("postgresql://ade_app:p%40ss%3Aword@db.contoso.com:5433/ade%20store?sslmode=verify-full&sslrootcert=/etc/ssl/ca.pem&application_name=nightly&connect_timeout=7");

        Assert.Equal("db.contoso.com:5433", info.Server);
        Assert.Equal("ade store", info.Database);
        Assert.Equal("ade_app", info.UserName);
        Assert.Equal("p@ss:word", info.Password);
        Assert.Equal(SslMode.VerifyFull, info.Builder.SslMode);
        Assert.Equal("/etc/ssl/ca.pem", info.Builder.RootCertificate);
        Assert.Equal("nightly", info.Builder.ApplicationName);
        Assert.Equal(7, info.Builder.Timeout);
        Assert.DoesNotContain("p@ss", info.Location);
    }

    [Fact]
    public void Uri_WithSeveralHostsAndIPv6_KeepsEveryHost()
    {
        var info = PostgresConnectionInfo.Parse("postgres://u@[::1]:5432,db2.contoso.com/ade?target_session_attrs=read-write");

        Assert.Equal("::1:5432,db2.contoso.com", info.Builder.Host);
        Assert.Equal("ade", info.Database);
    }

    [Fact]
    public void ExplicitCredential_WinsOverTheStringAndTheEnvironment()
    {
        var info = PostgresConnectionInfo.Parse("Host=h;Username=from_string;Password=from-string", userName: "from_credential", password: "from-credential");

        Assert.Equal("from_credential", info.UserName);
        Assert.Equal("from-credential", info.Password);
    }

    [Fact]
    public void WithoutAPasswordAnywhere_PgPasswordIsUsed()
    {
        var saved = Environment.GetEnvironmentVariable("PGPASSWORD");
        try
        {
            Environment.SetEnvironmentVariable("PGPASSWORD", "from-environment");
            Assert.Equal("from-environment", PostgresConnectionInfo.Parse("Host=h;Username=u").Password);
            Assert.Equal("given", PostgresConnectionInfo.Parse("Host=h;Username=u", password: "given").Password);
            Environment.SetEnvironmentVariable("PGPASSWORD", null);
            Assert.Null(PostgresConnectionInfo.Parse("Host=h;Username=u").Password);
        }
        finally
        {
            Environment.SetEnvironmentVariable("PGPASSWORD", saved);
        }
    }

    [Theory]
    [InlineData("Host=h;Username=u;Frobnicate=1", "'Frobnicate' is not a keyword")]
    [InlineData("Host=h;Username=u;Port=notaport", "the value of 'Port'")]
    [InlineData("Username=u;Database=d", "names no server")]
    [InlineData("postgresql://db.contoso.com/ade", "names no user")]
    [InlineData("postgresql://u@db.contoso.com:99999/ade", "port in the URI")]
    [InlineData("postgresql://u@h/ade?sslmode=sometimes", "the value of 'SSL Mode'")]
    [InlineData("Host=h;Username", "keyword=value")]
    [InlineData("postgresql://u@h/ade?target_session_attrs=read-write", "chooses among several hosts")] // Npgsql failed on it when opening: UnexpectedError
    [InlineData("Host=h;Username=u;Target Session Attributes=primary", "chooses among several hosts")]
    public void BadConnectionStrings_AreACataloguedError(string text, string expected)
    {
        var ex = AdeAssert.Throws("StoreConnectionStringInvalid", () => PostgresConnectionInfo.Parse(text));
        Assert.Contains(expected, ex.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("postgresql://u@h1,h2/ade?target_session_attrs=read-write")]
    [InlineData("postgresql://u@h/ade?target_session_attrs=any")]
    public void Target_session_attrs_is_taken_with_several_hosts_or_any(string text)
        => Assert.Equal("u", PostgresConnectionInfo.Parse(text).UserName);

    [Theory]
    [InlineData("postgresql://u@h:5432/ade?options=-c%20search_path%3Dades", "postgresql://h:5432/ade?schema=ades")]
    [InlineData("Host=h;Username=u;Database=ade;Options=-c search_path=ades", "postgresql://h:5432/ade?schema=ades")]
    [InlineData("Host=h;Username=u;Database=ade;Search Path=ades", "postgresql://h:5432/ade?schema=ades")]
    [InlineData("Host=h;Username=u;Database=ade", "postgresql://h:5432/ade")]
    public void A_store_in_another_schema_is_named_with_it_however_the_schema_is_chosen(string text, string location)
        => Assert.Equal(location, PostgresConnectionInfo.Parse(text).Location); // two stores of one database showed the same name

    [Fact]
    public void A_connection_string_where_a_path_belongs_is_refused_without_showing_it()
    {
        // read as a path, it became a SQLite file named after it, password and all
        var ex = AdeAssert.Throws("ArgumentInvalid", () => StoreLocator.RefuseConnectionString("Host=h;Username=u;Password=s3cr3t", "Path", "ConnectionString"));
        Assert.DoesNotContain("s3cr3t", ex.Message, StringComparison.Ordinal);
        Assert.Contains("-ConnectionString", ex.Message, StringComparison.Ordinal);
        AdeAssert.Throws("ArgumentInvalid", () => StoreLocator.RefuseConnectionString("postgresql://u:s3cr3t@h/ade", "DestinationPath", "DestinationConnectionString"));
        Assert.Equal("./ade.db", StoreLocator.RefuseConnectionString("./ade.db", "Path", "ConnectionString"));
    }

    [Fact]
    public void ABadValue_IsNeverEchoed()
    {
        var ex = AdeAssert.Throws("StoreConnectionStringInvalid", () => PostgresConnectionInfo.Parse("Host=h;Username=u;Port=s3cr3t-value"));
        Assert.DoesNotContain("s3cr3t-value", ex.Message);
    }

    [Theory]
    [InlineData("postgresql://u@h/db", true)]
    [InlineData("POSTGRES://h", true)]
    [InlineData("Host=db;Username=u", true)]
    [InlineData("username=u; server = db", true)]
    [InlineData("/var/lib/ade/ade.db", false)]
    [InlineData("C:\\Stores\\ade=1.db", false)]
    [InlineData("", false)]
    [InlineData("\"postgresql://u:pw@h/db\"", true)]                 // an env file that keeps the quotes
    [InlineData("'Host=db;Username=u'", true)]
    [InlineData("Username=u;Password=pw;Database=ade", true)]       // no Host: refused by Parse, never a path
    [InlineData("host=db port=5432 password=pw", true)]              // libpq's form: refused by Parse, never a path
    [InlineData("https://db.contoso.com/ade", true)]
    public void ConnectionStrings_AreToldApartFromPaths(string value, bool expected)
        => Assert.Equal(expected, PostgresConnectionInfo.IsConnectionString(value));

    [Theory]
    [InlineData("host=127.0.0.1 port=5432 dbname=postgres user=u password=Pw0rdSecret", "semicolons")]
    [InlineData("Host=h;Username=u;Password=abc;Pw0rdSecret=rest", "quote it")]
    [InlineData("postgresql://u@h/db?password=abc&Pw0rdSecret", "quote it")]
    [InlineData("Username=u;Password=Pw0rdSecret;Database=ade", "names no server")]
    [InlineData("https://u:Pw0rdSecret@db.contoso.com/ade", "not a postgresql:// one")]
    [InlineData("postgresql://ade:12/Pw0rdSecret@127.0.0.1/ade", "%2F")]     // a '/' in the password, not encoded
    public void AStringCarryingAPassword_IsRefusedWithoutShowingAnyOfIt(string text, string expected)
    {
        var ex = AdeAssert.Throws("StoreConnectionStringInvalid", () => PostgresConnectionInfo.Parse(text, userName: "u"));
        Assert.Contains(expected, ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("Pw0rdSecret", ex.Message, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("Pw0rdSecret", ex.Target?.ToString() ?? "", StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void A_quoted_connection_string_is_read_without_its_quotes()
    {
        var info = PostgresConnectionInfo.Parse("\"postgresql://u:pw@db.contoso.com:5433/ade\"");
        Assert.Equal("postgresql://db.contoso.com:5433/ade", info.Location);
    }

    [Fact]
    public void TheStoreVariable_WithAConnectionString_IsNotTakenForAPath()
    {
        var saved = Environment.GetEnvironmentVariable(StoreLocator.PathVariable);
        try
        {
            Environment.SetEnvironmentVariable(StoreLocator.PathVariable, "postgresql://u@db/ade");
            Assert.Equal("postgresql://u@db/ade", StoreLocator.ConnectionStringFromEnvironment());
            Assert.EndsWith("ade.db", StoreLocator.DefaultPath());
            Environment.SetEnvironmentVariable(StoreLocator.PathVariable, "/tmp/x.db");
            Assert.Null(StoreLocator.ConnectionStringFromEnvironment());
        }
        finally
        {
            Environment.SetEnvironmentVariable(StoreLocator.PathVariable, saved);
        }
    }
}

/// <summary>Tests that change PGPASSWORD or the store variable run one at a time.</summary>
[CollectionDefinition(nameof(PgPasswordVariable), DisableParallelization = true)]
public sealed class PgPasswordVariable;

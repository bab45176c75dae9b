using System.Data.Common;
using System.Globalization;
using System.Text.RegularExpressions;
using AdeEnrollment.Engine.Errors;
using Npgsql;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>
/// Where a PostgreSQL store is and how to log in, parsed from an Npgsql keyword string or a postgresql:// URI
/// (about_AdeEnrollment.md, "Shared store"). The password is kept only in memory for the connections: it is never
/// written anywhere, never part of <see cref="Location"/>, and never echoed in an error.
/// </summary>
public sealed partial class PostgresConnectionInfo
{
    /// <summary>Read when no password is given otherwise (the variable libpq and psql use).</summary>
    public const string PasswordVariable = "PGPASSWORD";

    private PostgresConnectionInfo(NpgsqlConnectionStringBuilder builder, string? password)
    {
        Builder = builder;
        Password = password;
        var host = builder.Host ?? "localhost";
        Server = host.Contains(',', StringComparison.Ordinal) || host.StartsWith('/') ? host : FormattableString.Invariant($"{host}:{builder.Port}");
        Database = builder.Database ?? builder.Username ?? "";
        Location = FormattableString.Invariant($"postgresql://{Server}/{Database}") + (SchemaOf(builder) is { Length: > 0 } schema ? "?schema=" + schema : "");
    }

    /// <summary>
    /// The schema the store lives in when the string chooses one: Search Path, or libpq's options=-c search_path=…
    /// (two stores of one database in different schemas must not be shown by the same name).
    /// </summary>
    private static string? SchemaOf(NpgsqlConnectionStringBuilder builder)
        => builder.SearchPath is { Length: > 0 } path ? path
            : builder.Options is { Length: > 0 } options && SearchPathOption().Match(options) is { Success: true } m ? m.Groups[1].Value
            : null;

    [GeneratedRegex(@"(?:^|\s)-c\s*search_path\s*=\s*([^\s]+)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SearchPathOption();

    /// <summary>The connection settings without the password (it is added only to the data source).</summary>
    internal NpgsqlConnectionStringBuilder Builder { get; }

    internal string? Password { get; }

    /// <summary>host:port (or the host list of a multi-host connection string).</summary>
    public string Server { get; }

    public string Database { get; }

    public string? UserName => Builder.Username;

    /// <summary>postgresql://server/database: what errors and Get-AdeStore name (no user, no password).</summary>
    public string Location { get; }

    public override string ToString() => Location;

    /// <summary>
    /// True when <paramref name="value"/> (e.g. $env:ADE_ENROLLMENT_STORE) is a PostgreSQL connection string rather
    /// than a file path: a postgresql:// or postgres:// URI, or a keyword string naming Host or Server — also inside
    /// one pair of quotes (an env file that keeps them). Anything that carries a password or a scheme (<c>://</c>) is
    /// never taken for a path either: it is parsed, and refused with a message if it is no valid connection string, so
    /// a password is never made into a file name, a path or a store location.
    /// </summary>
    public static bool IsConnectionString(string? value)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return false;
        }

        var text = Unquoted(value);
        return text.Contains("://", StringComparison.Ordinal) || HostKeyword().IsMatch(text) || PasswordKeyword().IsMatch(text);
    }

    [GeneratedRegex(@"(^|;)\s*(host|server)\s*=", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex HostKeyword();

    [GeneratedRegex(@"(^|[;\s])(password|pwd)\s*=", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex PasswordKeyword();

    /// <summary>The text trimmed, without one pair of surrounding quotes.</summary>
    private static string Unquoted(string value)
    {
        var text = value.Trim();
        return text.Length >= 2 && text[0] == text[^1] && text[0] is '"' or '\'' ? text[1..^1].Trim() : text;
    }

    /// <summary>
    /// Parses <paramref name="connectionString"/>. <paramref name="userName"/> and <paramref name="password"/> (from
    /// -Credential / -Password) win over the string's own; without a password anywhere, $env:PGPASSWORD is used.
    /// </summary>
    public static PostgresConnectionInfo Parse(string connectionString, string? userName = null, string? password = null)
    {
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            throw ErrorCatalog.StoreConnectionStringInvalid("it is empty.");
        }

        var text = Unquoted(connectionString);
        var builder = text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase)
            ? FromUri(text)
            : text.Contains("://", StringComparison.Ordinal)
                ? throw ErrorCatalog.StoreConnectionStringInvalid("it is a URI, but not a postgresql:// one.")
                : FromKeywords(text);

        if (!string.IsNullOrEmpty(userName))
        {
            builder.Username = userName;
        }

        var secret = !string.IsNullOrEmpty(password) ? password
            : !string.IsNullOrEmpty(builder.Password) ? builder.Password
            : Environment.GetEnvironmentVariable(PasswordVariable) is { Length: > 0 } fromEnvironment ? fromEnvironment
            : null;
        builder.Password = null;
        if (string.IsNullOrWhiteSpace(builder.Host))
        {
            throw ErrorCatalog.StoreConnectionStringInvalid("it names no server (Host).");
        }

        if (builder.Host.Any(c => char.IsWhiteSpace(c) || c is '=' or '\'' or '"'))
        {
            // libpq's "host=… port=… password=…" (spaces between pairs) would be read as one long host name, password
            // included, and shown as the store's location: refused without echoing any of it.
            throw ErrorCatalog.StoreConnectionStringInvalid("its server (Host) holds spaces, quotes or '=': separate keyword=value pairs with semicolons (Host=db1;Port=5432;...), or use a postgresql:// URI.");
        }

        if (string.IsNullOrWhiteSpace(builder.Username))
        {
            throw ErrorCatalog.StoreConnectionStringInvalid("it names no user (Username, the user of the URI, or -Credential).");
        }

        if (builder.TargetSessionAttributes is { Length: > 0 } attributes && !attributes.Equals("any", StringComparison.OrdinalIgnoreCase) && !builder.Host.Contains(',', StringComparison.Ordinal))
        {
            // Npgsql chooses among several hosts by it, and refuses it for one host when it opens (an unexpected error then)
            throw ErrorCatalog.StoreConnectionStringInvalid(F("target_session_attrs '{0}' chooses among several hosts, and it names one: leave it out, or list the servers (Host=db1,db2).", attributes));
        }

        // The store's own defaults, unless the string says otherwise: named in the server's activity view, and long
        // enough for a page of devices; errors never carry row values (Include Error Detail stays off).
        if (!HasKey(text, "Application Name", "application_name", "ApplicationName"))
        {
            builder.ApplicationName = "AdeEnrollment";
        }

        if (!HasKey(text, "Command Timeout", "CommandTimeout"))
        {
            builder.CommandTimeout = 300;
        }

        builder.PersistSecurityInfo = false;
        builder.IncludeErrorDetail = false;
        return new PostgresConnectionInfo(builder, secret);
    }

    private static bool HasKey(string text, params string[] keys)
        => keys.Any(k => text.Contains(k + "=", StringComparison.OrdinalIgnoreCase) || text.Contains(k + " =", StringComparison.OrdinalIgnoreCase));

    private static NpgsqlConnectionStringBuilder FromKeywords(string text)
    {
        var generic = new DbConnectionStringBuilder();
        try
        {
            generic.ConnectionString = text;
        }
        catch (ArgumentException)
        {
            throw ErrorCatalog.StoreConnectionStringInvalid("it is not a list of keyword=value pairs separated by semicolons.");
        }

        var builder = new NpgsqlConnectionStringBuilder();
        var hasPassword = PasswordKeyword().IsMatch(text);
        foreach (string key in generic.Keys)
        {
            Set(builder, key, generic[key]?.ToString(), hasPassword);
        }

        return builder;
    }

    /// <param name="hasPassword">
    /// The string carries a password: an unknown keyword is then not named, since it may be the part of a password
    /// after a ';' or '&amp;' that was not quoted.
    /// </param>
    private static void Set(NpgsqlConnectionStringBuilder builder, string key, string? value, bool hasPassword)
    {
        try
        {
            builder[key] = value;
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or InvalidCastException or OverflowException)
        {
            // The value is never echoed: it may be a password.
            throw ErrorCatalog.StoreConnectionStringInvalid(builder.ContainsKey(key)
                ? F("the value of '{0}' is not valid for it.", key)
                : hasPassword
                    ? "it holds a keyword Npgsql does not know. If the password contains ';' or '&', quote it in a keyword string (Password='...'), percent-encode it in a URI (%3B, %26), or give it with -Credential or $env:PGPASSWORD."
                    : F("'{0}' is not a keyword Npgsql knows.", key));
        }
    }

    /// <summary>The libpq URI parameters that have an Npgsql keyword of another name.</summary>
    private static readonly Dictionary<string, string> UriParameters = new(StringComparer.OrdinalIgnoreCase)
    {
        ["sslmode"] = "SSL Mode",
        ["sslrootcert"] = "Root Certificate",
        ["sslcert"] = "SSL Certificate",
        ["sslkey"] = "SSL Key",
        ["sslpassword"] = "SSL Password",
        ["connect_timeout"] = "Timeout",
        ["application_name"] = "Application Name",
        ["options"] = "Options",
        ["target_session_attrs"] = "Target Session Attributes",
        ["channel_binding"] = "Channel Binding",
        ["gssencmode"] = "GSS Encryption Mode",
        ["user"] = "Username",
        ["password"] = "Password",
        ["dbname"] = "Database",
        ["host"] = "Host",
        ["port"] = "Port",
    };

    /// <summary>postgresql://[user[:password]@][host[:port][,host[:port]…]][/database][?parameter=value&amp;…]</summary>
    private static NpgsqlConnectionStringBuilder FromUri(string text)
    {
        var builder = new NpgsqlConnectionStringBuilder();
        var rest = text[(text.IndexOf("://", StringComparison.Ordinal) + 3)..];
        var fragment = rest.IndexOf('#', StringComparison.Ordinal);
        if (fragment >= 0)
        {
            rest = rest[..fragment];
        }

        string? query = null;
        var q = rest.IndexOf('?', StringComparison.Ordinal);
        if (q >= 0)
        {
            query = rest[(q + 1)..];
            rest = rest[..q];
        }

        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash >= 0 ? rest[..slash] : rest;
        var database = slash >= 0 ? rest[(slash + 1)..] : "";
        if (database.Contains('@', StringComparison.Ordinal))
        {
            // a password with a '/' that is not percent-encoded ends the server part early: what follows, password
            // included, would be read as the database and shown as the store's location. Refused without echoing it.
            throw ErrorCatalog.StoreConnectionStringInvalid("a '/' in its user or password (or an '@' in its database name) is not percent-encoded: write '/' as %2F and '@' as %40.");
        }

        var at = authority.LastIndexOf('@');
        if (at >= 0)
        {
            var userInfo = authority[..at];
            authority = authority[(at + 1)..];
            var colon = userInfo.IndexOf(':', StringComparison.Ordinal);
            builder.Username = Decode(colon >= 0 ? userInfo[..colon] : userInfo);
            if (colon >= 0)
            {
                builder.Password = Decode(userInfo[(colon + 1)..]);
            }
        }

        if (authority.Length > 0)
        {
            var hosts = authority.Split(',');
            if (hosts.Length == 1)
            {
                var (host, port) = SplitHostPort(hosts[0]);
                builder.Host = host;
                if (port is not null)
                {
                    builder.Port = port.Value;
                }
            }
            else
            {
                builder.Host = string.Join(',', hosts.Select(h =>
                {
                    var (host, port) = SplitHostPort(h);
                    return port is null ? host : FormattableString.Invariant($"{host}:{port}");
                }));
            }
        }

        if (database.Length > 0)
        {
            builder.Database = Decode(database);
        }

        if (query is not null)
        {
            var hasPassword = builder.Password is not null || query.Contains("password", StringComparison.OrdinalIgnoreCase);
            foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
            {
                var eq = pair.IndexOf('=', StringComparison.Ordinal);
                var name = Decode(eq >= 0 ? pair[..eq] : pair);
                var value = eq >= 0 ? Decode(pair[(eq + 1)..]) : "";
                var keyword = UriParameters.TryGetValue(name, out var mapped) ? mapped : name;
                if (keyword == "SSL Mode")
                {
                    value = value.Replace("-", "", StringComparison.Ordinal); // verify-full → VerifyFull
                }

                Set(builder, keyword, value, hasPassword);
            }
        }

        return builder;
    }

    private static (string Host, int? Port) SplitHostPort(string hostPort)
    {
        hostPort = Decode(hostPort);
        string host;
        string? port = null;
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw ErrorCatalog.StoreConnectionStringInvalid("an IPv6 address in the URI lacks its closing ']'.");
            }

            host = hostPort[1..close];
            if (close + 1 < hostPort.Length && hostPort[close + 1] == ':')
            {
                port = hostPort[(close + 2)..];
            }
        }
        else
        {
            var colon = hostPort.LastIndexOf(':');
            host = colon >= 0 ? hostPort[..colon] : hostPort;
            port = colon >= 0 ? hostPort[(colon + 1)..] : null;
        }

        if (port is null || port.Length == 0)
        {
            return (host, null);
        }

        if (!int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) || number is < 1 or > 65535)
        {
            throw ErrorCatalog.StoreConnectionStringInvalid("the port in the URI is not a number from 1 to 65535 (a password in the URI that holds '#', '/', '?' or '@' must be percent-encoded: %23, %2F, %3F, %40; or give it with -Credential or $env:PGPASSWORD).");
        }

        return (host, number);
    }

    private static string Decode(string value)
    {
        try
        {
            return Uri.UnescapeDataString(value);
        }
        catch (UriFormatException)
        {
            throw ErrorCatalog.StoreConnectionStringInvalid("the URI has a malformed %-escape.");
        }
    }

    private static string F(string format, params object?[] args) => string.Format(CultureInfo.InvariantCulture, format, args);

    /// <summary>The connection string the data source uses: the settings plus the password (never shown).</summary>
    internal string ConnectionStringWithPassword()
    {
        var copy = new NpgsqlConnectionStringBuilder(Builder.ConnectionString) { Password = Password };
        return copy.ConnectionString;
    }
}

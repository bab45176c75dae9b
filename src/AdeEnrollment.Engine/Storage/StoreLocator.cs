namespace AdeEnrollment.Engine.Storage;

/// <summary>Where the store is when nobody says (about_AdeEnrollment.md, "The store"): $env:ADE_ENROLLMENT_STORE, else the per-user data folder.</summary>
public static class StoreLocator
{
    public const string PathVariable = "ADE_ENROLLMENT_STORE";
    public const string KeyVariable = "ADE_ENROLLMENT_STORE_KEY";

    /// <summary>
    /// The SQLite store used when nobody says: $env:ADE_ENROLLMENT_STORE when it is a path, else the per-user default
    /// (when the variable holds a PostgreSQL connection string, <see cref="ConnectionStringFromEnvironment"/> is used instead).
    /// </summary>
    public static string DefaultPath()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment) && !Postgres.PostgresConnectionInfo.IsConnectionString(fromEnvironment))
        {
            return Path.GetFullPath(fromEnvironment);
        }

        return Path.Combine(DataFolder(), "AdeEnrollment", "ade.db");
    }

    /// <summary>$env:ADE_ENROLLMENT_STORE when it holds a PostgreSQL connection string (keyword string or URI), else null.</summary>
    public static string? ConnectionStringFromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(PathVariable);
        return Postgres.PostgresConnectionInfo.IsConnectionString(value) ? value!.Trim() : null;
    }

    private static string DataFolder()
    {
        if (OperatingSystem.IsWindows())
        {
            return Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData);
        }

        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (OperatingSystem.IsMacOS())
        {
            return Path.Combine(home, "Library", "Application Support");
        }

        var xdg = Environment.GetEnvironmentVariable("XDG_DATA_HOME");
        return string.IsNullOrWhiteSpace(xdg) || !Path.IsPathRooted(xdg) ? Path.Combine(home, ".local", "share") : xdg;
    }

    /// <summary>The passphrase from $env:ADE_ENROLLMENT_STORE_KEY as UTF-8, or null.</summary>
    public static byte[]? PassphraseFromEnvironment()
    {
        var value = Environment.GetEnvironmentVariable(KeyVariable);
        return string.IsNullOrEmpty(value) ? null : System.Text.Encoding.UTF8.GetBytes(value);
    }
}

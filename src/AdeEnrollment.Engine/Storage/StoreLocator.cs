using AdeEnrollment.Engine.Errors;

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
            return FullPath(ExpandHome(fromEnvironment), "$env:" + PathVariable);
        }

        return Path.Combine(DataFolder(), "AdeEnrollment", "ade.db");
    }

    /// <summary>
    /// A leading <c>~</c> (alone, or before a separator) as the user's home folder, as PowerShell reads it in -Path: an
    /// environment variable is not expanded by PowerShell, and '~/ade.db' made a folder named '~' wherever the process
    /// happened to start.
    /// </summary>
    internal static string ExpandHome(string path)
        => path == "~" || path.StartsWith("~/", StringComparison.Ordinal) || (path.StartsWith("~\\", StringComparison.Ordinal) && OperatingSystem.IsWindows())
            ? Environment.GetFolderPath(Environment.SpecialFolder.UserProfile) + path[1..]
            : path;

    /// <summary>
    /// The full path of a SQLite store file a user names (-Path, -DestinationPath, $env:ADE_ENROLLMENT_STORE), or
    /// <c>ArgumentInvalid</c> naming <paramref name="parameter"/>: a path the system cannot hold (a NUL), a file name
    /// that is empty or only spaces (which would make hidden files such as "  " and "  .key"), or a control or invisible
    /// formatting character (the path is shown back by Get-AdeStore and in messages).
    /// </summary>
    public static string FullPath(string path, string parameter = "Path")
    {
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw ErrorCatalog.ArgumentInvalid(parameter, path, "it is not a valid file path (it holds a character a path cannot have, such as NUL).");
        }

        if (string.IsNullOrWhiteSpace(Path.GetFileName(full)))
        {
            throw ErrorCatalog.ArgumentInvalid(parameter, path, "it names no file (its file name is empty or only spaces); give a store file such as ade.db.");
        }

        if (Rules.TextRules.HasUnsafe(path))
        {
            throw ErrorCatalog.ArgumentInvalid(parameter, path, "it holds control or invisible formatting characters; give a plain file path.");
        }

        return full;
    }

    /// <summary>
    /// <paramref name="path"/> unless it is a PostgreSQL connection string, which is ArgumentInvalid naming the parameter
    /// that takes one: read as a path it became a SQLite file named after it, password and all. The value is not shown.
    /// </summary>
    public static string RefuseConnectionString(string path, string parameter, string connectionParameter)
        => Postgres.PostgresConnectionInfo.IsConnectionString(path)
            ? throw ErrorCatalog.ArgumentInvalid(parameter, "(a connection string)", $"it is a PostgreSQL connection string, not a file path. Give it with -{connectionParameter}, and the password with -Credential or -Password; nothing was created.")
            : path;

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

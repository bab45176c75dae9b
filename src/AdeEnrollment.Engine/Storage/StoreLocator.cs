namespace AdeEnrollment.Engine.Storage;

/// <summary>Where the store is when nobody says (about_AdeEnrollment.md, "The store"): $env:ADE_ENROLLMENT_STORE, else the per-user data folder.</summary>
public static class StoreLocator
{
    public const string PathVariable = "ADE_ENROLLMENT_STORE";
    public const string KeyVariable = "ADE_ENROLLMENT_STORE_KEY";

    public static string DefaultPath()
    {
        var fromEnvironment = Environment.GetEnvironmentVariable(PathVariable);
        if (!string.IsNullOrWhiteSpace(fromEnvironment))
        {
            return Path.GetFullPath(fromEnvironment);
        }

        return Path.Combine(DataFolder(), "AdeEnrollment", "ade.db");
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

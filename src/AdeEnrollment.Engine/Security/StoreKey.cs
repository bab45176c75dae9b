using System.Security.Cryptography;
using System.Text;

namespace AdeEnrollment.Engine.Security;

/// <summary>How a store's key is protected. Recorded in the store so a mismatch is reported, not guessed.</summary>
public enum StoreKeyProtection
{
    /// <summary>A random key in a 0600 file beside the store (Linux, macOS).</summary>
    KeyFile,

    /// <summary>A random key in a file beside the store, wrapped by Windows DPAPI for the current user.</summary>
    Dpapi,

    /// <summary>A key derived from a passphrase (PBKDF2-SHA256); for stores shared by several hosts.</summary>
    Passphrase,
}

/// <summary>Creates and opens store keys. Passphrases arrive as UTF-8 bytes and are cleared by the caller.</summary>
internal static class StoreKey
{
    internal const int Pbkdf2Iterations = 600_000;
    private const int KeySize = 32;

    public static string KeyFilePath(string storePath) => storePath + ".key";

    public static StoreKeyProtection DefaultProtection => OperatingSystem.IsWindows() ? StoreKeyProtection.Dpapi : StoreKeyProtection.KeyFile;

    public static byte[] Derive(byte[] passphrase, byte[] salt)
        => Rfc2898DeriveBytes.Pbkdf2(passphrase, salt, Pbkdf2Iterations, HashAlgorithmName.SHA256, KeySize);

    /// <summary>Creates a new random key and writes it (protected as asked) beside the store.</summary>
    public static byte[] CreateKeyFile(string storePath, StoreKeyProtection protection)
    {
        var key = RandomNumberGenerator.GetBytes(KeySize);
        var content = protection == StoreKeyProtection.Dpapi ? DpapiProtect(key) : key;
        var path = KeyFilePath(storePath);
        FileSecurity.WritePrivateFile(path, Encoding.ASCII.GetBytes(Convert.ToBase64String(content)));
        return key;
    }

    /// <summary>Reads the key file (the caller checked it is a file); null when it does not exist.</summary>
    public static byte[]? ReadKeyFile(string storePath, StoreKeyProtection protection)
    {
        var path = KeyFilePath(storePath);
        if (!File.Exists(path))
        {
            return null;
        }

        var content = Convert.FromBase64String(File.ReadAllText(path).Trim());
        return protection == StoreKeyProtection.Dpapi ? DpapiUnprotect(content) : content;
    }

    private static byte[] DpapiProtect(byte[] key)
    {
        if (!OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("DPAPI is available on Windows only.");
        }

        return ProtectedData.Protect(key, Encoding.UTF8.GetBytes("AdeEnrollment store key"), DataProtectionScope.CurrentUser);
    }

    private static byte[] DpapiUnprotect(byte[] content)
    {
        if (!OperatingSystem.IsWindows())
        {
            throw new PlatformNotSupportedException("This store's key is protected by Windows DPAPI; open it on the Windows account that created it.");
        }

        return ProtectedData.Unprotect(content, Encoding.UTF8.GetBytes("AdeEnrollment store key"), DataProtectionScope.CurrentUser);
    }
}

/// <summary>Files only the current user may read (0600 on Unix; the per-user profile folder on Windows).</summary>
internal static class FileSecurity
{
    public const UnixFileMode PrivateFile = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    public const UnixFileMode PrivateDirectory = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;

    public static void EnsureDirectory(string directory)
    {
        if (Directory.Exists(directory))
        {
            return;
        }

        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(directory);
            return;
        }

        // Every folder created here is the user's alone, the parents too (Directory.CreateDirectory with a mode gives
        // the missing parents the default mode): created one level at a time from the first that exists.
        var missing = new Stack<string>();
        for (var folder = Path.GetFullPath(directory); folder is not null && !Directory.Exists(folder); folder = Path.GetDirectoryName(folder))
        {
            missing.Push(folder);
        }

        while (missing.TryPop(out var folder))
        {
            Directory.CreateDirectory(folder, PrivateDirectory);
        }
    }

    /// <summary>
    /// An empty file with private permissions: created so, or, when an empty file is there already (a store is created
    /// in it), narrowed to the owner: a store made in a file someone else could read would be readable by them.
    /// </summary>
    public static void CreatePrivateFile(string path)
    {
        if (File.Exists(path) && !OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, PrivateFile);
            return;
        }

        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = PrivateFile;
        }

        try
        {
            using var _ = new FileStream(path, options);
        }
        catch (IOException) when (File.Exists(path))
        {
            // created by a concurrent process: fine
        }
    }

    public static void WritePrivateFile(string path, byte[] content)
    {
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = PrivateFile;
        }

        using var stream = new FileStream(path, options);
        stream.Write(content);
    }
}

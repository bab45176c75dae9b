using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Security;

namespace AdeEnrollment.Engine.Files;

/// <summary>
/// The one way the engine writes a file a user names (-OutFile, -Path): checked before anything is stored or written
/// (<see cref="Check"/>), then written (<see cref="WriteText"/>). Existing regular files are replaced unless
/// -NoClobber is given, as with PowerShell's Out-File and Export-Csv; folders, pipes, devices and the store's own
/// files (the database, its -wal/-shm and its key file) are always refused (docs/security.md).
/// </summary>
internal static class OutputFile
{
    /// <summary>Throws the catalogued error for an output path that cannot or must not be written; returns the full path.</summary>
    /// <param name="protectedStorePath">The store in use: neither it nor its companion files may be overwritten.</param>
    public static string Check(string parameter, string path, bool noClobber, string? protectedStorePath)
    {
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw ErrorCatalog.OutputPathInvalid(parameter, path, "it is not a valid file path.");
        }

        if (full.EndsWith(Path.DirectorySeparatorChar) || full.EndsWith(Path.AltDirectorySeparatorChar))
        {
            throw ErrorCatalog.OutputPathInvalid(parameter, full, "it names a folder; give a file name in that folder.");
        }

        if (protectedStorePath is not null)
        {
            var store = Path.GetFullPath(protectedStorePath);
            var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            foreach (var own in new[] { store, store + "-wal", store + "-shm", store + "-journal", StoreKey.KeyFilePath(store) })
            {
                if (string.Equals(full, own, comparison) || SameFile(full, own))
                {
                    throw ErrorCatalog.OutputPathInvalid(parameter, full, "it is a file of the AdeEnrollment store in use (the database or its key file); writing there would destroy it.");
                }
            }
        }

        switch (FileKinds.Of(full))
        {
            case FileKind.Directory:
                throw ErrorCatalog.OutputPathInvalid(parameter, full, "it is a folder; give a file name in that folder.");
            case FileKind.Special:
                throw ErrorCatalog.OutputPathInvalid(parameter, full, "it is not a regular file (a pipe, a device or a socket).");
            case FileKind.Regular when noClobber:
                throw ErrorCatalog.OutputFileExists(parameter, full);
        }

        var folder = Path.GetDirectoryName(full);
        if (!string.IsNullOrEmpty(folder) && File.Exists(folder))
        {
            throw ErrorCatalog.OutputPathInvalid(parameter, full, $"'{folder}' is a file, not a folder.");
        }

        return full;
    }

    /// <summary>Writes text a user will hand on (a certificate PEM, a profile export): normal permissions, folder created.</summary>
    public static void WriteText(string parameter, string fullPath, string content)
    {
        try
        {
            var folder = Path.GetDirectoryName(fullPath);
            if (!string.IsNullOrEmpty(folder))
            {
                Directory.CreateDirectory(folder);
            }

            File.WriteAllText(fullPath, content);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw ErrorCatalog.OutputPathInvalid(parameter, fullPath, "it could not be written (" + ex.Message + ").");
        }
    }

    /// <summary>True when both paths exist and are the same file (a symbolic link to the store, say).</summary>
    private static bool SameFile(string a, string b)
    {
        try
        {
            if (!File.Exists(a) || !File.Exists(b))
            {
                return false;
            }

            var ra = new FileInfo(a).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? a;
            var rb = new FileInfo(b).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? b;
            return string.Equals(Path.GetFullPath(ra), Path.GetFullPath(rb), StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }
}

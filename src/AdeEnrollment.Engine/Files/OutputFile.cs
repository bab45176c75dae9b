using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Security;

namespace AdeEnrollment.Engine.Files;

/// <summary>
/// The one way the engine writes a file a user names (-OutFile, -Path): checked before anything is stored or written
/// (<see cref="Check"/>), then written (<see cref="WriteText"/>). Existing regular files are replaced unless
/// -NoClobber is given, as with PowerShell's Out-File and Export-Csv; folders, pipes, devices and the store's own
/// files (the database, its -wal/-shm and its key file) are always refused (docs/security.md), also when the path
/// reaches them through a symbolic link to a folder or to the file. A file is written under a temporary name in its
/// folder and then renamed over the target, so a target that is another name (a hard link) of a file — of the store,
/// say — replaces that name only and never writes into the file behind it.
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

        if (string.IsNullOrWhiteSpace(Path.GetFileName(full)))
        {
            throw ErrorCatalog.OutputPathInvalid(parameter, path, "its file name is only spaces; give a file name.");
        }

        if (protectedStorePath is not null)
        {
            var store = Path.GetFullPath(protectedStorePath);
            var comparison = OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparison.OrdinalIgnoreCase : StringComparison.Ordinal;
            var real = RealPath(full);
            foreach (var own in new[] { store, store + "-wal", store + "-shm", store + "-journal", StoreKey.KeyFilePath(store) })
            {
                if (string.Equals(full, own, comparison) || string.Equals(real, RealPath(own), comparison))
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

            // a new file renamed into place: the target's name is replaced, never the content of a file it links to
            var temporary = Path.Combine(string.IsNullOrEmpty(folder) ? "." : folder, "." + Path.GetFileName(fullPath) + "." + Guid.NewGuid().ToString("N")[..8] + ".tmp");
            try
            {
                File.WriteAllText(temporary, content);
                File.Move(temporary, fullPath, overwrite: true);
            }
            finally
            {
                File.Delete(temporary);
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw ErrorCatalog.OutputPathInvalid(parameter, fullPath, "it could not be written (" + ex.Message + ").");
        }
    }

    /// <summary>
    /// The path with every symbolic link along it resolved (a folder link as well as a link to the file itself), as far
    /// as the parts exist: two paths to the same file give the same text. A link loop or an unreadable link leaves the
    /// rest of the path as given.
    /// </summary>
    internal static string RealPath(string fullPath)
    {
        var root = Path.GetPathRoot(fullPath) ?? "";
        var current = root;
        var parts = fullPath[root.Length..].Split([Path.DirectorySeparatorChar, Path.AltDirectorySeparatorChar], StringSplitOptions.RemoveEmptyEntries);
        for (var i = 0; i < parts.Length; i++)
        {
            var next = Path.Combine(current, parts[i]);
            try
            {
                FileSystemInfo info = Directory.Exists(next) ? new DirectoryInfo(next) : new FileInfo(next);
                if (info.LinkTarget is not null && info.ResolveLinkTarget(returnFinalTarget: true) is { } target)
                {
                    // a link resolves to a full path of its own, which may hold links again (resolved by the next parts)
                    next = RealPath(Path.GetFullPath(target.FullName));
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                return Path.Combine([next, .. parts[(i + 1)..]]);
            }

            current = next;
        }

        return current;
    }
}

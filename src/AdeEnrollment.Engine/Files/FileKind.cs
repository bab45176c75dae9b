using System.Runtime.InteropServices;

namespace AdeEnrollment.Engine.Files;

/// <summary>What a path names, found without opening it (opening a FIFO for reading blocks until a writer comes).</summary>
internal enum FileKind
{
    Missing,
    Regular,
    Directory,

    /// <summary>A FIFO, a character or block device, a socket: never read or written by the engine.</summary>
    Special,
}

internal static class FileKinds
{
    // The file-type bits of the mode reported by the .NET runtime's own POSIX layer (libSystem.Native), which uses
    // the same values on every Unix the runtime supports.
    private const int TypeMask = 0xF000, TypeDirectory = 0x4000, TypeRegular = 0x8000;

    public static FileKind Of(string path)
    {
        if (Directory.Exists(path))
        {
            return FileKind.Directory;
        }

        if (!File.Exists(path))
        {
            return FileKind.Missing;
        }

        if (OperatingSystem.IsWindows())
        {
            // Devices and pipes are reached through \\.\ and \\?\ device paths (and reserved names such as NUL).
            var full = Path.GetFullPath(path);
            return full.StartsWith(@"\\.\", StringComparison.Ordinal) || full.StartsWith(@"\\?\", StringComparison.Ordinal)
                ? FileKind.Special
                : FileKind.Regular;
        }

        // FileStatus of libSystem.Native: int Flags, int Mode, ... (Mode at offset 4); the buffer is generously sized.
        var status = new byte[512];
        try
        {
            if (Stat(path, status) != 0)
            {
                return File.Exists(path) ? FileKind.Special : FileKind.Missing; // exists but cannot be examined: refuse
            }
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            return FileKind.Special; // cannot tell: refusing is safer than blocking on a FIFO
        }

        return (BitConverter.ToInt32(status, 4) & TypeMask) switch
        {
            TypeRegular => FileKind.Regular,
            TypeDirectory => FileKind.Directory,
            _ => FileKind.Special,
        };
    }

    [DllImport("libSystem.Native", EntryPoint = "SystemNative_Stat")]
    private static extern int Stat([MarshalAs(UnmanagedType.LPUTF8Str)] string path, [Out] byte[] status);
}

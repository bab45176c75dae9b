using AdeEnrollment.Engine.Errors;

namespace AdeEnrollment.Engine.Files;

/// <summary>How one kind of input file reports its failures (each kind keeps its own catalogued error IDs).</summary>
/// <param name="NotFound">The file does not exist.</param>
/// <param name="Invalid">The file cannot be used: the reason, and the exception behind it if any.</param>
/// <param name="LimitText">Said after the size of a file that is too large, e.g. "a server token is a few kilobytes".</param>
internal sealed record InputFileErrors(Func<AdeException> NotFound, Func<string, Exception?, AdeException> Invalid, string LimitText);

/// <summary>
/// The one way the engine reads a file a user names (a .p7m token, a profile export, a certificate): only a regular
/// file, never more than a limit. A FIFO, a device, a socket or a folder is refused before it is opened, and the read
/// stops one byte past the limit, so neither a pipe that never ends nor a file that grows while it is read can make
/// the engine block or fill memory (docs/security.md).
/// </summary>
internal static class InputFile
{
    public static byte[] ReadAllBytes(string path, int maxBytes, InputFileErrors errors)
    {
        switch (FileKinds.Of(path))
        {
            case FileKind.Missing:
                throw errors.NotFound();
            case FileKind.Directory:
                throw errors.Invalid("it is a folder, not a file.", null);
            case FileKind.Special:
                throw errors.Invalid("it is not a regular file (a pipe, a device or a socket); save the content to a file and give its path.", null);
        }

        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
            if (stream.CanSeek && stream.Length > maxBytes)
            {
                throw errors.Invalid(FormattableString.Invariant($"it is {stream.Length:N0} bytes; {errors.LimitText}"), null);
            }

            var buffer = new byte[Math.Min(maxBytes + 1L, stream.CanSeek ? stream.Length + 1 : maxBytes + 1L)];
            var read = stream.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false);
            if (read > maxBytes)
            {
                throw errors.Invalid(FormattableString.Invariant($"it is more than {maxBytes:N0} bytes; {errors.LimitText}"), null);
            }

            return buffer[..read];
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw errors.Invalid("it cannot be read (" + ex.Message + ").", ex);
        }
    }
}

using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Storage.Postgres;

namespace AdeEnrollment.Host;

/// <summary>
/// The store this PowerShell process works with: chosen by Connect-AdeStore, else opened on first use from
/// $env:ADE_ENROLLMENT_STORE (a file path or a PostgreSQL connection string) or the per-user default
/// (about_AdeEnrollment.md, "The store").
/// </summary>
internal static class AdeSession
{
    private static readonly object Gate = new();
    private static AdeStore? current;

    /// <summary>What <see cref="current"/> was opened from when it came from the environment: the path or the connection string.</summary>
    private static string? currentSource;

    private static bool explicitlyConnected;

    /// <summary>
    /// A Connect-AdeStore that failed while no store was connected: the store it named, and its error. Until the next
    /// Connect-AdeStore or Disconnect-AdeStore the session uses no store at all, rather than the environment's or the
    /// per-user default one, on which a scheduled script would go on working unnoticed.
    /// </summary>
    private static (string Location, string ErrorId)? failedConnect;

    /// <summary>The environment's choice: the connection string in $env:ADE_ENROLLMENT_STORE, else the default file path.</summary>
    private static string DefaultSource() => StoreLocator.ConnectionStringFromEnvironment() ?? StoreLocator.DefaultPath();

    public static AdeStore Current
    {
        get
        {
            lock (Gate)
            {
                RefuseAfterFailedConnect();
                var source = DefaultSource();
                if (current is not null && (explicitlyConnected || currentSource == source))
                {
                    if (!Deleted(current))
                    {
                        return current;
                    }

                    // A file deleted under the session: never written on as a phantom. The store a session chose is an
                    // error to resolve; the environment's store is created again where the environment says.
                    if (explicitlyConnected)
                    {
                        throw ErrorCatalog.StoreDeleted(current.Path);
                    }

                    current.Release();
                    current = null;
                }

                var passphrase = StoreLocator.PassphraseFromEnvironment();
                try
                {
                    var store = PostgresConnectionInfo.IsConnectionString(source)
                        ? AdeStore.Open(PostgresConnectionInfo.Parse(source), passphrase)
                        : AdeStore.Open(source, passphrase);
                    if (current?.Provider == "PostgreSQL")
                    {
                        current.Release();
                    }

                    current = store;
                    currentSource = source;
                }
                finally
                {
                    if (passphrase is not null)
                    {
                        Array.Clear(passphrase);
                    }
                }

                return current;
            }
        }
    }

    /// <summary>
    /// The store the session would use, only if it is open already or exists; otherwise null and the path it would
    /// create (Get-AdeStore describes a store without creating it). A server store named by the environment is opened.
    /// <paramref name="deleted"/>: the store chosen with Connect-AdeStore is gone (its file deleted or moved).
    /// </summary>
    public static AdeStore? CurrentIfExists(out string path, out bool deleted)
    {
        lock (Gate)
        {
            RefuseAfterFailedConnect();
            var source = DefaultSource();
            deleted = current is not null && explicitlyConnected && Deleted(current);
            if (current is not null && (explicitlyConnected || currentSource == source))
            {
                path = current.Path;
                return Deleted(current) ? null : current;
            }

            if (PostgresConnectionInfo.IsConnectionString(source))
            {
                path = PostgresConnectionInfo.Parse(source).Location;
            }
            else
            {
                path = StoreLocator.FullPath(source, "$env:" + StoreLocator.PathVariable);
                if (!StoreService.Exists(path))
                {
                    return null;
                }
            }
        }

        return Current;
    }

    private static void RefuseAfterFailedConnect()
    {
        if (!explicitlyConnected && failedConnect is { } failed)
        {
            throw ErrorCatalog.StoreNotConnected(failed.Location, failed.ErrorId);
        }
    }

    /// <summary>
    /// Records a Connect-AdeStore that failed with <paramref name="errorId"/>. A session that had connected a store keeps
    /// it (the failed command changed nothing); one that had not uses no store until it connects or disconnects.
    /// </summary>
    public static void ConnectFailed(string location, string errorId)
    {
        lock (Gate)
        {
            if (!explicitlyConnected)
            {
                failedConnect = (location, errorId);
            }
        }
    }

    /// <summary>Whether a store file the session holds open was deleted or moved since (the open connection would still read it).</summary>
    private static bool Deleted(AdeStore store) => store.Provider == "SQLite" && !File.Exists(store.Path);

    /// <summary>Forgets the store chosen with Connect-AdeStore: the session goes back to $env:ADE_ENROLLMENT_STORE or the default.</summary>
    public static string? Disconnect()
    {
        lock (Gate)
        {
            var was = explicitlyConnected ? current?.Path : null;
            current?.Release();
            current = null;
            currentSource = null;
            explicitlyConnected = false;
            failedConnect = null;
            return was;
        }
    }

    public static AdeStore Connect(string path, byte[]? passphrase) => Use(AdeStore.Open(path, passphrase));

    public static AdeStore Connect(PostgresConnectionInfo connection, byte[]? passphrase) => Use(AdeStore.Open(connection, passphrase));

    private static AdeStore Use(AdeStore store)
    {
        lock (Gate)
        {
            if (current is not null && current.Provider == "PostgreSQL" && !ReferenceEquals(current, store))
            {
                current.Release(); // a server store's pool is its own; a SQLite release would clear every file's pool
            }

            current = store;
            currentSource = null;
            explicitlyConnected = true;
            failedConnect = null;
        }

        return store;
    }

    /// <summary>Where the session's store would be if none was connected: for messages.</summary>
    public static string DefaultLocation()
    {
        var source = DefaultSource();
        return PostgresConnectionInfo.IsConnectionString(source) ? PostgresConnectionInfo.Parse(source).Location : source;
    }
}

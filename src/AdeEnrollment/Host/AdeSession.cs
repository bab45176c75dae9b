using AdeEnrollment.Engine.Storage;

namespace AdeEnrollment.Host;

/// <summary>
/// The store this PowerShell process works with: chosen by Connect-AdeStore, else opened on first use from
/// $env:ADE_ENROLLMENT_STORE or the per-user default (about_AdeEnrollment.md, "The store").
/// </summary>
internal static class AdeSession
{
    private static readonly object Gate = new();
    private static AdeStore? current;

    public static AdeStore Current
    {
        get
        {
            lock (Gate)
            {
                if (current is not null && (explicitlyConnected || current.Path == StoreLocator.DefaultPath()))
                {
                    return current;
                }

                var passphrase = StoreLocator.PassphraseFromEnvironment();
                try
                {
                    current = AdeStore.Open(StoreLocator.DefaultPath(), passphrase);
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

    private static bool explicitlyConnected;

    /// <summary>
    /// The store the session would use, only if it is open already or exists on disk; otherwise null and the path it
    /// would create (Get-AdeStore describes a store without creating it).
    /// </summary>
    public static AdeStore? CurrentIfExists(out string path)
    {
        lock (Gate)
        {
            if (current is not null && (explicitlyConnected || current.Path == StoreLocator.DefaultPath()))
            {
                path = current.Path;
                return current;
            }

            path = Path.GetFullPath(StoreLocator.DefaultPath());
            if (!StoreService.Exists(path))
            {
                return null;
            }
        }

        return Current;
    }

    /// <summary>Forgets the store chosen with Connect-AdeStore: the session goes back to $env:ADE_ENROLLMENT_STORE or the default.</summary>
    public static string? Disconnect()
    {
        lock (Gate)
        {
            var was = explicitlyConnected ? current?.Path : null;
            current?.Release();
            current = null;
            explicitlyConnected = false;
            return was;
        }
    }

    public static AdeStore Connect(string path, byte[]? passphrase)
    {
        var store = AdeStore.Open(path, passphrase);
        lock (Gate)
        {
            current = store;
            explicitlyConnected = true;
        }

        return store;
    }
}

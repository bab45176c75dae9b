using AdeEnrollment.Engine.Storage;

namespace AdeEnrollment.Host;

/// <summary>
/// The store this PowerShell process works with: chosen by Connect-AdeStore, else opened on first use from
/// $env:ADE_ENROLLMENT_STORE or the per-user default (SPEC §2).
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

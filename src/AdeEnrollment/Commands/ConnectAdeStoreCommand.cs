using System.Management.Automation;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using AdeEnrollment.Engine;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>Connect-AdeStore: selects the store for this session.</summary>
[Cmdlet(VerbsCommunications.Connect, "AdeStore")]
[OutputType(typeof(AdeStoreInfo))]
public sealed class ConnectAdeStoreCommand : AdeCmdlet
{
    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    [Parameter]
    public SecureString? Key { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessItem()
    {
        var path = Path is null ? StoreLocator.DefaultPath() : ResolvePath(Path);
        var passphrase = Key is null ? StoreLocator.PassphraseFromEnvironment() : ToUtf8(Key);
        try
        {
            var store = AdeSession.Connect(path, passphrase);
            WriteVerbose($"Using the store '{store.Path}' (keys: {store.KeyProtection}).");
            if (PassThru)
            {
                WriteObject(new AdeEngine(store, Engine.Host).StoreInfo.GetInfo());
            }
        }
        finally
        {
            if (passphrase is not null)
            {
                Array.Clear(passphrase);
            }
        }
    }

    private static byte[] ToUtf8(SecureString secure)
    {
        var pointer = Marshal.SecureStringToGlobalAllocUnicode(secure);
        try
        {
            var chars = new char[secure.Length];
            Marshal.Copy(pointer, chars, 0, chars.Length);
            try
            {
                return Encoding.UTF8.GetBytes(chars);
            }
            finally
            {
                Array.Clear(chars);
            }
        }
        finally
        {
            Marshal.ZeroFreeGlobalAllocUnicode(pointer);
        }
    }
}

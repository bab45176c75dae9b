using System.Management.Automation;
using System.Net;
using System.Runtime.InteropServices;
using System.Security;
using System.Text;
using AdeEnrollment.Engine;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Storage.Postgres;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>
/// Connect-AdeStore: selects the store for this session: a SQLite file (-Path) or a PostgreSQL database shared by
/// several hosts (-ConnectionString; about_AdeEnrollment.md, "Shared store").
/// </summary>
[Cmdlet(VerbsCommunications.Connect, "AdeStore", DefaultParameterSetName = PathSet)]
[OutputType(typeof(AdeStoreInfo))]
public sealed class ConnectAdeStoreCommand : AdeCmdlet
{
    private const string PathSet = "Path";
    private const string ServerSet = "ConnectionString";

    [Parameter(Position = 0, ParameterSetName = PathSet)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>An Npgsql keyword string or a postgresql:// URI. A password in it is used but never shown.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ServerSet, HelpMessage = "The PostgreSQL server store: an Npgsql keyword string (Host=…;Database=…) or a postgresql:// URI. Give the password with -Credential or -Password, not here.")]
    [ValidateNotNullOrEmpty]
    public string? ConnectionString { get; set; }

    /// <summary>The database user and password (wins over the connection string's).</summary>
    [Parameter(ParameterSetName = ServerSet)]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>The database password, when the user name is in the connection string.</summary>
    [Parameter(ParameterSetName = ServerSet)]
    public SecureString? Password { get; set; }

    [Parameter]
    public SecureString? Key { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessItem()
    {
        var passphrase = Key is null ? StoreLocator.PassphraseFromEnvironment() : ToUtf8(Key);
        // never the text of a connection string given where a path belongs: it may carry the password
        var location = ParameterSetName == ServerSet || PostgresConnectionInfo.IsConnectionString(Path) ? "the PostgreSQL store given"
            : Path ?? (StoreLocator.ConnectionStringFromEnvironment() is null ? StoreLocator.DefaultPath() : $"the PostgreSQL store of $env:{StoreLocator.PathVariable}");
        try
        {
            AdeStore store;
            if (ParameterSetName == ServerSet)
            {
                var user = Credential?.UserName is { Length: > 0 } name ? name : null;
                var password = Credential is not null ? Credential.GetNetworkCredential().Password
                    : Password is not null ? new NetworkCredential(string.Empty, Password).Password
                    : null;
                var connection = PostgresConnectionInfo.Parse(ConnectionString!, user, string.IsNullOrEmpty(password) ? null : password);
                location = connection.Location;
                store = AdeSession.Connect(connection, passphrase);
                WriteVerbose($"Using the PostgreSQL store '{store.Path}' as '{connection.UserName}' (keys: {store.KeyProtection}).");
            }
            else if (Path is null && StoreLocator.ConnectionStringFromEnvironment() is { } fromEnvironment)
            {
                // the environment's store is a PostgreSQL one: that is the store this opens, not the per-user SQLite file
                var connection = PostgresConnectionInfo.Parse(fromEnvironment);
                location = connection.Location;
                store = AdeSession.Connect(connection, passphrase);
                WriteVerbose($"Using the PostgreSQL store '{store.Path}' of $env:{StoreLocator.PathVariable} as '{connection.UserName}' (keys: {store.KeyProtection}).");
            }
            else
            {
                var path = Path is null ? StoreLocator.DefaultPath() : ResolvePath(StoreLocator.RefuseConnectionString(Path, "Path", "ConnectionString"));
                location = path;
                store = AdeSession.Connect(path, passphrase);
                WriteVerbose($"Using the store '{store.Path}' (keys: {store.KeyProtection}).");
            }

            if (PassThru)
            {
                WriteObject(new AdeEngine(store, Engine.Host).StoreInfo.GetInfo());
            }
        }
        catch (Exception ex) when (ex is not (PipelineStoppedException or OperationCanceledException))
        {
            // whatever failed (the store, or a path PowerShell could not resolve): the session uses no other store unnoticed
            AdeSession.ConnectFailed(location, ex switch
            {
                AdeException ade => ade.ErrorId,
                IContainsErrorRecord record => record.ErrorRecord.FullyQualifiedErrorId,
                _ => ex.GetType().Name,
            });
            throw;
        }
        finally
        {
            if (passphrase is not null)
            {
                Array.Clear(passphrase);
            }
        }
    }

    /// <summary>A SecureString as UTF-8 bytes (the caller clears them); the managed chars are cleared here.</summary>
    internal static byte[] ToUtf8(SecureString secure)
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

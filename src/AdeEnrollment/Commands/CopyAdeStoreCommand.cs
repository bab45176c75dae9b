using System.Management.Automation;
using System.Net;
using System.Security;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Storage.Postgres;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>
/// Copy-AdeStore: copies the connected store into an empty store — a SQLite file (-DestinationPath) or a PostgreSQL
/// database (-DestinationConnectionString) — with its secrets encrypted again under the destination's key, and every
/// table's row count and checksum verified before the copy commits.
/// </summary>
[Cmdlet(VerbsCommon.Copy, "AdeStore", DefaultParameterSetName = PathSet, SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium)]
[OutputType(typeof(AdeStoreCopyTable), typeof(AdeStoreInfo))]
public sealed class CopyAdeStoreCommand : AdeCmdlet
{
    private const string PathSet = "Path";
    private const string ServerSet = "ConnectionString";

    /// <summary>The SQLite file to create (or an empty store file).</summary>
    [Parameter(Mandatory = true, Position = 0, ParameterSetName = PathSet, HelpMessage = "The SQLite store file to copy into: a new file, or an empty store.")]
    [ValidateNotNullOrEmpty]
    public string? DestinationPath { get; set; }

    /// <summary>An Npgsql keyword string or a postgresql:// URI of an empty database (or schema). A password in it is used but never shown.</summary>
    [Parameter(Mandatory = true, ParameterSetName = ServerSet, HelpMessage = "The PostgreSQL store to copy into: an Npgsql keyword string (Host=…;Database=…) or a postgresql:// URI of an empty database. Give the password with -Credential or -Password, not here.")]
    [ValidateNotNullOrEmpty]
    public string? DestinationConnectionString { get; set; }

    /// <summary>The destination database's user and password (wins over the connection string's).</summary>
    [Parameter(ParameterSetName = ServerSet)]
    [Credential]
    public PSCredential? Credential { get; set; }

    /// <summary>The destination database's password, when the user name is in the connection string.</summary>
    [Parameter(ParameterSetName = ServerSet)]
    public SecureString? Password { get; set; }

    /// <summary>The destination's passphrase (required for PostgreSQL; without it a SQLite destination gets a key file).</summary>
    [Parameter]
    public SecureString? DestinationKey { get; set; }

    [Parameter]
    public SwitchParameter PassThru { get; set; }

    protected override void ProcessItem()
    {
        var source = Engine.Store;
        PostgresConnectionInfo? connection = null;
        string target;
        if (ParameterSetName == ServerSet)
        {
            var user = Credential?.UserName is { Length: > 0 } name ? name : null;
            var password = Credential is not null ? Credential.GetNetworkCredential().Password
                : Password is not null ? new NetworkCredential(string.Empty, Password).Password
                : null;
            connection = PostgresConnectionInfo.Parse(DestinationConnectionString!, user, string.IsNullOrEmpty(password) ? null : password);
            target = connection.Location;
        }
        else
        {
            target = StoreLocator.FullPath(ResolvePath(StoreLocator.RefuseConnectionString(DestinationPath!, "DestinationPath", "DestinationConnectionString")), "DestinationPath");
            Engine.StoreInfo.CheckCopyDestination(target);
        }

        if (!ShouldProcess(target, $"Copy every table of the store '{source.Path}' into it"))
        {
            return;
        }

        var passphrase = DestinationKey is null ? null : ConnectAdeStoreCommand.ToUtf8(DestinationKey);
        AdeStore? destination = null;
        try
        {
            destination = connection is not null ? AdeStore.Open(connection, passphrase) : AdeStore.Open(target, passphrase);
            WriteVerbose($"Copying the store '{source.Path}' ({source.Provider}) into '{destination.Path}' ({destination.Provider}, keys: {destination.KeyProtection}).");
            foreach (var table in Engine.StoreInfo.CopyTo(destination, Engine.Host))
            {
                WriteObject(table);
            }

            if (PassThru)
            {
                WriteObject(new StoreService(destination).GetInfo());
            }
        }
        finally
        {
            destination?.Release();
            if (passphrase is not null)
            {
                Array.Clear(passphrase);
            }
        }
    }
}

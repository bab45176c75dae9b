using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Files;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Rules;

namespace AdeEnrollment.Engine.Business;

/// <summary>A new MDM server: its name, and the certificate Apple encrypts its server token to (a token request's, or a file).</summary>
public sealed record NewMdmServerArgs(string Name, string? Request = null, string? CertificatePath = null, bool AllowRelease = false, string? Account = null);

/// <summary>What Set-AdeMdmServer changes; null leaves a value as it is (an empty family list clears the defaults).</summary>
public sealed record MdmServerChanges(string? NewName = null, IReadOnlyList<string>? DefaultProductFamilies = null, bool? AllowRelease = null);

/// <summary>
/// The organisation's MDM servers through the Apple Business API: create one for a token request's certificate, rename
/// it, make it the default server of product families, and delete it. Each is one write to Apple, counted in the
/// account's write budget (the budget of device activities) before it is sent; the rules Apple would enforce too — a
/// name unique in the organisation, no deletion while devices are assigned — are checked first, so nothing is sent
/// that Apple would refuse.
/// </summary>
public sealed partial class BusinessService
{
    /// <summary>Apple's product families a server can be the default of, keyed by the names the module uses.</summary>
    private static readonly Dictionary<string, string> Families = new(StringComparer.OrdinalIgnoreCase)
    {
        ["iPhone"] = "IPHONE", ["iPad"] = "IPAD", ["iPod"] = "IPOD", ["Mac"] = "MAC", ["AppleTV"] = "APPLE_TV", ["Watch"] = "WATCH", ["Vision"] = "VISION",
    };

    /// <summary>The product families a server can be the default of, as -DefaultProductFamily takes them (tab completion lists them).</summary>
    public static IReadOnlyList<string> DefaultFamilies { get; } = [.. Families.Keys];

    /// <summary>The longest server name the module sends (Apple documents none; the portal shows about this much).</summary>
    internal const int MaxServerNameLength = 100;

    /// <summary>Creates an MDM server at Apple for the certificate of a token request (or a certificate file). Null under -WhatIf.</summary>
    public AdeMdmServer? NewMdmServer(NewMdmServerArgs args)
    {
        var name = ServerName(args.Name, "Name");
        if ((args.Request is null) == (args.CertificatePath is null))
        {
            throw ErrorCatalog.ArgumentInvalid("Request", args.Request ?? "", "give the certificate with -Request (a token request from New-AdeTokenRequest) or with -CertificatePath, one of them.");
        }

        var (der, fileName) = args.Request is not null ? RequestCertificate(args.Request) : FileCertificate(args.CertificatePath!);
        var client = WriteClient(args.Account);
        if (GetMdmServers(args.Account).FirstOrDefault(s => !IsDeleted(s.Status) && Wildcard.SameName(s.Name, name)) is { } taken)
        {
            throw ErrorCatalog.BusinessServerExists(taken.Name);
        }

        if (!host.ShouldProcess(name, "Create the MDM server at Apple" + (args.AllowRelease ? " (allowed to release devices)" : "")))
        {
            return null;
        }

        var body = Json(w =>
        {
            w.WriteString("serverName", name);
            w.WriteStartObject("serverCertificate");
            w.WriteString("name", fileName);
            w.WriteString("data", Convert.ToBase64String(der));
            w.WriteEndObject();
            w.WriteBoolean("enableMdmDisownFlag", args.AllowRelease);
        }, id: null);
        using var doc = RefusedAsConflict(() => client.Post("mdmServers", body), ex => NameTaken(ex, name, null, args.Account));
        var created = ServerOf(doc, "POST /v1/mdmServers", client);
        host.WriteVerbose(args.Request is not null
            ? $"Apple created MDM server '{created.Name}' ({created.Id}). Download its server token in Apple Business Manager, then: New-AdeToken -Request {args.Request} -Path <token.p7m> -AppleId <the Apple ID that downloaded it>."
            : $"Apple created MDM server '{created.Name}' ({created.Id}). Its server token is downloaded in Apple Business Manager and read by the MDM that holds the certificate's key.");
        return created;
    }

    /// <summary>Renames a server, sets the product families it is the default of, or whether it may release devices. Null under -WhatIf.</summary>
    public AdeMdmServer? SetMdmServer(string server, MdmServerChanges changes, string? account = null)
    {
        var newName = changes.NewName is null ? null : ServerName(changes.NewName, "NewName");
        var families = changes.DefaultProductFamilies?.Select(Family).Distinct(StringComparer.Ordinal).ToList();
        if (newName is null && families is null && changes.AllowRelease is null)
        {
            throw ErrorCatalog.ArgumentInvalid("NewName, -DefaultProductFamily or -AllowRelease", null, "say what to change.");
        }

        var client = WriteClient(account);
        var servers = GetMdmServers(account);
        var target = Writable(server, servers);
        if (newName is not null && servers.FirstOrDefault(s => s.Id != target.Id && !IsDeleted(s.Status) && Wildcard.SameName(s.Name, newName)) is { } taken)
        {
            throw ErrorCatalog.BusinessServerExists(taken.Name);
        }

        var what = new List<string>();
        if (newName is not null) what.Add($"rename to '{newName}'");
        if (families is not null) what.Add(families.Count == 0 ? "default server of no product family" : "default server of new " + string.Join(", ", families) + " devices");
        if (changes.AllowRelease is { } allow) what.Add(allow ? "may release devices" : "may not release devices");
        if (!host.ShouldProcess(target.Name, "Change the MDM server at Apple: " + string.Join("; ", what)))
        {
            return null;
        }

        foreach (var family in families ?? [])
        {
            foreach (var other in servers.Where(s => s.Id != target.Id && !IsDeleted(s.Status) && s.DefaultProductFamilies.Contains(family, StringComparer.OrdinalIgnoreCase)))
            {
                host.WriteWarning($"New {family} devices went to MDM server '{other.Name}' by default until now. Apple gives a new device to one server: check with Get-AdeMdmServer which one it kept.");
            }
        }

        var body = Json(w =>
        {
            if (newName is not null) w.WriteString("serverName", newName);
            if (families is not null)
            {
                w.WriteStartArray("defaultProductFamilies");
                families.ForEach(w.WriteStringValue);
                w.WriteEndArray();
            }

            if (changes.AllowRelease is { } flag) w.WriteBoolean("enableMdmDisownFlag", flag);
        }, target.Id);
        JsonDocument? answer = null;
        AdeException? unreadable = null;
        try
        {
            answer = RefusedAsConflict(() => client.Send(HttpMethod.Patch, "mdmServers/" + Uri.EscapeDataString(target.Id), body),
                ex => newName is null ? null : NameTaken(ex, newName, target.Id, account));
        }
        catch (AdeException ex) when (ex.AcceptedByApple)
        {
            unreadable = ex; // Apple renamed it all the same: the stored token follows before the error is reported
        }

        using var doc = answer;
        if (newName is not null && target.TokenId is { } tokenId)
        {
            // the stored token keeps the server's name (the join's first key, and what its DEP account reports): a
            // token linked only by a name that no longer exists would lose its server, or find a new one of that name
            store.Write(s =>
            {
                s.Tokens.SetServerName(tokenId, newName);
                return 0;
            });
        }

        if (unreadable is not null)
        {
            throw unreadable;
        }

        var changed = ServerOf(doc!, "PATCH /v1/mdmServers/{id}", client);
        return families is { Count: 0 } && changed.DefaultProductFamilies.Count > 0 ? ClearFamilies(client, changed) : changed;
    }

    /// <summary>
    /// Apple does not document how a server's default product families are cleared: an empty list is sent first; when
    /// Apple's answer still lists families, the list is sent again as null. A server that keeps them after both, or a
    /// refusal of null (the first change stands), is a warning (the admin clears it in the portal); either way the
    /// server as Apple last answered is returned.
    /// </summary>
    private AdeMdmServer ClearFamilies(BusinessClient client, AdeMdmServer server)
    {
        host.WriteVerbose($"Apple kept the default product families of MDM server '{server.Name}' after an empty list; sending null.");
        var body = Json(w => w.WriteNull("defaultProductFamilies"), server.Id);
        AdeMdmServer after;
        try
        {
            using var doc = client.Send(HttpMethod.Patch, "mdmServers/" + Uri.EscapeDataString(server.Id), body);
            after = doc is null ? server : ServerOf(doc, "PATCH /v1/mdmServers/{id}", client);
        }
        catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.BusinessRequestFailed) && ex.HttpStatus is >= 400 and < 500)
        {
            // Apple refused null (its schema types the list as an array): the first change stands, the families stay
            host.WriteVerbose($"Apple refused null for the default product families of MDM server '{server.Name}' (HTTP {ex.HttpStatus}).");
            after = server;
        }

        if (after.DefaultProductFamilies.Count > 0)
        {
            host.WriteWarning($"Apple kept MDM server '{after.Name}' as the default server of new {string.Join(", ", after.DefaultProductFamilies)} devices although the list was cleared (an empty list and null were both sent). Clear its default device assignment in Apple Business Manager.");
        }

        return after;
    }

    /// <summary>
    /// Deletes a server at Apple. Refused while devices are assigned to it (Apple refuses that too) and while a token of
    /// it is stored (the token would be left to fail every sync): unassign the devices and remove the token first.
    /// </summary>
    public void RemoveMdmServer(string server, string? account = null)
    {
        var client = WriteClient(account);
        var target = Writable(server, GetMdmServers(account));
        if (target.Token is { } token)
        {
            throw ErrorCatalog.BusinessServerHasToken(target.Name, token);
        }

        if (target.DeviceCount is > 0)
        {
            throw ErrorCatalog.BusinessServerHasDevices(target.Name, target.DeviceCount);
        }

        if (!host.ShouldProcess(target.Name, "Delete the MDM server at Apple (it cannot be restored; its server token stops working)"))
        {
            return;
        }

        using var doc = RefusedAsConflict(() => client.Send(HttpMethod.Delete, "mdmServers/" + Uri.EscapeDataString(target.Id), null), _ => StillHasDevices(target, account));
        host.WriteVerbose($"Apple deleted MDM server '{target.Name}' ({target.Id}).");
    }

    /// <summary>The client of an account that may change servers: Apple School Manager's API does not offer it.</summary>
    private BusinessClient WriteClient(string? account)
    {
        var client = Client(account);
        return client.Account.Kind == "School"
            ? throw ErrorCatalog.ArgumentInvalid("Account", client.Account.ClientId, "an Apple School Manager API account cannot create, change or delete MDM servers (Apple offers that to Apple Business accounts only); do it in Apple School Manager.")
            : client;
    }

    /// <summary>A live server of type MDM (Apple Configurator's entry, and deleted servers, cannot be changed).</summary>
    private static AdeMdmServer Writable(string server, IReadOnlyList<AdeMdmServer> servers)
    {
        var target = Live(server, servers);
        return target.ServerType is null or "MDM" ? target
            : throw ErrorCatalog.ArgumentInvalid("MdmServer", target.Name, $"it is of type {target.ServerType}; only MDM servers can be changed or deleted.");
    }

    private static string ServerName(string name, string parameter)
    {
        var trimmed = name.Trim();
        return trimmed.Length is 0 or > MaxServerNameLength || TextRules.HasUnsafe(trimmed) || Wildcard.HasWildcard(trimmed)
            ? throw ErrorCatalog.ArgumentInvalid(parameter, TextRules.Neutralise(name) ?? "", $"an MDM server name is 1 to {MaxServerNameLength} characters without control characters or wildcards (* ? [).")
            : trimmed;
    }

    private static string Family(string family)
        => Families.TryGetValue(family.Trim(), out var apple) ? apple
            : Families.Values.FirstOrDefault(v => v.Equals(family.Trim(), StringComparison.OrdinalIgnoreCase))
              ?? throw ErrorCatalog.ArgumentInvalid("DefaultProductFamily", family, "a product family is one of " + string.Join(", ", Families.Keys) + ".");

    /// <summary>The certificate of a pending token request (DER) and a file name for Apple.</summary>
    private (byte[] Der, string FileName) RequestCertificate(string requestRef)
    {
        var request = tokens.ResolveRequest(requestRef);
        if (request.Status == AdeTokenRequestStatus.Used)
        {
            throw ErrorCatalog.TokenRequestAlreadyUsed(request.Id, request.TokenName!);
        }

        using var certificate = X509Certificate2.CreateFromPem(request.PublicKeyPem);
        CheckCertificate(certificate, "Request", request.Id.ToString());
        return (certificate.RawData, $"AdeEnrollment-{request.Id:N}.pem");
    }

    /// <summary>An RSA certificate from a file, PEM or DER (as the portal takes it).</summary>
    private (byte[] Der, string FileName) FileCertificate(string path)
    {
        var der = CertificateFile.ReadDer(path, "give the certificate of a token request, PEM or DER (New-AdeTokenRequest writes one).",
            reason => ErrorCatalog.ArgumentInvalid("CertificatePath", path, reason));
        using var certificate = X509CertificateLoader.LoadCertificate(der);
        CheckCertificate(certificate, "CertificatePath", path);
        return (der, Path.GetFileName(path));
    }

    private void CheckCertificate(X509Certificate2 certificate, string parameter, string value)
    {
        using var rsa = certificate.GetRSAPublicKey();
        if (rsa is null)
        {
            throw ErrorCatalog.ArgumentInvalid(parameter, value, "Apple takes only a certificate with an RSA key for an MDM server.");
        }

        if (certificate.NotAfter.ToUniversalTime() <= time.GetUtcNow().UtcDateTime)
        {
            throw ErrorCatalog.ArgumentInvalid(parameter, value, $"its certificate expired on {certificate.NotAfter.ToUniversalTime():u}; create a new one with New-AdeTokenRequest.");
        }
    }

    /// <summary>
    /// Apple's refusal of a write that its own rules (a unique name, no deletion with devices) explain, when another admin
    /// was faster than the check made before sending, as the catalogued error. Apple documents neither the status (409
    /// is likely; 400 and 422 are tolerated) nor the code, so the cause is confirmed from Apple's answer or state, never
    /// assumed from the status alone: otherwise Apple's own refusal stands.
    /// </summary>
    private static JsonDocument RefusedAsConflict(Func<JsonDocument?> send, Func<AdeException, AdeException?> conflict)
    {
        try
        {
            return send() ?? JsonDocument.Parse("{}");
        }
        catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.BusinessRequestFailed) && ex.HttpStatus is 400 or 409 or 422 && conflict(ex) is { } catalogued)
        {
            throw catalogued;
        }
    }

    /// <summary>A refused create or rename is the name taken when Apple now lists another live server of that name.</summary>
    private AdeException? NameTaken(AdeException refused, string name, string? except, string? account)
        => ReadAgain(account)?.Any(s => !IsDeleted(s.Status) && !SameId(s.Id, except) && Wildcard.SameName(s.Name, name)) is true
            ? ErrorCatalog.BusinessServerExists(name, sent: refused.HttpStatus)
            : null;

    /// <summary>A refused deletion is the server's devices when Apple now counts some on it.</summary>
    private AdeException? StillHasDevices(AdeMdmServer target, string? account)
        => ReadAgain(account)?.FirstOrDefault(s => SameId(s.Id, target.Id))?.DeviceCount is > 0 and var count
            ? ErrorCatalog.BusinessServerHasDevices(target.Name, count)
            : null;

    /// <summary>Apple's servers read again to explain a refusal; null when that read fails too (Apple's refusal then stands).</summary>
    private IReadOnlyList<AdeMdmServer>? ReadAgain(string? account)
    {
        try
        {
            return GetMdmServers(account);
        }
        catch (AdeException ex)
        {
            host.WriteVerbose("Apple's MDM servers could not be read again to explain the refusal: " + ex.Message);
            return null;
        }
    }

    /// <summary>The server of Apple's success answer to a write (POST, PATCH): an unusable one is BusinessResponseInvalid saying the write was made.</summary>
    private AdeMdmServer ServerOf(JsonDocument doc, string endpoint, BusinessClient client)
        => ToServer(Item(doc, endpoint, accepted: true), client.Account.ClientId, tokens.GetTokens());

    /// <summary>A JSON:API document of one mdmServers resource (with <paramref name="id"/> for an update).</summary>
    private static byte[] Json(Action<Utf8JsonWriter> attributes, string? id)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("data");
            w.WriteString("type", "mdmServers");
            if (id is not null) w.WriteString("id", id);
            w.WriteStartObject("attributes");
            attributes(w);
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }
}

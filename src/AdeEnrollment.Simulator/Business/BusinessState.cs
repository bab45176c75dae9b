using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using AdeEnrollment.Simulator.Abm;
using AdeEnrollment.Simulator.Service;

namespace AdeEnrollment.Simulator.Business;

/// <summary>
/// The Apple Business side of the simulated organisations: API accounts and their access tokens, the inventory of
/// devices bought (devices on a DEP server are read from <see cref="OrgState"/>), activities, request budgets.
/// </summary>
/// <remarks>
/// Guarded by the org lock (<see cref="OrgState.Gate"/>): the Business router runs its handlers under it, and the
/// entry points the facade calls (the ones named "portal" below) take it themselves. Several organisations can live in
/// one simulator: a DEP server belongs to its <see cref="ServerState.OrgName"/>, a bought device and an API account to
/// theirs, and an account sees only its own organisation.
/// </remarks>
internal sealed class BusinessState
{
    public static readonly string[] OrgFamilies = ["iPhone", "iPad", "Mac", "AppleTV", "Watch", "Vision"];

    public BusinessState(OrgState org, BusinessSettings settings, DateTimeOffset startedAt)
    {
        Org = org;
        Settings = settings;
        StartedAt = startedAt;
    }

    public OrgState Org { get; }

    public BusinessSettings Settings { get; }

    public DateTimeOffset StartedAt { get; }

    public TimeProvider Time => Org.Time;

    /// <summary>The simulator's base URI (links in answers); set once the listener runs.</summary>
    public Uri BaseUri { get; set; } = new("http://127.0.0.1/");

    public Dictionary<string, SimApiAccount> Accounts { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, SimAccessToken> AccessTokens { get; } = new(StringComparer.Ordinal);

    /// <summary>Client ID and jti of every assertion an access token was issued for (SingleUseAssertions).</summary>
    public HashSet<(string ClientId, string Jti)> UsedAssertions { get; } = [];

    /// <summary>Inventory records by serial (a DEP device gets one on first sight, see <see cref="OrgDevice"/>).</summary>
    public Dictionary<string, AdeSimOrgDevice> OrgDevices { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>Devices released from their organisation (by serial), kept for the ListReleasedDevices switch.</summary>
    public Dictionary<string, AdeSimOrgDevice> ReleasedDevices { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, SimActivity> Activities { get; } = new(StringComparer.OrdinalIgnoreCase);

    public Dictionary<string, SimBudget> Budgets { get; } = new(StringComparer.Ordinal);

    /// <summary>The HMAC key of the activity log download URLs.</summary>
    public byte[] DownloadKey { get; } = RandomNumberGenerator.GetBytes(32);

    public int PendingActivities { get; set; }

    /// <summary>DEP sides of completed activities waiting for <see cref="BusinessSettings.DepVisibilityDelay"/>, in due order.</summary>
    public List<(DateTimeOffset Due, ServerState? Target, Action<DateTimeOffset> Apply)> PendingDepMoves { get; } = [];

    /// <summary>The order of an org device listing taken on its first page and kept for its cursors (org name → keys).</summary>
    public Dictionary<string, (string[] Keys, bool Shuffled)> OrgListings { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// The organisation of an account or device created without one: the organisation of the first DEP server (the
    /// one a single-organisation test bed has), or the default name while there is no server. Resolved when used, so
    /// creating the account before the servers makes no difference.
    /// </summary>
    public string PrimaryOrg => Org.Servers.Count > 0 ? Org.Servers[0].OrgName : AdeSimulator.DefaultOrgName;

    public string Resolve(string? orgName) => orgName ?? PrimaryOrg;

    public bool SameOrg(string? a, string? b) => string.Equals(Resolve(a), Resolve(b), StringComparison.OrdinalIgnoreCase);

    public string Link(string relative) => new Uri(BaseUri, relative).ToString();

    /// <summary>The owned serials of one organisation (inventory plus devices on its DEP servers), by serial.</summary>
    public SortedSet<string> OrgSerials(string orgName)
    {
        var all = new SortedSet<string>(OrgDevices.Values.Where(d => SameOrg(d.OrgKey, orgName)).Select(d => d.SerialNumber), StringComparer.Ordinal);
        foreach (var server in Org.Servers.Where(s => SameOrg(s.OrgName, orgName)))
        {
            all.UnionWith(server.Devices.Keys);
        }

        return all;
    }

    /// <summary>Every owned serial of every organisation.</summary>
    public SortedSet<string> AllSerials()
    {
        var all = new SortedSet<string>(OrgDevices.Keys, StringComparer.Ordinal);
        all.UnionWith(Org.SerialOwners.Keys);
        return all;
    }

    /// <summary>The server that holds the serial, or null.</summary>
    public ServerState? OwnerOf(string serial)
        => Org.SerialOwners.TryGetValue(serial, out var owner) ? Org.Servers.First(s => s.Name == owner) : null;

    /// <summary>The inventory record of an owned serial (a DEP device added through Add-AdeSimDevice gets one on first sight).</summary>
    public AdeSimOrgDevice? OrgDevice(string serial)
    {
        if (OrgDevices.TryGetValue(serial, out var device))
        {
            return device;
        }

        if (OwnerOf(serial) is not { } owner)
        {
            return null;
        }

        var dep = owner.Devices[serial];
        device = NewOrgDevice(dep.SerialNumber, dep.DeviceFamily, "PO-DEP", dep.DeviceAssignedDate.AddDays(-1), "APPLE", null, dep.DeviceAssignedDate, owner.OrgName)
            with { DeviceModel = dep.Model, Color = dep.Color };
        OrgDevices[serial] = device;
        return device;
    }

    /// <summary>The device if <paramref name="orgName"/> owns it; another organisation's device does not exist for it.</summary>
    public AdeSimOrgDevice? OrgDeviceOf(string serial, string orgName)
        => OrgDevice(serial) is { } d && SameOrg(d.OrgKey, orgName) && SerialMatches(d, serial) ? d : null;

    /// <summary>Serials match whatever their case, or exactly under CaseSensitiveSerials (Apple does not document which).</summary>
    private bool SerialMatches(AdeSimOrgDevice d, string serial)
        => !Settings.CaseSensitiveSerials || string.Equals(d.SerialNumber, serial, StringComparison.Ordinal);

    /// <summary>A device the account's organisation owns, or (ListReleasedDevices) one it released; null otherwise.</summary>
    public AdeSimOrgDevice? VisibleDevice(string serial, string orgName)
        => OrgDeviceOf(serial, orgName)
           ?? (Settings.ListReleasedDevices && ReleasedDevices.TryGetValue(serial, out var r) && SameOrg(r.OrgKey, orgName) && SerialMatches(r, serial) ? r : null);

    /// <summary>The serials an organisation's listing shows: owned ones, plus released ones under ListReleasedDevices.</summary>
    public SortedSet<string> ListedSerials(string orgName)
    {
        var all = OrgSerials(orgName);
        if (Settings.ListReleasedDevices)
        {
            all.UnionWith(ReleasedDevices.Values.Where(d => SameOrg(d.OrgKey, orgName)).Select(d => d.SerialNumber));
        }

        return all;
    }

    /// <summary>The record as handed out: status, assigned server and organisation filled in.</summary>
    public AdeSimOrgDevice Decorate(AdeSimOrgDevice d)
        => Org.SerialOwners.TryGetValue(d.SerialNumber, out var owner)
            ? d with { Status = "ASSIGNED", AssignedServer = owner, OrgName = Resolve(d.OrgKey) }
            : d with { Status = "UNASSIGNED", AssignedServer = null, OrgName = Resolve(d.OrgKey) };

    /// <summary>The Business API id of a server: its DEP UUID (32 upper-case hex), or an unrelated id when the switch says so.</summary>
    public string ServerId(ServerState s)
        => Settings.UnrelatedServerIds ? Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes("abm:" + s.Uuid)).AsSpan(0, 16)) : s.Uuid.Replace("-", "", StringComparison.Ordinal).ToUpperInvariant();

    /// <summary>The servers of one organisation (a deleted one is no longer one of them).</summary>
    public IEnumerable<ServerState> ServersOf(string orgName) => Org.Servers.Where(s => SameOrg(s.OrgName, orgName) && !DeletedServers.Contains(s.Name));

    /// <summary>Device management services deleted in the portal (by name): gone for activities, listed as DELETED under ListDeletedServers.</summary>
    public HashSet<string> DeletedServers { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The servers a listing shows: the live ones, plus the deleted ones under ListDeletedServers.</summary>
    public IEnumerable<ServerState> ListedServersOf(string orgName)
        => Org.Servers.Where(s => SameOrg(s.OrgName, orgName) && (!DeletedServers.Contains(s.Name) || Settings.ListDeletedServers));

    /// <summary>Apple Business "delete device management service" (portal): refused while devices are on it.</summary>
    public void DeleteServer(string name)
    {
        lock (Org.Gate)
        {
            var server = Org.Servers.FirstOrDefault(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase))
                ?? throw SimErrors.ArgumentInvalid("DeleteMdmServer", name, "no MDM server of this name exists in the simulator.");
            if (DevicesOn(server) is var count and > 0)
            {
                throw SimErrors.ArgumentInvalid("DeleteMdmServer", name, $"{count} devices are still on the server; unassign them first (Apple refuses to delete a service with devices).");
            }

            Delete(server);
        }
    }

    /// <summary>
    /// The devices a service holds for Apple (under the org lock): those on its DEP side, and those a completed activity
    /// moves onto it that DepVisibilityDelay still holds back.
    /// </summary>
    public int DevicesOn(ServerState server) => server.Devices.Count + PendingDepMoves.Count(m => m.Target == server);

    /// <summary>
    /// Deletes a service (portal or DELETE /v1/mdmServers/{id}; under the org lock): it joins <see cref="DeletedServers"/>,
    /// and its DEP token stops working at once: /session no longer knows its consumer key and its open sessions end,
    /// because a server Apple has deleted cannot be talked to. The server object stays (for ListDeletedServers and the
    /// request log), and its name stays taken so that name lookups keep meaning one server.
    /// </summary>
    public void Delete(ServerState server)
    {
        DeletedServers.Add(server.Name);
        Org.ServersByConsumerKey.Remove(server.Credentials.ConsumerKey);
        Org.EndSessionsOf(server);
    }

    /// <summary>
    /// The Business-only attributes of each server (timestamps, disown flag, default families), keyed by the server
    /// object so that a rename keeps them. Made on first use for servers created in the portal: those report the
    /// simulator's start as their creation and update time, as before the write endpoints existed.
    /// </summary>
    public Dictionary<ServerState, SimMdmService> Services { get; } = [];

    /// <summary>The Business attributes of a server (made on first use; under the org lock).</summary>
    public SimMdmService Service(ServerState server)
    {
        if (!Services.TryGetValue(server, out var service))
        {
            Services[server] = service = new SimMdmService { CreatedAt = StartedAt, UpdatedAt = StartedAt };
        }

        return service;
    }

    /// <summary>Apple's product families of default assignment and the org device productFamily each stands for.</summary>
    public static readonly IReadOnlyDictionary<string, string> ServiceFamilies = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["IPHONE"] = "iPhone", ["IPAD"] = "iPad", ["MAC"] = "Mac", ["APPLE_TV"] = "AppleTV", ["IPOD"] = "iPod", ["WATCH"] = "Watch", ["VISION"] = "Vision",
    };

    /// <summary>The server any server of the simulator (of any organisation, live or deleted) has this name; null when it is free.</summary>
    public ServerState? NameHolder(string name, ServerState? except = null)
        => Org.Servers.FirstOrDefault(s => s != except && s.Name.Equals(name, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// POST /v1/mdmServers (under the org lock): a real DEP server of the organisation, as New-AdeSimServer makes one,
    /// whose public key is the uploaded certificate, so the next token exported for it is encrypted to that key. No
    /// token is made here: Apple hands none out through the API, the portal download (Export-AdeSimServerToken) does.
    /// </summary>
    public ServerState CreateServer(string name, string certificatePem, string orgName, bool enableMdmDisownFlag)
    {
        var now = Time.GetUtcNow();
        var server = new ServerState
        {
            Name = name,
            Uuid = Org.Generator.NewUuid(),
            OrgName = orgName,
            AdminId = ServersOf(orgName).Select(s => s.AdminId).FirstOrDefault() ?? AbmPortal.DefaultAdminId,
            CertificatePem = certificatePem,
            Credentials = ServerTokenCredentials.CreateRandom(now + AbmPortal.TokenLifetime),
        };
        server.AllowDeviceRelease = enableMdmDisownFlag; // one switch: Apple's enableMdmDisownFlag is the DEP disown permission
        Org.AddServer(server);
        Services[server] = new SimMdmService { CreatedAt = now, UpdatedAt = now };
        return server;
    }

    /// <summary>
    /// A rename through the Business API (under the org lock): the DEP server_name changes with it. The server object,
    /// its token, sessions, profiles and change log stay; its devices and the serial index follow the new name.
    /// </summary>
    public void Rename(ServerState server, string name)
    {
        server.Name = name;
        foreach (var serial in server.Devices.Keys.ToList())
        {
            server.Devices[serial] = server.Devices[serial] with { Server = name };
            Org.SerialOwners[serial] = name;
        }
    }

    /// <summary>
    /// Sets a server's default product families (under the org lock). Under ExclusiveDefaultFamilies a family is the
    /// default of one service at a time, so it leaves every other server of the organisation (which then counts as updated).
    /// </summary>
    public void SetDefaultFamilies(ServerState server, IReadOnlyList<string> families, DateTimeOffset now)
    {
        Service(server).DefaultProductFamilies = [.. families];
        if (!Settings.ExclusiveDefaultFamilies)
        {
            return;
        }

        foreach (var other in Org.Servers.Where(s => s != server && SameOrg(s.OrgName, server.OrgName)))
        {
            var service = Service(other);
            if (service.DefaultProductFamilies.RemoveAll(families.Contains) > 0)
            {
                service.UpdatedAt = now;
            }
        }
    }

    /// <summary>
    /// The live server a new device of this product family goes to by default: the first by name among the servers of
    /// the organisation that list the family (several do only without ExclusiveDefaultFamilies); null when none.
    /// </summary>
    public ServerState? DefaultServerFor(string productFamily, string orgName)
    {
        var family = ServiceFamilies.FirstOrDefault(f => f.Value.Equals(productFamily, StringComparison.OrdinalIgnoreCase)).Key;
        return family is null ? null
            : ServersOf(orgName).Where(s => Service(s).DefaultProductFamilies.Contains(family)).OrderBy(s => s.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault();
    }

    public ServerState? ServerById(string id, string orgName) => ServersOf(orgName).FirstOrDefault(s => ServerId(s).Equals(id, StringComparison.OrdinalIgnoreCase));

    /// <summary>The key a collection is ordered and its cursor made by: the id, or (shuffled) a hash of it before the id.</summary>
    public string OrderKey(string id)
        => Settings.ShuffledOrder ? Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(id.ToUpperInvariant())).AsSpan(0, 4)) + ":" + id : id;

    public static string IdOfKey(string key) => key.IndexOf(':', StringComparison.Ordinal) is var i and >= 0 ? key[(i + 1)..] : key;

    public static AdeSimOrgDevice NewOrgDevice(string serial, string family, string? order, DateTimeOffset? orderDate, string source, string? appleCare, DateTimeOffset now, string? orgName)
    {
        var (model, type, part) = family switch
        {
            "Mac" => ("MacBook Air (13-inch, M4)", "Mac16,12", "MW0W3LL/A"),
            "iPad" => ("iPad Air 11-inch (M2)", "iPad14,8", "MUWD3LL/A"),
            "AppleTV" => ("Apple TV 4K (3rd generation)", "AppleTV14,1", "MN893LL/A"),
            "Watch" => ("Apple Watch Series 10", "Watch7,8", "MWWE3LL/A"),
            "Vision" => ("Apple Vision Pro", "RealityDevice14,1", "MW8X3LL/A"),
            "iPod" => ("iPod touch (7th generation)", "iPod9,1", "MVHW2LL/A"),
            "iPhone" or "" => ("iPhone 16 Pro", "iPhone17,1", "MYNF3LL/A"),
            _ => (family + " (simulated)", family + "1,1", "Z0SIMLL/A"), // a family Apple may add one day
        };
        // every iPhone has a cellular radio; every other iPad (by the serial's hash) is a cellular model
        var cellular = family is "iPhone" or "" || (family == "iPad" && SHA256.HashData(Encoding.UTF8.GetBytes(serial.ToUpperInvariant()))[0] % 2 == 0);
        return new AdeSimOrgDevice
        {
            SerialNumber = serial,
            OrgKey = orgName,
            DeviceModel = model,
            ProductFamily = family,
            ProductType = type,
            DeviceCapacity = "256GB",
            PartNumber = part,
            OrderNumber = order,
            OrderDate = orderDate,
            PurchaseSourceType = source,
            PurchaseSourceId = source == "APPLE" ? "-2085650007946880" : "395E9D0",
            Color = "SILVER",
            AddedToOrgDate = now,
            UpdatedDate = now,
            AppleCareStatus = appleCare is "NONE" ? null : appleCare ?? "ACTIVE",
            AppleCareDescription = "Limited Warranty",
            AppleCareEndDate = now.AddYears(1),
            WiFiMacAddress = Mac(serial, 0),
            BluetoothMacAddress = Mac(serial, 1),
            EthernetMacAddress = family is "Mac" or "AppleTV" ? [Mac(serial, 2)] : [],
            // arrays, not collection expressions: PowerShell indexes a list only when it is an IList (test authors write $d.Imei[0])
            Imei = cellular ? (family == "iPhone" ? new[] { Imei(serial, 0), Imei(serial, 1) } : new[] { Imei(serial, 0) }) : Array.Empty<string>(),
            Meid = family == "iPhone" ? new[] { Imei(serial, 0)[..14] } : Array.Empty<string>(),
            Eid = cellular ? Eid(serial) : null,
        };
    }

    /// <summary>A stable IMEI for a device: Apple's type allocation code, digits from a hash of the serial, a Luhn check digit.</summary>
    public static string Imei(string serial, int slot)
    {
        var h = SHA256.HashData(Encoding.UTF8.GetBytes(serial.ToUpperInvariant() + "/imei/" + slot.ToString(CultureInfo.InvariantCulture)));
        var body = "35391811" + string.Concat(h.Take(6).Select(x => (x % 10).ToString(CultureInfo.InvariantCulture)));
        var sum = 0;
        for (var i = 0; i < body.Length; i++)
        {
            var d = body[i] - '0';
            if (i % 2 == 1)
            {
                d *= 2;
                d = d > 9 ? d - 9 : d;
            }

            sum += d;
        }

        return body + ((10 - sum % 10) % 10).ToString(CultureInfo.InvariantCulture);
    }

    private static string Eid(string serial)
    {
        var h = SHA256.HashData(Encoding.UTF8.GetBytes(serial.ToUpperInvariant() + "/eid"));
        return "8904903200" + string.Concat(h.Take(22).Select(x => (x % 10).ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>A plausible, stable MAC address for a device (an Apple OUI, the rest from a hash of the serial and the interface).</summary>
    public static string Mac(string serial, int port)
    {
        var h = SHA256.HashData(Encoding.UTF8.GetBytes(serial.ToUpperInvariant() + "/" + port.ToString(CultureInfo.InvariantCulture)));
        return "F0:18:98:" + string.Join(':', h.Take(3).Select(x => x.ToString("X2", CultureInfo.InvariantCulture)));
    }

    // ---- portal entry points (called by the facade; each takes the org lock) ---------------------------------------

    /// <summary>Apple Business "create API account" + "generate private key": the account and the PEM of its key.</summary>
    public SimApiAccount NewAccount(out string privateKeyPem, bool school, bool sec1, string? orgName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        privateKeyPem = sec1 ? key.ExportECPrivateKeyPem() : key.ExportPkcs8PrivateKeyPem();
        var publicKey = ECDsa.Create(key.ExportParameters(false));
        lock (Org.Gate)
        {
            var account = new SimApiAccount
            {
                ClientId = (school ? "SCHOOLAPI." : "BUSINESSAPI.") + Guid.NewGuid().ToString("D"),
                KeyId = Guid.NewGuid().ToString("D"),
                PublicKey = publicKey,
                Scope = school ? "school.api" : "business.api",
                OrgKey = string.IsNullOrWhiteSpace(orgName) ? null : orgName.Trim(),
            };
            Accounts[account.ClientId] = account;
            return account;
        }
    }

    /// <summary>Apple Business "revoke key": the account's assertions are refused from now on, and its access tokens stop working.</summary>
    public void Revoke(string clientId)
    {
        lock (Org.Gate)
        {
            if (!Accounts.TryGetValue(clientId, out var account))
            {
                throw SimErrors.ArgumentInvalid("ClientId", clientId, "no API account with this client ID exists in the simulator.");
            }

            account.Revoked = true;
            foreach (var key in AccessTokens.Where(t => t.Value.ClientId == clientId).Select(t => t.Key).ToList())
            {
                AccessTokens.Remove(key);
            }
        }
    }

    /// <summary>Every access token stops working now (the next API call gets 401).</summary>
    public void ExpireTokens()
    {
        lock (Org.Gate) AccessTokens.Clear();
    }

    /// <summary>Devices bought by an organisation and not yet on any MDM server; generated and/or named serials.</summary>
    public IReadOnlyList<AdeSimOrgDevice> AddOrgDevices(int count, IReadOnlyCollection<string>? serialNumbers, string? productFamily,
        string? orderNumber, DateTimeOffset? orderDate, string purchaseSourceType, string? appleCareStatus, string? orgName, string? mdmServer = null)
    {
        if (count < 0)
        {
            throw SimErrors.ArgumentInvalid("Count", count.ToString(CultureInfo.InvariantCulture), "give zero or more devices.");
        }

        var family = productFamily is null ? null : OrgFamilies.Concat(Settings.ExtraProductFamilies).FirstOrDefault(f => f.Equals(productFamily, StringComparison.OrdinalIgnoreCase))
            ?? throw SimErrors.ArgumentInvalid("ProductFamily", productFamily, "use iPhone, iPad, Mac, AppleTV, Watch or Vision (or allow another with Set-AdeSimBusinessApi -ExtraProductFamily).");
        var org = string.IsNullOrWhiteSpace(orgName) ? null : orgName.Trim();
        lock (Org.Gate)
        {
            // devices bought already on a server (as if an earlier activity had moved them): no activity, no budget
            var onServer = mdmServer is null ? null
                : ServersOf(Resolve(org)).FirstOrDefault(s => s.Name.Equals(mdmServer.Trim(), StringComparison.OrdinalIgnoreCase)) ?? throw SimErrors.ServerNotFound(mdmServer);
            var now = Time.GetUtcNow();
            var serials = new List<string>();
            foreach (var serial in serialNumbers ?? [])
            {
                var s = serial.Trim().ToUpperInvariant();
                if (s.Length is < 8 or > 14 || !s.All(char.IsAsciiLetterOrDigit))
                {
                    throw SimErrors.ArgumentInvalid("SerialNumber", serial, "an Apple serial number is 8 to 14 letters and digits.");
                }

                if (OrgDevices.ContainsKey(s) || Org.SerialOwners.ContainsKey(s))
                {
                    throw SimErrors.ArgumentInvalid("SerialNumber", s, "an organisation already owns this device.");
                }

                serials.Add(s);
                ReleasedDevices.Remove(s); // bought again
            }

            for (var i = 0; i < count; i++)
            {
                serials.Add(Org.Generator.NewSerial(s => OrgDevices.ContainsKey(s) || Org.SerialOwners.ContainsKey(s) || serials.Contains(s)));
            }

            var order = orderNumber ?? "PO" + Org.Generator.NewHex(4);
            var added = new List<AdeSimOrgDevice>(serials.Count);
            foreach (var serial in serials.Distinct(StringComparer.Ordinal))
            {
                var device = NewOrgDevice(serial, family ?? (Org.Generator.NextDouble() < 0.5 ? "iPhone" : "iPad"), order, orderDate ?? now.AddDays(-2), purchaseSourceType, appleCareStatus, now, org);
                OrgDevices[serial] = device;
                if ((onServer ?? DefaultServerFor(device.ProductFamily, Resolve(org))) is { } target)
                {
                    // default assignment (or -MdmServer): as a completed ASSIGN would move it, without any activity
                    ActivityCompletion.AssignOnDep(this, serial, device, target, now, target.AdminId);
                }

                added.Add(Decorate(device));
            }

            return added;
        }
    }

    /// <summary>Every device every organisation owns (inventory plus the devices on DEP servers), by serial.</summary>
    public IReadOnlyList<AdeSimOrgDevice> GetOrgDevices()
    {
        lock (Org.Gate)
        {
            ActivityCompletion.CompleteDue(this);
            return [.. AllSerials().Select(s => Decorate(OrgDevice(s)!))];
        }
    }
}

/// <summary>An API account of the organisation: its client ID, key ID and the public half of its P-256 key.</summary>
internal sealed class SimApiAccount
{
    public required string ClientId { get; init; }

    public required string KeyId { get; init; }

    public required ECDsa PublicKey { get; init; }

    public required string Scope { get; init; }

    /// <summary>The organisation the account belongs to (null: the primary one); it sees that organisation's devices and servers only.</summary>
    public string? OrgKey { get; init; }

    public bool Revoked { get; set; }
}

/// <summary>An access token handed out by the token endpoint.</summary>
internal sealed record SimAccessToken(string ClientId, string Scope, DateTimeOffset ExpiresAt);

/// <summary>One activity (assign, unassign, release, the three migration types) and what happened to each device when it completed.</summary>
internal sealed class SimActivity
{
    public required string Id { get; init; }

    public required string ClientId { get; init; }

    public required string OrgName { get; init; }

    public required string Type { get; init; }

    public string? ServerId { get; init; }

    public required List<string> Serials { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The migration deadline of ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE and UPDATE_MDM_MIGRATION_DEADLINE.</summary>
    public DateTimeOffset? Deadline { get; init; }

    public DateTimeOffset? CompletedAt { get; set; }

    public string Status { get; set; } = "IN_PROGRESS";

    public string? SubStatus { get; set; } = "SUBMITTED";

    /// <summary>Finished without a log of its devices: no downloadUrl is given.</summary>
    public bool NoLog { get; set; }

    /// <summary>serial → (SUCCESS|FAILED, sub-status) once completed.</summary>
    public List<(string Serial, string Status, string SubStatus)> Results { get; } = [];

    /// <summary>Devices refused at creation in "partial" mode: they fail when the activity completes.</summary>
    public HashSet<string> UnknownSerials { get; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>What the Business API says of a server beyond its DEP state: set by POST and PATCH /v1/mdmServers.</summary>
internal sealed class SimMdmService
{
    public required DateTimeOffset CreatedAt { get; init; }

    public required DateTimeOffset UpdatedAt { get; set; }

    /// <summary>Upper-case families (IPHONE, IPAD, IPOD, MAC, APPLE_TV, WATCH, VISION) whose new devices go to this server.</summary>
    public List<string> DefaultProductFamilies { get; set; } = [];
}

/// <summary>A rolling window of request times for one account and method (the simulator's throttle).</summary>
internal sealed class SimBudget
{
    public Queue<DateTimeOffset> Times { get; } = new();
}

using System.Globalization;
using System.Text;
using System.Text.Json;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Business;

/// <summary>Filters of Get-AdeOrgDevice; every filter given must match (text filters use the one name rule, wildcards allowed).</summary>
/// <param name="MdmServer">A server's name (wildcards allowed), id, or the name of its stored token.</param>
/// <param name="MdmServerIds">Devices on any of these servers (piped servers); with <paramref name="MdmServer"/>, those it names among them.</param>
public sealed record OrgDeviceQuery(
    string? Account = null,
    IReadOnlyList<string>? SerialNumbers = null,
    IReadOnlyList<string>? OrderNumbers = null,
    IReadOnlyList<string>? ProductFamilies = null,
    string? Status = null,
    string? MdmServer = null,
    bool IncludeAppleCare = false,
    IReadOnlyList<string>? MacAddresses = null,
    IReadOnlyList<string>? Imeis = null,
    IReadOnlyList<string>? MdmServerIds = null);

/// <summary>
/// Apple Business / School API for the module: reads the organisation's devices (streamed page by page) and MDM
/// servers (linked to stored tokens), and sends device activities, kept in the store with their outcome.
/// </summary>
public sealed partial class BusinessService
{
    private readonly AdeStore store;
    private readonly TimeProvider time;
    private readonly IAdeHost host;
    private readonly TokenService tokens;

    internal BusinessService(AdeStore store, TimeProvider time, IAdeHost host, TokenService tokens, BusinessAccountService accounts, BusinessClientOptions? options = null)
    {
        this.store = store;
        this.time = time;
        this.host = host;
        this.tokens = tokens;
        Accounts = accounts;
        Options = options ?? BusinessClientOptions.Default;
    }

    public BusinessAccountService Accounts { get; }

    internal BusinessClientOptions Options { get; }

    /// <summary>Wait for Apple's request budget instead of failing with the time it is allowed again.</summary>
    public bool WaitForLimit { get; set; }

    internal BusinessClient Client(string? account)
        => new(Accounts.Resolve(account), Accounts, time, host, Options) { WaitForLimit = WaitForLimit };

    // ---- MDM servers --------------------------------------------------------------------------------------------------

    private const string ServerFields = "fields[mdmServers]=serverName,serverType,status,deviceCount,defaultProductFamilies,enableMdmDisownFlag,lastConnectedDateTime,createdDateTime,updatedDateTime";

    /// <summary>Every MDM server of the organisation (name filter optional), each linked to the stored token of the same server.</summary>
    public IReadOnlyList<AdeMdmServer> GetMdmServers(string? account = null, string? name = null)
    {
        var client = Client(account);
        var storedTokens = tokens.GetTokens();
        var list = new List<AdeMdmServer>();
        var seenIds = new HashSet<string>(StringComparer.OrdinalIgnoreCase); // a listing started again repeats servers
        foreach (var page in Pages(client, "mdmServers?" + ServerFields))
        {
            using (page)
            {
                foreach (var item in Data(page))
                {
                    var server = ToServer(item, client.Account.ClientId, storedTokens);
                    if (seenIds.Add(server.Id))
                    {
                        list.Add(server);
                    }
                }
            }
        }

        return name is null ? list : Named(list, name);
    }

    /// <summary>
    /// The servers of several names or ids from one listing (one request budget's worth, not one per name), in the
    /// order Apple lists them, each once; a name without wildcards that names no server is BusinessServerNotFound,
    /// given to <paramref name="notFound"/>, and the others are still returned.
    /// </summary>
    public IReadOnlyList<AdeMdmServer> GetMdmServers(string? account, IReadOnlyList<string> names, Action<AdeException> notFound)
    {
        var all = GetMdmServers(account);
        var wanted = new HashSet<AdeMdmServer>();
        foreach (var name in names)
        {
            var named = Named(all, name);
            if (named.Count == 0 && !Wildcard.IsPattern(name))
            {
                notFound(ErrorCatalog.BusinessServerNotFound(name));
            }

            wanted.UnionWith(named);
        }

        return all.Where(wanted.Contains).ToList();
    }

    /// <summary>The servers a name (wildcards allowed) or an id stands for.</summary>
    private static List<AdeMdmServer> Named(IReadOnlyList<AdeMdmServer> servers, string name)
        => Wildcard.Select(servers, s => s.Name, name).Concat(servers.Where(s => s.Id.Equals(name, StringComparison.OrdinalIgnoreCase))).Distinct().ToList();

    private static AdeMdmServer ToServer(JsonElement item, string account, IReadOnlyList<AdeToken> storedTokens)
    {
        var a = Attributes(item);
        var id = Str(item, "id") ?? "";
        var name = Str(a, "serverName") ?? id;
        // the join: the server name first (unique in an organisation, and the DEP account's server_name); the id check
        // second. A deleted server is never linked: its name may live on in a new server and its token is dead.
        var deleted = IsDeleted(Str(a, "status"));
        var token = deleted ? null
            : storedTokens.FirstOrDefault(t => string.Equals(t.ServerName, name, StringComparison.OrdinalIgnoreCase))
              ?? storedTokens.FirstOrDefault(t => SameId(t.ServerUuid, id));
        return new AdeMdmServer
        {
            Id = id,
            Name = name,
            ServerType = Str(a, "serverType"),
            Status = Str(a, "status"),
            DeviceCount = a.ValueKind == JsonValueKind.Object && a.TryGetProperty("deviceCount", out var c) && c.TryGetInt32(out var n) ? n : null,
            LastConnected = Date(a, "lastConnectedDateTime"),
            DefaultProductFamilies = ValueList.Of(Strings(a, "defaultProductFamilies")),
            AllowRelease = a.ValueKind == JsonValueKind.Object && a.TryGetProperty("enableMdmDisownFlag", out var flag) && flag.ValueKind is JsonValueKind.True or JsonValueKind.False ? flag.GetBoolean() : null,
            Token = token?.Name,
            TokenId = token?.Id,
            IdMatchesToken = token is null ? null : SameId(token.ServerUuid, id),
            Account = account,
        };
    }

    internal static bool SameId(string? a, string? b)
        => a is not null && b is not null && string.Equals(a.Replace("-", "", StringComparison.Ordinal), b.Replace("-", "", StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);

    /// <summary>Letters and digits, 8 to 20 of them: the serial numbers Apple gives (the rule activities are held to as well).</summary>
    private static bool IsSerial(string serial) => serial.Length is >= 8 and <= 20 && serial.All(char.IsAsciiLetterOrDigit);

    /// <summary>
    /// A -ProductFamily value as the filter compares it: one of Apple's families in any case or spacing ("apple tv" is
    /// AppleTV); a name Apple may add later passes as given. A wildcard, and a near miss of a known family ("Macs",
    /// "iPhones", "ipa") are refused naming the family meant: the filter compares exactly, so they would match nothing.
    /// </summary>
    private static string ProductFamilyFilter(string family)
    {
        var compact = family.Replace(" ", "", StringComparison.Ordinal).Trim();
        if (Families.Keys.FirstOrDefault(k => string.Equals(k, compact, StringComparison.OrdinalIgnoreCase)) is { } known)
        {
            return known;
        }

        var valid = compact.Length is > 0 and <= 30 && char.IsAsciiLetter(compact[0]) && compact.All(ch => char.IsAsciiLetterOrDigit(ch) || ch == '_');
        var meant = Families.Keys.FirstOrDefault(k => string.Equals(k, compact.TrimEnd('s', 'S'), StringComparison.OrdinalIgnoreCase)
            || (compact.Length >= 3 && k.StartsWith(compact, StringComparison.OrdinalIgnoreCase)));
        if (!valid || meant is not null)
        {
            throw ErrorCatalog.ArgumentInvalid("ProductFamily", family,
                $"product families are compared exactly, without wildcards: {string.Join(", ", Families.Keys)}{(meant is null ? "" : $" ('{meant}' is probably meant)")}.");
        }

        return compact;
    }

    private static bool IsDeleted(string? status) => string.Equals(status, "DELETED", StringComparison.OrdinalIgnoreCase);

    /// <summary>The server a stored token stands for (by name, then by id); a token whose server Apple lists as deleted is BusinessServerDeleted.</summary>
    public AdeMdmServer ServerOfToken(AdeToken token, string? account)
    {
        var servers = GetMdmServers(account);
        return servers.FirstOrDefault(s => s.TokenId == token.Id)
               ?? (servers.FirstOrDefault(s => IsDeleted(s.Status) && (string.Equals(s.Name, token.ServerName, StringComparison.OrdinalIgnoreCase) || SameId(s.Id, token.ServerUuid))) is { } gone
                   ? throw ErrorCatalog.BusinessServerDeleted(gone.Name)
                   : throw ErrorCatalog.BusinessServerNotFound(token.ServerName ?? token.Name));
    }

    /// <summary>One live server by name or id; a deleted server of that name (when Apple lists it) is BusinessServerDeleted.</summary>
    public AdeMdmServer ResolveServer(string server, string? account) => Live(server, GetMdmServers(account));

    /// <summary>The one live server of a name or id among <paramref name="servers"/>.</summary>
    private static AdeMdmServer Live(string server, IReadOnlyList<AdeMdmServer> servers)
    {
        var matches = Named(servers, server);
        var live = matches.Where(s => !IsDeleted(s.Status)).ToList();
        return live.Count == 1 ? live[0]
            : live.Count > 1 ? throw ErrorCatalog.ArgumentInvalid("MdmServer", server, $"it matches {live.Count} MDM servers ({Counted.FirstFew(live.Select(s => s.Name).ToList(), 3)}); name one of them.")
            : matches.Count > 0 ? throw ErrorCatalog.BusinessServerDeleted(matches[0].Name)
            : throw ErrorCatalog.BusinessServerNotFound(server);
    }

    // ---- org devices --------------------------------------------------------------------------------------------------

    /// <summary>Up to this many serials are read from Apple one by one (a GET each) rather than from the inventory listing.</summary>
    private const int MaxSerialsReadOneByOne = 20;

    /// <summary>Up to this many devices of a command that the store saw released are checked at Apple (a GET each) for having been added again.</summary>
    private const int MaxAddedAgainChecks = 20;

    /// <summary>
    /// The organisation's devices, streamed: one page of at most 1000 devices is read, filtered and yielded before the
    /// next is requested. The serial → server index of assigned devices is kept in the store for the read, not in memory.
    /// A serial asked for by itself that Apple does not know is BusinessDeviceNotFound: handed to
    /// <paramref name="notFound"/> when given (the other serials are still read), else thrown.
    /// Serials without wildcards come back in the order given, however they are read: up to 20 one by one, more from
    /// the inventory listing (then the listing's matches are held until it ends, at most one device per serial given,
    /// and it stops once every serial is found); a serial the listing does not hold is BusinessDeviceNotFound too.
    /// </summary>
    public IEnumerable<AdeOrgDevice> GetOrgDevices(OrgDeviceQuery query, Action<AdeException>? notFound = null)
    {
        var client = Client(query.Account);
        if (query.Status is { } st && st is not ("ASSIGNED" or "UNASSIGNED" or "RELEASED"))
        {
            throw ErrorCatalog.ArgumentInvalid("Status", st, "use Assigned, Unassigned or Released.");
        }

        // serials are Apple's upper case: what the user typed is trimmed and upper-cased once, for the requests and the filter alike
        if (query.SerialNumbers is { Count: > 0 } typed)
        {
            query = query with { SerialNumbers = typed.Select(s => s.Trim().ToUpperInvariant()).Where(s => s.Length > 0).ToList() };
            if (query.SerialNumbers.Count == 0)
            {
                throw ErrorCatalog.ArgumentInvalid("SerialNumber", typed[0], "give a serial number (letters and digits, wildcards allowed).");
            }

            // a serial without wildcards that no Apple device can have is said before anything is sent
            if (query.SerialNumbers.FirstOrDefault(s => TextRules.HasUnsafe(s) || (!Wildcard.HasWildcard(s) && !IsSerial(s))) is { } impossible)
            {
                throw ErrorCatalog.ArgumentInvalid("SerialNumber", impossible, "an Apple serial number is 8 to 20 letters and digits; to search, use wildcards (for example 'C02*').");
            }
        }

        if (query.ProductFamilies is { Count: > 0 } families)
        {
            query = query with { ProductFamilies = [.. families.Select(ProductFamilyFilter)] };
        }

        if (query.Imeis is { Count: > 0 } imeis)
        {
            query = query with { Imeis = imeis.Select(i => ImeiKey(i) ?? throw ErrorCatalog.ArgumentInvalid("Imei", i, "an IMEI is 15 digits (or 14 without the check digit), with or without spaces or dashes.")).ToList() };
        }

        if (query.MacAddresses is { Count: > 0 } macs)
        {
            query = query with { MacAddresses = macs.Select(m => MacKey(m) ?? throw ErrorCatalog.ArgumentInvalid("MacAddress", m, "a MAC address is 12 hex digits, with or without ':', '-' or '.' between them.")).ToList() };
        }

        // a serial filter without wildcards reads those devices one by one (no need to page through the inventory)
        if (query.SerialNumbers is { Count: > 0 and <= MaxSerialsReadOneByOne } serials && serials.All(s => !Wildcard.HasWildcard(s)))
        {
            var servers = GetMdmServers(query.Account);
            ReportUnknownServers(servers, query, notFound);
            return ListingIsCheaper(client, serials.Distinct(StringComparer.Ordinal).Count(), servers)
                ? ReadAll(client, query, notFound, servers)
                : ReadSerials(client, query, serials, notFound, servers);
        }

        return ReadAll(client, query, notFound);
    }

    /// <summary>
    /// Whether a short list of serials is read from the listing instead of one by one: only when reading them one by one
    /// (up to two GETs each, the device and its server) would not fit the account's GET budget of a minute, and the
    /// listing costs fewer GETs (each server's device pages and the inventory's, from the servers' device counts). Twelve
    /// serials of a small organisation then take a few GETs instead of 25 of a budget of 20.
    /// </summary>
    private bool ListingIsCheaper(BusinessClient client, int serials, IReadOnlyList<AdeMdmServer> servers)
    {
        var oneByOne = 2L * serials;
        if (oneByOne < (client.Account.GetsPerMinute ?? Options.GetsPerMinute) || servers.Any(s => s.DeviceCount is null))
        {
            return false;
        }

        long Pages(long count) => Math.Max(1, (count + Options.PageSize - 1) / Options.PageSize);
        var live = servers.Where(s => !IsDeleted(s.Status)).ToList();
        var assigned = live.Sum(s => (long)s.DeviceCount!.Value);
        return live.Sum(s => Pages(s.DeviceCount!.Value)) + Pages(assigned) < oneByOne;
    }

    private IEnumerable<AdeOrgDevice> ReadSerials(BusinessClient client, OrgDeviceQuery query, IReadOnlyList<string> serials, Action<AdeException>? notFound,
        IReadOnlyList<AdeMdmServer> servers)
    {
        Dictionary<string, Release>? released = null;
        foreach (var serial in serials.Select(s => s.Trim().ToUpperInvariant()).Distinct(StringComparer.Ordinal))
        {
            JsonDocument doc;
            try
            {
                doc = client.Get("orgDevices/" + Uri.EscapeDataString(serial));
            }
            catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.BusinessRequestFailed) && ex.HttpStatus == 404)
            {
                // a device this account released is gone from Apple's listing: the error says so, not "unknown"
                var error = ErrorCatalog.BusinessDeviceNotFound(serial, (released ??= ReleasedSerials(client.Account.Id)).TryGetValue(serial, out var r) ? r.At : null);
                if (notFound is null)
                {
                    throw error;
                }

                notFound(error);
                continue;
            }

            using (doc)
            {
                CheckItem(doc.RootElement.TryGetProperty("data", out var one) ? one : default, "GET /v1/orgDevices/{id}");
                string? serverId = null;
                if (Str(Attributes(doc.RootElement.GetProperty("data")), "status") == "ASSIGNED")
                {
                    serverId = AssignedServerId(client, serial);
                }

                var device = ToDevice(doc.RootElement.GetProperty("data"), client, serverId, servers, query.IncludeAppleCare, released ??= ReleasedSerials(client.Account.Id));
                if (Matches(device, query, WantedServers(servers, query)))
                {
                    yield return device;
                }
            }
        }
    }

    private static string? AssignedServerId(BusinessClient client, string serial)
    {
        try
        {
            using var link = client.Get($"orgDevices/{Uri.EscapeDataString(serial)}/relationships/assignedServer");
            return link.RootElement.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Object ? Str(d, "id") : null;
        }
        catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.BusinessRequestFailed) && ex.HttpStatus == 404)
        {
            return null; // Apple may answer an unassigned device with 404
        }
    }

    private IEnumerable<AdeOrgDevice> ReadAll(BusinessClient client, OrgDeviceQuery query, Action<AdeException>? notFound, IReadOnlyList<AdeMdmServer>? servers = null)
    {
        if (servers is null)
        {
            servers = GetMdmServers(query.Account);
            ReportUnknownServers(servers, query, notFound);
        }

        var wanted = WantedServers(servers, query);
        if (wanted is not null && wanted.All(s => IsDeleted(s.Status)))
        {
            yield break; // the server filters name no live server: no device can match, and the inventory is not paged through for none
        }

        // a list of serials without wildcards: each listed device of the list is held (null when another filter leaves
        // it out) and they are returned in the order given once the listing ends, as a short list read one by one is
        var given = query.SerialNumbers is { Count: > 0 } list && list.All(x => !Wildcard.HasWildcard(x)) ? list.Distinct(StringComparer.OrdinalIgnoreCase).ToList() : null;
        var givenSet = given?.ToHashSet(StringComparer.OrdinalIgnoreCase);
        var held = new Dictionary<string, AdeOrgDevice?>(StringComparer.OrdinalIgnoreCase);
        // serial → server id, from each server's device linkage (a few requests for the whole organisation). The index
        // is kept in the store for the length of this read, not in memory: memory stays flat however many devices are
        // assigned, and each page of devices looks up only its own serials.
        var run = Guid.NewGuid();
        var indexed = 0;
        try
        {
            if (query.Status is not ("UNASSIGNED" or "RELEASED"))
            {
                foreach (var server in (wanted ?? servers).Where(s => !IsDeleted(s.Status))) // a deleted server has no devices (and no device list)
                {
                    foreach (var page in Pages(client, $"mdmServers/{Uri.EscapeDataString(server.Id)}/relationships/devices?"))
                    {
                        using (page)
                        {
                            var pairs = Data(page).Select(item => Str(item, "id")).Where(serial => !string.IsNullOrEmpty(serial))
                                .Select(serial => (serial!, server.Id)).ToList();
                            if (pairs.Count > 0)
                            {
                                var at = time.GetUtcNow();
                                store.Write(s =>
                                {
                                    s.Business.AddDeviceServers(run, pairs, at);
                                    return 0;
                                });
                                indexed += pairs.Count;
                            }
                        }
                    }
                }
            }

            var released = ReleasedSerials(client.Account.Id);
            var pageNumber = 0;
            var seen = 0;
            // the serials read so far: a listing started again after an expired cursor yields none twice
            var emitted = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (var page in Pages(client, "orgDevices?"))
            {
                using (page)
                {
                    pageNumber++;
                    var items = Data(page).ToList();
                    var assigned = indexed == 0 ? [] : items.Where(i => Str(Attributes(i), "status") != "UNASSIGNED").Select(SerialOf).Where(x => x.Length > 0).ToList();
                    var serverOf = assigned.Count == 0 ? (IReadOnlyDictionary<string, string>)new Dictionary<string, string>() : store.Read(s => s.Business.DeviceServers(run, assigned));
                    foreach (var item in items)
                    {
                        if (!emitted.Add(SerialOf(item)))
                        {
                            continue; // already read before Apple's cursor expired and the listing started again
                        }

                        seen++;
                        var device = ToDevice(item, client, serverOf.GetValueOrDefault(SerialOf(item)), servers, includeAppleCare: false, released);
                        if (givenSet is not null)
                        {
                            if (givenSet.Contains(device.SerialNumber))
                            {
                                held[device.SerialNumber] = Matches(device, query, wanted) ? device : null;
                            }

                            continue;
                        }

                        if (!Matches(device, query, wanted))
                        {
                            continue;
                        }

                        yield return query.IncludeAppleCare ? WithAppleCare(client, device) : device;
                    }
                }

                host.WriteProgress(new AdeProgress(1, "Reading the organisation's devices", $"{Counted.N(seen)} devices read ({pageNumber} pages)"));
                if (givenSet is not null && held.Count == givenSet.Count)
                {
                    break; // every serial given is found: the rest of the listing has none of them
                }
            }

            foreach (var serial in given ?? [])
            {
                if (!held.TryGetValue(serial, out var device))
                {
                    var error = ErrorCatalog.BusinessDeviceNotFound(serial, released.TryGetValue(serial, out var r) ? r.At : null);
                    if (notFound is null)
                    {
                        throw error;
                    }

                    notFound(error);
                }
                else if (device is not null)
                {
                    yield return query.IncludeAppleCare ? WithAppleCare(client, device) : device;
                }
            }
        }
        finally
        {
            if (indexed > 0)
            {
                var stale = time.GetUtcNow() - TimeSpan.FromDays(1);
                store.Write(s =>
                {
                    s.Business.DropDeviceServers(run, stale);
                    return 0;
                });
            }
        }

        host.WriteProgress(new AdeProgress(1, "Reading the organisation's devices", "done", Completed: true));
    }

    private static string SerialOf(JsonElement item) => Str(item, "id") ?? Str(Attributes(item), "serialNumber") ?? "";

    /// <summary>
    /// The servers the query's server filters name: -MdmServer (server name with wildcards, server id, or the name of a
    /// stored token) and the ids of piped servers, both when both are given; null without either.
    /// </summary>
    private static IReadOnlyList<AdeMdmServer>? WantedServers(IReadOnlyList<AdeMdmServer> servers, OrgDeviceQuery query)
    {
        IEnumerable<AdeMdmServer>? wanted = null;
        if (query.MdmServer is { } filter)
        {
            var named = Wildcard.Select(servers, s => s.Name, filter)
                .Concat(servers.Where(s => s.Id.Equals(filter, StringComparison.OrdinalIgnoreCase) || (s.Token is not null && s.Token.Equals(filter, StringComparison.OrdinalIgnoreCase))))
                .Distinct().ToList();
            if (named.Count == 0 && !Wildcard.IsPattern(filter))
            {
                throw ErrorCatalog.BusinessServerNotFound(filter);
            }

            wanted = named;
        }

        if (query.MdmServerIds is { } ids)
        {
            var set = ids.ToHashSet(StringComparer.OrdinalIgnoreCase);
            wanted = (wanted ?? servers).Where(s => set.Contains(s.Id));
        }

        return wanted?.ToList();
    }

    /// <summary>
    /// A piped server the organisation no longer has (deleted in Business Manager since it was read, or listed by Apple as
    /// deleted) is an error of its own, non-terminating through <paramref name="notFound"/>: the other piped servers'
    /// devices are still listed.
    /// </summary>
    private static void ReportUnknownServers(IReadOnlyList<AdeMdmServer> servers, OrgDeviceQuery query, Action<AdeException>? notFound)
    {
        foreach (var id in (query.MdmServerIds ?? []).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var server = servers.FirstOrDefault(s => s.Id.Equals(id, StringComparison.OrdinalIgnoreCase));
            var error = server is null ? ErrorCatalog.BusinessServerNotFound(id)
                : IsDeleted(server.Status) ? ErrorCatalog.BusinessServerDeleted(server.Name) // Apple may list a deleted server a while
                : null;
            if (error is null)
            {
                continue;
            }

            if (notFound is null)
            {
                throw error;
            }

            notFound(error);
        }
    }

    private static bool One(string? value, string pattern) => value is not null && Wildcard.Select([value], v => v, pattern).Count > 0;

    private static bool Matches(AdeOrgDevice d, OrgDeviceQuery q, IReadOnlyList<AdeMdmServer>? servers)
        => (q.SerialNumbers is not { Count: > 0 } || q.SerialNumbers.Any(p => One(d.SerialNumber, p)))
           && (q.OrderNumbers is not { Count: > 0 } || q.OrderNumbers.Any(p => One(d.OrderNumber, p)))
           && (q.ProductFamilies is not { Count: > 0 } || q.ProductFamilies.Any(f => string.Equals(f, d.ProductFamily, StringComparison.OrdinalIgnoreCase)))
           && (q.Status is null || string.Equals(q.Status, d.Status, StringComparison.OrdinalIgnoreCase))
           && (servers is null || servers.Any(s => s.Id == d.MdmServerId))
           && (q.MacAddresses is not { Count: > 0 } || d.WiFiMacAddress.Concat(d.BluetoothMacAddress).Concat(d.EthernetMacAddress).Any(m => MacKey(m) is { } k && q.MacAddresses.Contains(k)))
           && (q.Imeis is not { Count: > 0 } || d.Imei.Any(i => ImeiKey(i) is { } k && q.Imeis.Any(wanted => SameImei(wanted, k))));

    /// <summary>
    /// An IMEI as its digits (spaces, dashes, dots and slashes dropped): 15 digits, or 14 without the check digit (as
    /// carriers and some inventories list it); null when it is not one.
    /// </summary>
    internal static string? ImeiKey(string? imei)
    {
        var digits = new string((imei ?? "").Where(c => c is not (' ' or '-' or '.' or '/')).ToArray());
        return digits.Length is 14 or 15 && digits.All(char.IsAsciiDigit) ? digits : null;
    }

    /// <summary>Whether two IMEI keys name one device: equal, or equal in their first 14 digits when one lacks the check digit.</summary>
    private static bool SameImei(string a, string b) => a == b || ((a.Length == 14 || b.Length == 14) && string.CompareOrdinal(a, 0, b, 0, 14) == 0);

    /// <summary>A MAC address as 12 upper-case hex digits (separators ':', '-', '.' and spaces dropped), or null when it is not one.</summary>
    internal static string? MacKey(string? mac)
    {
        if (mac is null)
        {
            return null;
        }

        var hex = new string(mac.Where(ch => ch is not (':' or '-' or '.' or ' ')).ToArray()).ToUpperInvariant();
        return hex.Length == 12 && hex.All(char.IsAsciiHexDigit) ? hex : null;
    }

    /// <param name="releasedHere">
    /// The devices the account released, from the store: Apple fills a device's release date only when it is read by
    /// itself (not in the inventory listing), so a listed device the account released, and that was not added to the
    /// organisation again since, is shown released as of the store's record.
    /// </param>
    private static AdeOrgDevice ToDevice(JsonElement item, BusinessClient client, string? serverId, IReadOnlyList<AdeMdmServer> servers, bool includeAppleCare,
        IReadOnlyDictionary<string, Release> releasedHere)
    {
        var a = Attributes(item);
        var serial = Str(a, "serialNumber") ?? Str(item, "id") ?? "";
        var added = Date(a, "addedToOrgDateTime");
        var released = Date(a, "releasedFromOrgDateTime")
            ?? (releasedHere.TryGetValue(serial.ToUpperInvariant(), out var release) && !release.AddedSince(added) ? release.At : null);
        var device = new AdeOrgDevice
        {
            SerialNumber = serial,
            DeviceModel = Str(a, "deviceModel"),
            ProductFamily = Str(a, "productFamily"),
            ProductType = Str(a, "productType"),
            DeviceCapacity = Str(a, "deviceCapacity"),
            Color = Str(a, "color"),
            PartNumber = Str(a, "partNumber"),
            OrderNumber = Str(a, "orderNumber"),
            OrderDate = Date(a, "orderDateTime"),
            PurchaseSourceType = Str(a, "purchaseSourceType"),
            PurchaseSourceId = Str(a, "purchaseSourceId") ?? Str(a, "purchaseSourceUid"),
            Status = released is null ? Str(a, "status") : "RELEASED",
            ReleasedFromOrgDate = released,
            ReleaserId = Str(a, "releaserId"),
            ReleaserEntityType = Str(a, "releaserEntityType"),
            MdmServerId = released is null ? serverId : null,
            MdmServer = serverId is null || released is not null ? null : servers.FirstOrDefault(s => s.Id == serverId)?.Name,
            AddedToOrgDate = added,
            UpdatedDate = Date(a, "updatedDateTime"),
            WiFiMacAddress = ValueList.Of(Strings(a, "wifiMacAddress")),
            BluetoothMacAddress = ValueList.Of(Strings(a, "bluetoothMacAddress")),
            EthernetMacAddress = ValueList.Of(Strings(a, "ethernetMacAddress").Concat(Strings(a, "builtInEthernetMacAddress")).Distinct(StringComparer.OrdinalIgnoreCase)),
            Imei = ValueList.Of(Strings(a, "imei")),
            Meid = ValueList.Of(Strings(a, "meid")),
            Eid = Str(a, "eid") is { Length: > 0 } eid ? eid : null,
            Account = client.Account.ClientId,
        };
        return includeAppleCare ? WithAppleCare(client, device) : device;
    }

    private static AdeOrgDevice WithAppleCare(BusinessClient client, AdeOrgDevice device)
    {
        if (device.ReleasedFromOrgDate is not null)
        {
            return device; // no longer the organisation's: Apple has no coverage to tell it
        }

        JsonDocument doc;
        try
        {
            doc = client.Get($"orgDevices/{Uri.EscapeDataString(device.SerialNumber)}/appleCareCoverage");
        }
        catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.BusinessRequestFailed) && ex.HttpStatus == 404)
        {
            // one device's coverage Apple cannot find must not end an inventory of thousands (an Export-Csv job lost
            // every device after it): the device is listed without coverage, and the warning names it
            client.Host.WriteWarning($"Apple has no AppleCare coverage record for device '{device.SerialNumber}' (404): it is listed without coverage.");
            return device;
        }

        using var _ = doc;
        var list = Data(doc).Select(c =>
        {
            var a = Attributes(c);
            return new AdeAppleCareCoverage
            {
                Status = Str(a, "status"),
                Description = Str(a, "description"),
                PaymentType = Str(a, "paymentType"),
                StartDate = Date(a, "startDateTime"),
                EndDate = Date(a, "endDateTime"),
            };
        }).ToList();
        return new AdeOrgDevice
        {
            SerialNumber = device.SerialNumber, DeviceModel = device.DeviceModel, ProductFamily = device.ProductFamily, ProductType = device.ProductType,
            DeviceCapacity = device.DeviceCapacity, Color = device.Color, PartNumber = device.PartNumber, OrderNumber = device.OrderNumber,
            OrderDate = device.OrderDate, PurchaseSourceType = device.PurchaseSourceType, PurchaseSourceId = device.PurchaseSourceId, Status = device.Status,
            ReleasedFromOrgDate = device.ReleasedFromOrgDate, ReleaserId = device.ReleaserId, ReleaserEntityType = device.ReleaserEntityType,
            MdmServerId = device.MdmServerId, MdmServer = device.MdmServer, AddedToOrgDate = device.AddedToOrgDate, UpdatedDate = device.UpdatedDate,
            WiFiMacAddress = device.WiFiMacAddress, BluetoothMacAddress = device.BluetoothMacAddress, EthernetMacAddress = device.EthernetMacAddress,
            Imei = device.Imei, Meid = device.Meid, Eid = device.Eid, Account = device.Account, AppleCare = ValueList.Of(list),
        };
    }

    // ---- activities ---------------------------------------------------------------------------------------------------

    /// <summary>
    /// Sends the devices as activities of at most the account's <see cref="AdeBusinessAccount.DevicesPerActivity"/>
    /// (else <see cref="BusinessClientOptions.MaxDevicesPerActivity"/>) devices, one POST per batch, smaller ones when
    /// Apple refuses a batch as too large; stores each, and with <paramref name="wait"/> polls each until it ends and reads its log.
    /// Under -WhatIf nothing is sent and the list is empty.
    /// </summary>
    /// <param name="asRead">
    /// The server id each piped device had when Get-AdeOrgDevice read it (null: unassigned): a device read on the server it
    /// is to be assigned to is left out with one warning, instead of spending one of the hour's few activities on Apple's
    /// ALREADY_ASSIGNED. Devices named by serial alone are always sent. An unassignment judges by it which devices are not
    /// on the server (the warning before it), before the token's last sync.
    /// </param>
    /// <param name="declined">Under -WhatIf (or "No" at -Confirm): what would have been sent, for the command's one summary line.</param>
    public IReadOnlyList<AdeOrgDeviceActivity> Send(OrgDeviceAction action, IReadOnlyList<string> serialNumbers, string? account, AdeToken? token = null,
        string? server = null, bool wait = false, IReadOnlyDictionary<string, string?>? asRead = null, Action<string>? declined = null)
    {
        var serials = serialNumbers.Select(s => s.Trim().ToUpperInvariant()).Where(s => s.Length > 0).Distinct(StringComparer.Ordinal).ToList();
        foreach (var s in serials)
        {
            if (s.Length is < 8 or > 20 || !s.All(char.IsAsciiLetterOrDigit))
            {
                throw ErrorCatalog.ArgumentInvalid("SerialNumber", s, "an Apple serial number is 8 to 20 letters and digits (no spaces, dashes or wildcards).");
            }
        }

        if (serials.Count == 0)
        {
            return [];
        }

        var client = Client(account);
        if (action == OrgDeviceAction.Release && client.Account.Kind == "School")
        {
            // Apple School Manager's API has no RELEASE_DEVICES: refused here, not spent on one of the few POSTs an hour
            throw ErrorCatalog.BusinessReleaseNotInSchool(client.Account.ClientId);
        }

        // the target first: a server the command cannot use is refused before anything else is read or said
        AdeMdmServer? target = null;
        if (action != OrgDeviceAction.Release)
        {
            target = token is not null ? ServerOfToken(token, account) : server is not null ? ResolveServer(server, account)
                : throw ErrorCatalog.ArgumentInvalid("MdmServer", "", "name the MDM server with -Token (a stored token) or -MdmServer (its name).");
            if (target.ServerType == "APPLE_CONFIGURATOR")
            {
                // Apple's own entry for devices added with Apple Configurator is listed beside the servers but manages
                // nothing: refused here rather than spending a POST of the hourly budget on Apple's refusal
                throw ErrorCatalog.ArgumentInvalid("MdmServer", target.Name, "it is Apple's list of the devices added with Apple Configurator (type APPLE_CONFIGURATOR), not a device management service. Assign the devices to an MDM server: that moves them off it.");
            }
        }

        // a device this store saw released (a release activity of the account that succeeded for it) is no longer the
        // organisation's: each is a warning and is left out, nothing is sent for it
        var released = ReleasedSerials(client.Account.Id);
        var leftOut = serials.Where(released.ContainsKey).ToList();
        if (leftOut.Count is > 0 and <= MaxAddedAgainChecks)
        {
            // added to the organisation again since (Apple Configurator, or bought again): the organisation's again
            leftOut.RemoveAll(serial => AddedAgain(client, serial, released[serial]));
        }

        if (leftOut.Count > 0)
        {
            // one warning for the command, however many of its devices were released
            host.WriteWarning((leftOut is [var one] ? ErrorCatalog.BusinessDeviceReleased(one, released[one].At)
                : ErrorCatalog.BusinessDeviceReleased(leftOut, checkedAgain: leftOut.Count <= MaxAddedAgainChecks)).Message);
            serials.RemoveAll(leftOut.Contains);
        }

        if (action == OrgDeviceAction.Assign && asRead is { Count: > 0 })
        {
            var there = serials.Where(serial => asRead.TryGetValue(serial, out var id) && SameId(id, target!.Id)).ToList();
            if (there.Count > 0)
            {
                host.WriteWarning($"{Counted.Of(there.Count, "device")} already on MDM server '{target!.Name}' when Get-AdeOrgDevice read {(there.Count == 1 ? "it" : "them")} ({Counted.FirstFew(there, 3)}): nothing was sent for {(there.Count == 1 ? "it" : "them")}. To send {(there.Count == 1 ? "it" : "them")} anyway, give the serial numbers with -SerialNumber.");
                serials.RemoveAll(there.Contains);
            }
        }

        if (serials.Count == 0)
        {
            return [];
        }

        var verb = action switch
        {
            OrgDeviceAction.Assign => $"Assign to MDM server '{target!.Name}' at Apple",
            OrgDeviceAction.Unassign => $"Unassign from MDM server '{target!.Name}' at Apple",
            _ => "Release from the organisation at Apple (irreversible: the organisation no longer owns the device)",
        };
        var confirmed = serials.Where(s => host.ShouldProcess(s, verb)).ToList();
        if (confirmed.Count < serials.Count && declined is not null)
        {
            var perActivity = client.Account.DevicesPerActivity ?? Options.MaxDevicesPerActivity;
            var count = serials.Count - confirmed.Count;
            declined($"{Counted.Of(count, "device")} would be sent to Apple: {verb} ({Counted.Of((count + perActivity - 1) / perActivity, "activity", "activities")} of the account's {client.Account.PostsPerHour ?? Options.PostsPerHour} an hour).");
        }

        if (confirmed.Count == 0)
        {
            return [];
        }

        if (action == OrgDeviceAction.Unassign && (token?.Id ?? target!.TokenId) is { } tokenId)
        {
            WarnNotOnServer(tokenId, target!, confirmed, asRead);
        }

        var type = action switch { OrgDeviceAction.Assign => "ASSIGN_DEVICES", OrgDeviceAction.Unassign => "UNASSIGN_DEVICES", _ => "RELEASE_DEVICES" };
        var created = new List<AdeOrgDeviceActivity>();
        var sent = 0;
        var size = client.Account.DevicesPerActivity ?? Options.MaxDevicesPerActivity;
        var search = new ActivitySizeSearch();
        while (sent < confirmed.Count)
        {
            var batch = confirmed.GetRange(sent, Math.Min(size, confirmed.Count - sent)).ToArray();
            try
            {
                created.Add(SendBatch(client, type, target, token, batch));
            }
            catch (AdeException ex) when (SmallerActivity(ex, batch.Length, search) is { } smaller)
            {
                // Apple documents no cap on an activity's devices, nor its answer above one: the same devices go again
                // in smaller activities
                host.WriteVerbose($"Apple refused an activity of {Counted.Of(batch.Length, "device")} ({ex.HttpStatus}{(ex.ErrorDetail is { } d ? ": " + d : "")}); sending activities of at most {Counted.N(smaller)}.");
                var named = NamedCap(ex.ErrorDetail, batch.Length) is not null;
                search.Refused(batch.Length, named, aboutSize: named || ex.HttpStatus == 413 || PointsAtDevices(ex));
                size = smaller;
                continue;
            }
            catch (AdeException ex) when (created.Count == 0 && search.Refusals.Count > 0 && ex.HttpStatus is 400 or 413 or 422)
            {
                // the smaller activities were refused too, and Apple never said why: say what was tried and the way out
                throw ex.WithCompleted($"Apple refused activities of {string.Join(", ", search.Refusals.Select(n => n.ToString("N0", System.Globalization.CultureInfo.InvariantCulture)))} and {Counted.N(batch.Length)} devices without naming a cap; "
                    + $"if the devices of one activity are the cause, set fewer: Set-AdeBusinessAccount -ClientId '{client.Account.ClientId}' -DevicePerActivity <number>.", []);
            }
            catch (AdeException ex) when (created.Count > 0)
            {
                // the earlier batches are at Apple: the error says which activities took them and which devices did not go
                // (a batch Apple accepted without a readable answer went too, without an activity id)
                var mayHaveApplied = ex.HttpStatus is >= 500 || ex.ErrorId == nameof(ErrorCatalog.BusinessNetworkError);
                var acceptedUnread = ex.AcceptedByApple ? batch : [];
                throw ex.WithCompleted(ErrorCatalog.BusinessActivitiesAccepted(created.Select(a => a.Id).ToList(), sent,
                    confirmed.Skip(sent + acceptedUnread.Length).ToList(), mayHaveApplied, acceptedUnread), created);
            }

            if (search.Taken(batch.Length) is { } lesson)
            {
                LearnActivitySize(client.Account, lesson.FirstRefused, batch.Length, lesson.AboutSize, warn: search.FirstLesson());
            }

            sent += batch.Length;
        }

        if (!wait)
        {
            return created;
        }

        var followed = new List<AdeOrgDeviceActivity>();
        foreach (var activity in created)
        {
            try
            {
                followed.Add(Wait(activity.Id, client));
            }
            catch (AdeException ex)
            {
                // every activity went to Apple: those followed to their end are returned so, the others as last seen
                // (the time-out of a command's only activity already names it and how to follow it)
                var shown = followed.Concat(created.Skip(followed.Count).Select(a => GetStored(a.Id) ?? a)).ToList();
                throw ex.WithCompleted(created.Count == 1 && ex.ErrorId == nameof(ErrorCatalog.BusinessActivityTimeout)
                    ? "It is returned and stored."
                    : ErrorCatalog.BusinessActivitiesAccepted(created.Select(a => a.Id).ToList(), sent, []), shown);
            }
        }

        return followed;
    }

    /// <summary>What one command learned of Apple's activity size: refusals taken for a size, and the largest activity taken.</summary>
    internal sealed class ActivitySizeSearch
    {
        /// <summary>Halvings without a number from Apple after which a refusal is reported as Apple gave it (a 413 excepted).</summary>
        public const int MaxBlindHalvings = 3;

        private readonly List<int> refusals = []; // sizes refused since Apple last took an activity
        private bool sizeNamed; // whether one of them was plainly about size (a cap named, a 413, the devices pointed at)
        private bool warned;

        public int BlindHalvings { get; private set; }

        public int LargestTaken { get; private set; }

        /// <summary>The sizes refused since Apple last took an activity, largest first.</summary>
        public IReadOnlyList<int> Refusals => refusals;

        public void Refused(int size, bool capNamed, bool aboutSize)
        {
            refusals.Add(size);
            sizeNamed |= aboutSize;
            BlindHalvings += capNamed ? 0 : 1;
        }

        /// <summary>
        /// Apple took an activity of <paramref name="size"/>: the first size it refused before it, and whether a refusal
        /// said it was about size; null when nothing was refused since the last activity taken.
        /// </summary>
        public (int FirstRefused, bool AboutSize)? Taken(int size)
        {
            LargestTaken = Math.Max(LargestTaken, size);
            if (refusals.Count == 0)
            {
                return null;
            }

            var lesson = (refusals[0], sizeNamed);
            refusals.Clear();
            sizeNamed = false;
            return lesson;
        }

        /// <summary>True the first time only: one warning per command.</summary>
        public bool FirstLesson() => !warned && (warned = true);
    }

    /// <summary>
    /// The smaller activity size to try when <paramref name="ex"/> is Apple refusing an activity of <paramref name="size"/>
    /// devices as too large, else null. Apple documents neither a cap nor its answer above one, so a 400, 413 or 422 to
    /// a POST of several devices that Apple did not carry out counts, unless it names a parameter or body member other
    /// than the devices, or Apple took an activity as large in this command (then the refusal is about something
    /// else). A cap Apple's detail names ("at most 500 devices") is taken; otherwise the size is halved, at most
    /// <see cref="ActivitySizeSearch.MaxBlindHalvings"/> times (a 413, which is about size, without limit): a refusal
    /// about something else then ends as Apple gave it, without spending the hour's few activities.
    /// </summary>
    internal static int? SmallerActivity(AdeException ex, int size, ActivitySizeSearch search)
    {
        if (size < 2 || ex.AcceptedByApple || ex.HttpStatus is not (400 or 413 or 422) || size <= search.LargestTaken
            || (ex.ErrorParameter is { } parameter && !parameter.Contains("devices", StringComparison.OrdinalIgnoreCase))
            || (ex.ErrorPointer is { } pointer && !pointer.Contains("devices", StringComparison.OrdinalIgnoreCase)))
        {
            return null;
        }

        if (NamedCap(ex.ErrorDetail, size) is { } cap)
        {
            return cap;
        }

        return ex.HttpStatus == 413 || search.BlindHalvings < ActivitySizeSearch.MaxBlindHalvings ? (size + 1) / 2 : null;
    }

    /// <summary>
    /// A cap below <paramref name="size"/> that Apple's detail states as one ("at most 500", "maximum is 500", "limit
    /// of 500", "up to 500", "500 devices"); other numbers (a serial's digits, a count of what was sent) are not caps.
    /// </summary>
    internal static int? NamedCap(string? detail, int size)
    {
        foreach (System.Text.RegularExpressions.Match m in CapPattern().Matches(detail ?? ""))
        {
            var digits = m.Groups[1].Success ? m.Groups[1].Value : m.Groups[2].Value;
            if (int.TryParse(digits, System.Globalization.CultureInfo.InvariantCulture, out var n) && n >= 1 && n < size)
            {
                return n;
            }
        }

        return null;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"(?:at most|maximum(?: is| of)?|max(?:imum)?\.?|limit(?: is| of)?|up to|no more than)\s*:?\s*([0-9]{1,7})\b|\b([0-9]{1,7})\s+(?:org\s*)?devices?\b",
        System.Text.RegularExpressions.RegexOptions.IgnoreCase | System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex CapPattern();

    /// <summary>Whether Apple's refusal names the devices (its source parameter or pointer).</summary>
    private static bool PointsAtDevices(AdeException ex)
        => (ex.ErrorParameter ?? ex.ErrorPointer) is { } named && named.Contains("devices", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// After Apple took an activity of <paramref name="taken"/> devices, having refused one of <paramref name="refused"/>:
    /// when a refusal said it was about size, the size is kept as the account's (every process of the store), so later
    /// commands do not spend a POST of the hourly budget on finding it again. A refusal that did not say why is not
    /// kept (it may have been a passing fault); the warning says how to keep the size by hand. A store failure keeping
    /// it is a warning too: the activities Apple took and the devices still to send matter more.
    /// </summary>
    private void LearnActivitySize(AdeBusinessAccount account, int refused, int taken, bool aboutSize, bool warn)
    {
        var keep = $"Set-AdeBusinessAccount -ClientId '{account.ClientId}' -DevicePerActivity {taken}";
        if (!aboutSize)
        {
            if (warn)
            {
                host.WriteWarning($"Apple refused a device activity of {Counted.N(refused)} devices without saying why and took one of {Counted.Of(taken, "device")}. "
                    + $"If its cap on the devices of one activity is the cause, keep that size: {keep}");
            }

            return;
        }

        try
        {
            var kept = Accounts.LearnDevicesPerActivity(account, taken);
            if (warn)
            {
                host.WriteWarning($"Apple refused a device activity of {Counted.N(refused)} devices and took one of {Counted.Of(taken, "device")}: API account '{account.ClientId}' sends at most {Counted.Of(kept, "device")} per activity from now on. "
                    + $"Set-AdeBusinessAccount -ClientId '{account.ClientId}' -DevicePerActivity changes it.");
            }
        }
        catch (AdeException ex)
        {
            host.WriteWarning($"Apple refused a device activity of {Counted.N(refused)} devices and took one of {Counted.Of(taken, "device")}, but the store could not keep that size for API account '{account.ClientId}' ({ex.Message}) Set it with: {keep}");
        }
    }

    /// <summary>One POST of a device activity; the activity Apple created is stored and returned.</summary>
    private AdeOrgDeviceActivity SendBatch(BusinessClient client, string type, AdeMdmServer? target, AdeToken? token, string[] batch)
    {
        using var doc = client.Post("orgDeviceActivities", ActivityBody(type, target?.Id, batch));
        var data = Item(doc, "POST /v1/orgDeviceActivities", accepted: true);
        var id = Str(data, "id") ?? throw ErrorCatalog.BusinessResponseInvalid("POST /v1/orgDeviceActivities", "no activity id", accepted: true);
        var a = Attributes(data);
        var now = time.GetUtcNow();
        store.Write(s =>
        {
            s.Business.InsertActivity(new BusinessActivityRow(id, client.Account.Id, type, target?.Id, target?.Name, token?.Id ?? target?.TokenId, batch.Length, batch,
                Str(a, "status") ?? "IN_PROGRESS", Str(a, "subStatus"), null, now, null, now));
            return 0;
        });
        host.WriteVerbose($"Apple accepted activity {id}: {type} for {Counted.Of(batch.Length, "device")}.");
        return GetStored(id)!;
    }

    /// <summary>
    /// Whether a device the store saw released is the organisation's again: Apple knows it, with no release date, added
    /// after the release (one GET). Anything else, a device Apple no longer knows included, keeps it released.
    /// </summary>
    private bool AddedAgain(BusinessClient client, string serial, Release release)
    {
        try
        {
            using var doc = client.Get("orgDevices/" + Uri.EscapeDataString(serial));
            var a = Attributes(doc.RootElement.TryGetProperty("data", out var data) ? data : default);
            var added = Date(a, "addedToOrgDateTime");
            var again = Date(a, "releasedFromOrgDateTime") is null && release.AddedSince(added);
            if (again)
            {
                host.WriteVerbose($"Device '{serial}' was released on {release.At:u} and added to the organisation again on {added:u}: it is sent.");
            }

            return again;
        }
        catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.BusinessRequestFailed) && ex.HttpStatus == 404)
        {
            return false;
        }
    }

    /// <summary>
    /// A release the store recorded: when it ended (<see cref="At"/>, what the module shows) and when its activity was
    /// sent, the earliest the device can have left the organisation: a device Apple shows added after that is the
    /// organisation's again (the end may be the module's clock at the poll that saw it, later than Apple's).
    /// </summary>
    private readonly record struct Release(DateTimeOffset At, DateTimeOffset Sent)
    {
        public bool AddedSince(DateTimeOffset? added) => added > Sent;
    }

    /// <summary>Serials the account released (a completed release activity with a SUCCESS row), with when: from the store, nothing is asked.</summary>
    private Dictionary<string, Release> ReleasedSerials(Guid accountId)
    {
        var released = new Dictionary<string, Release>(StringComparer.Ordinal);
        foreach (var row in store.Read(s => s.Business.Activities(null, accountId)).Where(r => r.ActivityType == "RELEASE_DEVICES" && r.Results is not null).OrderBy(r => r.CreatedAt))
        {
            foreach (var result in row.Results!.Where(x => x.Status == "SUCCESS"))
            {
                released[result.SerialNumber] = new Release(row.CompletedAt ?? row.CreatedAt, row.CreatedAt);
            }
        }

        return released;
    }

    /// <summary>
    /// Before an unassignment from a server with a stored token: the devices the token's last sync does not show on
    /// that server. Apple may fail them in the activity log or report them unassigned without changing anything (it
    /// documents neither), so the admin is told beforehand which ones the outcome will not be about. A device piped from
    /// Get-AdeOrgDevice is judged by the server Apple gave it then (<paramref name="asRead"/>), newer than any sync.
    /// </summary>
    private void WarnNotOnServer(Guid tokenId, AdeMdmServer server, IReadOnlyList<string> serials, IReadOnlyDictionary<string, string?>? asRead)
    {
        var unread = serials.Where(s => asRead is null || !asRead.ContainsKey(s)).ToList();
        var states = unread.Count == 0 ? new Dictionary<string, DeviceStateRow>() : store.Read(s => s.Devices.States(tokenId, unread));
        var elsewhere = serials.Where(s => asRead is not null && asRead.TryGetValue(s, out var id)
            ? !SameId(id, server.Id)
            : !states.TryGetValue(s, out var st) || st.RemovedFromAbm).ToList();
        if (elsewhere.Count > 0)
        {
            var them = elsewhere.Count == 1 ? "it" : "them";
            host.WriteWarning($"{Counted.Of(elsewhere.Count, "device")} of {Counted.N(serials.Count)} ({Counted.FirstFew(elsewhere, 3)}) {(elsewhere.Count == 1 ? "is" : "are")} not on MDM server '{server.Name}' as Get-AdeOrgDevice read {them} or in its token's last sync: Apple may fail {them} in the activity log or report {them} unassigned without changing anything. Sync-AdeDevice first if the devices were assigned just now.");
        }
    }

    private static byte[] ActivityBody(string type, string? serverId, IEnumerable<string> serials)
    {
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteStartObject("data");
            w.WriteString("type", "orgDeviceActivities");
            w.WriteStartObject("attributes");
            w.WriteString("activityType", type);
            w.WriteEndObject();
            w.WriteStartObject("relationships");
            if (serverId is not null)
            {
                w.WriteStartObject("mdmServer");
                w.WriteStartObject("data");
                w.WriteString("type", "mdmServers");
                w.WriteString("id", serverId);
                w.WriteEndObject();
                w.WriteEndObject();
            }

            w.WriteStartObject("devices");
            w.WriteStartArray("data");
            foreach (var s in serials)
            {
                w.WriteStartObject();
                w.WriteString("type", "orgDevices");
                w.WriteString("id", s);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return buffer.ToArray();
    }

    /// <summary>
    /// The sub-status the module gives an activity Apple answered 404 for (Apple keeps activities about 30 days): its
    /// status stays as last read, and it is not asked for again.
    /// </summary>
    public const string ExpiredAtApple = "EXPIRED_AT_APPLE";

    /// <summary>Stored activities (newest first), optionally of one id; with <paramref name="refresh"/> unfinished ones are read from Apple first.</summary>
    public IReadOnlyList<AdeOrgDeviceActivity> GetActivities(string? id = null, string? account = null, bool refresh = false, bool wait = false)
    {
        var list = Stored(id, account is null ? null : Accounts.Resolve(account).Id);
        if (id is not null && list.Count == 0)
        {
            throw ErrorCatalog.BusinessActivityNotFound(id);
        }

        if (!refresh && !wait)
        {
            return list;
        }

        return list.Select(a =>
        {
            if (a.IsFinished && a.Devices.Count > 0 && (a.SubStatus == "COMPLETED_POST_PROCESSING_FAILED" || a.Devices.All(d => d.Detail != "NO_LOG")))
            {
                // finished with its log read, or finished where Apple said no log will come: Apple's answer will not
                // change, and reading it again would spend the GET budget on every -Refresh for as long as it is
                // stored. One finished without a log and without that word is read again, should the log come later.
                return a;
            }

            if (a.SubStatus == ExpiredAtApple)
            {
                // Apple answered 404 for it before: asking again would spend a GET on every -Refresh for as long as it
                // is stored and get the same answer. Asked for by itself it is still the error that says so.
                return list.Count == 1 ? throw ErrorCatalog.BusinessActivityExpired(a.Id, a.CreatedAt, a.Status) : a;
            }

            var client = new BusinessClient(Accounts.Get(a.Account).Single(), Accounts, time, host, Options) { WaitForLimit = WaitForLimit };
            try
            {
                if (wait)
                {
                    return Wait(a.Id, client);
                }

                var read = Poll(a.Id, client);
                if (logProblems.ContainsKey(a.Id) && read.Unknown > 0)
                {
                    WarnOutcomeUnknown(read); // a refresh whose log could not be read says so (-Wait says it at the end)
                }

                return read;
            }
            catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.BusinessRequestFailed) && ex.HttpStatus == 404)
            {
                // Apple keeps activities for a limited time (about 30 days): one it no longer has must not stop the
                // refresh of the others. It is shown as last stored, and said once; a single activity is the error
                // that says so (not a failed request "to check the parameters of").
                var expired = ErrorCatalog.BusinessActivityExpired(a.Id, a.CreatedAt, a.Status);
                store.Write(s =>
                {
                    s.Business.UpdateActivity(a.Id, a.Status, ExpiredAtApple, a.CompletedAt, null, time.GetUtcNow());
                    return 0;
                });
                if (list.Count == 1)
                {
                    throw expired;
                }

                host.WriteWarning(expired.Message);
                return GetStored(a.Id)!;
            }
        }).ToList();
    }

    /// <remarks>
    /// The caller asked to wait for the activity's end, so its polls wait for the GET budget too (as under
    /// -WaitForLimit): Apple has accepted the activity, and failing on the module's own budget after that would leave a
    /// script not knowing how it ended. The wait stays bounded by the activity wait's time-out.
    /// </remarks>
    private AdeOrgDeviceActivity Wait(string id, BusinessClient client)
    {
        var asked = client.WaitForLimit;
        client.WaitForLimit = true;
        try
        {
            return WaitForEnd(id, client);
        }
        finally
        {
            client.WaitForLimit = asked;
        }
    }

    private AdeOrgDeviceActivity WaitForEnd(string id, BusinessClient client)
    {
        var started = time.GetUtcNow();
        var activity = Poll(id, client);
        while (!activity.IsFinished)
        {
            var waited = time.GetUtcNow() - started;
            if (waited >= Options.WaitTimeout)
            {
                throw ErrorCatalog.BusinessActivityTimeout(id, waited);
            }

            host.WriteProgress(new AdeProgress(2, $"Activity {id} ({Counted.Of(activity.DeviceCount, "device")})", $"{activity.Status} {activity.SubStatus}".TrimEnd()));
            Options.Delay(Options.PollInterval, host.Cancellation).GetAwaiter().GetResult();
            activity = Poll(id, client);
        }

        host.WriteProgress(new AdeProgress(2, $"Activity {id}", activity.Status, Completed: true));
        // Devices not changed: those the log says failed; without any log line for them, all of them unless their outcome
        // is unknown (then the warning below says so, instead of claiming they were not changed). A log that lists every
        // device as changed under a failed status is believed for the devices, and the contradiction is said as such.
        var failedStatus = activity.Status is "FAILED" or "STOPPED" || activity.SubStatus is "COMPLETED_WITH_FAILURE";
        var notChanged = activity.Failed > 0 ? activity.Failed : activity.Unknown == 0 && activity.Succeeded == 0 ? activity.DeviceCount : 0;
        if (failedStatus && notChanged > 0)
        {
            host.WriteWarning(ErrorCatalog.BusinessActivityFailed(id, activity.Status, activity.SubStatus ?? "", notChanged, activity.DeviceCount).Message);
        }
        else if (failedStatus && activity.Succeeded > 0 && activity.Failed == 0)
        {
            host.WriteWarning($"Activity {id}: Apple reports {$"{activity.Status} {activity.SubStatus}".TrimEnd()}, but its log lists {(activity.Succeeded == activity.DeviceCount ? "every device" : Counted.Of(activity.Succeeded, "device"))} as changed; check them with Get-AdeOrgDevice.");
        }
        else if (activity.Failed > 0)
        {
            host.WriteWarning($"Activity {id}: {Counted.Of(activity.Failed, "device")} of {activity.DeviceCount} not changed ({string.Join(", ", activity.Devices.Where(d => d.Status is not ("SUCCESS" or UnknownOutcome)).Take(3).Select(d => d.ToString()))}).");
        }

        if (activity.Unknown > 0)
        {
            // finished, but Apple's log does not say what happened to these devices: never a silent success
            WarnOutcomeUnknown(activity);
        }

        return activity;
    }

    /// <summary>The warning that a finished activity's log does not give these devices' outcomes, with why when its log could not be read.</summary>
    private void WarnOutcomeUnknown(AdeOrgDeviceActivity activity)
        => host.WriteWarning(ErrorCatalog.BusinessActivityOutcomeUnknown(activity.Id, activity.Status, activity.SubStatus ?? "",
            activity.Devices.Where(d => d.Status == UnknownOutcome).Select(d => d.SerialNumber).ToList(), activity.DeviceCount,
            logProblems.Remove(activity.Id, out var problem) ? problem : null).Message);

    /// <summary>Reads the activity's state from Apple once; when it ended, reads its log and stores the per-device outcome.</summary>
    private AdeOrgDeviceActivity Poll(string id, BusinessClient client)
    {
        using var doc = client.Get($"orgDeviceActivities/{Uri.EscapeDataString(id)}?fields[orgDeviceActivities]=status,subStatus,createdDateTime,completedDateTime,downloadUrl");
        var a = Attributes(Item(doc, "GET /v1/orgDeviceActivities/{id}"));
        var status = Str(a, "status") ?? "IN_PROGRESS";
        var sub = Str(a, "subStatus");
        List<BusinessDeviceResultRow>? results = null;
        if (status != "IN_PROGRESS" && LogUrl(a) is { } download)
        {
            results = ReadLog(id, client, download, out var problem)?.Select(r => new BusinessDeviceResultRow(r.SerialNumber, r.Status, r.Detail)).ToList();
            if (problem is not null)
            {
                logProblems[id] = problem;
            }
        }

        var completed = Date(a, "completedDateTime") ?? (status != "IN_PROGRESS" ? time.GetUtcNow() : null);
        var checkedAt = time.GetUtcNow();
        store.Write(s =>
        {
            s.Business.UpdateActivity(id, status, sub, completed, results, checkedAt);
            return 0;
        });
        return GetStored(id)!;
    }

    private static Uri? LogUrl(JsonElement attributes)
        => Str(attributes, "downloadUrl") is { } url && Uri.TryCreate(url, UriKind.Absolute, out var download) ? download : null;

    /// <summary>
    /// Why the logs of activities of this service's commands could not be read (by activity id), from the read to the
    /// warning that says the devices' outcomes are unknown.
    /// </summary>
    private readonly Dictionary<string, string> logProblems = new(StringComparer.Ordinal);

    /// <summary>
    /// Downloads and reads an ended activity's log. Apple's link is short-lived and signed per GET of the activity: a
    /// download that fails (an expired link, a blob store that answers 5xx, a broken connection) asks Apple once for the
    /// activity again and downloads from the fresh link. Null, with the reason in <paramref name="problem"/>, when that
    /// fails too or the log cannot be read: the devices' outcomes are then unknown (never a success), and -Refresh
    /// reads the log again later.
    /// </summary>
    private List<AdeOrgDeviceResult>? ReadLog(string id, BusinessClient client, Uri download, out string? problem)
    {
        for (var attempt = 1; ; attempt++)
        {
            string text;
            try
            {
                text = client.Download(download);
            }
            catch (AdeException ex) when (ex.ErrorId is nameof(ErrorCatalog.BusinessRequestFailed) or nameof(ErrorCatalog.BusinessNetworkError))
            {
                problem = (ex.HttpStatus is { } code ? $"its download answered HTTP {code}" : "its download failed: " + ex.Message) + (attempt > 1 ? ", twice" : "");
                if (attempt > 1 || FreshLogUrl(id, client) is not { } fresh)
                {
                    return null;
                }

                host.WriteVerbose($"The log of activity {id} could not be downloaded ({problem}); downloading it again from the fresh link Apple gave.");
                download = fresh;
                continue;
            }
            catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.BusinessResponseInvalid))
            {
                problem = ex.Message; // too large, or not what a log is: a fresh link would bring the same
                return null;
            }

            var results = ParseLog(text);
            problem = results is null ? "it has no header row naming the serial number and status columns" : null;
            return results;
        }
    }

    /// <summary>A fresh link to an activity's log (one GET of the activity), or null when Apple gives none or cannot be asked.</summary>
    private Uri? FreshLogUrl(string id, BusinessClient client)
    {
        try
        {
            using var again = client.Get($"orgDeviceActivities/{Uri.EscapeDataString(id)}?fields[orgDeviceActivities]=downloadUrl");
            return LogUrl(Attributes(Item(again, "GET /v1/orgDeviceActivities/{id}")));
        }
        catch (AdeException ex) when (ex.ErrorId is nameof(ErrorCatalog.BusinessRequestFailed) or nameof(ErrorCatalog.BusinessNetworkError) or nameof(ErrorCatalog.BusinessResponseInvalid))
        {
            host.WriteVerbose($"Apple could not be asked again for the log of activity {id}: {ex.Message}");
            return null;
        }
    }

    /// <summary>
    /// Apple's activity log, whose layout Apple does not document: any lines before a header row that names the serial
    /// number and the status columns (serial_number, operation_status, operation_substatus, in any order, case, or with
    /// spaces for the underscores; a bare "status" column only when there is no operation_status), then one row per
    /// device. Cells may be quoted (a quoted cell may hold commas and quotes); a row that is not well-formed CSV is read
    /// by its commas. A status that says success (SUCCESS, SUCCEEDED, SUCCESSFUL) reads as SUCCESS, one that says failure
    /// (FAILED, FAILURE, ERROR) is kept as Apple wrote it, and any other word is UNKNOWN with Apple's word in the detail:
    /// a word the module does not know never claims a device was not changed. Null when the log has no header row.
    /// </summary>
    internal static List<AdeOrgDeviceResult>? ParseLog(string csv)
    {
        var list = new List<AdeOrgDeviceResult>();
        int serialCol = -1, statusCol = -1, subCol = -1;
        using var parser = new Microsoft.VisualBasic.FileIO.TextFieldParser(new StringReader(csv.TrimStart('\uFEFF')))
        {
            TextFieldType = Microsoft.VisualBasic.FileIO.FieldType.Delimited,
            HasFieldsEnclosedInQuotes = true,
            TrimWhiteSpace = true,
        };
        parser.SetDelimiters(",");
        while (!parser.EndOfData)
        {
            string[] cells;
            try
            {
                cells = parser.ReadFields() ?? [];
            }
            catch (Microsoft.VisualBasic.FileIO.MalformedLineException)
            {
                // not well-formed CSV (a stray quote): a preamble line is skipped, a device row read by its commas
                cells = parser.ErrorLine.Split(',').Select(c => c.Trim().Trim('"').Trim()).ToArray();
            }

            if (serialCol < 0)
            {
                var columns = cells.Select(LogColumn).ToList();
                serialCol = columns.IndexOf("serialnumber");
                statusCol = columns.IndexOf("operationstatus") is >= 0 and var op ? op : columns.IndexOf("status");
                subCol = columns.IndexOf("operationsubstatus") is >= 0 and var os ? os : columns.IndexOf("substatus");
                if (serialCol < 0 || statusCol < 0)
                {
                    serialCol = -1; // not yet the header: a preamble line
                }

                continue;
            }

            if (cells.Length > Math.Max(serialCol, statusCol) && cells[serialCol].Length > 0)
            {
                var word = cells[statusCol].ToUpperInvariant();
                var sub = subCol >= 0 && cells.Length > subCol && cells[subCol].Length > 0 ? cells[subCol] : null;
                list.Add(word switch
                {
                    "SUCCESS" or "SUCCEEDED" or "SUCCESSFUL" => new AdeOrgDeviceResult(cells[serialCol].ToUpperInvariant(), "SUCCESS", sub),
                    "FAILED" or "FAILURE" or "ERROR" => new AdeOrgDeviceResult(cells[serialCol].ToUpperInvariant(), word, sub),
                    "" => new AdeOrgDeviceResult(cells[serialCol].ToUpperInvariant(), UnknownOutcome, sub),
                    _ => new AdeOrgDeviceResult(cells[serialCol].ToUpperInvariant(), UnknownOutcome, sub is null ? word : word + ": " + sub),
                });
            }
        }

        return serialCol < 0 ? null : list;
    }

    /// <summary>A log header cell reduced to letters, lower case: "Serial Number", "serial_number" and "SERIAL-NUMBER" read alike.</summary>
    private static string LogColumn(string cell) => new(cell.Where(char.IsAsciiLetter).Select(char.ToLowerInvariant).ToArray());

    /// <summary>The status of a device whose outcome Apple's log does not give (or a log row without a status).</summary>
    internal const string UnknownOutcome = "UNKNOWN";

    private AdeOrgDeviceActivity? GetStored(string id) => Stored(id, null).SingleOrDefault();

    private List<AdeOrgDeviceActivity> Stored(string? id, Guid? accountId)
    {
        var accounts = Accounts.Get().ToDictionary(a => a.Id);
        var tokenNames = tokens.GetTokens().ToDictionary(t => t.Id, t => t.Name);
        return store.Read(s => s.Business.Activities(id, accountId)).Select(r =>
        {
            var results = r.Results?.Select(x => new AdeOrgDeviceResult(x.SerialNumber, x.Status, x.Detail)).ToList() ?? [];
            if (r.Status != "IN_PROGRESS")
            {
                // a finished activity: each device its log does not give (none without a log) has an unknown outcome
                var logged = results.Select(x => x.SerialNumber).ToHashSet(StringComparer.Ordinal);
                results.AddRange(r.Serials.Where(x => !logged.Contains(x)).Select(x => new AdeOrgDeviceResult(x, UnknownOutcome, r.Results is null ? "NO_LOG" : "NOT_IN_LOG")));
            }

            return new AdeOrgDeviceActivity
            {
                Id = r.Id,
                Account = accounts.TryGetValue(r.AccountId, out var acc) ? acc.ClientId : r.AccountId.ToString(),
                Action = ActionOf(r.ActivityType),
                MdmServerId = r.ServerId,
                MdmServer = r.ServerName,
                Token = r.TokenId is { } tid && tokenNames.TryGetValue(tid, out var name) ? name : null,
                DeviceCount = r.DeviceCount,
                Status = r.Status,
                SubStatus = r.SubStatus,
                Devices = ValueList.Of(results),
                Succeeded = results.Count(x => x.Status == "SUCCESS"),
                Failed = results.Count(x => x.Status is not ("SUCCESS" or UnknownOutcome)),
                Unknown = results.Count(x => x.Status == UnknownOutcome),
                CreatedAt = r.CreatedAt,
                CompletedAt = r.CompletedAt,
            };
        }).ToList();
    }

    private static string ActionOf(string activityType) => activityType switch { "ASSIGN_DEVICES" => "Assign", "UNASSIGN_DEVICES" => "Unassign", _ => "Release" };

    /// <summary>
    /// The newest <paramref name="limit"/> stored activities, without their devices, logs or accounts (Tab
    /// completion: one read of a few columns, however long the history).
    /// </summary>
    public IReadOnlyList<AdeOrgDeviceActivity> GetRecentActivities(int limit)
        => store.Read(s => s.Business.RecentActivities(limit)).Select(r => new AdeOrgDeviceActivity
        {
            Id = r.Id,
            Action = ActionOf(r.ActivityType),
            MdmServer = r.ServerName,
            DeviceCount = r.DeviceCount,
            Status = r.Status,
            CreatedAt = r.CreatedAt,
        }).ToList();

    /// <summary>The names of the MDM servers stored activities went to (Tab completion; Apple is not asked).</summary>
    public IReadOnlyList<string> GetActivityServerNames() => store.Read(s => s.Business.ActivityServerNames());

    // ---- JSON:API reading -----------------------------------------------------------------------------------------------

    /// <summary>Longest serial number (a device's id) accepted in an answer; longer is a broken or hostile answer.</summary>
    internal const int MaxSerialLength = 64;

    /// <summary>Longest other id (server, activity) accepted in an answer.</summary>
    internal const int MaxIdLength = 128;

    /// <summary>Longest attribute text accepted in an answer.</summary>
    internal const int MaxTextLength = 1024;

    /// <summary>Longest paging cursor accepted.</summary>
    internal const int MaxCursorLength = 4096;

    /// <summary>
    /// Every page of a collection: the next request is built from meta.paging.nextCursor (never by trusting
    /// links.next). Each page is checked before it is used: no more items than asked for, ids and texts within their
    /// lengths and free of control characters, a cursor within its length and never one seen before (a loop). A cursor
    /// Apple no longer accepts (BusinessCursorExpired) starts the listing again from its first page, once: the pages
    /// may then repeat items already yielded, which every caller skips (servers by id, devices by serial, the store
    /// index by its key); a second expiry ends the listing with the error.
    /// </summary>
    private IEnumerable<JsonDocument> Pages(BusinessClient client, string pathWithQuery)
    {
        var separator = pathWithQuery.EndsWith('?') ? "" : "&";
        var endpoint = "GET /v1/" + pathWithQuery.Split('?')[0];
        var cursors = new HashSet<string>(StringComparer.Ordinal);
        string? cursor = null;
        var restarted = false;
        var sendLimit = true;
        for (var page = 0; page < 100_000; page++)
        {
            var url = pathWithQuery + (sendLimit ? separator + "limit=" + Options.PageSize.ToString(CultureInfo.InvariantCulture) : "")
                      + (cursor is null ? "" : (sendLimit || !pathWithQuery.EndsWith('?') ? "&" : "") + "cursor=" + Uri.EscapeDataString(cursor));
            JsonDocument doc;
            try
            {
                doc = client.Get(url);
            }
            catch (AdeException ex) when (sendLimit && cursor is null && RefusedLimit(ex))
            {
                // Apple documents limit up to 1000 but whether a larger one is clamped or refused (and whether the
                // maximum holds for every account) is not certain: a first page refused with 400 naming limit (or
                // naming nothing) is asked again without limit, at Apple's default page size, for the whole listing
                sendLimit = false;
                host.WriteVerbose($"Apple refused the page size {Options.PageSize} of {endpoint}; reading the listing at Apple's default page size.");
                page--;
                continue;
            }
            catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.BusinessCursorExpired) && !restarted)
            {
                // once per listing: from the first page again; the caller skips what it already has
                restarted = true;
                host.WriteVerbose($"Apple no longer accepts the paging cursor of {endpoint}; reading the listing again from its first page.");
                cursors.Clear();
                cursor = null;
                continue;
            }

            cursor = CheckPage(doc, endpoint, cursors);
            yield return doc;
            if (string.IsNullOrEmpty(cursor))
            {
                yield break;
            }
        }

        throw ErrorCatalog.BusinessResponseInvalid(endpoint, "more than 100,000 pages");
    }

    /// <summary>A 400 whose source.parameter is limit, or that names no parameter (an answer that may be about the page size).</summary>
    private static bool RefusedLimit(AdeException ex)
        => ex.HttpStatus == 400 && ex.ErrorParameter is null or "limit";

    /// <summary>Checks a page (disposing it when it is refused); returns its next cursor.</summary>
    private string? CheckPage(JsonDocument doc, string endpoint, HashSet<string> cursors)
    {
        try
        {
            var count = doc.RootElement.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Array ? d.GetArrayLength() : 0;
            if (count > Options.PageSize)
            {
                throw ErrorCatalog.BusinessResponseInvalid(endpoint, $"{Counted.N(count)} items on a page, more than the {Counted.N(Options.PageSize)} asked for");
            }

            foreach (var item in Data(doc))
            {
                CheckItem(item, endpoint);
            }

            var cursor = doc.RootElement.TryGetProperty("meta", out var meta) && meta.ValueKind == JsonValueKind.Object && meta.TryGetProperty("paging", out var paging)
                ? Str(paging, "nextCursor") : null;
            if (!string.IsNullOrEmpty(cursor))
            {
                if (cursor.Length > MaxCursorLength || TextRules.HasUnsafe(cursor))
                {
                    throw ErrorCatalog.BusinessResponseInvalid(endpoint, $"a cursor of {Counted.N(cursor.Length)} characters or with control characters");
                }

                if (!cursors.Add(cursor))
                {
                    throw ErrorCatalog.BusinessResponseInvalid(endpoint, "a cursor that was already read (the pages would never end)");
                }
            }

            return cursor;
        }
        catch
        {
            doc.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The one resource of an answer (its data member), checked: a document without one is BusinessResponseInvalid.
    /// <paramref name="accepted"/>: the answer is Apple's success to a write, which a refusal here does not undo.
    /// </summary>
    private static JsonElement Item(JsonDocument? doc, string endpoint, bool accepted = false)
    {
        if (doc is null || doc.RootElement.ValueKind != JsonValueKind.Object || !doc.RootElement.TryGetProperty("data", out var data))
        {
            throw ErrorCatalog.BusinessResponseInvalid(endpoint, "no data", accepted: accepted);
        }

        CheckItem(data, endpoint, accepted);
        return data;
    }

    /// <summary>One resource of an answer: its id within its length, every attribute text within its length, no control characters in ids.</summary>
    internal static void CheckItem(JsonElement item, string endpoint, bool accepted = false)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw ErrorCatalog.BusinessResponseInvalid(endpoint, "an item that is not an object", accepted: accepted);
        }

        // JSON:API gives every resource an id (a device's is its serial number): an item without one names nothing
        if (Str(item, "id") is not { Length: > 0 } && Str(Attributes(item), "serialNumber") is not { Length: > 0 })
        {
            throw ErrorCatalog.BusinessResponseInvalid(endpoint, "an item without an id", accepted: accepted);
        }

        var max = Str(item, "type") == "orgDevices" ? MaxSerialLength : MaxIdLength;
        if (Str(item, "id") is { } id && (id.Length > max || TextRules.HasUnsafe(id)))
        {
            throw ErrorCatalog.BusinessResponseInvalid(endpoint, $"an id of {Counted.N(id.Length)} characters or with control characters", accepted: accepted);
        }

        var a = Attributes(item);
        if (a.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (var p in a.EnumerateObject())
        {
            foreach (var v in p.Value.ValueKind == JsonValueKind.Array ? p.Value.EnumerateArray() : Enumerable.Repeat(p.Value, 1))
            {
                if (v.ValueKind == JsonValueKind.String && v.GetString() is { } text
                    && (text.Length > (p.Name == "serialNumber" ? MaxSerialLength : MaxTextLength) || (p.Name == "serialNumber" && TextRules.HasUnsafe(text))))
                {
                    throw ErrorCatalog.BusinessResponseInvalid(endpoint, $"attribute {Short(p.Name)} of {Counted.N(text.Length)} characters or with control characters", accepted: accepted);
                }
            }
        }
    }

    private static string Short(string name) => name.Length <= 40 && !TextRules.HasUnsafe(name) ? name : "(unnamed)";

    private static IEnumerable<JsonElement> Data(JsonDocument doc)
        => doc.RootElement.TryGetProperty("data", out var d) && d.ValueKind == JsonValueKind.Array ? d.EnumerateArray() : [];

    private static JsonElement Attributes(JsonElement item)
        => item.ValueKind == JsonValueKind.Object && item.TryGetProperty("attributes", out var a) ? a : default;

    /// <summary>A string member (neutralised: control characters never reach the output), or null.</summary>
    private static string? Str(JsonElement e, string name)
        => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? TextRules.Neutralise(v.GetString()) : null;

    private static IEnumerable<string> Strings(JsonElement e, string name)
        => e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v)
            ? (v.ValueKind == JsonValueKind.Array ? v.EnumerateArray().Where(x => x.ValueKind == JsonValueKind.String).Select(x => x.GetString()!) : v.ValueKind == JsonValueKind.String ? [v.GetString()!] : [])
                .Select(x => TextRules.Neutralise(x)!).Where(x => x.Length > 0)
            : [];

    private static DateTimeOffset? Date(JsonElement e, string name)
        => Str(e, name) is { } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var d) ? d : null;
}

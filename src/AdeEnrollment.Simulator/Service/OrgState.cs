using System.Globalization;
using System.Security.Cryptography;

namespace AdeEnrollment.Simulator.Service;

/// <summary>
/// The simulated organisation at "Apple": its MDM servers (each with devices, change log, profiles, snapshots), the
/// serial → server index, OAuth sessions and nonces, the seeded generator and the cursor key.
/// </summary>
/// <remarks>
/// <para><b>Locking rule.</b> All of it is guarded by one lock, <see cref="Gate"/>. The router takes it once per
/// request and runs the endpoint handler inside it; the portal (ABM-side actions) and the Business API take it for
/// each action. Nothing else locks it, handlers never lock (they are always called under it) and never keep a
/// reference to state after they return.</para>
/// <para>One lock, not one per server, because the state is one graph: a serial number belongs to at most one
/// server across the organisation, sessions point at servers, Apple Business activities move devices between
/// servers, and a token download ends sessions. One lock makes each request atomic against any ABM-side change, which
/// is what a test expects of Apple; the work done under it is small (a page of at most 1,000 devices, or the sort
/// of one fetch snapshot). The request log and the fault list are not org state and have locks of their own; no code
/// holds two of these locks at once.</para>
/// </remarks>
internal sealed class OrgState
{
    public OrgState(int seed, TimeProvider time, SimSettings settings)
    {
        Time = time;
        Settings = settings;
        Generator = new DeviceGenerator(seed);
    }

    /// <summary>The one lock of the org state (see the class remarks).</summary>
    public object Gate { get; } = new();

    public TimeProvider Time { get; }

    public SimSettings Settings { get; }

    /// <summary>Seeded serials, devices and UUIDs (not thread-safe: use under <see cref="Gate"/>).</summary>
    public DeviceGenerator Generator { get; }

    /// <summary>The HMAC key of the ADE cursors.</summary>
    public byte[] CursorKey { get; } = RandomNumberGenerator.GetBytes(32);

    public List<ServerState> Servers { get; } = [];

    public Dictionary<string, ServerState> ServersByConsumerKey { get; } = new(StringComparer.Ordinal);

    /// <summary>Session token → session.</summary>
    public Dictionary<string, SessionState> Sessions { get; } = new(StringComparer.Ordinal);

    /// <summary>The hardware of devices that left a server, by serial: added again (to any server) they are the same device.</summary>
    public Dictionary<string, AdeSimDevice> Hardware { get; } = new(StringComparer.Ordinal);

    /// <summary>consumer key|nonce → when it was used.</summary>
    public Dictionary<string, DateTimeOffset> Nonces { get; } = new(StringComparer.Ordinal);

    /// <summary>Serial number → name of the server that holds it (a serial is on at most one server).</summary>
    public Dictionary<string, string> SerialOwners { get; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>By name (case-insensitive) or server UUID.</summary>
    public ServerState Find(string server)
        => Servers.FirstOrDefault(s => s.Name.Equals(server, StringComparison.OrdinalIgnoreCase) || s.Uuid.Equals(server, StringComparison.OrdinalIgnoreCase))
           ?? throw SimErrors.ServerNotFound(server);

    public void AddServer(ServerState server)
    {
        Servers.Add(server);
        ServersByConsumerKey[server.Credentials.ConsumerKey] = server;
    }

    /// <summary>A generated device with this serial arrives on the server (an <c>added</c> event).</summary>
    public AdeSimDevice AddDevice(ServerState server, string serial, string? family, DateTimeOffset now)
    {
        // A device the organisation had before (unassigned from a server, or moved) is the same hardware: its model,
        // description, colour, asset tag, family and OS come back; the assignment is new. Unless another family is asked.
        var device = Hardware.TryGetValue(serial, out var known) && (family is null || family.Equals(known.DeviceFamily, StringComparison.OrdinalIgnoreCase))
            ? new AdeSimDevice
            {
                Server = server.Name, SerialNumber = serial, Model = known.Model, Description = known.Description, Color = known.Color, AssetTag = known.AssetTag,
                DeviceFamily = known.DeviceFamily, Os = known.Os, ProfileStatus = "empty", DeviceAssignedDate = now, DeviceAssignedBy = server.AdminId,
            }
            : Generator.NewDevice(server.Name, serial, family, now, server.AdminId);
        server.Devices[serial] = device;
        SerialOwners[serial] = server.Name;
        server.Record(device, "added", now);
        return device;
    }

    /// <summary>The device leaves the server (a <c>deleted</c> event); its injected outcomes go with it.</summary>
    public void Release(ServerState server, AdeSimDevice device, DateTimeOffset now)
    {
        server.Devices.Remove(device.SerialNumber);
        SerialOwners.Remove(device.SerialNumber);
        Hardware[device.SerialNumber] = device;
        server.Outcomes.Remove(device.SerialNumber);
        server.Record(device, "deleted", now);
    }

    /// <summary>A new session for the server, valid for <see cref="SimSettings.SessionLifetime"/> from now.</summary>
    public string OpenSession(ServerState server, string accessToken)
    {
        var token = NewSessionToken();
        Sessions[token] = new SessionState { Server = server, AccessToken = accessToken, ExpiresAt = Time.GetUtcNow() + Settings.SessionLifetime };
        return token;
    }

    /// <summary>Every session of the server stops working (a new token was downloaded).</summary>
    public void EndSessionsOf(ServerState server)
    {
        foreach (var key in Sessions.Where(s => s.Value.Server == server).Select(s => s.Key).ToList())
        {
            Sessions.Remove(key);
        }
    }

    private string NewSessionToken()
        => Time.GetUtcNow().ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture) + "O1O" + Convert.ToHexString(RandomNumberGenerator.GetBytes(32));
}

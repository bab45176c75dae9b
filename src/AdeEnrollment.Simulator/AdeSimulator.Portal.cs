using System.Globalization;
using AdeEnrollment.Simulator.Abm;
using AdeEnrollment.Simulator.Service;

namespace AdeEnrollment.Simulator;

// The Apple Business Manager side: MDM servers, their tokens and the devices assigned to them.
public sealed partial class AdeSimulator
{
    public const string DefaultOrgName = "Example Organisation";
    public const string DefaultAdminId = "ade.admin@example.com";
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromDays(365);

    /// <summary>
    /// ABM "add MDM server": creates the server for the uploaded certificate and returns its first token, the text of an
    /// Apple-format <c>.p7m</c> encrypted to that certificate.
    /// </summary>
    public AdeSimServer NewServer(string name, string certificatePem, out string tokenFileText, string? orgName = null, string? adminId = null, DateTimeOffset? expiresAt = null)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw SimErrors.ArgumentInvalid("Name", name ?? "", "an MDM server needs a name.");
        }

        var expiry = expiresAt ?? Time.GetUtcNow() + TokenLifetime;
        var credentials = ServerTokenCredentials.CreateRandom(expiry);
        tokenFileText = WriteToken(certificatePem, credentials);
        lock (gate)
        {
            if (servers.Any(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
            {
                throw SimErrors.ServerExists(name);
            }

            var server = new ServerState
            {
                Name = name.Trim(),
                Uuid = generator.NewUuid(),
                OrgName = string.IsNullOrWhiteSpace(orgName) ? DefaultOrgName : orgName.Trim(),
                AdminId = string.IsNullOrWhiteSpace(adminId) ? DefaultAdminId : adminId.Trim(),
                CertificatePem = certificatePem,
                Credentials = credentials,
            };
            servers.Add(server);
            serversByConsumerKey[credentials.ConsumerKey] = server;
            return server.ToOutput(Uri);
        }
    }

    /// <summary>
    /// ABM "download token": a new token for the server (to the given or the last uploaded certificate). The previous
    /// token stops working at once, and so do the sessions made with it.
    /// </summary>
    public AdeSimServer ExportServerToken(string server, out string tokenFileText, string? certificatePem = null, DateTimeOffset? expiresAt = null)
    {
        ServerState state;
        lock (gate)
        {
            state = Find(server);
        }

        var expiry = expiresAt ?? Time.GetUtcNow() + TokenLifetime;
        var fresh = ServerTokenCredentials.CreateRandom(expiry);
        var credentials = fresh with { ConsumerKey = state.Credentials.ConsumerKey, ConsumerSecret = state.Credentials.ConsumerSecret };
        tokenFileText = WriteToken(certificatePem ?? state.CertificatePem, credentials);
        lock (gate)
        {
            state.Credentials = credentials;
            state.TokenVersion++;
            if (certificatePem is not null)
            {
                state.CertificatePem = certificatePem;
            }

            foreach (var key in sessions.Where(s => s.Value.Server == state).Select(s => s.Key).ToList())
            {
                sessions.Remove(key);
            }

            return state.ToOutput(Uri);
        }
    }

    private static string WriteToken(string certificatePem, ServerTokenCredentials credentials)
    {
        try
        {
            return ServerTokenWriter.Write(certificatePem, credentials);
        }
        catch (ArgumentException ex)
        {
            throw SimErrors.CertificateInvalid("the uploaded key", ex.Message, ex);
        }
    }

    /// <summary>The server's current OAuth credentials (for tests that talk to the simulator without a .p7m).</summary>
    internal ServerTokenCredentials CredentialsOf(string server)
    {
        lock (gate) return Find(server).Credentials;
    }

    /// <summary>Remembers where a command wrote the server's token (shown by the server object).</summary>
    public void SetTokenFile(string server, string path)
    {
        lock (gate) Find(server).TokenFile = path;
    }

    public AdeSimServer GetServer(string server)
    {
        lock (gate) return Find(server).ToOutput(Uri);
    }

    public IReadOnlyList<AdeSimServer> GetServers()
    {
        lock (gate) return [.. servers.Select(s => s.ToOutput(Uri))];
    }

    /// <summary>By name (case-insensitive) or server UUID.</summary>
    private ServerState Find(string server)
        => servers.FirstOrDefault(s => s.Name.Equals(server, StringComparison.OrdinalIgnoreCase) || s.Uuid.Equals(server, StringComparison.OrdinalIgnoreCase))
           ?? throw SimErrors.ServerNotFound(server);

    /// <summary>
    /// ABM "assign to MDM server": generated devices (<paramref name="count"/>) and/or the named serial numbers. Each
    /// arrives as an <c>added</c> event. A serial already on another server is refused, as in ABM.
    /// </summary>
    public IReadOnlyList<AdeSimDevice> AddDevices(string server, int count = 0, IReadOnlyCollection<string>? serialNumbers = null, string? deviceFamily = null)
    {
        if (count < 0)
        {
            throw SimErrors.ArgumentInvalid("Count", count.ToString(CultureInfo.InvariantCulture), "give zero or more devices.");
        }

        if (deviceFamily is not null && !deviceFamily.Equals("Mixed", StringComparison.OrdinalIgnoreCase)
            && !DeviceGenerator.Families.Contains(deviceFamily, StringComparer.OrdinalIgnoreCase))
        {
            throw SimErrors.ArgumentInvalid("DeviceFamily", deviceFamily, $"the simulator makes {string.Join(", ", DeviceGenerator.Families)} devices, or a Mixed fleet.");
        }

        lock (gate)
        {
            var state = Find(server);
            var now = Time.GetUtcNow();
            var added = new List<AdeSimDevice>(count + (serialNumbers?.Count ?? 0));
            foreach (var serial in serialNumbers ?? [])
            {
                var s = serial.Trim().ToUpperInvariant();
                if (s.Length is < 8 or > 14 || !s.All(char.IsAsciiLetterOrDigit))
                {
                    throw SimErrors.ArgumentInvalid("SerialNumber", serial, "an Apple serial number is 8 to 14 letters and digits.");
                }

                if (serialOwners.TryGetValue(s, out var owner))
                {
                    throw SimErrors.DeviceExists(s, owner);
                }
            }

            foreach (var serial in (serialNumbers ?? []).Select(s => s.Trim().ToUpperInvariant()).Distinct())
            {
                added.Add(AddDevice(state, serial, deviceFamily, now));
            }

            for (var i = 0; i < count; i++)
            {
                added.Add(AddDevice(state, generator.NewSerial(serialOwners.ContainsKey), deviceFamily, now));
            }

            return added;
        }
    }

    private AdeSimDevice AddDevice(ServerState state, string serial, string? family, DateTimeOffset now)
    {
        var device = generator.NewDevice(state.Name, serial, family, now, state.AdminId);
        state.Devices[serial] = device;
        serialOwners[serial] = state.Name;
        state.Record(device, "added", now);
        return device;
    }

    /// <summary>ABM "unassign"/"release": the device leaves the server with a <c>deleted</c> event.</summary>
    public AdeSimDevice RemoveDevice(string server, string serialNumber)
    {
        lock (gate)
        {
            var state = Find(server);
            if (!state.Devices.TryGetValue(serialNumber.Trim(), out var device))
            {
                throw SimErrors.DeviceNotFound(state.Name, serialNumber);
            }

            Release(state, device, Time.GetUtcNow());
            return device;
        }
    }

    private void Release(ServerState state, AdeSimDevice device, DateTimeOffset now)
    {
        state.Devices.Remove(device.SerialNumber);
        serialOwners.Remove(device.SerialNumber);
        state.Outcomes.Remove(device.SerialNumber);
        state.Record(device, "deleted", now);
    }

    /// <summary>The server's devices as Apple sees them (all, or the given serial numbers that exist).</summary>
    public IReadOnlyList<AdeSimDevice> GetDevices(string server, IReadOnlyCollection<string>? serialNumbers = null)
    {
        lock (gate)
        {
            var state = Find(server);
            if (serialNumbers is null)
            {
                return [.. state.Devices.Values.OrderBy(d => d.DeviceAssignedDate).ThenBy(d => d.SerialNumber, StringComparer.Ordinal)];
            }

            var list = new List<AdeSimDevice>();
            foreach (var serial in serialNumbers)
            {
                if (state.Devices.TryGetValue(serial.Trim(), out var device))
                {
                    list.Add(device);
                }
            }

            return list;
        }
    }

    /// <summary>
    /// Makes Apple answer <paramref name="status"/> (FAILED, THROTTLED or NOT_ACCESSIBLE) for this serial in assign and
    /// remove requests, for <paramref name="count"/> requests (null: until Clear-AdeSimFault).
    /// </summary>
    public void SetDeviceOutcome(string server, string serialNumber, string status, int? count = null, int? retryAfterSeconds = null)
    {
        var normalised = status.ToUpperInvariant().Replace("NOTACCESSIBLE", "NOT_ACCESSIBLE", StringComparison.Ordinal);
        if (normalised is not ("FAILED" or "THROTTLED" or "NOT_ACCESSIBLE"))
        {
            throw SimErrors.ArgumentInvalid("DeviceStatus", status, "use Failed, Throttled or NotAccessible.");
        }

        lock (gate)
        {
            var state = Find(server);
            state.Outcomes[serialNumber.Trim()] = new DeviceOutcome { Status = normalised, Remaining = count, RetryAfterSeconds = retryAfterSeconds };
        }
    }

    /// <summary>The device was switched on and fetched its profile: profile_status becomes <c>pushed</c>.</summary>
    public AdeSimDevice ActivateDevice(string server, string serialNumber)
    {
        lock (gate)
        {
            var state = Find(server);
            if (!state.Devices.TryGetValue(serialNumber.Trim(), out var device))
            {
                throw SimErrors.DeviceNotFound(state.Name, serialNumber);
            }

            if (device.ProfileStatus != "assigned")
            {
                return device;
            }

            var now = Time.GetUtcNow();
            var pushed = device with { ProfileStatus = "pushed", ProfilePushTime = now };
            state.Devices[device.SerialNumber] = pushed;
            state.Record(pushed, "modified", now);
            return pushed;
        }
    }
}

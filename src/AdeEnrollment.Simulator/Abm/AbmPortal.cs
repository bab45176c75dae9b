using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using AdeEnrollment.Simulator.Service;

namespace AdeEnrollment.Simulator.Abm;

/// <summary>
/// The Apple Business Manager side of the org (what an administrator does in the portal): MDM servers and their token
/// downloads, devices assigned to or released from a server, per-device answers for tests, fields ABM sets on a
/// device, and a profile changed at Apple. Every action takes the org lock (<see cref="OrgState.Gate"/>) once.
/// </summary>
internal sealed class AbmPortal
{
    public const string DefaultOrgName = "Example Organisation";
    public const string DefaultAdminId = "ade.admin@example.com";
    public static readonly TimeSpan TokenLifetime = TimeSpan.FromDays(365);

    private readonly OrgState state;
    private readonly Uri service;

    /// <param name="service">The simulator's base URI (shown on the server objects).</param>
    public AbmPortal(OrgState state, Uri service)
    {
        this.state = state;
        this.service = service;
    }

    private DateTimeOffset Now => state.Time.GetUtcNow();

    // ---- servers and tokens ----------------------------------------------------------------------------------------

    /// <summary>"Add MDM server": the server for the uploaded certificate and its first token (.p7m text).</summary>
    public AdeSimServer NewServer(string name, string certificatePem, out string tokenFileText, string? orgName, string? adminId, DateTimeOffset? expiresAt)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            throw SimErrors.ArgumentInvalid("Name", name ?? "", "an MDM server needs a name.");
        }

        var credentials = ServerTokenCredentials.CreateRandom(expiresAt ?? Now + TokenLifetime);
        tokenFileText = WriteToken(certificatePem, credentials); // RSA work outside the lock
        lock (state.Gate)
        {
            if (state.Servers.Any(s => s.Name.Equals(name, StringComparison.OrdinalIgnoreCase)))
            {
                throw SimErrors.ServerExists(name);
            }

            var server = new ServerState
            {
                Name = name.Trim(),
                Uuid = state.Generator.NewUuid(),
                OrgName = string.IsNullOrWhiteSpace(orgName) ? (state.Servers.Count > 0 ? state.Servers[0].OrgName : DefaultOrgName) : orgName.Trim(),
                AdminId = string.IsNullOrWhiteSpace(adminId) ? DefaultAdminId : adminId.Trim(),
                CertificatePem = certificatePem,
                Credentials = credentials,
            };
            state.AddServer(server);
            return server.ToOutput(service);
        }
    }

    /// <summary>"Download token": a new token (same consumer key); the previous token and its sessions stop working at once.</summary>
    public AdeSimServer ExportServerToken(string server, out string tokenFileText, string? certificatePem, DateTimeOffset? expiresAt)
    {
        ServerState found;
        string pem;
        ServerTokenCredentials current;
        lock (state.Gate)
        {
            // read under the lock: Apple's API may replace the certificate (PATCH /v1/mdmServers) at the same time
            found = state.Find(server);
            pem = certificatePem ?? found.CertificatePem;
            current = found.Credentials;
        }

        var fresh = ServerTokenCredentials.CreateRandom(expiresAt ?? Now + TokenLifetime);
        var credentials = fresh with { ConsumerKey = current.ConsumerKey, ConsumerSecret = current.ConsumerSecret };
        tokenFileText = WriteToken(pem, credentials);
        lock (state.Gate)
        {
            found.Credentials = credentials;
            found.TokenVersion++;
            if (certificatePem is not null)
            {
                found.CertificatePem = certificatePem;
            }

            state.EndSessionsOf(found);
            return found.ToOutput(service);
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

    public ServerTokenCredentials CredentialsOf(string server)
    {
        lock (state.Gate) return state.Find(server).Credentials;
    }

    public void SetTokenFile(string server, string path)
    {
        lock (state.Gate) state.Find(server).TokenFile = path;
    }

    public AdeSimServer GetServer(string server)
    {
        lock (state.Gate) return state.Find(server).ToOutput(service);
    }

    public IReadOnlyList<AdeSimServer> GetServers()
    {
        lock (state.Gate) return [.. state.Servers.Select(s => s.ToOutput(service))];
    }

    public int ServerCount
    {
        get { lock (state.Gate) return state.Servers.Count; }
    }

    /// <summary>Whether POST /devices/disown is allowed for the server (403 ACCESS_DENIED otherwise).</summary>
    public AdeSimServer SetServer(string server, bool? allowDeviceRelease, string? serverType = null)
    {
        lock (state.Gate)
        {
            var found = state.Find(server);
            if (allowDeviceRelease is { } allow)
            {
                found.AllowDeviceRelease = allow;
            }

            if (serverType is not null)
            {
                found.ServerType = serverType;
            }

            return found.ToOutput(service);
        }
    }

    // ---- devices ---------------------------------------------------------------------------------------------------

    /// <summary>"Assign to MDM server": generated and/or named devices, each an <c>added</c> event; a serial on another server is refused.</summary>
    public IReadOnlyList<AdeSimDevice> AddDevices(string server, int count, IReadOnlyCollection<string>? serialNumbers, string? deviceFamily)
    {
        if (count < 0)
        {
            throw SimErrors.ArgumentInvalid("Count", count.ToString(CultureInfo.InvariantCulture), "give zero or more devices.");
        }

        DeviceGenerator.CheckFamily(deviceFamily);

        lock (state.Gate)
        {
            var found = state.Find(server);
            var now = Now;
            var added = new List<AdeSimDevice>(count + (serialNumbers?.Count ?? 0));
            foreach (var serial in serialNumbers ?? [])
            {
                var s = serial.Trim().ToUpperInvariant();
                if (s.Length is < 8 or > 14 || !s.All(char.IsAsciiLetterOrDigit))
                {
                    throw SimErrors.ArgumentInvalid("SerialNumber", serial, "an Apple serial number is 8 to 14 letters and digits.");
                }

                if (state.SerialOwners.TryGetValue(s, out var owner))
                {
                    throw SimErrors.DeviceExists(s, owner);
                }
            }

            foreach (var serial in (serialNumbers ?? []).Select(s => s.Trim().ToUpperInvariant()).Distinct())
            {
                added.Add(state.AddDevice(found, serial, deviceFamily, now));
            }

            for (var i = 0; i < count; i++)
            {
                added.Add(state.AddDevice(found, state.Generator.NewSerial(state.SerialOwners.ContainsKey), deviceFamily, now));
            }

            return added;
        }
    }

    /// <summary>"Unassign"/"release": the device leaves the server with a <c>deleted</c> event.</summary>
    public AdeSimDevice RemoveDevice(string server, string serialNumber)
    {
        lock (state.Gate)
        {
            var found = state.Find(server);
            var device = DeviceOf(found, serialNumber);
            state.Release(found, device, Now);
            return device;
        }
    }

    /// <summary>The server's devices as Apple sees them (all, oldest assignment first, or the given serials that exist).</summary>
    public IReadOnlyList<AdeSimDevice> GetDevices(string server, IReadOnlyCollection<string>? serialNumbers)
    {
        lock (state.Gate)
        {
            var found = state.Find(server);
            if (serialNumbers is null)
            {
                return [.. found.Devices.Values.OrderBy(d => d.DeviceAssignedDate).ThenBy(d => d.SerialNumber, StringComparer.Ordinal)];
            }

            var list = new List<AdeSimDevice>();
            foreach (var serial in serialNumbers)
            {
                if (found.Devices.TryGetValue(serial.Trim(), out var device))
                {
                    list.Add(device);
                }
            }

            return list;
        }
    }

    /// <summary>Apple answers FAILED, THROTTLED or NOT_ACCESSIBLE for this serial in assign and remove requests.</summary>
    public void SetDeviceOutcome(string server, string serialNumber, string status, int? count, int? retryAfterSeconds)
    {
        var normalised = status.ToUpperInvariant().Replace("NOTACCESSIBLE", "NOT_ACCESSIBLE", StringComparison.Ordinal);
        if (normalised is not ("FAILED" or "THROTTLED" or "NOT_ACCESSIBLE"))
        {
            throw SimErrors.ArgumentInvalid("DeviceStatus", status, "use Failed, Throttled or NotAccessible.");
        }

        lock (state.Gate)
        {
            state.Find(server).Outcomes[serialNumber.Trim()] = new DeviceOutcome { Status = normalised, Remaining = count, RetryAfterSeconds = retryAfterSeconds };
        }
    }

    /// <summary>Forgets every per-device answer of every server; returns how many there were.</summary>
    public int ClearDeviceOutcomes()
    {
        lock (state.Gate)
        {
            var n = state.Servers.Sum(s => s.Outcomes.Count);
            foreach (var server in state.Servers)
            {
                server.Outcomes.Clear();
            }

            return n;
        }
    }

    /// <summary>The device was switched on and fetched its profile: an assigned profile becomes <c>pushed</c>.</summary>
    public AdeSimDevice ActivateDevice(string server, string serialNumber)
    {
        lock (state.Gate)
        {
            var found = state.Find(server);
            var device = DeviceOf(found, serialNumber);
            if (device.ProfileStatus == "pushed")
            {
                return device;
            }

            if (device.ProfileStatus != "assigned")
            {
                throw SimErrors.DeviceHasNoProfile(device.SerialNumber, found.Name, device.ProfileStatus ?? "empty");
            }

            var now = Now;
            var pushed = device with { ProfileStatus = "pushed", ProfilePushTime = now };
            found.Devices[device.SerialNumber] = pushed;
            found.Record(pushed, "modified", now);
            return pushed;
        }
    }

    /// <summary>Fields ABM sets on a device (migration deadline, replacement flag); the change is a <c>modified</c> event.</summary>
    public AdeSimDevice SetDevice(string server, string serialNumber, DateTimeOffset? mdmMigrationDeadline, bool clearDeadline, bool? isReplacementDevice)
    {
        lock (state.Gate)
        {
            var found = state.Find(server);
            var device = DeviceOf(found, serialNumber);
            var changed = device with
            {
                MdmMigrationDeadline = clearDeadline ? null : mdmMigrationDeadline ?? device.MdmMigrationDeadline,
                IsReplacementDevice = isReplacementDevice ?? device.IsReplacementDevice,
            };
            found.Devices[device.SerialNumber] = changed;
            found.Record(changed, "modified", Now);
            return changed;
        }
    }

    private static AdeSimDevice DeviceOf(ServerState server, string serialNumber)
        => server.Devices.TryGetValue(serialNumber.Trim(), out var device) ? device : throw SimErrors.DeviceNotFound(server.Name, serialNumber);

    // ---- profiles --------------------------------------------------------------------------------------------------

    /// <summary>The server's profiles as Apple holds them, oldest first (Get-AdeSimProfile).</summary>
    public IReadOnlyList<AdeSimProfile> GetProfiles(string server)
    {
        lock (state.Gate)
        {
            var found = state.Find(server);
            var holders = found.Devices.Values.Where(d => d.ProfileUuid is not null).CountBy(d => d.ProfileUuid!, StringComparer.OrdinalIgnoreCase)
                .ToDictionary(StringComparer.OrdinalIgnoreCase);
            return [.. found.Profiles.Values.OrderBy(p => p.DefinedAt).ThenBy(p => p.Uuid, StringComparer.Ordinal).Select(p => new AdeSimProfile
            {
                Server = found.Name,
                ProfileUuid = p.Uuid,
                ProfileName = p.Definition.TryGetProperty("profile_name", out var name) && name.ValueKind == JsonValueKind.String ? name.GetString()! : "",
                DefinedAt = p.DefinedAt,
                DeviceCount = holders.GetValueOrDefault(p.Uuid),
                Keys = Keys(p.Definition),
                Json = p.Definition.GetRawText(),
            })];
        }

        static System.Collections.Specialized.OrderedDictionary Keys(JsonElement definition)
        {
            var keys = new System.Collections.Specialized.OrderedDictionary(StringComparer.Ordinal);
            foreach (var property in definition.EnumerateObject())
            {
                keys[property.Name] = Value(property.Value);
            }

            return keys;
        }

        static object? Value(JsonElement value) => value.ValueKind switch
        {
            JsonValueKind.String => value.GetString(),
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.Number => value.TryGetInt64(out var whole) ? whole : value.GetDouble(),
            JsonValueKind.Array => value.EnumerateArray().Select(Value).ToArray(),
            JsonValueKind.Object => Keys(value),
            _ => null,
        };
    }

    /// <summary>Changes keys of a profile as Apple holds it (Apple's JSON names; a null value removes the key).</summary>
    public void SetProfileKeys(string server, string profileUuid, IReadOnlyDictionary<string, object?> keys)
    {
        lock (state.Gate)
        {
            var found = state.Find(server);
            if (!found.Profiles.TryGetValue(profileUuid.Trim(), out var profile))
            {
                throw SimErrors.ProfileNotFound(found.Name, profileUuid);
            }

            var node = JsonNode.Parse(profile.Definition.GetRawText())!.AsObject();
            foreach (var (key, value) in keys)
            {
                if (value is null)
                {
                    node.Remove(key);
                }
                else
                {
                    node[key] = JsonSerializer.SerializeToNode(value);
                }
            }

            using var doc = JsonDocument.Parse(node.ToJsonString());
            found.Profiles[profile.Uuid] = profile with { Definition = doc.RootElement.Clone() };
        }
    }
}

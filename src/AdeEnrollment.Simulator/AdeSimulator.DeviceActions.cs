using System.Text.Json;
using System.Text.Json.Nodes;
using AdeEnrollment.Simulator.Service;

namespace AdeEnrollment.Simulator;

/// <summary>
/// Apple's side of the device actions: the release permission of a server, device fields set in ABM
/// (migration deadline, replacement device), and a profile changed at Apple (for drift tests).
/// </summary>
public sealed partial class AdeSimulator
{
    private static void WriteDeviceActionFields(Utf8JsonWriter w, AdeSimDevice d, int version)
    {
        if (version >= 8 && d.MdmMigrationDeadline is { } deadline)
        {
            w.WriteString("mdm_migration_deadline", Iso(deadline));
        }

        if (d.IsReplacementDevice is { } replacement)
        {
            w.WriteBoolean("is_replacement_device", replacement);
        }
    }

    /// <summary>Set-AdeSimServer -AllowDeviceRelease: whether POST /devices/disown is allowed (403 ACCESS_DENIED otherwise).</summary>
    public AdeSimServer SetServer(string server, bool? allowDeviceRelease)
    {
        lock (gate)
        {
            var state = Find(server);
            if (allowDeviceRelease is { } allow)
            {
                state.AllowDeviceRelease = allow;
            }

            return state.ToOutput(Uri);
        }
    }

    /// <summary>Set-AdeSimDevice: fields ABM sets on a device; the change is a 'modified' event for sync.</summary>
    public AdeSimDevice SetDevice(string server, string serialNumber, DateTimeOffset? mdmMigrationDeadline, bool clearDeadline, bool? isReplacementDevice)
    {
        lock (gate)
        {
            var state = Find(server);
            if (!state.Devices.TryGetValue(serialNumber.Trim(), out var device))
            {
                throw SimErrors.DeviceNotFound(state.Name, serialNumber);
            }

            var changed = device with
            {
                MdmMigrationDeadline = clearDeadline ? null : mdmMigrationDeadline ?? device.MdmMigrationDeadline,
                IsReplacementDevice = isReplacementDevice ?? device.IsReplacementDevice,
            };
            state.Devices[device.SerialNumber] = changed;
            state.Record(changed, "modified", Time.GetUtcNow());
            return changed;
        }
    }

    /// <summary>
    /// Set-AdeSimProfile: changes keys of a profile as Apple holds it (someone redefined it elsewhere), so a client's
    /// drift check has something to find. Keys are Apple's JSON names; a null value removes the key.
    /// </summary>
    public void SetProfileKeys(string server, string profileUuid, IReadOnlyDictionary<string, object?> keys)
    {
        lock (gate)
        {
            var state = Find(server);
            if (!state.Profiles.TryGetValue(profileUuid.Trim(), out var profile))
            {
                throw SimErrors.ProfileNotFound(state.Name, profileUuid);
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
            state.Profiles[profile.Uuid] = profile with { Definition = doc.RootElement.Clone() };
        }
    }
}

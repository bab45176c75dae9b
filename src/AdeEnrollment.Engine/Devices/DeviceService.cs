using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Devices;

/// <summary>Get-AdeDevice and Remove-AdeDevice: the devices the engine knows from syncs.</summary>
public sealed class DeviceService
{
    private readonly AdeStore store;
    private readonly IAdeHost host;
    private readonly TokenService tokens;

    internal DeviceService(AdeStore store, IAdeHost host, TokenService tokens)
    {
        this.store = store;
        this.host = host;
        this.tokens = tokens;
    }

    /// <summary>Streams the devices that match; nothing is held in memory beyond the current row.</summary>
    public IEnumerable<AdeDevice> Get(DeviceQuery query) => store.Stream(DeviceRepository.Query(store, query));

    /// <summary>
    /// Removes devices from the engine (not from ABM). A device that ABM still assigns to the token's MDM server
    /// comes back at the next full sync. Returns the number removed; an unknown serial is reported per item.
    /// </summary>
    public int Remove(string serialNumber, Guid? tokenId)
    {
        var serial = DeviceRepository.NormaliseSerial(serialNumber);
        var matches = Get(new DeviceQuery(TokenId: tokenId, SerialNumber: serial)).ToList();
        if (matches.Count == 0)
        {
            throw ErrorCatalog.DeviceNotFound(serialNumber);
        }

        var removed = 0;
        foreach (var device in matches)
        {
            if (!host.ShouldProcess($"{device.SerialNumber} (token '{device.Token}')", "Remove device from AdeEnrollment (it stays in Apple Business Manager)"))
            {
                continue;
            }

            removed += store.Write((c, _) => c.Execute("DELETE FROM device WHERE token_id = $t AND serial_number = $s",
                ("$t", device.TokenId.ToString()), ("$s", device.SerialNumber)));
            if (device.AbmState == AdeAbmState.Assigned)
            {
                host.WriteWarning($"Device {device.SerialNumber} is still assigned to the MDM server of token '{device.Token}' in Apple Business Manager: it comes back at the next full sync. Unassign or release it in ABM to remove it for good.");
            }
        }

        return removed;
    }
}

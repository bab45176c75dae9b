using System.Text.Json;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Business.Handlers;

/// <summary>GET /v1/orgDevices (cursor paged, fields[] honoured) and GET /v1/orgDevices/{serial}: the account's organisation only.</summary>
internal static class OrgDevicesHandler
{
    public static Answer List(BusinessRequest r)
    {
        var b = r.B;
        if (!BusinessJson.TryPaging(b, r.X, out var limit, out var after, out var bad)) return bad!;
        var fields = BusinessJson.Fields(r.X, "orgDevices");
        // the order of the whole listing is taken on its first page and kept for its cursors (a snapshot: devices
        // released meanwhile are skipped, devices added meanwhile appear in the next listing)
        if (after is null || !b.OrgListings.TryGetValue(r.OrgName, out var listing) || listing.Shuffled != b.Settings.ShuffledOrder)
        {
            var keys = b.ListedSerials(r.OrgName).Select(b.OrderKey).ToArray();
            Array.Sort(keys, StringComparer.Ordinal);
            b.OrgListings[r.OrgName] = listing = (keys, b.Settings.ShuffledOrder);
        }

        var all = listing.Keys;
        var start = after is null ? 0 : Array.BinarySearch(all, after, StringComparer.Ordinal) is var i && i >= 0 ? i + 1 : ~i;
        var page = new List<AdeSimOrgDevice>(limit);
        string? lastKey = null;
        var more = false;
        for (var k = start; k < all.Length; k++)
        {
            if (page.Count == limit)
            {
                more = true;
                break;
            }

            if (b.VisibleDevice(BusinessState.IdOfKey(all[k]), r.OrgName) is { } device)
            {
                page.Add(b.Decorate(device));
                lastKey = all[k];
            }
        }

        return BusinessJson.Api(w =>
        {
            w.WriteStartArray("data");
            foreach (var d in page) Write(w, b, d, fields, listed: true);
            w.WriteEndArray();
            BusinessJson.WritePaging(w, b, "v1/orgDevices", limit, more ? lastKey : null, all.Length);
        }, deviceCount: page.Count);
    }

    public static Answer Get(BusinessRequest r)
    {
        var b = r.B;
        var device = b.VisibleDevice(r.Id, r.OrgName);
        if (device is null) return BusinessJson.NotFound("orgDevices", r.Id);
        var fields = BusinessJson.Fields(r.X, "orgDevices");
        return BusinessJson.Api(w =>
        {
            w.WritePropertyName("data");
            Write(w, b, b.Decorate(device), fields, listed: false);
            w.WriteStartObject("links");
            w.WriteString("self", b.Link("v1/orgDevices/" + device.SerialNumber));
            w.WriteEndObject();
        });
    }

    /// <summary>IMEI and MEID as lists (Apple's documented shape), as one string (older answers: the first one) or not at all; the EID as a string.</summary>
    private static void WriteRadioIds(Utf8JsonWriter w, string shape, AdeSimOrgDevice d, Func<string, bool> f)
    {
        if (shape == "None")
        {
            return;
        }

        void Many(string name, IReadOnlyList<string> values)
        {
            if (values.Count == 0 || !f(name)) return;
            if (shape == "String")
            {
                w.WriteString(name, values[0]);
                return;
            }

            w.WriteStartArray(name);
            foreach (var value in values) w.WriteStringValue(value);
            w.WriteEndArray();
        }

        Many("imei", d.Imei);
        Many("meid", d.Meid);
        if (d.Eid is not null && f("eid")) w.WriteString("eid", d.Eid);
    }

    /// <summary>The MAC attributes in the shape the switch asks for (Apple documents Wi-Fi and Bluetooth as strings, Ethernet as an array; clients have seen arrays and another key).</summary>
    private static void WriteMacs(Utf8JsonWriter w, string shape, AdeSimOrgDevice d, Func<string, bool> f)
    {
        if (shape == "None")
        {
            return;
        }

        void One(string name, string? value)
        {
            if (value is null || !f(name)) return;
            if (shape == "Array")
            {
                w.WriteStartArray(name);
                w.WriteStringValue(value);
                w.WriteEndArray();
            }
            else
            {
                w.WriteString(name, value);
            }
        }

        One("wifiMacAddress", d.WiFiMacAddress);
        One("bluetoothMacAddress", d.BluetoothMacAddress);
        if (d.EthernetMacAddress.Count > 0 && f("ethernetMacAddress"))
        {
            w.WriteStartArray(shape == "BuiltInEthernet" ? "builtInEthernetMacAddress" : "ethernetMacAddress");
            foreach (var mac in d.EthernetMacAddress) w.WriteStringValue(mac);
            w.WriteEndArray();
        }
    }

    /// <param name="listed">In the inventory listing, whose releasedFromOrgDateTime Apple leaves null (it is filled only
    /// when a device is read by itself) unless ReleaseDateInList says otherwise.</param>
    private static void Write(Utf8JsonWriter w, BusinessState b, AdeSimOrgDevice d, HashSet<string>? fields, bool listed)
    {
        bool F(string name) => fields is null || fields.Contains(name);
        w.WriteStartObject();
        w.WriteString("type", "orgDevices");
        w.WriteString("id", d.SerialNumber);
        w.WriteStartObject("attributes");
        if (F("serialNumber")) w.WriteString("serialNumber", d.SerialNumber);
        if (F("addedToOrgDateTime")) w.WriteString("addedToOrgDateTime", BusinessJson.Iso(d.AddedToOrgDate));
        if (b.Settings.ReleaseAttributes)
        {
            if (F("releasedFromOrgDateTime"))
            {
                if (d.ReleasedFromOrgDate is { } released && (!listed || b.Settings.ReleaseDateInList)) w.WriteString("releasedFromOrgDateTime", BusinessJson.Iso(released));
                else w.WriteNull("releasedFromOrgDateTime");
            }

            // not in the documented 2.4 attribute list (older field lists and other clients have them): sent for released devices only
            if (d.ReleaserId is not null && F("releaserId")) w.WriteString("releaserId", d.ReleaserId);
            if (d.ReleaserEntityType is not null && F("releaserEntityType")) w.WriteString("releaserEntityType", d.ReleaserEntityType);
        }

        if (F("updatedDateTime")) w.WriteString("updatedDateTime", BusinessJson.Iso(d.UpdatedDate));
        if (F("deviceModel")) w.WriteString("deviceModel", d.DeviceModel);
        if (F("productFamily")) w.WriteString("productFamily", d.ProductFamily);
        if (F("productType") && d.ProductType is not null) w.WriteString("productType", d.ProductType);
        if (F("deviceCapacity") && d.DeviceCapacity is not null) w.WriteString("deviceCapacity", d.DeviceCapacity);
        if (F("partNumber") && d.PartNumber is not null) w.WriteString("partNumber", d.PartNumber);
        if (F("orderNumber") && d.OrderNumber is not null) w.WriteString("orderNumber", d.OrderNumber);
        if (F("color") && d.Color is not null) w.WriteString("color", d.Color);
        // API 2.3 attributes, not in the documented fields list: sent only while a migration is scheduled
        if (d.MdmMigrationStatus is not null && F("mdmMigrationStatus")) w.WriteString("mdmMigrationStatus", d.MdmMigrationStatus);
        if (d.MdmMigrationDeadline is { } due && F("mdmMigrationDeadlineDateTime")) w.WriteString("mdmMigrationDeadlineDateTime", BusinessJson.IsoZ(due));
        WriteMacs(w, b.Settings.MacAddressShape, d, F);
        WriteRadioIds(w, b.Settings.ImeiShape, d, F);
        if (F("status")) w.WriteString("status", d.Status);
        if (F("orderDateTime") && d.OrderDate is { } od) w.WriteString("orderDateTime", BusinessJson.IsoZ(od));
        // the misspelled key some answers have carried (PurchaseSourceUid switch); fields[] still names it purchaseSourceId
        if (F("purchaseSourceId") && d.PurchaseSourceId is not null) w.WriteString(b.Settings.PurchaseSourceUid ? "purchaseSourceUid" : "purchaseSourceId", d.PurchaseSourceId);
        if (F("purchaseSourceType") && d.PurchaseSourceType is not null) w.WriteString("purchaseSourceType", d.PurchaseSourceType);
        w.WriteEndObject();
        w.WriteStartObject("relationships");
        if (F("assignedServer"))
        {
            w.WriteStartObject("assignedServer");
            w.WriteStartObject("links");
            w.WriteString("self", b.Link($"v1/orgDevices/{d.SerialNumber}/relationships/assignedServer"));
            w.WriteString("related", b.Link($"v1/orgDevices/{d.SerialNumber}/assignedServer"));
            w.WriteEndObject();
            w.WriteEndObject();
        }

        if (F("appleCareCoverage"))
        {
            w.WriteStartObject("appleCareCoverage");
            w.WriteStartObject("links");
            w.WriteString("related", b.Link($"v1/orgDevices/{d.SerialNumber}/appleCareCoverage"));
            w.WriteEndObject();
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteStartObject("links");
        w.WriteString("self", b.Link("v1/orgDevices/" + d.SerialNumber));
        w.WriteEndObject();
        w.WriteEndObject();
    }
}

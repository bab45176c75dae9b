using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Errors;

namespace AdeEnrollment.Engine.Tests.Business;

/// <summary>
/// Payload shapes Apple leaves open (attributes as a string or a list, undocumented keys, attributes sent or not,
/// released devices and deleted servers listed or not, …), each produced by a simulator switch, and what the client
/// makes of every variant (the table "Business API simulator" in docs/architecture.md lists them with their tests).
/// </summary>
public sealed class BusinessShapeTests
{
    [Theory]
    [InlineData("String")]
    [InlineData("Array")]
    [InlineData("BuiltInEthernet")]
    [InlineData("None")]
    public void Mac_addresses_are_read_whether_Apple_sends_strings_arrays_or_the_builtInEthernet_key_and_filter_by_any_separator(string shape)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.MacAddressShape = shape;
        var macs = fx.Simulator.AddOrgDevices(2, productFamily: "Mac");
        var phone = Assert.Single(fx.Simulator.AddOrgDevices(1, productFamily: "iPhone"));
        var read = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).ToDictionary(d => d.SerialNumber);
        Assert.Equal(3, read.Count);
        foreach (var sim in macs.Append(phone))
        {
            var d = read[sim.SerialNumber];
            if (shape == "None")
            {
                Assert.Empty(d.WiFiMacAddress);
                Assert.Empty(d.BluetoothMacAddress);
                Assert.Empty(d.EthernetMacAddress);
                continue;
            }

            Assert.Equal([sim.WiFiMacAddress!], d.WiFiMacAddress);
            Assert.Equal([sim.BluetoothMacAddress!], d.BluetoothMacAddress);
            Assert.Equal(sim.EthernetMacAddress, d.EthernetMacAddress);
        }

        Assert.Equal(shape == "None" ? 0 : 1, read[macs[0].SerialNumber].EthernetMacAddress.Count);
        Assert.Empty(read[phone.SerialNumber].EthernetMacAddress);

        // network access control lists write MACs in every style: lower case with '-', Cisco's dotted form, upper case with ':'
        var ethernet = macs[1].EthernetMacAddress[0].Replace(":", "", StringComparison.Ordinal).ToLowerInvariant();
        var dotted = string.Join('.', ethernet.Chunk(4).Select(c => new string(c)));
        var found = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(MacAddresses: [phone.WiFiMacAddress!.Replace(':', '-').ToLowerInvariant(), dotted])).Select(d => d.SerialNumber).ToList();
        Assert.Equal(shape == "None" ? [] : new[] { macs[1].SerialNumber, phone.SerialNumber }.Order(StringComparer.Ordinal), found.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void A_MAC_address_filter_that_is_not_one_is_refused_before_anything_is_read()
    {
        using var fx = new BusinessFixture();
        fx.Simulator.AddOrgDevices(1);
        var ex = Assert.Throws<AdeException>(() => fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(MacAddresses: ["F0:18:98:12:34"])).ToList());
        Assert.Equal("ArgumentInvalid", ex.ErrorId);
        Assert.Equal(0, fx.Requests("/v1/orgDevices"));
    }
}

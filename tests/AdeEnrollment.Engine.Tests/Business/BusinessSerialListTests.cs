using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Errors;

namespace AdeEnrollment.Engine.Tests.Business;

/// <summary>
/// A list of serials without wildcards, as Get-AdeOrgDevice -SerialNumber or piped serials give it: more than 20 are
/// read from the inventory listing (up to 20 one by one), and either way they come back in the order given, and a
/// serial Apple does not hold is BusinessDeviceNotFound.
/// </summary>
public sealed class BusinessSerialListTests
{
    [Fact]
    public void A_long_list_read_from_the_listing_comes_back_in_the_order_given_and_names_each_unknown_serial()
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PageSize = 7 });
        var serials = fx.Simulator.AddOrgDevices(40).Select(d => d.SerialNumber).ToList();
        var given = serials.Take(30).Reverse().ToList();
        given.Insert(5, "ZZZZ99999998");
        given.Add("ZZZZ99999999");
        var missing = new List<AdeException>();

        var read = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: given.Select(s => s.ToLowerInvariant()).ToList()), missing.Add).ToList();

        Assert.Equal(given.Where(s => !s.StartsWith("ZZZZ", StringComparison.Ordinal)), read.Select(d => d.SerialNumber));
        Assert.Empty(fx.Simulator.GetRequests("/v1/orgDevices/*")); // from the listing, not one by one
        Assert.Equal(["ZZZZ99999998", "ZZZZ99999999"], missing.Select(e => e.Target));
        Assert.All(missing, e => Assert.Equal(nameof(ErrorCatalog.BusinessDeviceNotFound), e.ErrorId));
        Assert.Equal(nameof(ErrorCatalog.BusinessDeviceNotFound),
            Assert.Throws<AdeException>(() => fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: given)).ToList()).ErrorId);
        // up to 20 are read one by one, in the order given too
        var few = given.Take(20).Where(s => !s.StartsWith("ZZZZ", StringComparison.Ordinal)).ToList();
        Assert.Equal(few, fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: few)).Select(d => d.SerialNumber));
    }

    [Fact]
    public void The_listing_stops_once_every_serial_given_is_found()
    {
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PageSize = 10 });
        fx.Simulator.AddOrgDevices(25);
        fx.Simulator.AddOrgDevices(75);
        var all = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).ToList();
        Assert.Equal(100, all.Count);
        var fullListing = fx.Simulator.GetRequests("/v1/orgDevices").Count;
        // the first 25 devices of the listing, asked for in another order
        var wanted = all.Take(25).Select(d => d.SerialNumber).OrderBy(s => s, StringComparer.Ordinal).ToList();

        var read = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: wanted)).ToList();

        Assert.Equal(wanted, read.Select(d => d.SerialNumber));
        Assert.Equal(3, fx.Simulator.GetRequests("/v1/orgDevices").Count - fullListing);
    }

    [Fact]
    public void A_serial_another_filter_leaves_out_is_not_returned_and_is_no_error()
    {
        using var fx = new BusinessFixture();
        var macs = fx.Simulator.AddOrgDevices(15, productFamily: "Mac").Select(d => d.SerialNumber).ToList();
        var ipads = fx.Simulator.AddOrgDevices(15, productFamily: "iPad").Select(d => d.SerialNumber).ToList();
        var given = macs.Concat(ipads).Reverse().ToList();

        var read = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: given, ProductFamilies: ["iPad"]),
            e => Assert.Fail("no serial is unknown: " + e.Message)).ToList();

        Assert.Equal(ipads.AsEnumerable().Reverse(), read.Select(d => d.SerialNumber));
    }
}

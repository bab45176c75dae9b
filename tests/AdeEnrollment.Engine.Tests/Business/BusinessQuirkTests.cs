using System.Text.Json;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Tests.Business;

/// <summary>
/// Apple behaviour that is uncertain (a misspelled attribute, a limit out of range clamped or refused, undocumented
/// query parameters ignored or refused, the single server read refused on older accounts), each produced by a
/// simulator switch: first that the simulator really sends the variant, then that the client reads as usual.
/// </summary>
public sealed class BusinessQuirkTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void The_purchase_source_id_is_read_under_the_documented_key_and_under_the_misspelled_purchaseSourceUid(bool misspelled)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.PurchaseSourceUid = misspelled;
        var sim = fx.Simulator.AddOrgDevices(3);
        Assert.All(sim, d => Assert.NotNull(d.PurchaseSourceId));

        // the simulator really sends the key the switch names (and only that one)
        using (var raw = fx.Engine.Business.Client(null).Get("orgDevices/" + sim[0].SerialNumber))
        {
            var a = raw.RootElement.GetProperty("data").GetProperty("attributes");
            Assert.Equal(misspelled, a.TryGetProperty("purchaseSourceUid", out _));
            Assert.Equal(!misspelled, a.TryGetProperty("purchaseSourceId", out _));
        }

        var listed = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).ToDictionary(d => d.SerialNumber);
        var one = Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [sim[1].SerialNumber])));
        foreach (var d in sim)
        {
            Assert.Equal(d.PurchaseSourceId, listed[d.SerialNumber].PurchaseSourceId);
            Assert.Equal(d.PurchaseSourceType, listed[d.SerialNumber].PurchaseSourceType);
        }

        Assert.Equal(sim[1].PurchaseSourceId, one.PurchaseSourceId);
    }

    [Theory]
    [InlineData("Reject")]
    [InlineData("Clamp")]
    public void Every_page_is_read_whether_Apple_refuses_or_clamps_a_limit_above_its_maximum(string mode)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.LimitOutOfRange = mode;
        fx.Simulator.BusinessMaxLimit = 2; // below the client's page size of 1000
        var sim = fx.Simulator.AddOrgDevices(7);

        // the variant: refused with 400 naming limit, or answered with at most the maximum
        var client = fx.Engine.Business.Client(null);
        if (mode == "Reject")
        {
            var ex = Assert.Throws<AdeException>(() => client.Get("orgDevices?limit=1000").Dispose());
            Assert.Equal(400, ex.HttpStatus);
            Assert.Equal("limit", ex.ErrorParameter);
        }
        else
        {
            using var page = client.Get("orgDevices?limit=1000");
            Assert.Equal(2, page.RootElement.GetProperty("data").GetArrayLength());
            Assert.Equal(2, page.RootElement.GetProperty("meta").GetProperty("paging").GetProperty("limit").GetInt32());
        }

        var read = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery()).Select(d => d.SerialNumber).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(sim.Select(d => d.SerialNumber).Order(StringComparer.Ordinal), read);
        Assert.NotEmpty(fx.Engine.Business.GetMdmServers());
        // 7 devices at 2 a page: 4 pages
        Assert.True(fx.Simulator.GetRequests("/v1/orgDevices").Count(r => r.StatusCode == 200) >= 4);
    }

    [Fact]
    public void A_limit_that_is_no_number_is_refused_with_source_parameter_limit_in_either_mode()
    {
        using var fx = new BusinessFixture();
        fx.Simulator.LimitOutOfRange = "Clamp";
        var ex = Assert.Throws<AdeException>(() => fx.Engine.Business.Client(null).Get("mdmServers?limit=0").Dispose());
        Assert.Equal(400, ex.HttpStatus);
        Assert.Equal("limit", ex.ErrorParameter);
    }

    [Theory]
    [InlineData("Ignore")]
    [InlineData("Reject")]
    public void Serials_are_read_whether_Apple_ignores_or_refuses_undocumented_query_parameters(string mode)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.UnknownQueryParameters = mode;
        var sim = fx.Simulator.AddOrgDevices(5);
        var wanted = new[] { sim[0].SerialNumber, sim[3].SerialNumber, sim[4].SerialNumber };

        // the variant: filter[serialNumber] ignored (the whole listing) or refused with 400 naming it
        var client = fx.Engine.Business.Client(null);
        if (mode == "Reject")
        {
            var ex = Assert.Throws<AdeException>(() => client.Get("orgDevices?filter[serialNumber]=" + wanted[0]).Dispose());
            Assert.Equal(400, ex.HttpStatus);
            Assert.Equal("filter[serialNumber]", ex.ErrorParameter);
        }
        else
        {
            using var page = client.Get("orgDevices?filter[serialNumber]=" + wanted[0]);
            Assert.Equal(5, page.RootElement.GetProperty("data").GetArrayLength());
        }

        var bySerial = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: wanted)).Select(d => d.SerialNumber).Order(StringComparer.Ordinal);
        Assert.Equal(wanted.Order(StringComparer.Ordinal), bySerial);
        var byWildcard = fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [sim[2].SerialNumber[..^1] + "*"])).Select(d => d.SerialNumber);
        Assert.Contains(sim[2].SerialNumber, byWildcard);
        Assert.NotEmpty(fx.Engine.Business.GetMdmServers());
    }

    [Fact]
    public void Servers_are_read_by_name_when_Apple_refuses_the_single_server_read_with_403()
    {
        using var fx = new BusinessFixture();
        fx.Simulator.ForbidServerRead = true;
        var server = Assert.Single(fx.Engine.Business.GetMdmServers(), s => s.Name == "Contoso iPads");

        // the variant: GET /v1/mdmServers/{id} is 403 while the listing answers
        var ex = Assert.Throws<AdeException>(() => fx.Engine.Business.Client(null).Get("mdmServers/" + server.Id).Dispose());
        Assert.Equal(403, ex.HttpStatus);

        var byName = Assert.Single(fx.Engine.Business.GetMdmServers(name: "Contoso iPads"));
        Assert.Equal(server.Id, byName.Id);
        Assert.Equal(server.Id, fx.Engine.Business.ResolveServer(server.Id, null).Id);
        var device = Assert.Single(fx.Simulator.AddOrgDevices(1));
        Assert.Equal("COMPLETED", Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, [device.SerialNumber], null, server: "Contoso iPads", wait: true)).Status);
        Assert.Equal("Contoso iPads", Assert.Single(fx.Engine.Business.GetOrgDevices(new OrgDeviceQuery(SerialNumbers: [device.SerialNumber]))).MdmServer);
    }

    [Theory]
    [InlineData(false, "-----BEGIN EC PRIVATE KEY-----")] // PKCS#8 content under the SEC1 label
    [InlineData(true, "-----BEGIN PRIVATE KEY-----")] // SEC1 content under the PKCS#8 label
    public void An_account_whose_key_PEM_label_does_not_match_its_content_is_stored_and_gets_a_token(bool sec1, string label)
    {
        using var fx = new BusinessFixture();
        var sim = fx.Simulator.NewBusinessAccount(out var pem, sec1: sec1, mislabelled: true);
        Assert.StartsWith(label, pem, StringComparison.Ordinal);
        var path = fx.Sim.Temp.File("mislabelled.pem");
        File.WriteAllText(path, pem);
        var stored = fx.Engine.Business.Accounts.New(new NewBusinessAccountArgs(sim.ClientId, sim.KeyId, path, sim.TokenUri, sim.ServiceUri))!;
        Assert.NotEmpty(fx.Engine.Business.GetMdmServers(stored.ClientId));
    }
}

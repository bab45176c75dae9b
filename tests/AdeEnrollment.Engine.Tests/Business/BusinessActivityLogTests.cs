using AdeEnrollment.Engine.Business;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Tests.Business;

/// <summary>
/// Apple's activity log, which Apple does not document: every layout and status wording the simulator can write is
/// read to the same outcome per device, and a download that fails asks Apple for a fresh link before the outcome is
/// left unknown.
/// </summary>
public sealed class BusinessActivityLogTests
{
    private const string EngineServer = Support.EngineSimFixture.Server;

    /// <summary>An assignment of three devices, one of them already on the server: two changed, one not.</summary>
    private static AdeOrgDeviceActivity AssignWithOneFailure(BusinessFixture fx, out string already, Action? before = null)
    {
        var serials = fx.Simulator.AddOrgDevices(3).Select(d => d.SerialNumber).ToList();
        already = serials[0];
        fx.Engine.Business.Send(OrgDeviceAction.Assign, [already], null, server: EngineServer, wait: true);
        before?.Invoke();
        return Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: EngineServer, wait: true));
    }

    [Theory]
    [InlineData("Preamble", "SUCCESS", "FAILED")]
    [InlineData("NoPreamble", "SUCCESS", "FAILED")]
    [InlineData("Quoted", "SUCCESS", "FAILED")]
    [InlineData("TitleCase", "SUCCESS", "FAILED")]
    [InlineData("Preamble", "Succeeded", "Error")]
    [InlineData("Quoted", "successful", "FAILURE")]
    public void Every_log_layout_and_status_wording_reads_to_the_same_outcome_per_device(string shape, string success, string failure)
    {
        using var fx = new BusinessFixture();
        fx.Simulator.ActivityLogShape = shape;
        (fx.Simulator.ActivityLogSuccess, fx.Simulator.ActivityLogFailure) = (success, failure);

        var activity = AssignWithOneFailure(fx, out var already);

        Assert.Equal((2, 1, 0), (activity.Succeeded, activity.Failed, activity.Unknown));
        var failed = Assert.Single(activity.Devices, d => d.Status != "SUCCESS");
        Assert.Equal((already, failure.ToUpperInvariant(), "ALREADY_ASSIGNED"), (failed.SerialNumber, failed.Status, failed.Detail));
        Assert.All(activity.Devices.Where(d => d.SerialNumber != already), d => Assert.Equal(("SUCCESS", "ASSIGNED"), (d.Status, d.Detail)));
    }

    [Theory]
    [InlineData("serial_number,operation_status,operation_substatus\nA1,SUCCESS,ASSIGNED\n")]
    [InlineData("\uFEFFActivity,ASSIGN_DEVICES\nActivity ID,x\n\nserial_number,operation_status,operation_substatus\na1,success,ASSIGNED\n")]
    [InlineData("\"Note, with a comma\"\r\n\"Serial Number\",\"Operation Status\",\"Operation Substatus\",\"Message\"\r\n\"A1\",\"SUCCEEDED\",\"ASSIGNED\",\"Done, \"\"really\"\"\"\r\n")]
    [InlineData("Serial numbers below\nOPERATION_SUBSTATUS,SERIAL_NUMBER,STATUS\nASSIGNED, A1 ,Successful\n")]
    public void The_log_parser_finds_the_header_in_any_spelling_and_reads_quoted_cells(string csv)
    {
        var row = Assert.Single(BusinessService.ParseLog(csv));
        Assert.Equal(("A1", "SUCCESS", "ASSIGNED"), (row.SerialNumber, row.Status, row.Detail));
    }

    [Fact]
    public void A_log_without_a_header_or_with_rows_short_of_the_status_gives_no_outcome_rather_than_a_wrong_one()
    {
        Assert.Empty(BusinessService.ParseLog("serial_number\nA1\n")); // no status column: the devices stay UNKNOWN
        Assert.Empty(BusinessService.ParseLog("serial_number,operation_status\nA1\n"));
        Assert.Equal("UNKNOWN", Assert.Single(BusinessService.ParseLog("serial_number,operation_status\nA1,\n")).Status);
    }

    [Theory]
    [InlineData(403)] // the signed link expired
    [InlineData(503)] // the blob store failed
    public void A_log_download_that_fails_once_is_done_again_from_a_fresh_link(int status)
    {
        using var fx = new BusinessFixture();
        var activity = AssignWithOneFailure(fx, out _, () => fx.Simulator.AddFault("/abm-logs/*", status, count: 1));

        Assert.Equal((2, 1, 0), (activity.Succeeded, activity.Failed, activity.Unknown));
        // the failed download, then Apple is asked for the activity again (a fresh link), then the download from it
        var tail = fx.Simulator.GetRequests().Where(r => r.Path.EndsWith(activity.Id, StringComparison.Ordinal) || r.Path.StartsWith("/abm-logs/" + activity.Id, StringComparison.Ordinal))
            .TakeLast(3).Select(r => (r.Path.StartsWith("/abm-logs/", StringComparison.Ordinal) ? "log" : "activity", r.StatusCode));
        Assert.Equal([("log", status), ("activity", 200), ("log", 200)], tail);
        Assert.DoesNotContain(fx.Host.Warnings, w => w.Contains("could not be downloaded", StringComparison.Ordinal));
    }

    [Fact]
    public void A_log_that_cannot_be_downloaded_twice_leaves_the_outcome_unknown_with_a_warning_and_a_refresh_reads_it_later()
    {
        using var fx = new BusinessFixture();
        var serials = fx.Simulator.AddOrgDevices(2).Select(d => d.SerialNumber).ToList();
        fx.Simulator.AddFault("/abm-logs/*", 503, count: 2);

        var activity = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: EngineServer, wait: true));

        Assert.Equal("COMPLETED", activity.Status);
        Assert.Equal((0, 0, 2), (activity.Succeeded, activity.Failed, activity.Unknown)); // never a success it cannot show
        Assert.Contains(fx.Host.Warnings, w => w.Contains($"The log of activity {activity.Id} could not be downloaded (HTTP 503, twice)", StringComparison.Ordinal)
            && w.Contains($"Get-AdeOrgDeviceActivity -Id {activity.Id} -Refresh", StringComparison.Ordinal));

        var later = Assert.Single(fx.Engine.Business.GetActivities(activity.Id, refresh: true));
        Assert.Equal((2, 0, 0), (later.Succeeded, later.Failed, later.Unknown));
    }
}

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
    [InlineData("serial_number,status,operation_status,operation_substatus\nA1,Device found,SUCCESS,ASSIGNED\n")] // operation_status wins over status
    [InlineData("\"An unclosed summary\nserial_number,operation_status,operation_substatus\nA1,SUCCESS,ASSIGNED\n\"\nserial_number,operation_status,operation_substatus\nA1,SUCCESS,ASSIGNED\n")]
    public void The_log_parser_finds_the_header_in_any_spelling_and_reads_quoted_cells(string csv)
    {
        var row = Assert.Single(BusinessService.ParseLog(csv)!);
        Assert.Equal(("A1", "SUCCESS", "ASSIGNED"), (row.SerialNumber, row.Status, row.Detail));
    }

    [Theory]
    [InlineData("FAILED", "FAILED", "NOT_FOUND")]
    [InlineData("Error", "ERROR", "NOT_FOUND")]
    [InlineData("COMPLETED", "UNKNOWN", "COMPLETED: NOT_FOUND")] // a word the module does not know claims nothing
    [InlineData("", "UNKNOWN", "NOT_FOUND")]
    public void A_status_word_is_a_success_a_failure_or_unknown_never_a_failure_it_cannot_tell(string word, string status, string detail)
    {
        var row = Assert.Single(BusinessService.ParseLog($"serial_number,operation_status,operation_substatus\nA1,{word},NOT_FOUND\n")!);
        Assert.Equal((status, detail), (row.Status, row.Detail));
    }

    [Fact]
    public void A_row_that_is_not_well_formed_CSV_is_read_by_its_commas_and_a_log_without_a_header_is_not_read_at_all()
    {
        var row = Assert.Single(BusinessService.ParseLog("serial_number,operation_status,operation_substatus\nA1,FAILED,\"NOT_FOUND\" (see portal)\n")!);
        Assert.Equal(("A1", "FAILED"), (row.SerialNumber, row.Status));
        Assert.Null(BusinessService.ParseLog("serial_number\nA1\n")); // no status column: no header, the log is unread
        Assert.Null(BusinessService.ParseLog("Activity,ASSIGN_DEVICES\n"));
        Assert.Empty(BusinessService.ParseLog("serial_number,operation_status\nA1\n")!); // a row short of the status: no outcome
    }

    /// <summary>Records the log links the client downloads, and moves the clock on after a failed download (so that the fresh link Apple then gives differs).</summary>
    private sealed class LogLinks(BusinessFixture? fx = null) : DelegatingHandler(new HttpClientHandler())
    {
        public BusinessFixture? Fixture { get; set; } = fx;

        public List<Uri> Downloads { get; } = [];

        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            if (request.RequestUri!.AbsolutePath.StartsWith("/abm-logs/", StringComparison.Ordinal))
            {
                Downloads.Add(request.RequestUri);
                if (!response.IsSuccessStatusCode)
                {
                    Fixture!.Sim.Advance(TimeSpan.FromSeconds(2));
                }
            }

            return response;
        }
    }

    [Theory]
    [InlineData(403)] // the signed link expired
    [InlineData(503)] // the blob store failed
    public void A_log_download_that_fails_once_is_done_again_from_a_fresh_link(int status)
    {
        var links = new LogLinks();
        using var fx = new BusinessFixture(new BusinessClientOptions { GetsPerMinute = 10_000, PostsPerHour = 100, Handler = links });
        links.Fixture = fx;
        var activity = AssignWithOneFailure(fx, out _, () => fx.Simulator.AddFault("/abm-logs/*", status, count: 1));

        Assert.Equal((2, 1, 0), (activity.Succeeded, activity.Failed, activity.Unknown));
        // the failed download, then Apple is asked for the activity again (a fresh link), then the download from it
        var tail = fx.Simulator.GetRequests().Where(r => r.Path.EndsWith(activity.Id, StringComparison.Ordinal) || r.Path.StartsWith("/abm-logs/" + activity.Id, StringComparison.Ordinal))
            .TakeLast(3).Select(r => (r.Path.StartsWith("/abm-logs/", StringComparison.Ordinal) ? "log" : "activity", r.StatusCode));
        Assert.Equal([("log", status), ("activity", 200), ("log", 200)], tail);
        var last = links.Downloads.TakeLast(2).ToList();
        Assert.NotEqual(last[0], last[1]); // the second download used the fresh link, not the one that failed
        Assert.DoesNotContain(fx.Host.Warnings, w => w.Contains("could not be read", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(false)] // the fresh link fails too
    [InlineData(true)] // Apple cannot even be asked for a fresh link
    public void A_log_that_cannot_be_read_leaves_the_outcome_unknown_with_one_warning_saying_why_and_a_refresh_reads_it_later(bool activityReadFails)
    {
        using var fx = new BusinessFixture();
        var serials = fx.Simulator.AddOrgDevices(2).Select(d => d.SerialNumber).ToList();
        fx.Simulator.ActivityDuration = TimeSpan.Zero; // ended at the first poll: the next GET of the activity is the fresh link's
        fx.Simulator.AddFault("/abm-logs/*", 503, count: activityReadFails ? 1 : 2);
        if (activityReadFails)
        {
            fx.Simulator.AddFault("/v1/orgDeviceActivities/*", 404, count: 1, method: "GET", skip: 1);
        }

        var activity = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: EngineServer, wait: true));

        Assert.Equal("COMPLETED", activity.Status);
        Assert.Equal((0, 0, 2), (activity.Succeeded, activity.Failed, activity.Unknown)); // never a success it cannot show
        var warning = Assert.Single(fx.Host.Warnings, w => w.Contains(activity.Id, StringComparison.Ordinal));
        Assert.Contains($"its log could not be read (its download answered HTTP 503{(activityReadFails ? "" : ", twice")})", warning, StringComparison.Ordinal);
        Assert.Contains($"Get-AdeOrgDeviceActivity -Id {activity.Id} -Refresh reads the log again", warning, StringComparison.Ordinal);

        var later = Assert.Single(fx.Engine.Business.GetActivities(activity.Id, refresh: true));
        Assert.Equal((2, 0, 0), (later.Succeeded, later.Failed, later.Unknown));
    }

    [Fact]
    public void A_refresh_whose_log_cannot_be_read_says_so_in_one_warning()
    {
        using var fx = new BusinessFixture();
        var serials = fx.Simulator.AddOrgDevices(1).Select(d => d.SerialNumber).ToList();
        var sent = Assert.Single(fx.Engine.Business.Send(OrgDeviceAction.Assign, serials, null, server: EngineServer));
        fx.Sim.Advance(TimeSpan.FromMinutes(1));
        fx.Simulator.AddFault("/abm-logs/*", 503, count: 2);

        var read = Assert.Single(fx.Engine.Business.GetActivities(sent.Id, refresh: true));

        Assert.Equal(("COMPLETED", 1), (read.Status, read.Unknown));
        Assert.Contains("its log could not be read", Assert.Single(fx.Host.Warnings, w => w.Contains(sent.Id, StringComparison.Ordinal)), StringComparison.Ordinal);
    }
}

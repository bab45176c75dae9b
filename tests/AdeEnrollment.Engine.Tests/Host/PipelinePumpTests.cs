using AdeEnrollment.Host;

namespace AdeEnrollment.Engine.Tests.Host;

/// <summary>The pump's hand-over between the cmdlet's worker and the pipeline thread (src/AdeEnrollment/Host/PipelinePump.cs).</summary>
public sealed class PipelinePumpTests
{
    [Fact]
    public void Runs_every_posted_action_on_the_pipeline_thread_in_order()
    {
        var pump = new PipelinePump();
        var pipeline = Environment.CurrentManagedThreadId;
        var ran = new List<(int Value, int Thread)>();
        // more than the queue holds: the worker waits for the pipeline thread and nothing is lost
        var count = PipelinePump.Capacity * 3;
        pump.Run(() =>
        {
            for (var i = 0; i < count; i++)
            {
                var value = i;
                pump.Post(() => ran.Add((value, Environment.CurrentManagedThreadId)));
            }
        }, new CancellationTokenSource());

        Assert.Equal(Enumerable.Range(0, count), ran.Select(r => r.Value));
        Assert.All(ran, r => Assert.Equal(pipeline, r.Thread));
    }

    [Fact]
    public void Answers_questions_and_rethrows_the_work_s_failure_after_its_output()
    {
        var pump = new PipelinePump();
        var written = new List<string>();
        var thrown = Assert.Throws<InvalidOperationException>(() => pump.Run(() =>
        {
            var answer = pump.Invoke(() => 42);
            pump.Post(() => written.Add("answer " + answer));
            throw new InvalidOperationException("work failed");
        }, new CancellationTokenSource()));

        Assert.Equal("work failed", thrown.Message);
        Assert.Equal(["answer 42"], written);
    }

    [Fact]
    public void A_failing_host_action_stops_the_work_and_later_posts_are_refused()
    {
        var pump = new PipelinePump();
        using var stop = new CancellationTokenSource();
        var ranAfter = 0;
        Exception? seenByWork = null;
        // PowerShell's exception at a host action comes back as HostStoppedException (a stop for the engine) around it
        var thrown = Assert.Throws<Engine.Hosting.HostStoppedException>(() => pump.Run(() =>
        {
            pump.Post(() => throw new System.Management.Automation.PipelineStoppedException());
            try
            {
                // the worker goes on posting until it sees the stop: those actions are dropped, then a post throws
                while (true)
                {
                    pump.Post(() => ranAfter++);
                    Thread.Yield();
                }
            }
            catch (OperationCanceledException ex)
            {
                seenByWork = ex;
            }
        }, stop));

        Assert.IsType<System.Management.Automation.PipelineStoppedException>(thrown.InnerException);
        Assert.True(stop.IsCancellationRequested);
        Assert.IsType<OperationCanceledException>(seenByWork);
        Assert.Equal(0, ranAfter);
    }

    [Fact]
    public void A_host_action_failing_with_an_exception_that_is_not_PowerShells_comes_back_as_it_is()
    {
        var pump = new PipelinePump();
        using var stop = new CancellationTokenSource();

        var thrown = Assert.Throws<ArgumentException>(() => pump.Run(() =>
        {
            pump.Post(() => throw new ArgumentException("a bug in a host action"));
            stop.Token.WaitHandle.WaitOne(TimeSpan.FromSeconds(10));
        }, stop));

        Assert.Equal("a bug in a host action", thrown.Message); // catalogued as UnexpectedError by AdeCmdlet, not passed off as PowerShell's
    }

    [Fact]
    public void The_hand_off_drains_what_is_queued_after_adding_completes_then_ends()
    {
        var queue = new PipelinePump.HandOff(2);
        var first = new PipelinePump.Item(() => { }, null);
        var second = new PipelinePump.Item(() => { }, null);
        Assert.True(queue.Add(first));
        Assert.True(queue.Add(second));
        queue.CompleteAdding();

        Assert.False(queue.Add(new PipelinePump.Item(() => { }, null)));
        Assert.Same(first, queue.Take());
        Assert.Same(second, queue.Take());
        Assert.Null(queue.Take());
    }

    [Fact]
    public async Task A_full_hand_off_makes_the_adder_wait_until_an_item_is_taken()
    {
        var queue = new PipelinePump.HandOff(1);
        Assert.True(queue.Add(new PipelinePump.Item(() => { }, null)));
        var adding = Task.Run(() => queue.Add(new PipelinePump.Item(() => { }, null)));

        Assert.NotSame(adding, await Task.WhenAny(adding, Task.Delay(TimeSpan.FromMilliseconds(100))));
        Assert.NotNull(queue.Take());
        Assert.True(await adding.WaitAsync(TimeSpan.FromSeconds(30)));
    }
}

namespace AdeEnrollment.Engine.Tests;

/// <summary>The engine's wait for a task that is still running: the result, or the task's own exception as await throws it.</summary>
public sealed class BlockingTests
{
    [Fact]
    public void A_completed_task_gives_its_result()
    {
        Assert.Equal(42, Blocking.Wait(Task.FromResult(42)));
    }

    [Fact]
    public async Task A_running_task_is_waited_for_and_gives_its_result()
    {
        var gate = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiter = Task.Run(() => Blocking.Wait(gate.Task));
        Assert.NotSame(waiter, await Task.WhenAny(waiter, Task.Delay(50)));
        gate.SetResult("answer");
        Assert.Equal("answer", await waiter.WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task A_faulted_task_throws_its_own_exception_not_an_aggregate()
    {
        var gate = new TaskCompletionSource<int>(TaskCreationOptions.RunContinuationsAsynchronously);
        var waiter = Task.Run(() => Blocking.Wait(gate.Task));
        gate.SetException(new InvalidOperationException("from Apple"));
        var thrown = await Assert.ThrowsAsync<InvalidOperationException>(() => waiter.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("from Apple", thrown.Message);
    }

    [Fact]
    public void A_cancelled_task_throws_OperationCanceledException()
    {
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => Blocking.Wait(Task.FromCanceled<int>(cancel.Token)));
    }
}

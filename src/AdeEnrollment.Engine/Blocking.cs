namespace AdeEnrollment.Engine;

/// <summary>
/// The engine's services are synchronous and wait for Apple's answers on the caller's thread. <c>GetAwaiter().GetResult()</c>
/// on a task still running spins before it blocks, which on a loaded machine with few cores takes CPU from the thread that
/// would complete the task; this waits on the task's handle instead, without spinning.
/// </summary>
internal static class Blocking
{
    /// <summary>The task's result (or its exception, as <c>await</c> would throw it), after a wait that does not spin.</summary>
    public static T Wait<T>(Task<T> task)
    {
        if (!task.IsCompleted)
        {
            ((IAsyncResult)task).AsyncWaitHandle.WaitOne();
        }

        return task.GetAwaiter().GetResult();
    }
}

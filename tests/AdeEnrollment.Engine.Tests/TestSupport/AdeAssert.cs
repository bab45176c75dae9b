using AdeEnrollment.Engine.Errors;

namespace AdeEnrollment.Engine.Tests.TestSupport;

public static class AdeAssert
{
    /// <summary>Runs <paramref name="action"/>, asserts it throws the catalogued error <paramref name="errorId"/>, and returns it.</summary>
    public static AdeException Throws(string errorId, Action action)
    {
        var ex = Assert.Throws<AdeException>(action);
        Assert.True(ex.ErrorId == errorId, $"Expected error {errorId}, got {ex.ErrorId}: {ex.Message}");
        return ex;
    }

    public static AdeException Throws(string errorId, Func<object?> action) => Throws(errorId, () => { _ = action(); });

    /// <summary>The message of an exception and of every inner exception.</summary>
    public static IEnumerable<string> Messages(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            yield return ex.Message;
        }
    }
}

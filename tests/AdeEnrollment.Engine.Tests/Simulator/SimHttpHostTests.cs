using AdeEnrollment.Simulator.Service.Http;
using Xunit;

namespace AdeEnrollment.Engine.Tests.Simulator;

/// <summary>The host's body size limit on its own: what is read, and what is refused (413) without reading on.</summary>
public sealed class SimHttpHostTests
{
    /// <summary>A stream that fails the test if anyone reads it.</summary>
    private sealed class UnreadableStream : MemoryStream
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
            => throw new InvalidOperationException("the body was read");
    }

    [Fact]
    public async Task No_body_is_an_empty_body()
        => Assert.Empty((await SimHttpHost.ReadBodyAsync(false, 0, new UnreadableStream(), 10))!);

    [Fact]
    public async Task A_declared_length_over_the_limit_is_refused_unread()
        => Assert.Null(await SimHttpHost.ReadBodyAsync(true, 11, new UnreadableStream(), 10));

    [Fact]
    public async Task A_body_of_unknown_length_is_refused_once_it_passes_the_limit()
    {
        Assert.Null(await SimHttpHost.ReadBodyAsync(true, -1, new MemoryStream(new byte[11]), 10));
        Assert.Null(await SimHttpHost.ReadBodyAsync(true, 5, new MemoryStream(new byte[11]), 10)); // a length that lies
    }

    [Fact]
    public async Task A_body_up_to_the_limit_is_read_whole()
    {
        var body = Enumerable.Range(1, 10).Select(i => (byte)i).ToArray();
        Assert.Equal(body, await SimHttpHost.ReadBodyAsync(true, -1, new MemoryStream(body), 10));
        Assert.Equal(body, await SimHttpHost.ReadBodyAsync(true, 10, new MemoryStream(body), 10));
    }
}

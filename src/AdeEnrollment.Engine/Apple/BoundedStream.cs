namespace AdeEnrollment.Engine.Apple;

/// <summary>
/// A read-only view of a stream that fails once more than <see cref="Limit"/> bytes have been read from it. The
/// Apple client puts one around the bytes on the wire and one around the decompressed bytes, so that neither a large
/// nor a highly compressed answer (a "gzip bomb") can take more memory or time than the limit allows.
/// </summary>
internal sealed class BoundedStream : Stream
{
    private readonly Stream inner;
    private readonly Func<Exception> tooLarge;
    private long read;

    public BoundedStream(Stream inner, long limit, Func<Exception> tooLarge)
    {
        this.inner = inner;
        Limit = limit;
        this.tooLarge = tooLarge;
    }

    public long Limit { get; }

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => read;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, Ask(count)));

    public override int Read(Span<byte> buffer) => Count(inner.Read(buffer[..Ask(buffer.Length)]));

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        => Count(await inner.ReadAsync(buffer[..Ask(buffer.Length)], cancellationToken).ConfigureAwait(false));

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken)
        => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    /// <summary>Asks for at most one byte more than the limit allows, so that going over it is noticed without reading on.</summary>
    private int Ask(int wanted) => (int)Math.Min(wanted, Math.Max(Limit - read + 1, 1));

    private int Count(int n)
    {
        read += n;
        if (read > Limit)
        {
            throw tooLarge();
        }

        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }
}

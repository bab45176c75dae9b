namespace AdeEnrollment.Simulator.Service;

/// <summary>
/// The requests the simulator answered (the last <see cref="Capacity"/>), oldest first. It has a lock of its own: the
/// host writes an entry after the org lock is released (and for answers that never reach the org state: 413, faults).
/// </summary>
internal sealed class RequestLog
{
    private readonly object gate = new();
    private readonly LinkedList<AdeSimRequest> entries = new();

    public RequestLog(int capacity) => Capacity = capacity;

    public int Capacity { get; }

    public void Add(AdeSimRequest entry)
    {
        lock (gate)
        {
            entries.AddLast(entry);
            while (entries.Count > Capacity)
            {
                entries.RemoveFirst();
            }
        }
    }

    /// <summary>All entries, or those whose path matches <paramref name="path"/> (wildcards; a leading "/" is optional).</summary>
    public IReadOnlyList<AdeSimRequest> Get(string? path = null)
    {
        var pattern = path is null ? null : PathPattern.Normalise(path);
        lock (gate)
        {
            return [.. entries.Where(r => pattern is null || PathPattern.Matches(pattern, r.Path))];
        }
    }

    public void Clear()
    {
        lock (gate) entries.Clear();
    }
}

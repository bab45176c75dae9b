using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Devices;

/// <summary>The outcome of one Remove-AdeDevice operation (over the whole pipeline).</summary>
public sealed record DeviceRemoval(int Removed, int Declined, IReadOnlyList<string> StillInAbm)
{
    /// <summary>The summary line after -WhatIf ("What if: " is added by the host).</summary>
    public string WhatIfSummary => $"{Counted.Of(Declined, "device")} would be removed from AdeEnrollment" +
        (StillInAbm.Count > 0 ? $" ({Counted.N(StillInAbm.Count)} of them still assigned in Apple Business Manager, so they would come back at the next full sync)." : ".");
}

/// <summary>Get-AdeDevice and Remove-AdeDevice: the devices the engine knows from syncs.</summary>
public sealed class DeviceService
{
    private readonly AdeStore store;
    private readonly TimeProvider time;
    private readonly IAdeHost host;
    private readonly TokenService tokens;

    internal DeviceService(AdeStore store, TimeProvider time, IAdeHost host, TokenService tokens)
    {
        this.store = store;
        this.time = time;
        this.host = host;
        this.tokens = tokens;
    }

    /// <summary>Streams the devices that match; nothing is held in memory beyond the current row.</summary>
    public IEnumerable<AdeDevice> Get(DeviceQuery query) => store.Stream(s => DeviceRepository.Query(s, query));

    /// <summary>
    /// The error for a query of one serial number that found nothing: when other filters were given and the serial is
    /// in the store all the same, the error says so (and on which token) instead of calling the device unknown.
    /// </summary>
    public AdeException NotFound(DeviceQuery query)
    {
        var serial = query.SerialNumber ?? "";
        if (query == new DeviceQuery(SerialNumber: query.SerialNumber) || Wildcard.HasWildcard(serial))
        {
            return ErrorCatalog.DeviceNotFound(serial);
        }

        var tokens = Get(new DeviceQuery(SerialNumber: serial)).Select(d => d.Token).Distinct(StringComparer.Ordinal).ToList();
        return ErrorCatalog.DeviceNotFound(serial, tokens);
    }

    /// <summary>
    /// How many piped serial numbers Get-AdeDevice looks up with one read of the store: a list of 10,000 serials is 20
    /// reads instead of 10,000 round trips (each a network round trip on a server store).
    /// </summary>
    public const int LookupBatchSize = 500;

    /// <summary>
    /// The matches of several exact-serial queries (at most <see cref="LookupBatchSize"/>), read at once: one list per
    /// query, in the order given, each what <see cref="Get"/> would return for it. The queries may differ only in serial
    /// number, token, profile, platforms and scopes. One query alone is the single lookup (one statement without a
    /// transaction, prepared on a server store).
    /// </summary>
    public IReadOnlyList<IReadOnlyList<AdeDevice>> GetEach(IReadOnlyList<DeviceQuery> queries)
    {
        ArgumentOutOfRangeException.ThrowIfGreaterThan(queries.Count, LookupBatchSize);
        if (queries.Count == 0)
        {
            return [];
        }

        if (queries is [var one])
        {
            DeviceRepository.ExactSerial(one);
            return [Get(one).ToList()];
        }

        return store.Read(s => DeviceRepository.QueryEach(s, queries));
    }

    /// <summary>
    /// At most <paramref name="limit"/> serial numbers of the store's devices (of one token, or all) that start with
    /// <paramref name="prefix"/>, in order: Tab completion. A prefix of anything but letters and digits matches none.
    /// </summary>
    public IReadOnlyList<string> GetSerialNumbersStartingWith(string prefix, Guid? tokenId, int limit)
        => prefix.All(char.IsAsciiLetterOrDigit)
            ? store.Read(s => s.Devices.SerialsStartingWith(tokenId, prefix.ToUpperInvariant(), limit))
            : [];

    /// <summary>Get-AdeDeviceEvent: the change journal, oldest first, streamed.</summary>
    public IEnumerable<AdeDeviceEvent> GetEvents(DeviceEventQuery query) => store.Stream(s => DeviceJournal.Query(s, query));

    /// <summary>Removes one device by serial (within <paramref name="tokenId"/> when given). Returns the number removed.</summary>
    public int Remove(string serialNumber, Guid? tokenId)
        => Remove([new DeviceTarget(serialNumber, tokenId)], ex => throw ex).Removed;

    /// <summary>
    /// Removes devices from the engine (not from ABM). A device that ABM still assigns to the token's MDM server
    /// comes back at the next full sync: one warning for the whole operation names how many and the first few.
    /// An unknown serial is handed to <paramref name="reportError"/> and the others go on. The targets are looked up
    /// <see cref="LookupBatchSize"/> at a time, and the devices confirmed within one lookup are deleted in one
    /// transaction, also when a later confirmation stops the operation. Each target gives what it would give if it were
    /// looked up after the removals before it; a serial named again is passed over.
    /// </summary>
    public DeviceRemoval Remove(IEnumerable<DeviceTarget> targets, Action<AdeException> reportError)
    {
        var removed = 0;
        var declined = 0;
        var stillInAbm = new List<string>();
        var declinedInAbm = new List<string>();
        var tokenNames = new SortedSet<string>(StringComparer.OrdinalIgnoreCase);
        foreach (var batch in LookUp(targets))
        {
            var confirmed = new List<AdeDevice>();
            var gone = new HashSet<(Guid, string)>(); // confirmed in this batch: a later target naming it finds it removed
            try
            {
                foreach (var (target, found) in batch)
                {
                    var matches = found.Where(d => !gone.Contains((d.TokenId, d.SerialNumber))).ToList();
                    if (matches.Count == 0)
                    {
                        reportError(NotFound(new DeviceQuery(TokenId: target.TokenId, SerialNumber: target.SerialNumber)));
                        continue;
                    }

                    foreach (var device in matches)
                    {
                        var inAbm = device.AbmState == AdeAbmState.Assigned;
                        var action = inAbm
                            ? "Remove device from AdeEnrollment (it stays assigned in Apple Business Manager and comes back at the next full sync)"
                            : "Remove device from AdeEnrollment (already released in Apple Business Manager)";
                        if (host.ShouldProcess($"{device.SerialNumber} (token '{device.Token}')", action))
                        {
                            confirmed.Add(device);
                            gone.Add((device.TokenId, device.SerialNumber));
                        }
                        else
                        {
                            declined++;
                            if (inAbm) declinedInAbm.Add(device.SerialNumber);
                        }
                    }
                }
            }
            finally
            {
                if (confirmed.Count > 0)
                {
                    // the journal keeps the removal (the device's rows are gone): an audit, and a script following -AfterId learns of it
                    var now = time.GetUtcNow();
                    removed += store.Write(s => confirmed.GroupBy(d => d.TokenId).Sum(g =>
                    {
                        var serials = g.Select(d => d.SerialNumber).ToList();
                        var deleted = s.Devices.Delete(g.Key, serials);
                        s.DeviceEvents.Append(g.Key, now, [.. g.Select(d => new NewDeviceEventRow(d.SerialNumber, AdeDeviceEventKind.Removed, d.AbmState == AdeAbmState.Assigned ? "StillInAbm" : null))]);
                        return deleted;
                    }));
                    foreach (var device in confirmed.Where(d => d.AbmState == AdeAbmState.Assigned))
                    {
                        stillInAbm.Add(device.SerialNumber);
                        tokenNames.Add(device.Token);
                    }
                }
            }
        }

        if (stillInAbm.Count > 0)
        {
            var which = tokenNames.Count == 1 ? $"token '{tokenNames.Min}'" : $"their tokens ({string.Join(", ", tokenNames.Select(n => $"'{n}'"))})";
            host.WriteWarning($"{Counted.Of(stillInAbm.Count, "removed device is", "removed devices are")} still assigned to the MDM server of {which} in Apple Business Manager ({Counted.FirstFew(stillInAbm)}): they come back at the next full sync. Unassign or release them in ABM to remove them for good.");
        }

        return new DeviceRemoval(removed, declined, declinedInAbm);
    }

    /// <summary>
    /// The targets with the devices each names, in order, <see cref="LookupBatchSize"/> at a time with one read of the
    /// store per batch. Serials are exact: one with wildcard characters names no device (no Apple serial has them, and
    /// a pattern in a removal list is far more likely a mistake than a wish). Empty serials are skipped, and so is a
    /// serial named again (a CSV with a row twice): -WhatIf then counts what the removal does.
    /// </summary>
    private IEnumerable<List<(DeviceTarget Target, IReadOnlyList<AdeDevice> Matches)>> LookUp(IEnumerable<DeviceTarget> targets)
    {
        var waiting = new List<DeviceTarget>(LookupBatchSize);
        var named = new HashSet<(string, Guid?)>(); // a serial named again (any case, the same token or none) is passed over
        foreach (var target in targets)
        {
            if (DeviceRepository.NormaliseSerial(target.SerialNumber) is { Length: > 0 } serial && named.Add((serial, target.TokenId)))
            {
                waiting.Add(target);
                if (waiting.Count == LookupBatchSize)
                {
                    yield return Answer();
                }
            }
        }

        if (waiting.Count > 0)
        {
            yield return Answer();
        }

        List<(DeviceTarget, IReadOnlyList<AdeDevice>)> Answer()
        {
            var answers = GetEach(waiting.Where(Exact).Select(t => new DeviceQuery(TokenId: t.TokenId, SerialNumber: t.SerialNumber)).ToList());
            var next = 0;
            var batch = waiting.Select(t => (t, Exact(t) ? answers[next++] : (IReadOnlyList<AdeDevice>)[])).ToList();
            waiting.Clear();
            return batch;
        }

        static bool Exact(DeviceTarget t) => !Wildcard.HasWildcard(t.SerialNumber);
    }
}

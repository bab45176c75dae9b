using AdeEnrollment.Engine.Storage;

namespace AdeEnrollment.Engine.Sync;

/// <summary>
/// The one rule that compares what Apple Business activities did with what a token's DEP sync has shown: Apple
/// completes an assignment activity before the devices appear (added or deleted) in the MDM server's DEP sync, by an
/// undocumented delay. After a sync, every device whose latest successful assignment or unassignment (within
/// <see cref="Window"/>, by any account of the store) concerned the token's server, and which the store does not
/// show that way yet, is still on its way: the sync result counts it and the admin is told a later sync brings it.
/// </summary>
internal static class DepVisibility
{
    /// <summary>Activities completed longer ago than this are no longer compared (Apple's lag is minutes, not days).</summary>
    public static readonly TimeSpan Window = TimeSpan.FromDays(1);

    public sealed record Lag(int Devices, IReadOnlyList<string> ActivityIds);

    public static Lag Check(IStoreSession s, Guid tokenId, DateTimeOffset now)
    {
        var since = now - Window;
        var latest = new Dictionary<string, BusinessActivityRow>(StringComparer.OrdinalIgnoreCase);
        foreach (var a in s.Business.Activities()
                     .Where(a => a.CompletedAt is { } c && c >= since && a.Results is { Count: > 0 } && a.ActivityType is "ASSIGN_DEVICES" or "UNASSIGN_DEVICES" or "RELEASE_DEVICES")
                     .OrderBy(a => a.CompletedAt))
        {
            foreach (var r in a.Results!.Where(r => r.Status == "SUCCESS"))
            {
                latest[r.SerialNumber] = a;
            }
        }

        var mine = latest.Where(p => p.Value.TokenId == tokenId && p.Value.ActivityType != "RELEASE_DEVICES").ToList();
        if (mine.Count == 0)
        {
            return new Lag(0, []);
        }

        var states = s.Devices.States(tokenId, mine.Select(p => p.Key).ToList());
        var lagging = mine.Where(p =>
        {
            var shown = states.TryGetValue(p.Key, out var st) && !st.RemovedFromAbm;
            return p.Value.ActivityType == "ASSIGN_DEVICES" ? !shown : shown;
        }).ToList();
        return new Lag(lagging.Count, [.. lagging.Select(p => p.Value.Id).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal)]);
    }
}

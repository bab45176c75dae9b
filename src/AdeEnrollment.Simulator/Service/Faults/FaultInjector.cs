using System.Globalization;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Service.Faults;

/// <summary>
/// The endpoint faults of Set-AdeSimFault / Clear-AdeSimFault: an error status (429, 503 … with Retry-After), latency
/// or a dropped connection, for the next N requests (after letting M through) or a share of them. The host asks <see cref="Pick"/> for each
/// request before routing it; the first matching fault, in the order added, answers. Per-device outcomes
/// (Set-AdeSimFault -SerialNumber) are org state and live on the server (<see cref="ServerState.Outcomes"/>).
/// </summary>
/// <remarks>Has its own lock (never held together with the org lock) and its own random source, so a -Share fault
/// does not change which devices a seed generates.</remarks>
internal sealed class FaultInjector
{
    private readonly object gate = new();
    private readonly List<AdeSimFault> faults = [];
    private readonly Func<double> random;
    private int nextId;

    /// <param name="random">Values in [0, 1) that decide whether a -Share fault hits; called under this class's lock.</param>
    public FaultInjector(Func<double> random) => this.random = random;

    /// <summary>Adds a fault; the first matching fault (in the order added) answers a request.</summary>
    public AdeSimFault Add(string endpoint, int? statusCode, string? body = null, int? count = null, int? retryAfterSeconds = null,
        TimeSpan latency = default, bool dropConnection = false, string? method = null, double share = 1, bool retryAfterAsDate = false, bool afterApplying = false,
        int skip = 0)
    {
        if (statusCode is { } s && (s < 100 || s > 599))
        {
            throw SimErrors.ArgumentInvalid("StatusCode", s.ToString(CultureInfo.InvariantCulture), "an HTTP status is 100 to 599.");
        }

        if (statusCode is null && latency <= TimeSpan.Zero && !dropConnection)
        {
            throw SimErrors.ArgumentInvalid("StatusCode", "", "a fault answers with a status code, delays (-Latency) or drops the connection (-DropConnection).");
        }

        if (afterApplying && statusCode is null && !dropConnection)
        {
            throw SimErrors.ArgumentInvalid("AfterApplying", "", "a fault after applying the request answers with a status code or drops the connection (-DropConnection).");
        }

        if (count is <= 0)
        {
            throw SimErrors.ArgumentInvalid("Count", count.Value.ToString(CultureInfo.InvariantCulture), "give a positive number of requests.");
        }

        if (skip < 0)
        {
            throw SimErrors.ArgumentInvalid("Skip", skip.ToString(CultureInfo.InvariantCulture), "give the number of matching requests to let through first, 0 or more.");
        }

        if (share is <= 0 or > 1)
        {
            throw SimErrors.ArgumentInvalid("Share", share.ToString(CultureInfo.InvariantCulture), "a share of requests is more than 0 and at most 1.");
        }

        lock (gate)
        {
            var fault = new AdeSimFault
            {
                Id = ++nextId,
                Endpoint = PathPattern.Normalise(endpoint),
                Method = method?.ToUpperInvariant(),
                StatusCode = statusCode,
                Body = body,
                Remaining = count,
                Share = share,
                RetryAfterSeconds = retryAfterSeconds,
                RetryAfterAsDate = retryAfterAsDate,
                Latency = latency,
                DropConnection = dropConnection,
                AfterApplying = afterApplying,
                Skip = skip,
            };
            faults.Add(fault);
            return fault;
        }
    }

    public IReadOnlyList<AdeSimFault> List()
    {
        lock (gate) return [.. faults];
    }

    /// <summary>Removes every endpoint fault; returns how many were removed.</summary>
    public int Clear()
    {
        lock (gate)
        {
            var n = faults.Count;
            faults.Clear();
            return n;
        }
    }

    /// <summary>
    /// The fault that answers this request, counted as a hit (one less remaining), or null. A -Share fault hits a
    /// matching request when the random value is below its share; spent faults are dropped when a request finds none.
    /// </summary>
    public AdeSimFault? Pick(string method, string path)
    {
        lock (gate)
        {
            foreach (var fault in faults)
            {
                if (fault.Remaining is 0 || (fault.Method is not null && fault.Method != method) || !PathPattern.Matches(fault.Endpoint, path))
                {
                    continue;
                }

                if (fault.Skip > 0)
                {
                    fault.Skip--; // a matching request let through before the fault starts
                    continue;
                }

                if (fault.Share < 1 && random() >= fault.Share)
                {
                    continue;
                }

                fault.Hits++;
                if (fault.Remaining is { } remaining)
                {
                    fault.Remaining = remaining - 1;
                }

                return fault;
            }

            faults.RemoveAll(f => f.Remaining is 0);
            return null;
        }
    }

    /// <summary>
    /// The answer a fault with a status gives: its body or a code that fits the status, plain text, and Retry-After
    /// (seconds, or an HTTP date) when the fault has one. Null for a fault that only delays or drops.
    /// </summary>
    public static Answer? AnswerFor(AdeSimFault fault, DateTimeOffset now)
    {
        if (fault.StatusCode is not { } status)
        {
            return null;
        }

        var answer = Answers.Error(status, fault.Body ?? Answers.DefaultBody(status));
        if (fault.RetryAfterSeconds is { } seconds)
        {
            answer.Headers.Add(new("Retry-After", fault.RetryAfterAsDate
                ? now.AddSeconds(seconds).ToString("r", CultureInfo.InvariantCulture)
                : seconds.ToString(CultureInfo.InvariantCulture)));
        }

        return answer;
    }
}

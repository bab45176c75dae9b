using System.Globalization;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Business;

/// <summary>
/// The request budgets of the Business API: a rolling window per account, GET per minute and writes (POST, PATCH,
/// DELETE) per hour (Set-AdeSimBusinessApi -GetPerMinute/-PostPerHour). Over budget: 429 RATE_LIMIT_EXCEEDED with Retry-After in
/// seconds, as an HTTP date, or absent (switches).
/// </summary>
internal static class RequestBudget
{
    /// <summary>Counts the request against the account's budget; returns the 429 answer when it is spent.</summary>
    public static Answer? Spend(BusinessState b, SimApiAccount account, string method)
    {
        var post = method is "POST" or "PATCH" or "DELETE"; // every write spends the hourly budget, not only POST
        var (limit, window) = post ? (b.Settings.PostsPerHour, TimeSpan.FromHours(1)) : (b.Settings.GetsPerMinute, TimeSpan.FromMinutes(1));
        if (limit is not { } max)
        {
            return null;
        }

        var key = account.ClientId + "|" + (post ? "POST" : "GET");
        if (!b.Budgets.TryGetValue(key, out var budget))
        {
            b.Budgets[key] = budget = new SimBudget();
        }

        var now = b.Time.GetUtcNow();
        while (budget.Times.Count > 0 && budget.Times.Peek() <= now - window)
        {
            budget.Times.Dequeue();
        }

        if (budget.Times.Count < max)
        {
            budget.Times.Enqueue(now);
            return null;
        }

        var wait = Math.Max(1, (int)Math.Ceiling((budget.Times.Peek() + window - now).TotalSeconds));
        var answer = BusinessJson.Error(429, "RATE_LIMIT_EXCEEDED", "The request rate limit has been reached.");
        if (!b.Settings.OmitRetryAfter)
        {
            answer.Headers.Add(new("Retry-After", b.Settings.RetryAfterAsHttpDate ? now.AddSeconds(wait).ToString("r", CultureInfo.InvariantCulture) : wait.ToString(CultureInfo.InvariantCulture)));
        }

        return answer;
    }
}

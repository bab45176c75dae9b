using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Sync;
using Xunit;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Tests.Sync;

public class SyncPolicyTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 1, 8, 0, 0, TimeSpan.Zero);

    private static SyncHistoryState After(TimeSpan sinceLast, TimeSpan? sinceFull = null, bool mustBeFull = false, TimeSpan? sinceSuccess = null)
        => new(T0 - sinceLast, T0 - (sinceSuccess ?? sinceLast), T0 - (sinceFull ?? TimeSpan.FromDays(30)), mustBeFull);

    [Fact]
    public void First_sync_is_full_whatever_asks_for_it()
    {
        var empty = new SyncHistoryState(null, null, null, false);
        foreach (var (full, ifDue) in new[] { (false, false), (true, false), (false, true) })
        {
            var d = SyncPolicy.Decide(empty, T0, full, ifDue);
            Assert.True(d.Run);
            Assert.Equal(AdeSyncKind.Full, d.Kind);
            Assert.Equal(AdeSyncTrigger.First, d.Trigger);
        }
    }

    [Fact]
    public void Manual_delta_is_refused_at_14_59_and_allowed_at_15_00()
    {
        var refused = SyncPolicy.Decide(After(TimeSpan.FromMinutes(14) + TimeSpan.FromSeconds(59)), T0, full: false, ifDue: false);
        Assert.False(refused.Run);
        Assert.Equal(SyncPolicy.ManualSyncTooSoon, refused.RefusedBy);
        Assert.Equal(T0 + TimeSpan.FromSeconds(1), refused.AllowedAt);

        var allowed = SyncPolicy.Decide(After(TimeSpan.FromMinutes(15)), T0, full: false, ifDue: false);
        Assert.True(allowed.Run);
        Assert.Equal(AdeSyncKind.Delta, allowed.Kind);
        Assert.Equal(AdeSyncTrigger.Manual, allowed.Trigger);
    }

    [Fact]
    public void Full_is_refused_at_6_days_23_hours_and_allowed_at_7_days()
    {
        var refused = SyncPolicy.Decide(After(TimeSpan.FromHours(1), sinceFull: TimeSpan.FromDays(7) - TimeSpan.FromHours(1)), T0, full: true, ifDue: false);
        Assert.False(refused.Run);
        Assert.Equal(SyncPolicy.FullSyncTooSoon, refused.RefusedBy);
        Assert.Equal(T0 + TimeSpan.FromHours(1), refused.AllowedAt);

        var allowed = SyncPolicy.Decide(After(TimeSpan.FromHours(1), sinceFull: TimeSpan.FromDays(7)), T0, full: true, ifDue: false);
        Assert.True(allowed.Run);
        Assert.Equal(AdeSyncKind.Full, allowed.Kind);
    }

    [Fact]
    public void Full_refused_by_7_days_names_the_later_of_both_limits()
    {
        var d = SyncPolicy.Decide(After(TimeSpan.FromMinutes(1), sinceFull: TimeSpan.FromDays(7) - TimeSpan.FromMinutes(5)), T0, full: true, ifDue: false);
        Assert.Equal(SyncPolicy.FullSyncTooSoon, d.RefusedBy);
        Assert.Equal(T0 + TimeSpan.FromMinutes(14), d.AllowedAt);
    }

    [Fact]
    public void IfDue_waits_12_hours_after_the_last_successful_sync_without_error()
    {
        var notDue = SyncPolicy.Decide(After(TimeSpan.FromHours(11) + TimeSpan.FromMinutes(59)), T0, full: false, ifDue: true);
        Assert.False(notDue.Run);
        Assert.Equal(SyncPolicy.NotDue, notDue.RefusedBy);
        Assert.Equal(T0 + TimeSpan.FromMinutes(1), notDue.AllowedAt);

        var due = SyncPolicy.Decide(After(TimeSpan.FromHours(12)), T0, full: false, ifDue: true);
        Assert.True(due.Run);
        Assert.Equal(AdeSyncTrigger.Automatic, due.Trigger);
        Assert.Equal(AdeSyncKind.Delta, due.Kind);
    }

    [Fact]
    public void After_a_failure_the_next_sync_is_a_full_recovery_not_held_back_by_7_days()
    {
        var state = After(TimeSpan.FromMinutes(15), sinceFull: TimeSpan.FromDays(1), mustBeFull: true, sinceSuccess: TimeSpan.FromHours(1)); // a failed attempt
        foreach (var (full, ifDue) in new[] { (false, false), (true, false), (false, true) })
        {
            var d = SyncPolicy.Decide(state, T0, full, ifDue);
            Assert.True(d.Run);
            Assert.Equal(AdeSyncKind.Full, d.Kind);
            Assert.Equal(AdeSyncTrigger.Recovery, d.Trigger);
        }
    }

    private static (bool, AdeSyncKind, AdeSyncTrigger) Pick(SyncDecision d) => (d.Run, d.Kind, d.Trigger);

    [Fact]
    public void A_stopped_sync_is_continued_by_the_scheduler_after_15_minutes_not_12_hours()
    {
        // the last success 2 hours ago; a sync started 10 minutes ago was stopped (no failure: no full sync owed)
        var stopped = After(TimeSpan.FromMinutes(10), sinceSuccess: TimeSpan.FromHours(2));
        var early = SyncPolicy.Decide(stopped, T0, full: false, ifDue: true);
        Assert.Equal((false, T0 + TimeSpan.FromMinutes(5)), (early.Run, early.AllowedAt));
        var later = SyncPolicy.Decide(stopped, T0 + TimeSpan.FromMinutes(5), full: false, ifDue: true);
        Assert.Equal((true, AdeSyncKind.Delta, AdeSyncTrigger.Automatic), (later.Run, later.Kind, later.Trigger));
        Assert.Equal(T0 + TimeSpan.FromMinutes(5), SyncPolicy.NextAutomatic(stopped, T0));

        // a sync that succeeded records its end after its start: due 12 hours after that end
        var succeeded = new SyncHistoryState(T0 - TimeSpan.FromMinutes(10), T0 - TimeSpan.FromMinutes(9), T0 - TimeSpan.FromDays(1), false);
        Assert.Equal(T0 + TimeSpan.FromHours(12) - TimeSpan.FromMinutes(9), SyncPolicy.Decide(succeeded, T0, full: false, ifDue: true).AllowedAt);

        // a successful run that owes a full sync (its default profiles could not be offered): full, at the usual cadence
        var owes = succeeded with { NextMustBeFull = true };
        var scheduled = SyncPolicy.Decide(owes, T0, full: false, ifDue: true);
        Assert.Equal((false, AdeSyncKind.Full, T0 + TimeSpan.FromHours(12) - TimeSpan.FromMinutes(9)), (scheduled.Run, scheduled.Kind, scheduled.AllowedAt));
        Assert.Equal((true, AdeSyncKind.Full, AdeSyncTrigger.Recovery), Pick(SyncPolicy.Decide(owes, T0 + TimeSpan.FromMinutes(6), full: false, ifDue: false)));
    }

    [Fact]
    public void Recovery_still_respects_the_15_minute_limit()
    {
        var d = SyncPolicy.Decide(After(TimeSpan.FromMinutes(10), mustBeFull: true, sinceSuccess: TimeSpan.FromHours(1)), T0, full: false, ifDue: false);
        Assert.False(d.Run);
        Assert.Equal(SyncPolicy.ManualSyncTooSoon, d.RefusedBy);
        var scheduled = SyncPolicy.Decide(After(TimeSpan.FromMinutes(10), mustBeFull: true, sinceSuccess: TimeSpan.FromHours(1)), T0, full: false, ifDue: true);
        Assert.Equal(SyncPolicy.NotDue, scheduled.RefusedBy);
        Assert.Equal(T0 + TimeSpan.FromMinutes(5), scheduled.AllowedAt);
        Assert.Equal((AdeSyncKind.Full, AdeSyncTrigger.Recovery), (scheduled.Kind, scheduled.Trigger)); // what will run when it is due
    }

    [Fact]
    public void Next_allowed_times_follow_the_rules()
    {
        var (manual, full) = SyncPolicy.NextAllowed(After(TimeSpan.FromMinutes(5), sinceFull: TimeSpan.FromDays(2)), T0);
        Assert.Equal(T0 + TimeSpan.FromMinutes(10), manual);
        Assert.Equal(T0 + TimeSpan.FromDays(5), full);
    }

    [Fact]
    public void A_recorded_time_in_the_future_beyond_the_skew_is_a_clock_problem_and_holds_nothing_back()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(T0);
        var state = new SyncHistoryState(T0 + TimeSpan.FromDays(365), T0 + TimeSpan.FromDays(365), T0 + TimeSpan.FromDays(365), false);
        var now = time.GetUtcNow();
        foreach (var (full, ifDue) in new[] { (false, false), (true, false), (false, true) })
        {
            var d = SyncPolicy.Decide(state, now, full, ifDue);
            Assert.True(d.Run, $"full={full} ifDue={ifDue}");
            Assert.True(d.ClockSkew);
            Assert.NotEqual(AdeSyncTrigger.First, d.Trigger); // the token has synced before: no first sync
        }

        Assert.Equal((now, now), SyncPolicy.NextAllowed(state, now));
        Assert.Equal(now, SyncPolicy.NextAutomatic(state, now));
    }

    [Fact]
    public void A_time_a_little_in_the_future_is_ordinary_skew_and_the_rules_hold()
    {
        var time = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(T0);
        var state = new SyncHistoryState(T0 + SyncPolicy.MaxClockSkew, T0, T0 - TimeSpan.FromDays(1), false);
        var d = SyncPolicy.Decide(state, time.GetUtcNow(), full: false, ifDue: false);
        Assert.False(d.Run);
        Assert.False(d.ClockSkew);
        Assert.Equal(SyncPolicy.ManualSyncTooSoon, d.RefusedBy);

        time.Advance(TimeSpan.FromMinutes(1)); // just beyond the skew: a clock problem
        var skewed = new SyncHistoryState(time.GetUtcNow() + SyncPolicy.MaxClockSkew + TimeSpan.FromSeconds(1), T0, T0 - TimeSpan.FromDays(1), false);
        Assert.True(SyncPolicy.Decide(skewed, time.GetUtcNow(), false, false).ClockSkew);
    }

    [Fact]
    public void A_token_whose_first_sync_was_stopped_is_due_again_as_soon_as_the_rate_limit_allows()
    {
        var stoppedFirst = new SyncHistoryState(T0 - TimeSpan.FromMinutes(5), null, null, false);
        var early = SyncPolicy.Decide(stoppedFirst, T0, full: false, ifDue: true);
        Assert.False(early.Run);
        Assert.Equal(T0 + TimeSpan.FromMinutes(10), early.AllowedAt); // the 15-minute limit, not 12 hours
        var later = SyncPolicy.Decide(stoppedFirst, T0 + TimeSpan.FromMinutes(10), full: false, ifDue: true);
        Assert.True(later.Run);
        Assert.Equal(AdeSyncTrigger.Automatic, later.Trigger);
    }

    [Fact]
    public void NextAutomatic_is_12_hours_after_the_last_success_not_the_next_manual_time()
    {
        var state = After(TimeSpan.FromHours(1));
        Assert.Equal(T0 + TimeSpan.FromHours(11), SyncPolicy.NextAutomatic(state, T0));
        Assert.Equal(T0, SyncPolicy.NextAllowed(state, T0).NextManual);
    }

    [Theory]
    [InlineData(-1, false)]      // ended a minute ago
    [InlineData(0, false)]       // ends now
    [InlineData(1, true)]
    [InlineData(15, true)]       // just taken
    [InlineData(20, true)]       // taken with a clock up to 5 minutes ahead
    [InlineData(21, false)]      // taken before the clock went back: lapsed
    [InlineData(2 * 24 * 60, false)]
    public void A_lease_holds_only_while_it_runs_and_never_from_further_ahead_than_a_lease_lasts(int endsInMinutes, bool holds)
        => Assert.Equal(holds, SyncPolicy.LeaseHolds(T0 + TimeSpan.FromMinutes(endsInMinutes), T0));
}

using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Sync;
using AdeEnrollment.Engine.Tests.Support;
using AdeEnrollment.Engine.Tests.TestSupport;
using Npgsql;
using Xunit;

namespace AdeEnrollment.Engine.Tests.Sync;

/// <summary>
/// A scheduler's pass over piped tokens (<see cref="SyncService.SyncIfDue"/>, Sync-AdeDevice -IfDue): a batch is decided
/// from one read, and only a token that may be due goes on to the write that takes its lease, where it is decided again.
/// On both providers.
/// </summary>
public sealed class SyncIfDuePassTests
{
    public static TheoryData<string> Providers => new() { "SQLite", "PostgreSQL" };

    private static readonly DateTimeOffset? None = null;

    [Theory]
    [MemberData(nameof(Providers))]
    public void A_decision_taken_from_the_batch_read_is_the_one_a_single_tokens_scheduled_sync_takes(string provider)
    {
        using var schema = provider == "PostgreSQL" ? new TestPostgresSchema() : null;
        using var f = new EngineSimFixture(postgres: schema);
        var tokens = new[] { f.Token, f.AddToken("Macs"), f.AddToken("Labs") };
        // -WhatIf: a token that is due stops at ShouldProcess (null), so no case asks Apple or starts a sync.
        var host = new RecordingHost { ShouldProcessAnswer = false };
        var engine = f.NewEngine(host);
        var now = f.Time.GetUtcNow();
        var m = TimeSpan.FromMinutes(1);
        var h = TimeSpan.FromHours(1);
        // (last started, last success, last full, next must be full, lease expires): null lease = none; state null = never synced
        var states = new List<(DateTimeOffset?, DateTimeOffset?, DateTimeOffset?, bool, DateTimeOffset?)?>
        {
            null,
            (now - h, now - h, now - h, false, null),                          // synced an hour ago: not due
            (now - 13 * h, now - 13 * h, now - 13 * h, false, null),           // 13 hours: due
            (now - 12 * h + m, now - 12 * h + m, now - 3 * 24 * h, false, null), // a minute short of 12 hours
            (now - 12 * h - m, now - 12 * h - m, now - 8 * 24 * h, false, null), // due, and the full sync is due too
            (now - 10 * m, now - 13 * h, now - 13 * h, true, null),            // failed 10 minutes ago: held back
            (now - 20 * m, now - 13 * h, now - 13 * h, true, null),            // failed 20 minutes ago: recovery due
            (now - 5 * m, now - 5 * m, now - 5 * m, false, now + 10 * m),      // another sync holds the lease
            (now - 16 * m, now - 13 * h, now - 13 * h, false, now - m),        // its lease lapsed a minute ago
            (now + 2 * h, now + 2 * h, now + 2 * h, false, null),              // recorded in the future: clock skew
            (now + 2 * m, now + 2 * m, now + 2 * m, false, null),              // within the tolerated skew: not due
            (now - 13 * h, None, None, false, null),                           // started once, never succeeded
        };

        var compared = 0;
        for (var round = 0; round < states.Count; round += tokens.Length)
        {
            var group = tokens.Select((t, i) => (Token: t, State: states[(round + i) % states.Count])).ToList();
            foreach (var (token, state) in group)
            {
                SetState(f, token.Id, state);
            }

            var pass = engine.Sync.SyncIfDue([.. group.Select(g => g.Token.Id.ToString())]).ToList();
            Assert.Equal(group.Count, pass.Count);
            for (var i = 0; i < group.Count; i++)
            {
                var (token, state) = group[i];
                SetState(f, token.Id, state); // the same state for the single token's sync (a lapsed lease was released)
                var single = engine.Sync.Sync(token.Id.ToString(), ifDue: true);
                Assert.Null(pass[i].Failure);
                Assert.Equal(Describe(single), Describe(pass[i].Result));
                compared++;
            }
        }

        Assert.Equal(states.Count, compared);
        Assert.Empty(f.Simulator.GetRequests("/server/devices"));
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void A_token_synced_by_another_store_instance_after_the_batch_read_is_not_synced_again(string provider)
    {
        using var schema = provider == "PostgreSQL" ? new TestPostgresSchema() : null;
        using var f = new EngineSimFixture(devices: 5, postgres: schema);
        var macs = f.AddToken("Macs", devices: 7);

        using var pass = f.Engine.Sync.SyncIfDue([f.Token.Id.ToString(), macs.Id.ToString(), "No such token"]).GetEnumerator();
        Assert.True(pass.MoveNext()); // the batch is read here: both tokens are due (never synced)
        Assert.Equal(AdeSyncStatus.Succeeded, pass.Current.Result!.Status);

        // Another host syncs Macs between the batch read and this pass's lease.
        var otherStore = f.OpenStore();
        var other = f.NewEngine(new RecordingHost(), otherStore);
        var theirs = other.Sync.Sync(macs.Id.ToString(), ifDue: true)!;
        Assert.Equal(AdeSyncStatus.Succeeded, theirs.Status);
        Assert.Equal(7, theirs.Added);
        var fetches = f.Simulator.GetRequests("/server/devices").Count;

        Assert.True(pass.MoveNext());
        Assert.Equal(AdeSyncStatus.NotDue, pass.Current.Result!.Status); // decided again under the lease
        Assert.Equal(macs.Name, pass.Current.Result.Token);
        Assert.Equal(fetches, f.Simulator.GetRequests("/server/devices").Count);
        Assert.Single(f.Engine.Sync.GetStatus(macs).History);

        // A name that is no token fails alone, as a catalogued error, after the others.
        Assert.True(pass.MoveNext());
        Assert.Equal("TokenNotFound", Assert.IsType<Errors.AdeException>(pass.Current.Failure).ErrorId);
        Assert.False(pass.MoveNext());
    }

    [Theory]
    [MemberData(nameof(Providers))]
    public void Several_at_once_sync_every_due_token_once_and_hand_the_outcomes_on_in_the_order_given(string provider)
    {
        using var schema = provider == "PostgreSQL" ? new TestPostgresSchema() : null;
        using var f = new EngineSimFixture(devices: 3, postgres: schema);
        var tokens = new[] { f.Token, f.AddToken("Macs", devices: 40), f.AddToken("Labs", devices: 1), f.AddToken("Carts", devices: 25), f.AddToken("Kiosks", devices: 7) };
        var devices = new[] { 3, 40, 1, 25, 7 };
        var host = new RecordingHost();
        var engine = f.NewEngine(host);
        // Two runs must reach their first committed page together, or this waits for nothing and records it.
        using var together = new Barrier(2);
        var met = 0;
        host.OnProgress = p =>
        {
            if (!p.Completed && Interlocked.Increment(ref met) <= 2 && !together.SignalAndWait(TimeSpan.FromSeconds(30)))
            {
                Interlocked.Exchange(ref met, -1000);
            }
        };

        // Macs twice: its second turn waits for its first run and is then not due; a name that is no token fails alone.
        var refs = tokens.Select(t => t.Id.ToString()).Concat(["No such token", tokens[1].Name]).ToList();
        var pass = engine.Sync.SyncIfDue(refs, concurrency: 3).ToList();

        Assert.True(met > 0, "no two syncs of the pass ran at once");
        Assert.Equal(refs, pass.Select(o => o.TokenRef));
        for (var i = 0; i < tokens.Length; i++)
        {
            Assert.Null(pass[i].Failure);
            Assert.Equal((tokens[i].Name, AdeSyncStatus.Succeeded, AdeSyncKind.Full), (pass[i].Result!.Token, pass[i].Result!.Status, pass[i].Result!.Kind));
            Assert.Equal(devices[i], pass[i].Result!.Added);
            Assert.Single(engine.Sync.GetStatus(tokens[i]).History);
        }

        Assert.Equal("TokenNotFound", Assert.IsType<Errors.AdeException>(pass[^2].Failure).ErrorId);
        Assert.Equal(AdeSyncStatus.NotDue, pass[^1].Result!.Status);
        // Each run had a progress activity of its own while it ran, and closed it.
        var activities = host.Progress.GroupBy(p => (p.ActivityId, p.Activity)).ToList();
        Assert.All(activities, a => Assert.True(a.Last().Completed));
        Assert.InRange(host.Progress.Select(p => p.ActivityId).Distinct().Count(), 2, 3);
    }

    [Fact]
    public void One_at_a_time_a_tokens_sync_starts_only_after_the_one_before_was_handed_on()
    {
        using var f = new EngineSimFixture(devices: 2);
        var macs = f.AddToken("Macs", devices: 2);
        var host = new RecordingHost();
        var engine = f.NewEngine(host);
        var running = new HashSet<string>();
        var most = 0;
        host.OnProgress = p =>
        {
            lock (running)
            {
                if (p.Completed)
                {
                    running.Remove(p.Activity);
                }
                else
                {
                    running.Add(p.Activity);
                }

                most = Math.Max(most, running.Count);
            }

            if (!p.Completed)
            {
                Thread.Sleep(50); // a run that lasts: a second one starting meanwhile would be counted
            }
        };

        using var pass = engine.Sync.SyncIfDue([f.Token.Id.ToString(), macs.Id.ToString()], concurrency: 1).GetEnumerator();
        Assert.True(pass.MoveNext());
        Assert.Equal(AdeSyncStatus.Succeeded, pass.Current.Result!.Status);
        Assert.Empty(engine.Sync.GetStatus(macs).History); // not started before the first outcome was taken
        Assert.True(pass.MoveNext());
        Assert.Equal(AdeSyncStatus.Succeeded, pass.Current.Result!.Status);
        Assert.False(pass.MoveNext());
        Assert.Equal(1, most);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(SyncService.MaxIfDueConcurrency + 1)]
    public void A_concurrency_outside_1_to_32_is_refused(int concurrency)
    {
        using var f = new EngineSimFixture();
        Assert.Throws<ArgumentOutOfRangeException>(() => f.Engine.Sync.SyncIfDue([f.Token.Id.ToString()], concurrency).ToList());
    }

    [Fact]
    public void A_pass_answers_tokens_that_are_not_due_while_another_host_holds_the_PostgreSQL_stores_write_lock()
    {
        using var schema = new TestPostgresSchema();
        using var f = new EngineSimFixture(devices: 3, postgres: schema);
        var macs = f.AddToken("Macs", devices: 2);
        var ids = new[] { f.Token.Id.ToString(), macs.Id.ToString() };
        Assert.All(f.Engine.Sync.SyncIfDue(ids), o => Assert.Equal(AdeSyncStatus.Succeeded, o.Result!.Status));
        ((AdeEnrollment.Engine.Storage.Postgres.PostgresProvider)f.Store.StoreProvider).LockWait = TimeSpan.FromMilliseconds(200);

        using var holder = new NpgsqlConnection(TestPostgres.ConnectionString);
        holder.Open();
        using var transaction = holder.BeginTransaction();
        using (var take = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({AdeEnrollment.Engine.Storage.Postgres.PostgresProvider.WriteLockKey})", holder, transaction))
        {
            take.ExecuteNonQuery();
        }

        Assert.All(f.Engine.Sync.SyncIfDue(ids), o => Assert.Equal(AdeSyncStatus.NotDue, o.Result!.Status));

        // Due: each token needs the write, which waits for the lock and gives up, each on its own.
        f.Advance(TimeSpan.FromHours(12) + TimeSpan.FromMinutes(1));
        Assert.All(f.Engine.Sync.SyncIfDue(ids), o => Assert.Equal("StoreBusy", Assert.IsType<Errors.AdeException>(o.Failure).ErrorId));
        transaction.Rollback();

        // The lock key is the same for every store of the test server's database, and other tests write in parallel:
        // the normal wait again, so their writes do not make these give up.
        ((AdeEnrollment.Engine.Storage.Postgres.PostgresProvider)f.Store.StoreProvider).LockWait = TimeSpan.FromSeconds(60);
        Assert.All(f.Engine.Sync.SyncIfDue(ids), o => Assert.Equal(AdeSyncStatus.Succeeded, o.Result!.Status));
    }

    private static string Describe(AdeSyncResult? r)
        => r is null ? "due (stopped by -WhatIf)" : $"{r.Status} {r.Kind} {r.Trigger} next automatic {r.NextAutomaticSyncAt:O} manual {r.NextManualSyncAt:O} full {r.NextFullSyncAt:O}";

    private static void SetState(EngineSimFixture f, Guid tokenId, (DateTimeOffset? Started, DateTimeOffset? Success, DateTimeOffset? Full, bool MustBeFull, DateTimeOffset? LeaseExpires)? state)
    {
        static string Ms(DateTimeOffset? t) => t is { } v ? v.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture) : "NULL";
        var id = tokenId.ToString();
        var sql = new List<string> { $"DELETE FROM sync_state WHERE token_id = '{id}'" };
        if (state is { } s)
        {
            var lease = s.LeaseExpires is null ? "NULL" : "'another-host'";
            sql.Add($"""
                INSERT INTO sync_state (token_id, last_started_at, last_success_at, last_full_at, next_must_be_full, lease_id, lease_expires_at)
                VALUES ('{id}', {Ms(s.Started)}, {Ms(s.Success)}, {Ms(s.Full)}, {(s.MustBeFull ? 1 : 0)}, {lease}, {Ms(s.LeaseExpires)})
                """);
        }

        foreach (var statement in sql)
        {
            if (f.Postgres is { } pg)
            {
                pg.Execute(statement);
            }
            else
            {
                f.Sql(statement);
            }
        }
    }
}

using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using AdeEnrollment.Simulator.Service;

namespace AdeEnrollment.Simulator.Business;

/// <summary>
/// How an activity ends: on the simulator's clock, <see cref="BusinessSettings.ActivityDuration"/> after it was
/// created, checked before each request is routed (under the org lock). Only then do the devices move, so the DEP
/// sync of the servers concerned sees added/deleted events at completion time. Also writes an activity as JSON and
/// signs its log's download URL.
/// </summary>
internal static class ActivityCompletion
{
    /// <summary>Completes every activity whose time has come.</summary>
    public static void CompleteDue(BusinessState b)
    {
        if (b.PendingActivities == 0 && b.PendingDepMoves.Count == 0)
        {
            return;
        }

        var now = b.Time.GetUtcNow();
        ApplyDueDepMoves(b, now);
        foreach (var activity in b.Activities.Values.Where(a => a.Status == "IN_PROGRESS" && now >= a.CreatedAt + b.Settings.ActivityDuration).OrderBy(a => a.CreatedAt).ToList())
        {
            Complete(b, activity, now);
        }
    }

    /// <summary>The DEP side of completed activities whose visibility delay has passed, in completion order.</summary>
    private static void ApplyDueDepMoves(BusinessState b, DateTimeOffset now)
    {
        while (b.PendingDepMoves.Count > 0 && b.PendingDepMoves[0].Due <= now)
        {
            var (due, _, apply) = b.PendingDepMoves[0];
            b.PendingDepMoves.RemoveAt(0);
            apply(due);
        }
    }

    /// <summary>
    /// A device move on the DEP side (servers' device lists, owners, change log): at once, or after
    /// <see cref="BusinessSettings.DepVisibilityDelay"/> (then the DEP fetch and sync, and the Business views derived from
    /// the owner, show it only from then on; the activity and its log report the outcome at completion).
    /// <paramref name="target"/> is the server the device moves onto (null when it only leaves one): while the move is
    /// pending, Apple counts the device as that server's, so the server can't be deleted.
    /// </summary>
    private static void OnDep(BusinessState b, DateTimeOffset now, ServerState? target, Action<DateTimeOffset> apply)
    {
        if (b.Settings.DepVisibilityDelay is { } delay && delay > TimeSpan.Zero)
        {
            b.PendingDepMoves.Add((now + delay, target, apply));
        }
        else
        {
            apply(now);
        }
    }

    /// <summary>
    /// Moves an org device onto a server on the DEP side, as a completed ASSIGN does (through <see cref="OnDep"/>, so
    /// after DepVisibilityDelay): off its previous server, onto the target as an <c>added</c> event. Also the default
    /// assignment of a new org device (<see cref="BusinessState.DefaultServerFor"/>), which no activity reports.
    /// </summary>
    public static void AssignOnDep(BusinessState b, string serial, AdeSimOrgDevice org, ServerState target, DateTimeOffset now, string assignedBy)
        => OnDep(b, now, target, at =>
        {
            if (b.OwnerOf(serial) is { } from) b.Org.Release(from, from.Devices[serial], at);
            var dep = b.Org.Generator.NewDevice(target.Name, serial, org.ProductFamily is "iPad" ? "iPad" : "iPhone", at, assignedBy);
            dep = org.ProductFamily is "iPhone" or "iPad" ? dep with { Model = org.DeviceModel } : dep with { Model = org.DeviceModel, DeviceFamily = org.ProductFamily, Os = org.ProductFamily switch { "Mac" => "OSX", "AppleTV" => "tvOS", "Vision" => "visionOS", "Watch" => "watchOS", "iPod" => "iOS", _ => dep.Os } };
            target.Devices[serial] = dep;
            b.Org.SerialOwners[serial] = target.Name;
            target.Record(dep, "added", at);
        });

    private static void Complete(BusinessState b, SimActivity a, DateTimeOffset now)
    {
        b.PendingActivities--;
        a.CompletedAt = now;
        var forced = b.Settings.ForcedActivityOutcome;
        if (forced is "FAILED" or "STOPPED" or "FAILED_WITHOUT_LOG")
        {
            // nothing moves; FAILED_WITHOUT_LOG: Apple says FAILED and gives no log of its devices (no downloadUrl)
            a.Status = forced == "STOPPED" ? "STOPPED" : "FAILED";
            a.SubStatus = b.Settings.FailedSubStatus switch
            {
                "LastSeen" => InProgress(b, a, now - TimeSpan.FromTicks(1)),
                "None" => null,
                _ => forced == "STOPPED" ? "STOPPING" : "COMPLETED_WITH_FAILURE",
            };
            a.NoLog = forced == "FAILED_WITHOUT_LOG";
            if (!a.NoLog)
            {
                foreach (var s in a.Serials) a.Results.Add((s, "FAILED", "ACTIVITY_" + forced));
            }

            return;
        }

        var target = a.ServerId is null ? null : b.ServerById(a.ServerId, a.OrgName);
        foreach (var serial in a.Serials)
        {
            if (a.UnknownSerials.Contains(serial) || b.OrgDeviceOf(serial, a.OrgName) is not { } org)
            {
                a.Results.Add((serial, "FAILED", "DEVICE_NOT_FOUND"));
                continue;
            }

            if (b.Settings.FailingSerials.TryGetValue(serial, out var failure))
            {
                a.Results.Add((serial, "FAILED", failure)); // a test's "Apple failed this device": it stays where it is
                continue;
            }

            var owner = b.OwnerOf(serial);
            switch (a.Type)
            {
                case "ASSIGN_DEVICES" or "ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE" when target is null:
                    a.Results.Add((serial, "FAILED", "MDM_SERVER_NOT_FOUND")); // the service was deleted while the activity ran
                    break;
                case "UPDATE_MDM_MIGRATION_DEADLINE" or "CANCEL_MDM_MIGRATION" when org.MdmMigrationStatus is null:
                    a.Results.Add((serial, "FAILED", "NOT_MIGRATING"));
                    break;
                case "UPDATE_MDM_MIGRATION_DEADLINE":
                    b.OrgDevices[serial] = org with { MdmMigrationDeadline = a.Deadline, UpdatedDate = now };
                    a.Results.Add((serial, "SUCCESS", "DEADLINE_UPDATED"));
                    break;
                case "CANCEL_MDM_MIGRATION":
                    b.OrgDevices[serial] = org with { MdmMigrationStatus = null, MdmMigrationDeadline = null, UpdatedDate = now };
                    a.Results.Add((serial, "SUCCESS", "MIGRATION_CANCELED"));
                    break;
                case "ASSIGN_DEVICES" or "ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE" when owner == target:
                    a.Results.Add((serial, "FAILED", "ALREADY_ASSIGNED"));
                    break;
                case "ASSIGN_DEVICES" or "ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE":
                    AssignOnDep(b, serial, org, target!, now, b.Settings.ApiAssignedBy switch { "ServerAdmin" => target!.AdminId, "Empty" => "", _ => a.ClientId });
                    b.OrgDevices[serial] = a.Deadline is { } due
                        ? org with { UpdatedDate = now, MdmMigrationStatus = "REQUESTED", MdmMigrationDeadline = due }
                        : org with { UpdatedDate = now };
                    a.Results.Add((serial, "SUCCESS", "ASSIGNED"));
                    break;
                case "UNASSIGN_DEVICES" when (owner is null || owner != target) && b.Settings.SilentUnassignElsewhere:
                    a.Results.Add((serial, "SUCCESS", "UNASSIGNED")); // Apple says nothing: the device stays where it is
                    break;
                case "UNASSIGN_DEVICES" when owner is null || owner != target:
                    a.Results.Add((serial, "FAILED", "NOT_ASSIGNED_TO_SERVER"));
                    break;
                case "UNASSIGN_DEVICES":
                    OnDep(b, now, null, at =>
                    {
                        if (b.OwnerOf(serial) is { } from && from == target) b.Org.Release(from, from.Devices[serial], at);
                    });
                    b.OrgDevices[serial] = org with { UpdatedDate = now };
                    a.Results.Add((serial, "SUCCESS", "UNASSIGNED"));
                    break;
                default: // RELEASE_DEVICES
                    OnDep(b, now, null, at =>
                    {
                        if (b.OwnerOf(serial) is { } from) b.Org.Release(from, from.Devices[serial], at);
                    });
                    b.OrgDevices.Remove(serial);
                    b.ReleasedDevices[serial] = org with { ReleasedFromOrgDate = now, UpdatedDate = now, ReleaserId = a.ClientId, ReleaserEntityType = b.Settings.ReleaserEntityType, MdmMigrationStatus = null, MdmMigrationDeadline = null };
                    a.Results.Add((serial, "SUCCESS", "RELEASED"));
                    break;
            }
        }

        var failed = a.Results.Count(r => r.Status != "SUCCESS");
        a.Status = "COMPLETED";
        // COMPLETED_POST_PROCESSING_FAILED: the devices moved as above, but Apple made no log of them (no downloadUrl)
        a.SubStatus = forced is "COMPLETED_WITH_FAILURE" or "COMPLETED_POST_PROCESSING_FAILED" ? forced : failed == 0 ? "COMPLETED_WITH_SUCCESS" : "COMPLETED_WITH_ERROR";
        a.NoLog = forced is "COMPLETED_POST_PROCESSING_FAILED";
    }

    /// <summary>
    /// An activity resource; <paramref name="fields"/> null writes every attribute. <paramref name="created"/>: the answer
    /// to the POST that created it, which says SUBMITTED as Apple documents (the clock may have moved while it was made).
    /// </summary>
    public static void Write(Utf8JsonWriter w, BusinessState b, SimActivity a, HashSet<string>? fields, bool created = false)
    {
        bool F(string name) => fields is null || fields.Contains(name);
        var now = b.Time.GetUtcNow();
        var sub = a.Status != "IN_PROGRESS" ? a.SubStatus : created ? "SUBMITTED" : InProgress(b, a, now);
        w.WriteStartObject();
        w.WriteString("type", "orgDeviceActivities");
        w.WriteString("id", a.Id);
        w.WriteStartObject("attributes");
        if (F("status")) w.WriteString("status", a.Status);
        if (F("subStatus") && sub is not null) w.WriteString("subStatus", sub);
        if (F("createdDateTime")) w.WriteString("createdDateTime", BusinessJson.Iso(a.CreatedAt));
        if (a.CompletedAt is { } done)
        {
            if (F("completedDateTime")) w.WriteString("completedDateTime", BusinessJson.Iso(done));
            if (F("downloadUrl") && !a.NoLog) w.WriteString("downloadUrl", DownloadUrl(b, a, now));
        }

        // undocumented attributes some clients read (and fall back without): sent only under ActivityExtraAttributes,
        // whatever fields[] asked for, as an Apple that added them would
        if (b.Settings.ActivityExtraAttributes)
        {
            w.WriteString("activityType", a.Type);
            w.WriteString("updatedDateTime", BusinessJson.Iso(a.CompletedAt ?? a.CreatedAt));
            w.WriteNumber("deviceCount", a.Serials.Count);
        }

        w.WriteEndObject();
        w.WriteStartObject("links");
        w.WriteString("self", b.Link("v1/orgDeviceActivities/" + a.Id));
        w.WriteEndObject();
        w.WriteEndObject();
    }

    /// <summary>
    /// The sub-status of an activity in progress: SUBMITTED until its clock moves, then PROCESSING; under ActivityProgress
    /// Steps, each documented step for a quarter of its duration (PRE_PROCESSING, PENDING, PROCESSING, POST_PROCESSING).
    /// </summary>
    private static string InProgress(BusinessState b, SimActivity a, DateTimeOffset now)
    {
        var elapsed = now - a.CreatedAt;
        if (elapsed <= TimeSpan.Zero) return "SUBMITTED";
        if (b.Settings.ActivityProgress != "Steps") return "PROCESSING";
        var quarter = (int)Math.Min(3, elapsed.Ticks * 4 / Math.Max(1, b.Settings.ActivityDuration.Ticks));
        return quarter switch { 0 => "PRE_PROCESSING", 1 => "PENDING", 2 => "PROCESSING", _ => "POST_PROCESSING" };
    }

    /// <summary>The signature of an activity log URL expiring at <paramref name="expires"/> (Unix seconds).</summary>
    public static string Signature(BusinessState b, string id, string? expires)
        => Convert.ToHexString(HMACSHA256.HashData(b.DownloadKey, Encoding.UTF8.GetBytes(id + "|" + expires)));

    private static string DownloadUrl(BusinessState b, SimActivity a, DateTimeOffset now)
    {
        var expires = (now + b.Settings.ActivityLogLinkLifetime).ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        return b.Link($"abm-logs/{a.Id}.csv?Expires={expires}&Signature={Signature(b, a.Id, expires)}");
    }
}

namespace AdeEnrollment.Simulator.Service.Handlers;

/// <summary>What assigning or removing a profile does to one device, shared by POST /profile and /profile/devices.</summary>
internal static class ProfileAssignment
{
    /// <summary>Assigns one device; THROTTLED exists from protocol 9 (older clients get FAILED).</summary>
    public static string Assign(ServerState server, string serial, string uuid, int version, DateTimeOffset now, out int? retryAfterSeconds)
    {
        retryAfterSeconds = null;
        if (!server.Devices.TryGetValue(serial, out var device))
        {
            return "NOT_ACCESSIBLE";
        }

        if (TakeOutcome(server, serial) is { } outcome)
        {
            if (outcome.Status == "THROTTLED")
            {
                if (version < 9)
                {
                    return "FAILED";
                }

                retryAfterSeconds = outcome.RetryAfterSeconds ?? 60;
            }

            return outcome.Status;
        }

        var assigned = device with { ProfileUuid = uuid, ProfileStatus = "assigned", ProfileAssignTime = now, ProfilePushTime = null };
        server.Devices[serial] = assigned;
        server.Record(assigned, "modified", now);
        return "SUCCESS";
    }

    /// <summary>Removes the profile from one device; remove never throttles (an injected THROTTLED answers FAILED).</summary>
    public static string Remove(ServerState server, string serial, DateTimeOffset now)
    {
        if (!server.Devices.TryGetValue(serial, out var device))
        {
            return "NOT_ACCESSIBLE";
        }

        if (TakeOutcome(server, serial) is { } outcome)
        {
            return outcome.Status == "THROTTLED" ? "FAILED" : outcome.Status;
        }

        var removed = device with { ProfileUuid = null, ProfileStatus = "removed", ProfileAssignTime = null, ProfilePushTime = null };
        server.Devices[serial] = removed;
        server.Record(removed, "modified", now);
        return "SUCCESS";
    }

    /// <summary>The injected answer for this serial (Set-AdeSimFault -SerialNumber), counted down, or null.</summary>
    private static DeviceOutcome? TakeOutcome(ServerState server, string serial)
    {
        if (!server.Outcomes.TryGetValue(serial, out var outcome))
        {
            return null;
        }

        if (outcome.Remaining is { } remaining)
        {
            if (remaining <= 1)
            {
                server.Outcomes.Remove(serial);
            }
            else
            {
                outcome.Remaining = remaining - 1;
            }
        }

        return outcome;
    }
}

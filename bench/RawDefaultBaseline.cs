// Compiled by bench/Invoke-Scenario.ps1 (Add-Type) for the RawDefaultBaseline scenario: the Apple side of a full sync
// with a default profile, done by the engine's Apple client alone, nothing stored. The client's types are internal to
// the engine, so they are reached by reflection; the calls (a few hundred) cost nothing beside the HTTP they start.
// The loop is C#, not PowerShell, so that the figure holds no script overhead per device (it is a floor).
using System;
using System.Collections.Generic;
using System.Reflection;
using System.Threading;
using System.Threading.Tasks;

public static class AdeBenchRawDefault
{
    /// <summary>Defines a profile at Apple with the client (untimed setup) and returns its UUID.</summary>
    public static string Define(object client, string name)
    {
        var define = client.GetType().GetMethod("DefineProfileAsync");
        var profile = Activator.CreateInstance(define.GetParameters()[0].ParameterType, nonPublic: true);
        profile.GetType().GetProperty("ProfileName").SetValue(profile, name);
        profile.GetType().GetProperty("Url").SetValue(profile, "https://mdm.contoso.example/enroll");
        var answer = Result(define.Invoke(client, new object[] { profile, CancellationToken.None }));
        return (string)answer.GetType().GetProperty("ProfileUuid").GetValue(answer);
    }

    /// <summary>
    /// Fetches every page (1,000 devices), asks Apple to assign the profile to each page's devices — page N's request
    /// in flight while page N+1 is fetched, one request at a time, as the engine's sync does — and then reads Apple's
    /// changes since the fetch (its echo of every assignment) to the end. Returns fetched, assigned (SUCCESS),
    /// echoed, fetch pages, delta pages.
    /// </summary>
    public static long[] Run(object client, string profileUuid)
    {
        var type = client.GetType();
        var fetch = type.GetMethod("FetchDevicesAsync");
        var sync = type.GetMethod("SyncDevicesAsync");
        var assign = type.GetMethod("AssignProfileAsync");
        long fetched = 0, assigned = 0, echoed = 0, pages = 0, deltaPages = 0;
        object pendingAssign = null;
        string cursor = null;
        var next = fetch.Invoke(client, new object[] { null, 1000, CancellationToken.None });
        while (true)
        {
            var page = Result(next);
            pages++;
            var serials = Serials(page);
            fetched += serials.Length;
            if (pendingAssign != null) assigned += Succeeded(Result(pendingAssign));
            pendingAssign = serials.Length == 0 ? null
                : assign.Invoke(client, new object[] { profileUuid, serials, false, CancellationToken.None, false });
            cursor = (string)page.GetType().GetProperty("Cursor").GetValue(page);
            if (!(bool)page.GetType().GetProperty("MoreToFollow").GetValue(page)) break;
            next = fetch.Invoke(client, new object[] { cursor, 1000, CancellationToken.None });
        }

        if (pendingAssign != null) assigned += Succeeded(Result(pendingAssign));
        while (true)
        {
            var page = Result(sync.Invoke(client, new object[] { cursor, 1000, CancellationToken.None }));
            deltaPages++;
            echoed += Serials(page).Length;
            cursor = (string)page.GetType().GetProperty("Cursor").GetValue(page);
            if (!(bool)page.GetType().GetProperty("MoreToFollow").GetValue(page)) break;
        }

        return new[] { fetched, assigned, echoed, pages, deltaPages };
    }

    static object Result(object task)
    {
        ((Task)task).GetAwaiter().GetResult();
        return task.GetType().GetProperty("Result").GetValue(task);
    }

    static string[] Serials(object page)
    {
        var devices = (System.Collections.IList)page.GetType().GetProperty("Devices").GetValue(page);
        var serials = new string[devices.Count];
        PropertyInfo serial = null;
        for (var i = 0; i < serials.Length; i++)
        {
            serial ??= devices[i].GetType().GetProperty("SerialNumber");
            serials[i] = (string)serial.GetValue(devices[i]);
        }

        return serials;
    }

    static long Succeeded(object answer)
    {
        var outcomes = (IDictionary<string, string>)answer.GetType().GetProperty("Devices").GetValue(answer);
        long n = 0;
        foreach (var outcome in outcomes.Values) if (outcome == "SUCCESS") n++;
        return n;
    }
}

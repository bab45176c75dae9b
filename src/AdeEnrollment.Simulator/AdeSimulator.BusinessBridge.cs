using System.Text.Json;
using AdeEnrollment.Simulator.Service;
using AdeEnrollment.Simulator.Service.Handlers;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator;

// A temporary bridge: the Apple Business API (AdeSimulator.Business.cs) still reads the org state through the private
// names it had when the simulator was one partial class. Each name below forwards to the part that now owns it. When
// the Business API follows the simulator's pattern (its own handlers over OrgState, mounted on the router), this file
// goes away. Everything here is used under the org lock, as before.
public sealed partial class AdeSimulator
{
    private object gate => state.Gate;

    private List<ServerState> servers => state.Servers;

    private Dictionary<string, string> serialOwners => state.SerialOwners;

    private Dictionary<string, SessionState> sessions => state.Sessions;

    private DeviceGenerator generator => state.Generator;

    private void Release(ServerState server, AdeSimDevice device, DateTimeOffset now) => state.Release(server, device, now);

    private static Answer Json(Action<Utf8JsonWriter> write, ServerState? server) => Answers.Json(write, server?.Name);

    private static string Iso(DateTimeOffset time) => DeviceJson.Iso(time);
}

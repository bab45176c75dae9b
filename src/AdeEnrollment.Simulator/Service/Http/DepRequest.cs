using System.Text.Json;

namespace AdeEnrollment.Simulator.Service.Http;

/// <summary>An endpoint handler of the ADE web service: called by the router under the org lock.</summary>
internal delegate Answer DepHandler(DepRequest request);

/// <summary>What a handler gets: the request, the org state, and the MDM server whose session made the request.</summary>
internal sealed class DepRequest
{
    private readonly ServerState? server;

    public DepRequest(Exchange exchange, OrgState state, ServerState? server)
    {
        X = exchange;
        State = state;
        this.server = server;
    }

    public Exchange X { get; }

    public OrgState State { get; }

    /// <summary>The session's server (not there for /session, which makes the session).</summary>
    public ServerState Server => server ?? throw new InvalidOperationException("This endpoint is not authenticated by a session.");

    public DateTimeOffset Now => State.Time.GetUtcNow();

    /// <summary>An Apple error code, quoted when the simulator is told to (<see cref="SimSettings.QuoteErrorBodies"/>).</summary>
    public Answer Error(int status, string code) => Answers.Error(status, code, State.Settings.QuoteErrorBodies);

    public Answer Json(Action<Utf8JsonWriter> write) => Answers.Json(write, server?.Name);
}

using System.Net;
using System.Text;

namespace AdeEnrollment.Engine.Tests.TestSupport;

/// <summary>
/// Answers the two calls New-AdeToken makes (GET /session, GET /account) with fixed, Apple-shaped JSON, for engine
/// tests about tokens that do not need the simulator. Counts the calls it saw.
/// </summary>
public sealed class AccountOnlyAppleHandler : HttpMessageHandler
{
    public int Calls { get; private set; }

    /// <summary>The server_name /account reports; null leaves it out (the token is then named after the file).</summary>
    public string? ServerName { get; set; }

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        Calls++;
        var body = request.RequestUri!.AbsolutePath switch
        {
            "/session" => """{"auth_session_token":"TEST-SESSION"}""",
            "/account" => (ServerName is null ? "{" : $"{{\"server_name\":\"{ServerName}\",")
                          + "\"server_uuid\":\"11111111-2222-3333-4444-555555555555\",\"admin_id\":\"admin@example.com\",\"org_name\":\"Example Org\",\"org_type\":\"edu\"}",
            _ => null,
        };
        var response = body is null
            ? new HttpResponseMessage(HttpStatusCode.NotFound) { Content = new StringContent("NOT_FOUND") }
            : new HttpResponseMessage(HttpStatusCode.OK) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        return Task.FromResult(response);
    }
}

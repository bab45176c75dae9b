using System.Buffers;
using System.Text;
using System.Text.Json;

namespace AdeEnrollment.Simulator.Service.Http;

/// <summary>What a handler answers; the host writes it and logs it.</summary>
internal sealed class Answer
{
    public int Status { get; init; } = 200;

    public byte[] Body { get; init; } = [];

    public string ContentType { get; init; } = "application/json;charset=UTF8";

    public List<KeyValuePair<string, string>> Headers { get; } = [];

    /// <summary>The error code the request log shows (null for a success).</summary>
    public string? ErrorCode { get; init; }

    /// <summary>How many devices the request carried or returned (the request log shows it).</summary>
    public int DeviceCount { get; set; }

    /// <summary>The serial numbers the request carried (assign, remove, define, details, disown; the request log shows them).</summary>
    public IReadOnlyList<string> SerialNumbers { get; set; } = [];

    /// <summary>The profile the request named (assign) or defined (the request log shows it).</summary>
    public string? ProfileUuid { get; set; }

    /// <summary>The MDM server the request was made for (the request log shows it).</summary>
    public string? Server { get; set; }
}

/// <summary>The ways of building an answer that the host and the handlers share.</summary>
internal static class Answers
{
    /// <summary>An error answer: Apple's plain-text code, JSON-quoted when <paramref name="quoted"/>.</summary>
    public static Answer Error(int status, string code, bool quoted = false)
        => new()
        {
            Status = status,
            Body = Encoding.UTF8.GetBytes(quoted ? "\"" + code + "\"" : code),
            ContentType = "text/plain;charset=UTF8",
            ErrorCode = code,
        };

    /// <summary>A 200 answer whose body is the JSON object <paramref name="write"/> fills in.</summary>
    public static Answer Json(Action<Utf8JsonWriter> write, string? server)
    {
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        return new Answer { Body = buffer.WrittenSpan.ToArray(), Server = server };
    }

    /// <summary>The code an error status answers with when nobody gave one (faults without -Body).</summary>
    public static string DefaultBody(int status) => status switch
    {
        400 => "BAD_REQUEST",
        401 => "UNAUTHORIZED",
        403 => "FORBIDDEN",
        404 => "NOT_FOUND",
        405 => "METHOD_NOT_ALLOWED",
        429 => "TOO_MANY_REQUESTS",
        500 => "INTERNAL_SERVER_ERROR",
        502 => "BAD_GATEWAY",
        503 => "SERVICE_UNAVAILABLE",
        504 => "GATEWAY_TIMEOUT",
        _ => "ERROR",
    };
}

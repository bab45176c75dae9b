using System.Globalization;
using System.Text;
using AdeEnrollment.Simulator.Service.Http;

namespace AdeEnrollment.Simulator.Business.Handlers;

/// <summary>
/// GET /abm-logs/{id}.csv: the activity's CSV log. No bearer token: a signed URL that expires (ActivityLogLinkLifetime,
/// 60 s) after the GET of the activity that made it (else 403 with an S3-like XML body). Its layout is a setting
/// (ActivityLogShape), as are the status words: Apple documents neither.
/// </summary>
internal static class ActivityLogHandler
{
    public static Answer Download(BusinessRequest r)
    {
        var b = r.B;
        var id = r.Id.Replace(".csv", "", StringComparison.Ordinal);
        var expires = r.X.Query("Expires");
        if (!b.Activities.TryGetValue(id, out var a) || a.CompletedAt is null || r.X.Query("Signature") != ActivityCompletion.Signature(b, id, expires)
            || !long.TryParse(expires, NumberStyles.None, CultureInfo.InvariantCulture, out var e) || e < b.Time.GetUtcNow().ToUnixTimeSeconds())
        {
            return new Answer { Status = 403, Body = "<Error><Code>AccessDenied</Code></Error>"u8.ToArray(), ContentType = "application/xml", ErrorCode = "AccessDenied" };
        }

        var csv = Log(a, b.Settings);
        var answer = new Answer { Body = Encoding.UTF8.GetBytes(csv), ContentType = "application/octet-stream" };
        answer.Headers.Add(new("Content-Disposition", $"attachment; filename=\"ABM-ActivityLog_{a.CompletedAt:MMM-d-yyyy_HH-mm-ss}.csv\""));
        return answer;
    }

    /// <summary>The log's text in the layout the settings ask for.</summary>
    internal static string Log(SimActivity a, BusinessSettings settings)
    {
        string Word(string status) => status == "SUCCESS" ? settings.ActivityLogSuccess : status == "FAILED" ? settings.ActivityLogFailure : status;
        var csv = new StringBuilder();
        switch (settings.ActivityLogShape)
        {
            case "NoPreamble":
                csv.Append("serial_number,operation_status,operation_substatus\n");
                foreach (var (serial, status, sub) in a.Results) csv.Append(serial).Append(',').Append(Word(status)).Append(',').Append(sub).Append('\n');
                break;
            case "Quoted":
                csv.Append("\"Activity\",\"").Append(a.Type).Append(", ").Append(a.Serials.Count).Append(" devices\"\r\n");
                csv.Append("\"message\",\"serial_number\",\"operation_status\",\"operation_substatus\"\r\n");
                foreach (var (serial, status, sub) in a.Results)
                {
                    csv.Append('"').Append(status == "SUCCESS" ? "Done, no action needed" : "Not done, see \"\"" + sub + "\"\"").Append("\",\"")
                        .Append(serial).Append("\",\"").Append(Word(status)).Append("\",\"").Append(sub).Append("\"\r\n");
                }

                break;
            case "TitleCase":
                csv.Append("Operation Status,Serial Number,Operation Substatus\n");
                foreach (var (serial, status, sub) in a.Results) csv.Append(Word(status)).Append(',').Append(serial).Append(',').Append(sub).Append('\n');
                break;
            default:
                csv.Append("Activity,").Append(a.Type).Append('\n');
                csv.Append("Activity ID,").Append(a.Id).Append("\n\n");
                csv.Append("serial_number,operation_status,operation_substatus\n");
                foreach (var (serial, status, sub) in a.Results) csv.Append(serial).Append(',').Append(Word(status)).Append(',').Append(sub).Append('\n');
                break;
        }

        return csv.ToString();
    }
}

using System.Globalization;
using System.Management.Automation;

namespace AdeEnrollment.Transforms;

/// <summary>
/// Reads a date given as text the same way in every culture: '2026-12-01' or '2026-12-01T08:00:00Z' is that date under
/// th-TH (whose calendar would make it the year 1483) and ar-SA (where it would not bind) as under en-US. Text without
/// an offset is local time, as PowerShell reads it. Text this does not read (and every non-text value) is left to
/// PowerShell's own conversion, with its own error.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed class InvariantDateAttribute : ArgumentTransformationAttribute
{
    public override object? Transform(EngineIntrinsics engineIntrinsics, object? inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        return value is string text && DateTimeOffset.TryParse(text.Trim(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out var date)
            ? date
            : inputData;
    }
}

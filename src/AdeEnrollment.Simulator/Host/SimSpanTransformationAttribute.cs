using System.Globalization;
using System.Management.Automation;
using System.Text.RegularExpressions;

namespace AdeEnrollment.Simulator.Host;

/// <summary>
/// How far to move the simulated clock, as a test author writes it. .NET reads '25:00:00' as 25 days (hours past 23
/// become days), which broke tests that meant "25 hours later"; here 'h:mm' and 'h:mm:ss' are always hours, and the
/// short forms '15m', '12h', '7d', '1d12h', '90s' are read too. Anything else is what PowerShell makes of it (a
/// TimeSpan, '7.00:00:00', [TimeSpan]::FromDays(8)); a text that is none of these is refused with the forms accepted.
/// </summary>
[AttributeUsage(AttributeTargets.Property | AttributeTargets.Field)]
public sealed partial class SimSpanTransformationAttribute : ArgumentTransformationAttribute
{
    public override object Transform(EngineIntrinsics engineIntrinsics, object inputData)
    {
        var value = inputData is PSObject ps ? ps.BaseObject : inputData;
        switch (value)
        {
            // PowerShell reads an unquoted 7d as the decimal 7 and 90s as the short 90 (its number suffixes): those
            // are what the short forms meant. Any other number would become ticks; it is refused instead.
            case decimal days:
                return TimeSpan.FromDays((double)days);
            case short seconds:
                return TimeSpan.FromSeconds(seconds);
            case int or long or double or float or byte or sbyte or ushort or uint or ulong or System.Numerics.BigInteger:
                var number = Convert.ToString(value, CultureInfo.InvariantCulture)!;
                return number == "0" ? TimeSpan.Zero : throw NumberRefused(number); // -Advance 0 needs no unit
            case not string:
                return inputData;
        }

        var text = ((string)value).Trim();
        var sign = text.StartsWith('-') ? -1 : 1;
        var body = sign < 0 ? text[1..] : text;
        if (body.Length > 0 && body.All(char.IsAsciiDigit) && body.Trim('0').Length > 0)
        {
            throw NumberRefused(text); // '7' would be 7 days to .NET, and 7 ticks as a number: neither is what was meant
        }
        if (Clock().Match(body) is { Success: true } clock)
        {
            var span = new TimeSpan(int.Parse(clock.Groups[1].Value, CultureInfo.InvariantCulture), int.Parse(clock.Groups[2].Value, CultureInfo.InvariantCulture),
                clock.Groups[3].Success ? int.Parse(clock.Groups[3].Value, CultureInfo.InvariantCulture) : 0);
            return sign * span;
        }

        if (Short().Match(body) is { Success: true } shortForm && body.Length > 0)
        {
            double Part(int group) => shortForm.Groups[group].Success ? double.Parse(shortForm.Groups[group].Value, CultureInfo.InvariantCulture) : 0;
            return sign * (TimeSpan.FromDays(Part(1)) + TimeSpan.FromHours(Part(2)) + TimeSpan.FromMinutes(Part(3)) + TimeSpan.FromSeconds(Part(4)));
        }

        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var parsed))
        {
            return parsed;
        }

        throw new ArgumentTransformationMetadataException(
            $"'{text}' is not a span of time: give hours as 'h:mm' or 'h:mm:ss' (e.g. '25:00:00' is 25 hours), a short form ('15m', '12h', '7d', '1d12h', '90s'), days as 'd.hh:mm:ss', or a [TimeSpan].");
    }

    private static ArgumentTransformationMetadataException NumberRefused(string number)
        => new($"{number} is a number, not a span of time: give a unit ('{number}h', '{number}m', '{number}d'), 'h:mm', or a [TimeSpan].");

    [GeneratedRegex(@"^(\d+):([0-5]\d)(?::([0-5]\d))?$", RegexOptions.CultureInvariant)]
    private static partial Regex Clock();

    [GeneratedRegex(@"^(?:(\d+(?:\.\d+)?)d)?(?:(\d+(?:\.\d+)?)h)?(?:(\d+(?:\.\d+)?)m)?(?:(\d+(?:\.\d+)?)s)?$", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex Short();
}

using System.Globalization;

namespace AdeEnrollment.Engine.Model;

/// <summary>
/// How long the device journal keeps events (Set-AdeStore -JournalRetentionDays): the default, the limits, and how the
/// setting is kept among the store's settings (text under <see cref="SettingKey"/>). Every sync deletes older events.
/// </summary>
public static class JournalRetention
{
    public const int DefaultDays = 90;
    public const int MinDays = 1;
    public const int MaxDays = 3650;

    /// <summary>The store setting that holds the retention in days.</summary>
    internal const string SettingKey = "journal_retention_days";

    /// <summary>The retention a stored setting gives: the default when there is none or it is not a number of days.</summary>
    internal static int Days(string? setting)
        => int.TryParse(setting, NumberStyles.Integer, CultureInfo.InvariantCulture, out var days) && days > 0 ? days : DefaultDays;

    /// <summary>The setting's stored text for <paramref name="days"/>.</summary>
    internal static string Setting(int days) => days.ToString(CultureInfo.InvariantCulture);
}

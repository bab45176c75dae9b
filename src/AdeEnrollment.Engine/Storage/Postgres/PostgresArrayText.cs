using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace AdeEnrollment.Engine.Storage.Postgres;

/// <summary>
/// A batch's column as the text of a PostgreSQL array ("{…}"): every text value double-quoted with its quotes and
/// backslashes escaped (so commas, braces, blanks and the word NULL stay values), a missing value the bare NULL. Sent as
/// one untyped parameter (<see cref="PostgresExtensions.ArrayParameter(string, IReadOnlyList{string?})"/>), which the
/// server parses as the array the statement needs.
/// </summary>
internal static class PostgresArrayText
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static string Of(IReadOnlyList<string?> values)
    {
        var text = new StringBuilder(values.Count * 16 + 2);
        text.Append('{');
        for (var i = 0; i < values.Count; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            if (values[i] is not { } value)
            {
                text.Append("NULL");
                continue;
            }

            text.Append('"');
            foreach (var c in value)
            {
                if (c is '"' or '\\')
                {
                    text.Append('\\');
                }

                text.Append(c);
            }

            text.Append('"');
        }

        return text.Append('}').ToString();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static string Of(IReadOnlyList<long?> values)
    {
        var text = new StringBuilder(values.Count * 14 + 2);
        text.Append('{');
        for (var i = 0; i < values.Count; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }

            if (values[i] is { } value)
            {
                text.Append(value.ToString(CultureInfo.InvariantCulture));
            }
            else
            {
                text.Append("NULL");
            }
        }

        return text.Append('}').ToString();
    }
}

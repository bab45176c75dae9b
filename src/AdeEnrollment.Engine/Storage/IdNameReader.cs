using System.Data.Common;

namespace AdeEnrollment.Engine.Storage;

/// <summary>Reads (id, name) rows — token or profile names a service checks a new name against — from either provider's reader.</summary>
internal static class IdNameReader
{
    public static IReadOnlyList<(Guid Id, string Name)> IdNames(DbDataReader r)
    {
        int id = r.GetOrdinal("id"), name = r.GetOrdinal("name");
        var rows = new List<(Guid, string)>();
        while (r.Read())
        {
            rows.Add((Guid.Parse(r.GetString(id)), r.GetString(name)));
        }

        return rows;
    }
}

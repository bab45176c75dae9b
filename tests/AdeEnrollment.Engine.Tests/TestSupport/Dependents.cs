namespace AdeEnrollment.Engine.Tests.TestSupport;

/// <summary>Profile and device rows written straight into the store tables (the cmdlets that make them come later).</summary>
public static class Dependents
{
    public static string AddProfile(this TestStore store, Guid tokenId, string name)
    {
        var id = Guid.NewGuid().ToString();
        store.Execute(
            "INSERT INTO profile (id, token_id, name, settings, created_at, modified_at) VALUES ($id, $t, $n, '{}', 0, 0)",
            ("$id", id), ("$t", tokenId.ToString()), ("$n", name));
        return id;
    }

    public static void AddDevice(this TestStore store, Guid tokenId, string serial, string? profileId = null)
        => store.Execute(
            "INSERT INTO device (token_id, serial_number, profile_id, updated_at) VALUES ($t, $s, $p, 0)",
            ("$t", tokenId.ToString()), ("$s", serial), ("$p", profileId));

    public static void SetDefaultProfile(this TestStore store, Guid tokenId, string profileId, string platform = "iOS")
        => store.Execute("INSERT OR REPLACE INTO token_default_profile (token_id, platform, profile_id) VALUES ($t, $pl, $p)",
            ("$p", profileId), ("$t", tokenId.ToString()), ("$pl", platform));
}

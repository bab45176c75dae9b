using System.Security.Cryptography;

namespace AdeEnrollment.Simulator.Business;

/// <summary>An API account of the organisation: its client ID, key ID and the public half of its P-256 key.</summary>
internal sealed class SimApiAccount
{
    public required string ClientId { get; init; }

    public required string KeyId { get; init; }

    public required ECDsa PublicKey { get; init; }

    public required string Scope { get; init; }

    public bool Revoked { get; set; }
}

/// <summary>An access token handed out by the token endpoint.</summary>
internal sealed record SimAccessToken(string ClientId, string Scope, DateTimeOffset ExpiresAt);

/// <summary>One activity (assign, unassign, release, the three migration types) and what happened to each device when it completed.</summary>
internal sealed class SimActivity
{
    public required string Id { get; init; }

    public required string ClientId { get; init; }

    public required string Type { get; init; }

    public string? ServerId { get; init; }

    public required List<string> Serials { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The migration deadline of ASSIGN_DEVICES_WITH_MDM_MIGRATION_DEADLINE and UPDATE_MDM_MIGRATION_DEADLINE.</summary>
    public DateTimeOffset? Deadline { get; init; }

    public DateTimeOffset? CompletedAt { get; set; }

    public string Status { get; set; } = "IN_PROGRESS";

    public string SubStatus { get; set; } = "SUBMITTED";

    /// <summary>serial → (SUCCESS|FAILED, sub-status) once completed.</summary>
    public List<(string Serial, string Status, string SubStatus)> Results { get; } = [];

    /// <summary>Devices refused at creation in "partial" mode: they fail when the activity completes.</summary>
    public HashSet<string> UnknownSerials { get; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>A rolling window of request times for one account and method (the simulator's throttle).</summary>
internal sealed class SimBudget
{
    public Queue<DateTimeOffset> Times { get; } = new();
}

using System.Data.Common;
using System.Text.Json;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Storage;

/// <summary>
/// The one mapping of a device row — the device with its token's and profile's columns, read by name — to an
/// <see cref="AdeDevice"/>, shared by every provider (both readers are ADO.NET readers); ordinals looked up once per
/// reader, the token's scope tags parsed once per token.
/// </summary>
internal sealed class DeviceRowMapper(DbDataReader r)
{
    private readonly int serial = r.GetOrdinal("serial_number");
    private readonly int model = r.GetOrdinal("model");
    private readonly int description = r.GetOrdinal("description");
    private readonly int color = r.GetOrdinal("color");
    private readonly int assetTag = r.GetOrdinal("asset_tag");
    private readonly int os = r.GetOrdinal("os");
    private readonly int family = r.GetOrdinal("device_family");
    private readonly int profileName = r.GetOrdinal("profile_name");
    private readonly int profileId = r.GetOrdinal("profile_id");
    private readonly int profileStatus = r.GetOrdinal("profile_status");
    private readonly int assignTime = r.GetOrdinal("profile_assign_time");
    private readonly int pushTime = r.GetOrdinal("profile_push_time");
    private readonly int assignedAt = r.GetOrdinal("device_assigned_date");
    private readonly int assignedBy = r.GetOrdinal("device_assigned_by");
    private readonly int removedAt = r.GetOrdinal("removed_at");
    private readonly int purgeAfter = r.GetOrdinal("purge_after");
    private readonly int tokenName = r.GetOrdinal("token_name");
    private readonly int tokenId = r.GetOrdinal("token_id");
    private readonly int scopeTags = r.GetOrdinal("token_scope_tags");
    private readonly int deadline = r.GetOrdinal("mdm_migration_deadline");
    private readonly int replacement = r.GetOrdinal("is_replacement_device");
    private readonly int attemptAt = r.GetOrdinal("last_attempt_at");
    private readonly int attemptProfile = r.GetOrdinal("last_attempt_profile");
    private readonly int attemptResult = r.GetOrdinal("last_attempt_result");
    private readonly int releasedAt = r.GetOrdinal("released_at");
    private string? lastTags;
    private IReadOnlyList<string> tags = ValueList<string>.Empty;

    public AdeDevice Read()
    {
        // Rows come ordered by token: the token's tags are parsed once per token, not once per device.
        var tagJson = r.GetString(scopeTags);
        if (tagJson != lastTags)
        {
            tags = ValueList.Of(JsonSerializer.Deserialize<string[]>(tagJson));
            lastTags = tagJson;
        }

        var removed = Number(removedAt);
        return new AdeDevice
        {
            SerialNumber = r.GetString(serial),
            Model = Text(model),
            Description = Text(description),
            Color = Text(color),
            AssetTag = Text(assetTag),
            OS = Text(os),
            DeviceFamily = Text(family),
            EnrollmentProfileName = Text(profileName) ?? "",
            ProfileId = Text(profileId) is { } pid ? Guid.Parse(pid) : null,
            ProfileStatus = ParseStatus(Text(profileStatus)),
            ProfileAssignedAt = Time(Number(assignTime)),
            ProfilePushedAt = Time(Number(pushTime)),
            AssignedAt = Time(Number(assignedAt)),
            AssignedBy = Text(assignedBy),
            AbmState = removed is null ? AdeAbmState.Assigned : AdeAbmState.RemovedFromAbm,
            RemovedAt = Time(removed),
            PurgeAfter = Time(Number(purgeAfter)),
            Token = r.GetString(tokenName),
            TokenId = Guid.Parse(r.GetString(tokenId)),
            ScopeTags = tags,
            MdmMigrationDeadline = Time(Number(deadline)),
            IsReplacementDevice = Number(replacement) is { } rep ? rep != 0 : null,
            LastAssignmentAt = Time(Number(attemptAt)),
            LastAssignmentProfile = Text(attemptProfile),
            LastAssignmentResult = Text(attemptResult),
            ReleasedAt = Time(Number(releasedAt)),
        };
    }

    private string? Text(int ordinal) => r.IsDBNull(ordinal) ? null : r.GetString(ordinal);

    private long? Number(int ordinal) => r.IsDBNull(ordinal) ? null : r.GetInt64(ordinal);

    private static DateTimeOffset? Time(long? ms) => ms is null ? null : SqliteExtensions.ToTime(ms.Value);

    private static AdeProfileStatus ParseStatus(string? status) => status switch
    {
        "assigned" => AdeProfileStatus.Assigned,
        "pushed" => AdeProfileStatus.Pushed,
        "removed" => AdeProfileStatus.Removed,
        _ => AdeProfileStatus.Empty,
    };
}

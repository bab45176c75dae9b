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
        // Columns are read in the order the queries select them: a PostgreSQL reader that is asked for an earlier
        // column of the row than the last one read walks the row again from its start.
        var serialNumber = r.GetString(serial);
        var (modelText, descriptionText, colorText, assetTagText, osText, familyText) = (Text(model), Text(description), Text(color), Text(assetTag), Text(os), Text(family));
        var (profileNameText, profileIdText, profileStatusText) = (Text(profileName), Text(profileId), Text(profileStatus));
        var (assignTimeMs, pushTimeMs, assignedAtMs, assignedByText) = (Number(assignTime), Number(pushTime), Number(assignedAt), Text(assignedBy));
        var (removed, purgeAfterMs, tokenNameText, tokenIdText) = (Number(removedAt), Number(purgeAfter), r.GetString(tokenName), r.GetString(tokenId));

        // Rows come ordered by token: the token's tags are parsed once per token, not once per device.
        var tagJson = r.GetString(scopeTags);
        if (tagJson != lastTags)
        {
            tags = ValueList.Of(JsonSerializer.Deserialize<string[]>(tagJson));
            lastTags = tagJson;
        }

        var (deadlineMs, replacementFlag, attemptAtMs) = (Number(deadline), Number(replacement), Number(attemptAt));
        var (attemptProfileText, attemptResultText, releasedAtMs) = (Text(attemptProfile), Text(attemptResult), Number(releasedAt));
        return new AdeDevice
        {
            SerialNumber = serialNumber,
            Model = modelText,
            Description = descriptionText,
            Color = colorText,
            AssetTag = assetTagText,
            OS = osText,
            DeviceFamily = familyText,
            EnrollmentProfileName = profileNameText ?? "",
            ProfileId = profileIdText is { } pid ? Guid.Parse(pid) : null,
            ProfileStatus = ParseStatus(profileStatusText),
            ProfileAssignedAt = Time(assignTimeMs),
            ProfilePushedAt = Time(pushTimeMs),
            AssignedAt = Time(assignedAtMs),
            AssignedBy = assignedByText,
            AbmState = removed is null ? AdeAbmState.Assigned : AdeAbmState.RemovedFromAbm,
            RemovedAt = Time(removed),
            PurgeAfter = Time(purgeAfterMs),
            Token = tokenNameText,
            TokenId = Guid.Parse(tokenIdText),
            ScopeTags = tags,
            MdmMigrationDeadline = Time(deadlineMs),
            IsReplacementDevice = replacementFlag is { } rep ? rep != 0 : null,
            LastAssignmentAt = Time(attemptAtMs),
            LastAssignmentProfile = attemptProfileText,
            LastAssignmentResult = attemptResultText,
            ReleasedAt = Time(releasedAtMs),
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

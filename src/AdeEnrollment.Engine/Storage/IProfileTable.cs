using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Engine.Storage;

/// <summary>
/// The home of table profile and token_default_profile (enrollment profiles and each token's default per platform).
/// Profile names compare without regard to case within a token (one name per token); settings are stored as the JSON
/// text the service gives and handed back unchanged.
/// </summary>
internal partial interface IProfileTable
{
    /// <summary>Stores a new profile with every column of <paramref name="row"/>.</summary>
    void Insert(ProfileRow row);

    /// <summary>One profile as stored, or null.</summary>
    ProfileRow? Get(Guid id);

    /// <summary>
    /// Profiles with their token's name and scope tags, whether they are a default and (when asked) how many devices
    /// hold them, ordered by token name then profile name.
    /// </summary>
    IReadOnlyList<ProfileListRow> List(ProfileListQuery query);

    /// <summary>How many profiles the token has.</summary>
    long CountForToken(Guid tokenId);

    /// <summary>The id and name of each of the token's profiles, in no order: what the service checks a new or changed name against (<see cref="TextRules.NameTaken"/>).</summary>
    IReadOnlyList<(Guid Id, string Name)> Names(Guid tokenId);

    /// <summary>Changes the name and settings; false when there is no such profile.</summary>
    bool Update(Guid id, string name, string settings, DateTimeOffset modifiedAt);

    /// <summary>Deletes the profile; false when there was none.</summary>
    bool Delete(Guid id);

    /// <summary>Records what Apple holds for the profile: its UUID there and the hash of the definition sent (null: none).</summary>
    void SetAppleDefinition(Guid id, string? appleProfileUuid, string? definedHash);

    /// <summary>True when the profile is the default of any platform on any token.</summary>
    bool IsDefault(Guid profileId);

    /// <summary>The token's default profile of each platform that has one.</summary>
    IReadOnlyDictionary<DevicePlatform, Guid> GetDefaults(Guid tokenId);

    /// <summary>Makes <paramref name="profileId"/> the token's default for <paramref name="platform"/>, replacing the one before.</summary>
    void SetDefault(Guid tokenId, DevicePlatform platform, Guid profileId);

    /// <summary>Clears the token's default of <paramref name="platform"/> (of every platform when null); returns how many were cleared.</summary>
    int ClearDefaults(Guid tokenId, DevicePlatform? platform = null);
}

/// <summary>One row of table profile. <see cref="Settings"/> is the settings as JSON text.</summary>
internal sealed record ProfileRow(
    Guid Id,
    Guid TokenId,
    string Name,
    string Settings,
    string? AppleProfileUuid,
    string? AppleDefinedHash,
    DateTimeOffset CreatedAt,
    DateTimeOffset ModifiedAt);

/// <summary>What <see cref="IProfileTable.List"/> reads: null filters mean "any".</summary>
internal sealed record ProfileListQuery(Guid? TokenId = null, Guid? Id = null, bool DefaultOnly = false, bool CountDevices = true);

/// <summary>A profile with what its list view shows of its token and its use. <see cref="DeviceCount"/> is 0 unless counted.</summary>
internal sealed record ProfileListRow(ProfileRow Profile, string TokenName, IReadOnlyList<string> TokenScopeTags, bool IsDefault, long DeviceCount);

using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Files;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Security;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;
using Microsoft.Data.Sqlite;
using static AdeEnrollment.Engine.Storage.SqliteExtensions;

namespace AdeEnrollment.Engine.Profiles;

/// <summary>Enrollment profiles (about_AdeEnrollment.md, "Enrollment profiles"): create, list, change, remove, export/import, default.</summary>
public sealed class ProfileService
{
    /// <summary>2: profiles carry their platform and Apple's newer keys; files of version 1 still import (as iOS profiles).</summary>
    public const int ExportSchemaVersion = 2;

    internal static readonly JsonSerializerOptions Json = new()
    {
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, // '+' stays '+' in profiles as code
    };

    private readonly AdeStore store;
    private readonly TimeProvider time;
    private readonly IAdeHost host;
    private readonly TokenService tokens;

    /// <summary>Set by the engine: redefines a changed profile at Apple (assignment depends on profiles, not the reverse).</summary>
    internal AssignmentService? Assignments { get; set; }

    internal ProfileService(AdeStore store, TimeProvider time, IAdeHost host, TokenService tokens)
    {
        this.store = store;
        this.time = time;
        this.host = host;
        this.tokens = tokens;
    }

    public AdeProfile? New(string tokenRef, string name, ProfileSettings settings)
    {
        var token = tokens.ResolveToken(tokenRef);
        ProfileRules.ValidateName(name);
        var normalised = ProfileRules.Normalise(settings);
        var warnings = ProfileRules.Validate(normalised);
        if (!host.ShouldProcess($"{name} (token '{token.Name}')", "Create enrollment profile"))
        {
            return null;
        }

        var id = Guid.NewGuid();
        var now = ToUnixMs(time.GetUtcNow());
        store.WriteSql((c, _) =>
        {
            CheckNameFree(c, token, name, null);
            if (c.Scalar<long>("SELECT count(*) FROM profile WHERE token_id = $t", ("$t", token.Id.ToString())) >= ProfileRules.MaxProfilesPerToken)
            {
                throw ErrorCatalog.ProfileLimitReached(token.Name, ProfileRules.MaxProfilesPerToken);
            }

            c.Execute("INSERT INTO profile (id, token_id, name, settings, created_at, modified_at) VALUES ($id, $t, $n, $s, $now, $now)",
                ("$id", id.ToString()), ("$t", token.Id.ToString()), ("$n", name), ("$s", JsonSerializer.Serialize(normalised, Json)), ("$now", now));
            return 0;
        });
        Warn(warnings);
        host.WriteVerbose($"Created enrollment profile '{name}' on token '{token.Name}'. It is defined at Apple when it is first assigned.");
        return Get(id: id).Single();
    }

    public IReadOnlyList<AdeProfile> Get(Guid? tokenId = null, string? name = null, bool defaultOnly = false, Guid? id = null)
        => Query(tokenId, name, defaultOnly, id, countDevices: true);

    /// <summary>
    /// One profile as it is now, with <see cref="AdeProfile.DeviceCount"/> left 0: counting the devices that hold a
    /// profile reads its whole index range, which a sync that assigns the default profile page by page cannot afford.
    /// </summary>
    internal AdeProfile GetWithoutDeviceCount(Guid id) => Query(null, null, false, id, countDevices: false).Single();

    private List<AdeProfile> Query(Guid? tokenId, string? name, bool defaultOnly, Guid? id, bool countDevices)
    {
        var profiles = store.ReadSql(c =>
        {
            using var command = c.Command(
                """
                SELECT p.id, p.name, p.settings, p.apple_profile_uuid, p.created_at, p.modified_at, t.id, t.name, t.scope_tags,
                       EXISTS (SELECT 1 FROM token_default_profile dp WHERE dp.profile_id = p.id), CASE WHEN $count = 1 THEN (SELECT count(*) FROM device d WHERE d.profile_id = p.id) ELSE 0 END
                FROM profile p JOIN token t ON t.id = p.token_id
                WHERE ($t IS NULL OR p.token_id = $t) AND ($id IS NULL OR p.id = $id) AND ($def = 0 OR EXISTS (SELECT 1 FROM token_default_profile dp WHERE dp.profile_id = p.id))
                ORDER BY t.name, p.name
                """,
                ("$t", tokenId?.ToString()), ("$id", id?.ToString()), ("$def", defaultOnly ? 1 : 0), ("$count", countDevices ? 1 : 0));
            using var r = command.ExecuteReader();
            var list = new List<AdeProfile>();
            while (r.Read())
            {
                var profileName = r.GetString(1);
                var s = JsonSerializer.Deserialize<ProfileSettings>(r.GetString(2), Json)!;
                list.Add(new AdeProfile
                {
                    Id = Guid.Parse(r.GetString(0)),
                    Name = profileName,
                    Settings = s,
                    Platform = s.Platform ?? DevicePlatform.iOS,
                    Description = s.Description,
                    UserAffinity = s.UserAffinity!.Value,
                    AuthenticationMethod = s.AuthenticationMethod,
                    InstallCompanyPortal = s.InstallCompanyPortal ?? false,
                    CompanyPortalVppToken = s.CompanyPortalVppToken,
                    RunCompanyPortalInSingleAppMode = s.RunCompanyPortalInSingleAppMode ?? false,
                    Supervised = s.Supervised ?? true,
                    LockedEnrollment = s.LockedEnrollment ?? false,
                    SharedIPad = s.SharedIPad ?? false,
                    MaximumCachedUsers = s.MaximumCachedUsers,
                    PasscodeLockGracePeriodSeconds = s.PasscodeLockGracePeriodSeconds,
                    UserSessionTimeoutSeconds = s.UserSessionTimeoutSeconds,
                    RequireTemporarySession = s.RequireTemporarySession ?? false,
                    TemporarySessionTimeoutSeconds = s.TemporarySessionTimeoutSeconds,
                    SyncWithComputers = s.SyncWithComputers ?? SyncWithComputers.AllowAll,
                    ConfiguratorCertificates = ValueList.Of(s.ConfiguratorCertificates),
                    DeviceNameTemplate = s.DeviceNameTemplate,
                    CellularDataPlanUrl = s.CellularDataPlanUrl,
                    Department = s.Department,
                    DepartmentPhone = s.DepartmentPhone,
                    HiddenScreens = ValueList.Of(s.HiddenScreens),
                    AdditionalSkipKeys = ValueList.Of(s.AdditionalSkipKeys),
                    AwaitFinalConfiguration = s.AwaitFinalConfiguration ?? true,
                    SupportEmail = s.SupportEmail,
                    AnchorCertificates = ValueList.Of(s.AnchorCertificates),
                    DoNotUseProfileFromBackup = s.DoNotUseProfileFromBackup,
                    ReturnToService = s.ReturnToService,
                    Language = s.Language,
                    Region = s.Region,
                    AutoAdvanceSetup = s.AutoAdvanceSetup,
                    AppleProfileUuid = r.GetStringOrNull(3),
                    CreatedAt = ToTime(r.GetInt64(4)),
                    ModifiedAt = ToTime(r.GetInt64(5)),
                    TokenId = Guid.Parse(r.GetString(6)),
                    Token = r.GetString(7),
                    ScopeTags = ValueList.Of(JsonSerializer.Deserialize<string[]>(r.GetString(8))),
                    IsDefault = !r.IsDBNull(9) && r.GetInt64(9) == 1,
                    DeviceCount = r.GetInt32(10),
                });
            }

            return list;
        });
        return name is null ? profiles : Wildcard.Select(profiles, p => p.Name, name);
    }

    /// <summary>Exactly one profile by Id, or by name (within <paramref name="tokenRef"/> when given).</summary>
    public AdeProfile Resolve(string profile, string? tokenRef = null)
    {
        if (Guid.TryParse(profile, out var id))
        {
            return Get(id: id).SingleOrDefault() ?? throw ErrorCatalog.ProfileNotFound(profile);
        }

        var tokenId = tokenRef is null ? (Guid?)null : tokens.ResolveToken(tokenRef).Id;
        // An exact name wins over its reading as a wildcard: 'Kiosk [EU]' is that profile.
        var matches = Wildcard.Select(Get(tokenId), p => p.Name, profile);
        return matches.Count switch
        {
            0 => throw ErrorCatalog.ProfileNotFound(profile),
            1 => matches[0],
            _ => throw ErrorCatalog.ProfileAmbiguous(profile, matches.Count),
        };
    }

    public AdeProfile? Set(string profileRef, string? tokenRef, string? newName, ProfileSettings patch)
    {
        var profile = Resolve(profileRef, tokenRef);
        if (newName is not null)
        {
            ProfileRules.ValidateName(newName);
        }

        if (patch.Platform is { } platform && platform != profile.Platform)
        {
            throw ProfileRules.Invalid("Platform", platform.ToString(), $"a profile's platform is fixed when it is created ('{profile.Name}' is a {profile.Platform} profile); create a {platform} profile instead.");
        }

        var merged = ProfileRules.Normalise(ProfileSettings.Merge(profile.Settings, patch));
        var warnings = ProfileRules.Validate(merged);
        var settingsChanged = !merged.Equals(profile.Settings);
        var nameChanged = newName is not null && newName != profile.Name;
        if (!settingsChanged && !nameChanged)
        {
            return profile;
        }

        var impact = Impact(profile, newName ?? profile.Name, patch, merged);
        var action = impact.NeedsConfirmation ? $"Change enrollment profile ({impact.Question(profile.Name)})" : "Change enrollment profile";
        if (!host.ShouldProcess($"{profile.Name} (token '{profile.Token}')", action))
        {
            return null;
        }

        if (impact.NeedsConfirmation && !host.ShouldContinue(impact.Question(profile.Name), $"Change profile '{profile.Name}' held by {Counted.Of(impact.Holders, "device")}?"))
        {
            return null;
        }

        store.WriteSql((c, _) =>
        {
            if (newName is not null)
            {
                CheckNameFree(c, new AdeToken { Id = profile.TokenId, Name = profile.Token }, newName, profile.Id);
            }

            c.Execute("UPDATE profile SET name = coalesce($n, name), settings = $s, modified_at = $now WHERE id = $id",
                ("$n", newName), ("$s", JsonSerializer.Serialize(merged, Json)), ("$now", ToUnixMs(time.GetUtcNow())), ("$id", profile.Id.ToString()));
            return 0;
        });

        Warn(warnings);
        if (profile.AppleProfileUuid is not null && Assignments is not null)
        {
            // Apple hands out what it holds: a profile already defined there is defined again now, and re-assigned.
            Assignments.Redefine(profile.Id);
        }

        // Warn only about devices at risk: those that already received the old settings (a reset is needed for the
        // new ones), and settings the change cleared on a profile that devices hold. The device name template alone
        // applies without a reset.
        var risk = new List<string>();
        if (impact.Pushed > 0 && settingsChanged && !ProfileSettings.OnlyDeviceNameDiffers(merged, profile.Settings))
        {
            risk.Add($"{Counted.Of(impact.Pushed, "device")} already received profile '{profile.Name}': {(impact.Pushed == 1 ? "it keeps" : "they keep")} the old settings until factory reset and activated again. The device name template is the only setting that applies without a reset.");
        }

        if (impact.Cleared.Count > 0)
        {
            var cleared = $"The change also cleared {string.Join(", ", impact.Cleared)}.";
            if (impact.Holders > 0) risk.Add(cleared);
            else host.WriteVerbose(cleared);
        }

        if (risk.Count > 0)
        {
            host.WriteWarning(string.Join(" ", risk));
        }

        return Get(id: profile.Id).Single();
    }

    /// <summary>What a change to a profile does to the devices that hold it (for the confirmation and the warning).</summary>
    private sealed record ChangeImpact(long Holders, long Pushed, bool Redefines, IReadOnlyList<string> Cleared)
    {
        /// <summary>Devices are re-sent the profile, or lose settings: ask first (-Force or -Confirm:$false skip it).</summary>
        public bool NeedsConfirmation => Holders > 0 && (Redefines || Cleared.Count > 0);

        public string Question(string name)
        {
            var text = $"Profile '{name}' is assigned to {Counted.Of(Holders, "device")} still in Apple Business Manager.";
            if (Redefines)
            {
                text += $" The change defines it again at Apple and re-assigns it to {(Holders == 1 ? "that device" : $"those {Holders:N0} devices")}";
                text += Pushed > 0 ? $"; {Counted.Of(Pushed, "device")} already received it and keep{(Pushed == 1 ? "s" : "")} the old settings until factory reset." : ".";
            }

            if (Cleared.Count > 0)
            {
                text += $" It also clears {string.Join(", ", Cleared)}.";
            }

            return text;
        }
    }

    private ChangeImpact Impact(AdeProfile profile, string newName, ProfileSettings patch, ProfileSettings merged)
    {
        var (holders, pushed) = store.ReadSql(c => (
            c.Scalar<long>("SELECT count(*) FROM device WHERE profile_id = $id AND removed_at IS NULL", ("$id", profile.Id.ToString())),
            c.Scalar<long>("SELECT count(*) FROM device WHERE profile_id = $id AND removed_at IS NULL AND profile_status = 'pushed'", ("$id", profile.Id.ToString()))));
        var redefines = false;
        if (profile.AppleProfileUuid is not null)
        {
            var url = tokens.GetTokens(id: profile.TokenId).Single().EnrollmentUrl;
            redefines = url is null
                || AppleProfileBuilder.Hash(AppleProfileBuilder.Build(newName, merged, url)) != AppleProfileBuilder.Hash(AppleProfileBuilder.Build(profile.Name, profile.Settings, url));
        }

        return new ChangeImpact(holders, pushed, redefines, ProfileSettings.ChangedAsSideEffect(profile.Settings, patch, merged));
    }

    public bool Remove(string profileRef, string? tokenRef)
    {
        var profile = Resolve(profileRef, tokenRef);
        CheckNotInUse(profile, null);
        if (!host.ShouldProcess($"{profile.Name} (token '{profile.Token}')", "Remove enrollment profile"))
        {
            return false;
        }

        var released = store.WriteSql((c, _) =>
        {
            CheckNotInUse(profile, c);
            // Devices already released in ABM do not hold the profile any more (see docs/architecture.md): they
            // lose the reference and stay listed as RemovedFromAbm until they are purged.
            var n = c.Execute("UPDATE device SET profile_id = NULL WHERE profile_id = $id AND removed_at IS NOT NULL", ("$id", profile.Id.ToString()));
            c.Execute("DELETE FROM profile WHERE id = $id", ("$id", profile.Id.ToString()));
            return n;
        });
        if (released > 0)
        {
            host.WriteVerbose($"{Counted.Of(released, "device")} released from ABM no longer show{(released == 1 ? "s" : "")} profile '{profile.Name}'.");
        }

        return true;
    }

    /// <summary>
    /// A profile is in use while it is its token's default or devices still assigned in ABM hold it; devices already
    /// released from ABM (RemovedFromAbm) do not count: they can no longer enroll with it.
    /// </summary>
    private void CheckNotInUse(AdeProfile profile, SqliteConnection? connection)
    {
        (bool IsDefault, long Devices) Users(SqliteConnection c)
        {
            var p = ("$id", (object?)profile.Id.ToString());
            var isDefault = c.Scalar<long>("SELECT count(*) FROM token_default_profile WHERE profile_id = $id", p) > 0;
            var devices = c.Scalar<long>("SELECT count(*) FROM device WHERE profile_id = $id AND removed_at IS NULL", p);
            return (isDefault, devices);
        }

        var (isDefault, devices) = connection is null ? store.ReadSql(Users) : Users(connection);
        if (isDefault || devices > 0)
        {
            throw ErrorCatalog.ProfileInUse(profile.Name, profile.Token, isDefault, devices);
        }
    }

    // ---- default profile -------------------------------------------------------------------------------------------

    /// <summary>
    /// Makes <paramref name="profileRef"/> the default of its own platform on the token, or with a null profile clears
    /// the default of <paramref name="clearPlatform"/> (of every platform when not given).
    /// </summary>
    public AdeToken? SetDefault(string tokenRef, string? profileRef, DevicePlatform? clearPlatform = null)
    {
        var token = tokens.ResolveToken(tokenRef);
        AdeProfile? profile = null;
        if (profileRef is not null)
        {
            profile = Resolve(profileRef, Guid.TryParse(profileRef, out _) ? null : token.Id.ToString());
            if (profile.TokenId != token.Id)
            {
                throw ErrorCatalog.ProfileNotFound($"{profileRef} (on token '{token.Name}')");
            }
        }

        if (profile is not null && token.EnrollmentUrl is null)
        {
            throw ErrorCatalog.EnrollmentUrlMissing(token.Name);
        }

        var platform = profile?.Platform ?? clearPlatform;
        var which = platform is null ? "every default profile" : $"the {platform} default profile";
        var action = profile is null ? $"Clear {which}" : $"Make '{profile.Name}' {which}";
        if (!host.ShouldProcess(token.Name, action))
        {
            return null;
        }

        store.WriteSql((c, _) =>
        {
            var t = ("$t", (object?)token.Id.ToString());
            var pl = ("$pl", (object?)platform?.ToString());
            if (profile is null)
            {
                c.Execute("DELETE FROM token_default_profile WHERE token_id = $t AND ($pl IS NULL OR platform = $pl)", t, pl);
            }
            else
            {
                c.Execute("INSERT INTO token_default_profile (token_id, platform, profile_id) VALUES ($t, $pl, $p) ON CONFLICT (token_id, platform) DO UPDATE SET profile_id = excluded.profile_id",
                    t, pl, ("$p", profile.Id.ToString()));
            }

            return c.Execute("UPDATE token SET modified_at = $now WHERE id = $t", ("$now", ToUnixMs(time.GetUtcNow())), t);
        });
        host.WriteVerbose(profile is null
            ? $"Token '{token.Name}' has no {(platform is null ? "default profile" : $"{platform} default profile")} now; {(platform is null ? "" : $"{platform} ")}devices that arrive without a profile stay without one."
            : $"{platform} devices that arrive on token '{token.Name}' without a profile get '{profile.Name}' during the sync that brings them.");
        return tokens.GetTokens(id: token.Id).Single();
    }

    // ---- profiles as code ------------------------------------------------------------------------------------------

    private sealed record ExportDocument(int SchemaVersion, string Name, ProfileSettings Settings)
    {
        [JsonPropertyName("$type")]
        public string Type { get; init; } = "AdeEnrollment.Profile";
    }

    /// <param name="noClobber">Refuse (<c>OutputFileExists</c>) rather than replace an existing <paramref name="path"/>.</param>
    public string Export(string profileRef, string? tokenRef, string? path, bool noClobber = false)
    {
        var full = path is null ? null : OutputFile.Check("Path", path, noClobber, store.Path);
        var profile = Resolve(profileRef, tokenRef);
        var json = JsonSerializer.Serialize(new ExportDocument(ExportSchemaVersion, profile.Name, profile.Settings), Json);
        if (full is not null)
        {
            var replaced = File.Exists(full);
            OutputFile.WriteText("Path", full, json + Environment.NewLine);
            host.WriteVerbose($"Exported profile '{profile.Name}' to {full}" + (replaced ? " (the existing file was replaced; -NoClobber keeps it)." : "."));
        }

        return json;
    }

    /// <summary>The largest profile export read by Import-AdeProfile.</summary>
    public const int MaxImportBytes = 1024 * 1024;

    public AdeProfile? Import(string tokenRef, string path, string? name)
    {
        var bytes = InputFile.ReadAllBytes(path, MaxImportBytes, new InputFileErrors(
            () => ErrorCatalog.ProfileFileNotFound(path),
            (reason, _) => ErrorCatalog.ProfileFileInvalid(path, reason),
            "a profile export is at most 1 MiB (1,048,576 bytes)."));
        string text;
        try
        {
            text = new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (ArgumentException)
        {
            throw ErrorCatalog.ProfileFileInvalid(path, "it is not UTF-8 text.");
        }

        ExportDocument? document;
        try
        {
            document = JsonSerializer.Deserialize<ExportDocument>(text.TrimStart('\uFEFF'), ImportOptions);
        }
        catch (JsonException ex)
        {
            throw ErrorCatalog.ProfileFileInvalid(path, ex.Message);
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            throw ErrorCatalog.ProfileFileInvalid(path, "its content cannot be read as a profile (" + ex.GetType().Name + ").");
        }

        if (document is null || document.Type != "AdeEnrollment.Profile" || document.Settings is null || string.IsNullOrEmpty(document.Name))
        {
            throw ErrorCatalog.ProfileFileInvalid(path, "the $type, Name or Settings is missing.");
        }

        if (document.SchemaVersion is < 1 or > ExportSchemaVersion)
        {
            throw ErrorCatalog.ProfileFileInvalid(path, $"its schema version {document.SchemaVersion} is not one this module reads (1 to {ExportSchemaVersion}); update AdeEnrollment.");
        }

        return New(tokenRef, name ?? document.Name, document.Settings);
    }

    private static readonly JsonSerializerOptions ImportOptions = new(Json) { PropertyNameCaseInsensitive = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow };

    private static void CheckNameFree(SqliteConnection c, AdeToken token, string name, Guid? except)
    {
        if (c.Scalar<long>("SELECT count(*) FROM profile WHERE token_id = $t AND name = $n AND ($id IS NULL OR id <> $id)",
                ("$t", token.Id.ToString()), ("$n", name), ("$id", except?.ToString())) > 0)
        {
            throw ErrorCatalog.ProfileNameConflict(name, token.Name);
        }
    }

    private void Warn(IReadOnlyList<string> warnings)
    {
        foreach (var warning in warnings)
        {
            host.WriteWarning(warning);
        }
    }
}

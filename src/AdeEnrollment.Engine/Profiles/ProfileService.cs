using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Devices;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Files;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Security;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;

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
        var now = time.GetUtcNow();
        store.Write(s =>
        {
            CheckNameFree(s, token, name, null);
            if (s.Profiles.CountForToken(token.Id) >= ProfileRules.MaxProfilesPerToken)
            {
                throw ErrorCatalog.ProfileLimitReached(token.Name, ProfileRules.MaxProfilesPerToken);
            }

            s.Profiles.Insert(new ProfileRow(id, token.Id, name, JsonSerializer.Serialize(normalised, Json), null, null, now, now));
            return 0;
        });
        Warn(warnings);
        host.WriteVerbose($"Created enrollment profile '{name}' on token '{token.Name}'. It is defined at Apple when it is first assigned.");
        return Get(id: id).Single();
    }

    /// <summary>The names of a token's profiles of one platform (no device counts read); Shared iPad ones only when asked.</summary>
    internal IReadOnlyList<string> NamesOf(Guid tokenId, DevicePlatform platform, bool withSharedIPad)
        => [.. Query(tokenId, null, false, null, countDevices: false).Where(p => p.Platform == platform && (withSharedIPad || !p.SharedIPad)).Select(p => p.Name)];

    public IReadOnlyList<AdeProfile> Get(Guid? tokenId = null, string? name = null, bool defaultOnly = false, Guid? id = null, DevicePlatform? platform = null)
    {
        var profiles = Query(tokenId, name, defaultOnly, id, countDevices: true);
        return platform is null ? profiles : profiles.FindAll(p => p.Platform == platform);
    }

    /// <summary>
    /// One profile as it is now, with <see cref="AdeProfile.DeviceCount"/> left 0: counting the devices that hold a
    /// profile reads its whole index range, which a sync that assigns the default profile page by page cannot afford.
    /// </summary>
    internal AdeProfile GetWithoutDeviceCount(Guid id)
        => Query(null, null, false, id, countDevices: false).SingleOrDefault() ?? throw ErrorCatalog.ProfileNotFound(id.ToString());

    private List<AdeProfile> Query(Guid? tokenId, string? name, bool defaultOnly, Guid? id, bool countDevices)
    {
        var rows = store.Read(s => s.Profiles.List(new ProfileListQuery(tokenId, id, defaultOnly, countDevices)));
        var profiles = rows.Select(ToProfile).ToList();
        return name is null ? profiles : Wildcard.Select(profiles, p => p.Name, name);
    }

    private static AdeProfile ToProfile(ProfileListRow row)
    {
        var p = row.Profile;
        var s = JsonSerializer.Deserialize<ProfileSettings>(p.Settings, Json)!;
        return new AdeProfile
        {
            Id = p.Id,
            Name = p.Name,
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
            AppleProfileUuid = p.AppleProfileUuid,
            CreatedAt = p.CreatedAt,
            ModifiedAt = p.ModifiedAt,
            TokenId = p.TokenId,
            Token = row.TokenName,
            ScopeTags = ValueList.Of(row.TokenScopeTags),
            IsDefault = row.IsDefault,
            DeviceCount = checked((int)row.DeviceCount),
        };
    }

    /// <summary>Exactly one profile by Id, or by name (within <paramref name="tokenRef"/> when given; a profile given by Id must be that token's).</summary>
    public AdeProfile Resolve(string profile, string? tokenRef = null)
    {
        var token = tokenRef is null ? null : tokens.ResolveToken(tokenRef);
        if (Guid.TryParse(profile, out var id))
        {
            var found = Get(id: id).SingleOrDefault() ?? throw ErrorCatalog.ProfileNotFound(profile, token?.Name);
            return token is null || found.TokenId == token.Id ? found : throw ErrorCatalog.ProfileNotFound(found.Name, token.Name, found.Token);
        }

        var tokenId = token?.Id;
        // An exact name wins over its reading as a wildcard: 'Kiosk [EU]' is that profile.
        var matches = Wildcard.Select(Get(tokenId), p => p.Name, profile);
        return matches.Count switch
        {
            0 => throw ErrorCatalog.ProfileNotFound(profile, token?.Name),
            1 => matches[0],
            _ => throw ErrorCatalog.ProfileAmbiguous(profile, matches.Count),
        };
    }

    /// <summary>
    /// The scopes of a device query over several tokens (a -Token wildcard): every token, or with <paramref name="profile"/>
    /// each token that has such a profile, paired with it. When none of several tokens has it, that is ProfileNotFound
    /// (no tokens at all is no scopes and no error: a wildcard that matched nothing). In token-name order.
    /// </summary>
    public IReadOnlyList<DeviceScope> ScopesOf(IReadOnlyList<AdeToken> tokens, string? profile)
    {
        tokens = [.. tokens.OrderBy(t => t.Name, StringComparer.Ordinal)]; // a listing over them is token by token, by name
        if (profile is null)
        {
            return [.. tokens.Select(t => new DeviceScope(t.Id))];
        }

        var scopes = new List<DeviceScope>(tokens.Count);
        AdeException? missing = null;
        foreach (var token in tokens)
        {
            try
            {
                scopes.Add(new DeviceScope(token.Id, Resolve(profile, token.Id.ToString()).Id));
            }
            catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.ProfileNotFound))
            {
                missing ??= ex;
            }
        }

        return scopes.Count == 0 && missing is not null ? throw missing : scopes;
    }

    /// <summary>Refuses (ProfileNameConflict) a new name the profile's token already has, before anything is asked or changed.</summary>
    internal void CheckRename(AdeProfile profile, string newName)
        => store.Read(s =>
        {
            CheckNameFree(s, new AdeToken { Id = profile.TokenId, Name = profile.Token }, newName, profile.Id, rename: true);
            return 0;
        });

    /// <summary>
    /// Stores a change of a profile's name (null: unchanged) and settings (already merged and validated): the name must
    /// be free on its token. Set-AdeProfile goes through <see cref="ProfileChangeService"/>, which also redefines the
    /// profile at Apple.
    /// </summary>
    internal void Update(AdeProfile profile, string? newName, ProfileSettings merged)
    {
        store.Write(s =>
        {
            if (newName is not null)
            {
                CheckNameFree(s, new AdeToken { Id = profile.TokenId, Name = profile.Token }, newName, profile.Id, rename: true);
            }

            return s.Profiles.Update(profile.Id, newName ?? profile.Name, JsonSerializer.Serialize(merged, Json), time.GetUtcNow());
        });
    }

    /// <summary>
    /// Puts back a profile's name and settings as <paramref name="original"/> had them (a change Apple refused), unless
    /// another session changed the profile since this one wrote <paramref name="writtenName"/> and <paramref name="written"/>.
    /// </summary>
    internal void Restore(AdeProfile original, string writtenName, ProfileSettings written)
        => store.Write(s =>
        {
            var now = s.Profiles.Get(original.Id);
            return now is not null && now.Name == writtenName && now.Settings == JsonSerializer.Serialize(written, Json)
                && s.Profiles.Update(original.Id, original.Name, JsonSerializer.Serialize(original.Settings, Json), original.ModifiedAt);
        });

    public bool Remove(string profileRef, string? tokenRef)
    {
        var profile = Resolve(profileRef, tokenRef);
        CheckNotInUse(profile, null);
        if (!host.ShouldProcess($"{profile.Name} (token '{profile.Token}')", "Remove enrollment profile"))
        {
            return false;
        }

        var released = store.Write(s =>
        {
            CheckNotInUse(profile, s);
            // a sync of the token offers the default profiles it read when it started: none may go while it runs
            var sync = s.Sync.GetState(profile.TokenId);
            if (SyncPolicy.RefusalWhileSyncRuns(profile.Token, sync?.LeaseId, sync?.LeaseExpiresAt, time.GetUtcNow()) is { } running)
            {
                throw running;
            }

            // Devices already released in ABM do not hold the profile any more (see docs/architecture.md): they
            // lose the reference and stay listed as RemovedFromAbm until they are purged.
            var n = s.Devices.ReleaseProfileFromRemovedDevices(profile.Id);
            s.Profiles.Delete(profile.Id);
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
    private void CheckNotInUse(AdeProfile profile, IStoreSession? session)
    {
        static (bool IsDefault, long Devices) Users(IStoreSession s, Guid id)
            => (s.Profiles.IsDefault(id), s.Devices.CountProfileHolders(id).Holders);

        var (isDefault, devices) = session is null ? store.Read(s => Users(s, profile.Id)) : Users(session, profile.Id);
        if (isDefault || devices > 0)
        {
            throw ErrorCatalog.ProfileInUse(profile.Name, profile.Token, profile.Platform.ToString(), isDefault, devices);
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
            profile = Resolve(profileRef, token.Id.ToString());
        }

        if (profile is not null && token.EnrollmentUrl is null)
        {
            throw ErrorCatalog.EnrollmentUrlMissing(token.Name);
        }

        var platform = profile?.Platform ?? clearPlatform;
        if (profile is null && (platform is null ? token.DefaultProfiles.Count == 0 : !token.DefaultProfiles.ContainsKey(platform.Value)))
        {
            // nothing to clear: the token is left as it is (its ModifiedAt too)
            host.WriteVerbose($"Token '{token.Name}' has no {(platform is null ? "default profile" : $"{platform} default profile")}: nothing to clear.");
            return token;
        }

        var which = platform is null ? "every default profile" : $"the {platform} default profile";
        var action = profile is null ? $"Clear {which}" : $"Make '{profile.Name}' {which}";
        if (!host.ShouldProcess(token.Name, action))
        {
            return null;
        }

        store.Write(s =>
        {
            if (profile is null)
            {
                s.Profiles.ClearDefaults(token.Id, platform);
            }
            else
            {
                s.Profiles.SetDefault(token.Id, profile.Platform, profile.Id);
            }

            s.Tokens.Touch(token.Id, time.GetUtcNow());
            return 0;
        });
        host.WriteVerbose(profile is null
            ? $"Token '{token.Name}' has no {(platform is null ? "default profile" : $"{platform} default profile")} now; {(platform is null ? "" : $"{platform} ")}devices that arrive without a profile stay without one."
            : $"{platform} devices that arrive on token '{token.Name}' without a profile get '{profile.Name}' during the sync that brings them.");
        if (profile is { SharedIPad: true })
        {
            // iPhones and iPods never get it: said now, not only by each sync that leaves one without a profile
            var any = time.GetUtcNow().AddDays(1); // without a profile since any time
            var phones = store.Read(s => s.Devices.CountWithoutProfile(token.Id, any))
                .Where(f => DevicePlatforms.Of(f.Family, null) == DevicePlatform.iOS && DevicePlatforms.IsIPad(f.Family, null) == false).Sum(f => f.Count);
            host.WriteWarning($"'{profile.Name}' is a Shared iPad profile: as the iOS default of token '{token.Name}' it goes to arriving iPads only, and iPhones and iPods arrive without a profile (each sync counts them in WithoutDefaultProfile)."
                + (phones > 0 ? $" {Counted.Of(phones, "iPhone or iPod", "iPhones or iPods")} of the token {(phones == 1 ? "has" : "have")} no profile now." : ""));
        }

        return tokens.GetTokens(id: token.Id).Single();
    }

    /// <summary>
    /// Ends one profile's role as a default: its token's default for the profile's platform is cleared when it is this
    /// profile; a profile that is not its platform's default changes nothing (said in verbose). Returns the token
    /// (null under -WhatIf).
    /// </summary>
    public AdeToken? ClearDefaultOf(string profileRef, string? tokenRef = null)
    {
        var profile = Resolve(profileRef, tokenRef);
        var token = tokens.GetTokens(id: profile.TokenId).Single();
        if (!profile.IsDefault)
        {
            host.WriteVerbose($"'{profile.Name}' is not the {profile.Platform} default profile of token '{token.Name}': nothing to clear.");
            return token;
        }

        return SetDefault(token.Id.ToString(), null, profile.Platform);
    }

    // ---- profiles as code ------------------------------------------------------------------------------------------

    private const string ProfileFileType = "AdeEnrollment.Profile";

    private sealed record ExportDocument(int SchemaVersion, string Name, ProfileSettings Settings)
    {
        /// <summary>What the file is (<see cref="ProfileFileType"/>); a file without it is not a profile export.</summary>
        [JsonPropertyName("$type")]
        public string? Type { get; init; }
    }

    /// <param name="noClobber">Refuse (<c>OutputFileExists</c>) rather than replace an existing <paramref name="path"/>.</param>
    public string Export(string profileRef, string? tokenRef, string? path, bool noClobber = false)
    {
        var full = path is null ? null : OutputFile.Check("Path", path, noClobber, store.Path);
        var profile = Resolve(profileRef, tokenRef);
        var json = JsonSerializer.Serialize(new ExportDocument(ExportSchemaVersion, profile.Name, profile.Settings) { Type = ProfileFileType }, Json);
        if (full is not null)
        {
            var replaced = File.Exists(full);
            if (!host.ShouldProcess(full, replaced ? $"Replace the file with profile '{profile.Name}'" : $"Write profile '{profile.Name}' to a new file"))
            {
                return json;
            }

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
            document = JsonSerializer.Deserialize<ExportDocument>(WithModulePaneNames(text.TrimStart('\uFEFF')), ImportOptions);
        }
        catch (JsonException ex)
        {
            throw ErrorCatalog.ProfileFileInvalid(path, ImportProblem(ex));
        }
        catch (Exception ex) when (ex is NotSupportedException or InvalidOperationException or ArgumentException or FormatException or OverflowException)
        {
            throw ErrorCatalog.ProfileFileInvalid(path, "its content cannot be read as a profile (" + ex.GetType().Name + ").");
        }

        var missing = document is null ? "\"$type\": \"AdeEnrollment.Profile\", Name and Settings"
            : document.Type != ProfileFileType ? $"\"$type\": \"{ProfileFileType}\" (an export names what it is)"
            : string.IsNullOrEmpty(document.Name) ? "Name"
            : document.Settings is null ? "Settings"
            : null;
        if (missing is not null)
        {
            throw ErrorCatalog.ProfileFileInvalid(path, $"it is not a profile export: it has no {missing}.");
        }

        if (document!.SchemaVersion is < 1 or > ExportSchemaVersion)
        {
            throw ErrorCatalog.ProfileFileInvalid(path, $"its schema version {document.SchemaVersion} is not one this module reads (1 to {ExportSchemaVersion}); update AdeEnrollment.");
        }

        if (document.SchemaVersion == 1 && document.Settings!.Platform is { } given && given != DevicePlatform.iOS)
        {
            // version 1 was written before profiles had a platform: its profiles are iOS profiles
            throw ErrorCatalog.ProfileFileInvalid(path, $"a version 1 export has no Platform (its profiles are iOS profiles); write \"SchemaVersion\": {ExportSchemaVersion} for a {document.Settings.Platform} profile.");
        }

        return New(tokenRef, name ?? document.Name, document.Settings!);
    }

    /// <summary>
    /// A file's Setup Assistant panes may be Apple's skip keys ('TOS', 'Biometric'), as -HiddenScreen takes them: each
    /// such value in Settings.HiddenScreens is replaced, in place, by the module's pane name. Nothing else of the text
    /// changes (its lines stay where they were, so a later error still names the file's line); text that is not JSON
    /// is left to the reader, which says where.
    /// </summary>
    private static string WithModulePaneNames(string text)
    {
        if (text.IndexOf("HiddenScreens", StringComparison.OrdinalIgnoreCase) < 0)
        {
            return text;
        }

        var bytes = Encoding.UTF8.GetBytes(text);
        var replacements = new List<(int Start, int Length, string Value)>();
        try
        {
            var reader = new Utf8JsonReader(bytes, new JsonReaderOptions { CommentHandling = JsonCommentHandling.Skip });
            string? property = null;
            var inSettings = false;
            var inScreens = false;
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        property = reader.GetString();
                        break;
                    case JsonTokenType.StartObject:
                        inSettings = reader.CurrentDepth == 1 && string.Equals(property, "Settings", StringComparison.OrdinalIgnoreCase);
                        break;
                    case JsonTokenType.StartArray:
                        inScreens = inSettings && reader.CurrentDepth == 2 && string.Equals(property, "HiddenScreens", StringComparison.OrdinalIgnoreCase);
                        break;
                    case JsonTokenType.EndArray:
                        inScreens = false;
                        break;
                    case JsonTokenType.String when inScreens && reader.GetString() is { } given
                        && !SetupScreenName.TryParse(given, out _) && SetupScreens.ByAppleKeyIgnoringCase(given) is { } known:
                        replacements.Add(((int)reader.TokenStartIndex, reader.ValueSpan.Length + 2, known.Screen.ToString()));
                        break;
                }
            }
        }
        catch (JsonException)
        {
            return text; // not JSON: the reader below says where
        }

        if (replacements.Count == 0)
        {
            return text;
        }

        var result = new StringBuilder(text.Length);
        var at = 0;
        foreach (var (start, length, value) in replacements)
        {
            result.Append(Encoding.UTF8.GetString(bytes, at, start - at)).Append('"').Append(value).Append('"');
            at = start + length;
        }

        return result.Append(Encoding.UTF8.GetString(bytes, at, bytes.Length - at)).ToString();
    }

    /// <summary>
    /// What is wrong with an export file, said in terms of the file (member, line and column) rather than the .NET types
    /// the reader names: text that is not JSON, a member an export does not have (a setting written beside "Settings"
    /// instead of in it is named as such), or a value that is not one of a setting's values. A message of the module's
    /// own converters (an unknown pane) is kept as it is.
    /// </summary>
    internal static string ImportProblem(JsonException ex)
    {
        var where = ex.LineNumber is { } line ? $" (line {line + 1}" + (ex.BytePositionInLine is { } column ? $", column {column + 1})" : ")") : "";
        var member = string.IsNullOrEmpty(ex.Path) || ex.Path == "$" ? null : ex.Path.TrimStart('$', '.');
        if (ex.GetType().Name == "JsonReaderException" || ex.InnerException?.GetType().Name == "JsonReaderException")
        {
            return $"it is not valid JSON{where}.";
        }

        if (ex.Message.Contains("could not be mapped", StringComparison.Ordinal) && member is not null)
        {
            return !member.Contains('.', StringComparison.Ordinal) && typeof(ProfileSettings).GetProperty(member, System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Instance | System.Reflection.BindingFlags.IgnoreCase) is not null
                ? $"'{member}' is a setting, and settings go inside \"Settings\"{where}."
                : $"it has a member '{member}' that a profile export does not have{where}.";
        }

        if (ex.Message.Contains("uplicate", StringComparison.Ordinal))
        {
            return $"{(member is null ? "a member" : $"'{member}'")} is given twice{where}: keep one of them.";
        }

        if (ex.Message.Contains("could not be converted", StringComparison.Ordinal))
        {
            return member is null
                ? $"it is not a profile export (a JSON object with $type, SchemaVersion, Name and Settings){where}."
                : $"the value of '{member}' is not one this module reads{where}.";
        }

        return ex.Message;
    }

    /// <summary>Import reads names in any case but no unknown member and no member twice (which of two values is meant is not for the module to guess).</summary>
    private static readonly JsonSerializerOptions ImportOptions = new(Json) { PropertyNameCaseInsensitive = true, UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, AllowDuplicateProperties = false };

    private static void CheckNameFree(IStoreSession s, AdeToken token, string name, Guid? except, bool rename = false)
    {
        if (TextRules.NameTaken(s.Profiles.Names(token.Id), name, except))
        {
            throw ErrorCatalog.ProfileNameConflict(name, token.Name, rename);
        }
    }

    internal void Warn(IReadOnlyList<string> warnings)
    {
        foreach (var warning in warnings)
        {
            host.WriteWarning(warning);
        }
    }
}

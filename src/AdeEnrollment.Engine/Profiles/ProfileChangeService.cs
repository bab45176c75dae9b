using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Hosting;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Engine.Rules;
using AdeEnrollment.Engine.Storage;
using AdeEnrollment.Engine.Tokens;

namespace AdeEnrollment.Engine.Profiles;

/// <summary>
/// Set-AdeProfile: changes a profile and, when Apple already holds it, defines it again there and re-assigns it to the
/// devices that hold it. Sits above <see cref="ProfileService"/> (the profiles in the store) and
/// <see cref="AssignmentService"/> (what Apple holds), so neither of those depends on the other's caller.
/// </summary>
public sealed class ProfileChangeService
{
    private readonly AdeStore store;
    private readonly IAdeHost host;
    private readonly TokenService tokens;
    private readonly ProfileService profiles;
    private readonly AssignmentService assignments;

    internal ProfileChangeService(AdeStore store, IAdeHost host, TokenService tokens, ProfileService profiles, AssignmentService assignments)
    {
        this.store = store;
        this.host = host;
        this.tokens = tokens;
        this.profiles = profiles;
        this.assignments = assignments;
    }

    public AdeProfile? Set(string profileRef, string? tokenRef, string? newName, ProfileSettings patch)
    {
        var profile = profiles.Resolve(profileRef, tokenRef);
        if (newName is not null)
        {
            ProfileRules.ValidateName(newName);
        }

        if (patch.Platform is { } platform && platform != profile.Platform)
        {
            throw ProfileRules.Invalid("Platform", platform.ToString(), $"a profile's platform is fixed when it is created ('{profile.Name}' is a {profile.Platform} profile); create a {platform} profile instead.");
        }

        var merged = ProfileRules.Normalise(ProfileSettings.Merge(profile.Settings, patch));
        var warnings = ProfileRules.Validate(merged, profile.Settings);
        var settingsChanged = !merged.Equals(profile.Settings);
        var nameChanged = newName is not null && newName != profile.Name;
        if (!settingsChanged && !nameChanged)
        {
            return profile;
        }

        if (nameChanged)
        {
            // a name that cannot be taken is said before any question: a session that cannot ask would otherwise hear
            // ConfirmationRequired for a change that could never be made (checked again when it is written)
            profiles.CheckRename(profile, newName!);
        }

        if (merged.SharedIPad == true && profile.Settings.SharedIPad != true && assignments.HoldersNotIPads(profile) is { Count: > 0 } notIPads)
        {
            // Apple would hand the Shared iPad definition to every holder: iPhones included (an assignment refuses them)
            throw ProfileRules.Invalid("SharedIPad", "True", $"a Shared iPad profile is for iPads only, and {Counted.Of(notIPads.Count, "device")} holding '{profile.Name}' {(notIPads.Count == 1 ? "is not an iPad" : "are not iPads")} ({Counted.FirstFew(notIPads)}); assign {(notIPads.Count == 1 ? "it" : "them")} another profile first, or create a Shared iPad profile of its own.");
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

        profiles.Update(profile, newName, merged);
        if (profile.AppleProfileUuid is not null)
        {
            // Apple hands out what it holds: a profile already defined there is defined again now, and re-assigned.
            try
            {
                assignments.Redefine(profile.Id);
            }
            catch (AdeException ex) when (ex.ErrorId == nameof(ErrorCatalog.ProfileDefinitionRefused))
            {
                // Apple kept the old definition, which its devices go on receiving: so does the store (a change the
                // store kept and Apple refused would fail every later assignment of the profile, and show as drift).
                profiles.Restore(profile, newName ?? profile.Name, merged);
                throw;
            }
        }

        profiles.Warn(warnings);

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

        return profiles.Get(id: profile.Id).Single();
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
                text += $" The change defines it again at Apple and re-assigns it to {(Holders == 1 ? "that device" : $"those {Counted.N(Holders)} devices")}";
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
        var (holders, pushed) = store.Read(s => s.Devices.CountProfileHolders(profile.Id));
        var redefines = false;
        if (profile.AppleProfileUuid is not null)
        {
            var url = tokens.GetTokens(id: profile.TokenId).Single().EnrollmentUrl;
            redefines = url is null
                || AppleProfileBuilder.Hash(AppleProfileBuilder.Build(newName, merged, url)) != AppleProfileBuilder.Hash(AppleProfileBuilder.Build(profile.Name, profile.Settings, url));
        }

        return new ChangeImpact(holders, pushed, redefines, ProfileSettings.ChangedAsSideEffect(profile.Settings, patch, merged));
    }
}

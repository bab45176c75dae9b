using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>Get-AdeSimProfile: the profiles an MDM server holds at Apple, with the keys the client sent.</summary>
[Cmdlet(VerbsCommon.Get, "AdeSimProfile")]
[OutputType(typeof(AdeSimProfile))]
public sealed class GetAdeSimProfileCommand : AdeSimCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [SimServerTransformation]
    [ValidateNotNullOrEmpty]
    public string Server { get; set; } = "";

    /// <summary>Only profiles with this profile_name (wildcards allowed).</summary>
    [Parameter(Position = 1)]
    [SupportsWildcards]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    /// <summary>Only the profile with this profile_uuid, e.g. a module profile's AppleProfileUuid (piped by property name).</summary>
    [Parameter(ValueFromPipelineByPropertyName = true)]
    [Alias("AppleProfileUuid")]
    [ValidateNotNullOrEmpty]
    public string? ProfileUuid { get; set; }

    protected override void ProcessItem()
    {
        var pattern = Name is null ? null : WildcardPattern.Get(Name, WildcardOptions.IgnoreCase);
        var profiles = Current.GetProfiles(Server)
            .Where(p => pattern?.IsMatch(p.ProfileName) != false)
            .Where(p => ProfileUuid is null || string.Equals(p.ProfileUuid, ProfileUuid.Trim(), StringComparison.OrdinalIgnoreCase))
            .ToList();
        if (profiles.Count == 0 && (ProfileUuid is not null || (Name is not null && !WildcardPattern.ContainsWildcardCharacters(Name))))
        {
            WriteError(ToErrorRecord(ProfileUuid is null ? SimErrors.ProfileNameNotFound(Server, Name!) : SimErrors.ProfileNotFound(Server, ProfileUuid)));
            return;
        }

        WriteObject(profiles, enumerateCollection: true);
    }
}

using System.Collections;
using System.Management.Automation;
using AdeEnrollment.Simulator.Host;

namespace AdeEnrollment.Simulator.Commands;

/// <summary>Set-AdeSimProfile: changes a defined profile on Apple's side (drift tests); keys are Apple's JSON names.</summary>
[Cmdlet(VerbsCommon.Set, "AdeSimProfile", SupportsShouldProcess = true)]
[OutputType(typeof(void))]
public sealed class SetAdeSimProfileCommand : AdeSimCmdlet
{
    [Parameter(Mandatory = true, Position = 0)]
    [SimServerTransformation]
    [ValidateNotNullOrEmpty]
    public string Server { get; set; } = "";

    [Parameter(Mandatory = true, Position = 1)]
    [ValidateNotNullOrEmpty]
    public string ProfileUuid { get; set; } = "";

    /// <summary>Apple's keys and their new values, e.g. @{ department = 'Elsewhere' }; $null removes a key.</summary>
    [Parameter(Mandatory = true)]
    public Hashtable Key { get; set; } = [];

    protected override void ProcessItem()
    {
        var keys = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (DictionaryEntry entry in Key)
        {
            keys[entry.Key.ToString()!] = entry.Value is PSObject ps ? ps.BaseObject : entry.Value;
        }

        if (ShouldProcess(ProfileUuid, $"Change keys {string.Join(", ", keys.Keys)} of the profile on MDM server '{Server}'"))
        {
            Current.SetProfileKeys(Server, ProfileUuid, keys);
        }
    }
}

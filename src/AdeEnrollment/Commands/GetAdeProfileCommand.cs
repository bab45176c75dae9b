using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine;
using AdeEnrollment.Engine.Errors;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Get-AdeProfile: lists enrollment profiles.</summary>
[Cmdlet(VerbsCommon.Get, "AdeProfile")]
[OutputType(typeof(AdeProfile))]
public sealed class GetAdeProfileCommand : AdeCmdlet
{
    [Parameter]
    [SupportsWildcards]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Token { get; set; }

    /// <summary>Names (wildcards allowed) or Ids; each profile is written once, in the order of the names.</summary>
    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ProfileNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? Name { get; set; }

    /// <summary>Piped tokens (their profiles), profile names or Ids, or profiles (read again from the store).</summary>
    [Parameter(ValueFromPipeline = true)]
    [SupportsWildcards]
    [ValidateNotNull]
    public PSObject[]? InputObject { get; set; }

    [Parameter]
    public SwitchParameter Default { get; set; }

    /// <summary>Only the profiles of this platform.</summary>
    [Parameter]
    public DevicePlatform? Platform { get; set; }

    protected override bool ErrorsArePerItem => true;

    private AdeToken? tokenOfParameter;

    /// <summary>-Token is resolved once, before the first piped item: a bad one is one terminating error.</summary>
    protected override void BeginItems() => tokenOfParameter = Token is null ? null : Engine.Tokens.ResolveToken(Ref(Token));

    protected override void ProcessItem()
    {
        if (InputObject is null)
        {
            Write(tokenOfParameter, Name);
            return;
        }

        foreach (var item in InputObject)
        {
            RunItem(() => WriteFor(item));
        }
    }

    private void WriteFor(PSObject item)
    {
        switch (item.BaseObject)
        {
            case AdeToken piped:
                Write(piped, Name); // the piped token's profiles (named by -Name, or all)
                break;
            case AdeProfile profile:
                Write(tokenOfParameter, [profile.Id.ToString()]);
                break;
            case string or Guid:
                Write(tokenOfParameter, [item.BaseObject.ToString()!]); // a profile name or Id, as -Name takes it
                break;
            default:
                throw ErrorCatalog.ArgumentInvalid("InputObject", item.BaseObject.GetType().Name, "pipe tokens (Get-AdeToken), profiles (Get-AdeProfile), or profile names or Ids.");
        }
    }

    private void Write(AdeToken? token, string[]? names)
    {
        if (names is null)
        {
            WriteObject(Engine.Profiles.Get(token?.Id, null, Default, platform: Platform), enumerateCollection: true);
            return;
        }

        var written = new HashSet<Guid>();
        foreach (var name in names)
        {
            if (Guid.TryParse(name, out _))
            {
                // by Id: that profile, which must be the given token's
                RunItem(() =>
                {
                    if (Engine.Profiles.Resolve(name, token?.Id.ToString()) is var byId && (Platform is null || byId.Platform == Platform))
                    {
                        WriteNew(byId, written);
                    }
                });
                continue;
            }

            var profiles = Engine.Profiles.Get(token?.Id, name, Default, platform: Platform);
            if (profiles.Count == 0 && !Wildcard.HasWildcard(name))
            {
                WriteError(ToErrorRecord(ErrorCatalog.ProfileNotFound(name, token?.Name)));
            }

            foreach (var profile in profiles)
            {
                WriteNew(profile, written);
            }
        }
    }

    /// <summary>A profile two names match is written once.</summary>
    private void WriteNew(AdeProfile profile, HashSet<Guid> written)
    {
        if (written.Add(profile.Id))
        {
            WriteObject(profile);
        }
    }
}

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

    private IReadOnlyList<AdeToken>? tokensOfParameter;

    /// <summary>-Token is resolved once, before the first piped item: a bad one is one terminating error; a wildcard may name several tokens.</summary>
    protected override void BeginItems() => tokensOfParameter = Token is null ? null : Engine.Tokens.ResolveTokens(Ref(Token));

    protected override void ProcessItem()
    {
        if (InputObject is null)
        {
            Write(tokensOfParameter, Name);
            return;
        }

        foreach (var item in InputObject)
        {
            RunItem(() => WriteFor(item));
        }
    }

    private void WriteFor(PSObject item)
    {
        switch (DeserializedInput.Live(item, Engine))
        {
            case AdeToken piped:
                Write([piped], Name); // the piped token's profiles (named by -Name, or all)
                break;
            case AdeProfile profile:
                Write(tokensOfParameter, [profile.Id.ToString()]);
                break;
            case string or Guid:
                Write(tokensOfParameter, [item.BaseObject.ToString()!]); // a profile name or Id, as -Name takes it
                break;
            default:
                throw ErrorCatalog.ArgumentInvalid("InputObject", item.BaseObject.GetType().Name, "pipe tokens (Get-AdeToken), profiles (Get-AdeProfile), or profile names or Ids.");
        }
    }

    /// <summary>The profiles <paramref name="names"/> name (all without names) among those of <paramref name="tokens"/> (every token's when null).</summary>
    private void Write(IReadOnlyList<AdeToken>? tokens, string[]? names)
    {
        if (tokens is { Count: 0 })
        {
            return; // a -Token wildcard that matches no token: nothing, without an error
        }

        IReadOnlyList<AdeToken?> scopes = tokens is null ? [null] : [.. tokens];
        var single = tokens is [var only] ? only : null;
        if (names is null)
        {
            foreach (var scope in scopes)
            {
                WriteObject(Engine.Profiles.Get(scope?.Id, null, Default, platform: Platform), enumerateCollection: true);
            }

            return;
        }

        var written = new HashSet<Guid>();
        foreach (var name in names)
        {
            if (Guid.TryParse(name, out _))
            {
                // by Id: that profile, which must be one of the given tokens'
                RunItem(() =>
                {
                    var byId = Engine.Profiles.Resolve(name, single?.Id.ToString());
                    if (tokens is not null && !tokens.Any(t => t.Id == byId.TokenId))
                    {
                        throw ErrorCatalog.ProfileNotFound(name, Ref(Token));
                    }

                    if (Platform is null || byId.Platform == Platform)
                    {
                        WriteNew(byId, written);
                    }
                });
                continue;
            }

            var profiles = scopes.SelectMany(scope => Engine.Profiles.Get(scope?.Id, name, Default, platform: Platform)).ToList();
            if (profiles.Count == 0 && !Wildcard.IsPattern(name))
            {
                WriteError(ToErrorRecord(ErrorCatalog.ProfileNotFound(name, single?.Name ?? (tokens is null ? null : Ref(Token)))));
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

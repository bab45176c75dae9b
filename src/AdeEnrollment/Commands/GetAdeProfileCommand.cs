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
    [Parameter(ValueFromPipeline = true)]
    [SupportsWildcards]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Token { get; set; }

    [Parameter(Position = 0)]
    [SupportsWildcards]
    [ArgumentCompleter(typeof(ProfileNameCompleter))]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    [Parameter]
    public SwitchParameter Default { get; set; }

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        var token = Token is null ? null : Engine.Tokens.ResolveToken(Ref(Token));
        if (Name is not null && Guid.TryParse(Name, out _))
        {
            // by Id: that profile, which must be the given token's
            RunItem(() => WriteObject(Engine.Profiles.Resolve(Name, token?.Id.ToString())));
            return;
        }

        var profiles = Engine.Profiles.Get(token?.Id, Name, Default);
        if (profiles.Count == 0 && Name is not null && !Wildcard.HasWildcard(Name))
        {
            WriteError(ToErrorRecord(ErrorCatalog.ProfileNotFound(Name, token?.Name)));
        }

        WriteObject(profiles, enumerateCollection: true);
    }
}

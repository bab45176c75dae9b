using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Import-AdeProfile: creates a profile on a token from an Export-AdeProfile JSON file, validated like New-AdeProfile.</summary>
[Cmdlet(VerbsData.Import, "AdeProfile", SupportsShouldProcess = true)]
[OutputType(typeof(AdeProfile))]
public sealed class ImportAdeProfileCommand : AdeCmdlet
{
    [Parameter(Mandatory = true, HelpMessage = "The token to import the profile into: a token object, its name or its Id.")]
    [SupportsWildcards]
    [ReferenceTransformation(Of = "Token")]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Token { get; set; } = "";

    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, ValueFromPipelineByPropertyName = true, HelpMessage = "The JSON file written by Export-AdeProfile.")]
    [Alias("FullName")]
    [ValidateNotNullOrEmpty]
    public string Path { get; set; } = "";

    /// <summary>A name for the new profile instead of the one in the file.</summary>
    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Name { get; set; }

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        var profile = Engine.Profiles.Import(Ref(Token), ResolvePath(Path), Name);
        if (profile is not null)
        {
            WriteObject(profile);
        }
    }
}

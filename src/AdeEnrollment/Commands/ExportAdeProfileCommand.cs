using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Export-AdeProfile: a profile's settings as JSON, to keep profiles as code or copy them between tokens.</summary>
[Cmdlet(VerbsData.Export, "AdeProfile")]
[OutputType(typeof(string))]
public sealed class ExportAdeProfileCommand : AdeCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, HelpMessage = "The enrollment profile to export: a profile object, its name or its Id.")]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(ProfileNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Profile { get; set; } = "";

    [Parameter]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(TokenNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object? Token { get; set; }

    /// <summary>The file to write; without it the JSON is written to the pipeline.</summary>
    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string? Path { get; set; }

    /// <summary>Refuse to replace an existing -Path (as Export-Csv -NoClobber).</summary>
    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    protected override bool ErrorsArePerItem => true;

    protected override void ProcessItem()
    {
        var json = Engine.Profiles.Export(Ref(Profile), Ref(Token), Path is null ? null : ResolvePath(Path), NoClobber);
        if (Path is null)
        {
            WriteObject(json);
        }
    }
}

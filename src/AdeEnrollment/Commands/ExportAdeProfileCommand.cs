using System.Management.Automation;
using AdeEnrollment.Completers;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>Export-AdeProfile: a profile's settings as JSON, to keep profiles as code or copy them between tokens.</summary>
[Cmdlet(VerbsData.Export, "AdeProfile", SupportsShouldProcess = true)]
[OutputType(typeof(string))]
public sealed class ExportAdeProfileCommand : AdeCmdlet
{
    [Parameter(Mandatory = true, Position = 0, ValueFromPipeline = true, HelpMessage = "The enrollment profile to export: a profile object, its name or its Id.")]
    [SupportsWildcards]
    [ReferenceTransformation]
    [ArgumentCompleter(typeof(ProfileNameCompleter))]
    [ValidateNotNullOrEmpty]
    public object Profile { get; set; } = "";

    [Parameter]
    [SupportsWildcards]
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

    /// <summary>The files this pipeline wrote: a file holds one profile, so a second piped profile may not replace the first.</summary>
    private readonly HashSet<string> written = new(OperatingSystem.IsWindows() || OperatingSystem.IsMacOS() ? StringComparer.OrdinalIgnoreCase : StringComparer.Ordinal);

    protected override void ProcessItem()
    {
        var path = Path is null ? null : ResolvePath(Path);
        if (path is not null && written.Contains(path))
        {
            throw AdeEnrollment.Engine.Errors.ErrorCatalog.ArgumentInvalid("Path", path,
                "it already holds the profile exported before it in this pipeline, and a file holds one profile. Give each its own file: ... | ForEach-Object { Export-AdeProfile $_ -Path \"$($_.Name).json\" }.");
        }

        var json = Engine.Profiles.Export(Ref(Profile), Ref(Token), path, NoClobber);
        if (path is not null)
        {
            written.Add(path);
        }

        if (Path is null)
        {
            WriteObject(json);
        }
    }
}

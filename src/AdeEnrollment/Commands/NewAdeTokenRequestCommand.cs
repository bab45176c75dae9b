using System.Management.Automation;
using AdeEnrollment.Engine.Model;
using AdeEnrollment.Host;

namespace AdeEnrollment.Commands;

/// <summary>New-AdeTokenRequest: step 1, the key pair and the certificate to upload to Apple Business Manager.</summary>
[Cmdlet(VerbsCommon.New, "AdeTokenRequest", SupportsShouldProcess = true)]
[OutputType(typeof(AdeTokenRequest))]
public sealed class NewAdeTokenRequestCommand : AdeCmdlet
{
    [Parameter]
    public SwitchParameter AcceptDataSharing { get; set; }

    [Parameter(Position = 0)]
    [ValidateNotNullOrEmpty]
    public string? OutFile { get; set; }

    /// <summary>Refuse to replace an existing -OutFile (as Out-File -NoClobber).</summary>
    [Parameter]
    public SwitchParameter NoClobber { get; set; }

    protected override void ProcessItem()
    {
        var request = Engine.Tokens.NewRequest(AcceptDataSharing, OutFile is null ? null : ResolvePath(OutFile), NoClobber);
        if (request is not null)
        {
            WriteObject(request);
        }
    }
}

using System.Management.Automation;
using AdeEnrollment.Engine.Business;
using AdeEnrollment.Host;
using AdeEnrollment.Transforms;
using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>New-AdeMdmServer: creates an MDM server at Apple Business for the certificate of a token request (or a certificate file).</summary>
[Cmdlet(VerbsCommon.New, "AdeMdmServer", SupportsShouldProcess = true, ConfirmImpact = ConfirmImpact.Medium, DefaultParameterSetName = ByRequest)]
[OutputType(typeof(AdeMdmServer))]
public sealed class NewAdeMdmServerCommand : BusinessCmdlet
{
    private const string ByRequest = "ByRequest";
    private const string ByCertificate = "ByCertificate";

    protected override bool ProcessItemWaitsForApple => true;

    [Parameter(Mandatory = true, Position = 0, HelpMessage = "The name of the new MDM server, unique in the organisation.")]
    [ValidateNotNullOrEmpty]
    public string Name { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ByRequest, ValueFromPipeline = true, HelpMessage = "The token request (from New-AdeTokenRequest) whose certificate Apple encrypts the server token to: the request object or its Id.")]
    [ReferenceTransformation]
    [ValidateNotNullOrEmpty]
    public object Request { get; set; } = "";

    [Parameter(Mandatory = true, ParameterSetName = ByCertificate, HelpMessage = "A certificate file (PEM or DER) with an RSA key, for a server whose token another MDM decrypts.")]
    [ValidateNotNullOrEmpty]
    public string CertificatePath { get; set; } = "";

    [Parameter]
    public SwitchParameter AllowRelease { get; set; }

    protected override void ProcessItem()
    {
        var args = ParameterSetName == ByRequest
            ? new NewMdmServerArgs(Name, Request: Ref(Request), AllowRelease: AllowRelease, Account: Account)
            : new NewMdmServerArgs(Name, CertificatePath: ResolvePath(CertificatePath), AllowRelease: AllowRelease, Account: Account);
        if (Business.NewMdmServer(args) is { } server)
        {
            WriteObject(server);
        }
    }
}

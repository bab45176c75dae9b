using AdeEnrollment.Engine.Rules;
using System.Management.Automation;
using AdeEnrollment.Engine.Profiles;
using AdeEnrollment.Host;
using AdeEnrollment.Engine.Model;

namespace AdeEnrollment.Commands;

/// <summary>Get-AdeSetupScreen: the Setup Assistant panes -HiddenScreen can hide, with Apple's keys, platforms and versions.</summary>
[Cmdlet(VerbsCommon.Get, "AdeSetupScreen")]
[OutputType(typeof(AdeSetupScreen))]
public sealed class GetAdeSetupScreenCommand : PSCmdlet
{
    /// <summary>Only the panes of this platform.</summary>
    [Parameter(Position = 0)]
    public DevicePlatform[]? Platform { get; set; }

    protected override void EndProcessing()
    {
        foreach (var row in SetupScreens.All)
        {
            if (Platform is null || Platform.Any(p => row.On(p) is not null))
            {
                WriteObject(row);
            }
        }
    }
}

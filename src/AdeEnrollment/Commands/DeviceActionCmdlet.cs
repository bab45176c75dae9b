using AdeEnrollment.Engine.Devices;

using static AdeEnrollment.Transforms.ReferenceTransformationAttribute;

namespace AdeEnrollment.Commands;

/// <summary>
/// The device actions at Apple (Clear-AdeDeviceProfile, Update-AdeDevice, Unregister-AdeDevice): the devices of the
/// whole pipeline (<see cref="DeviceTargetCmdlet"/>) are sent at the end in requests of at most 1000.
/// </summary>
public abstract class DeviceActionCmdlet : DeviceTargetCmdlet
{
    protected override bool EndItemsWaitForApple => true;

    /// <summary>The engine's action for the gathered devices.</summary>
    private protected abstract IEnumerable<AdeDeviceActionResult> Act(IReadOnlyList<DeviceTarget> devices, string? token, DeviceActionSummary summary);

    protected override void EndItems()
    {
        var summary = new DeviceActionSummary();
        // -WhatIf writes its What-if lines and one summary, as Set-AdeDeviceProfile does: no results (the unknown serials
        // are counted in the summary line)
        var whatIf = WhatIfRequested;
        foreach (var result in Act(Targets, Ref(Token), summary))
        {
            if (result.Failure is { } failure)
            {
                // the token's requests stopped (its devices from there on are NotSent); the other tokens go on, unless
                // the error stops the pipeline (-ErrorAction Stop): waiting for it to be written sends nothing after it
                WriteItemFailureAndWait(failure);
            }

            if (!whatIf)
            {
                WriteObject(result);
            }
        }

        if ((summary.Declined > 0 || summary.Unknown > 0) && whatIf)
        {
            WriteWhatIfSummary(summary.WhatIfSummary);
        }

        if (!whatIf && summary.NotDoneWarning is { } warning) // under -WhatIf the summary line counts the unknown serials
        {
            WriteWarning(warning);
        }
    }
}

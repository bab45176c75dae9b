<#
.SYNOPSIS
    Gives every platform of a mixed ADE token (iPhones and iPads, Macs, Apple TVs, Vision Pros) its own enrollment
    profile and makes it that platform's default; optionally assigns it to the devices that have no profile yet.
.DESCRIPTION
    A token's MDM server in Apple Business Manager holds devices of several platforms. Each platform needs its own
    profile: a profile is for one platform, and a sync gives each arriving device the default of its own platform.
    The script creates the missing profiles (existing ones are kept as they are), sets the four defaults, and returns
    one line per platform with how many devices the token has of it and how many are still without a profile.
.EXAMPLE
    ./Set-AdeMixedFleetDefaults.ps1 -Token 'Contoso' -SupportEmail 'it-help@contoso.com' -AssignUnassigned
#>
[CmdletBinding(SupportsShouldProcess)]
param(
    [Parameter(Mandatory)] [string] $Token,
    [string] $Department = 'IT',
    [string] $SupportEmail,
    # Also assign each platform's profile to the token's devices of that platform that have none yet.
    [switch] $AssignUnassigned
)
$ErrorActionPreference = 'Stop'

$common = @{ Department = $Department }
if ($SupportEmail) { $common.SupportEmail = $SupportEmail }
$plan = [ordered]@{
    iOS      = @{ Name = "$Token iPhone and iPad"; UserAffinity = 'WithUserAffinity'; HiddenScreen = 'EmergencySos', 'ActionButton', 'Intelligence' }
    macOS    = @{ Name = "$Token Mac"; HiddenScreen = 'FileVault', 'Intelligence', 'UnlockWithWatch'; Language = 'en'; Region = 'US' }
    tvOS     = @{ Name = "$Token Apple TV"; HiddenScreen = 'ScreenSaver', 'TVRoom', 'TVProviderSignIn'; AutoAdvanceSetup = $true; LockedEnrollment = $true }
    visionOS = @{ Name = "$Token Vision Pro"; HiddenScreen = 'Tips', 'Siri' }
}

$profiles = @{}
foreach ($platform in $plan.Keys) {
    $settings = $plan[$platform].Clone()
    $name = $settings.Name
    $settings.Remove('Name')
    $existing = Get-AdeProfile -Token $Token | Where-Object { $_.Name -eq $name }
    if (-not $existing) {
        $existing = New-AdeProfile -Token $Token -Name $name -Platform $platform @common @settings
    } elseif ($existing.Platform -ne $platform) {
        throw "Profile '$name' on token '$Token' is a $($existing.Platform) profile, not $platform; rename it or choose another name."
    }
    if ($existing) {
        $profiles[$platform] = $existing
        Set-AdeDefaultProfile -Token $Token -Profile $existing.Id | Out-Null
    }
}

$devices = @(Get-AdeDevice -Token $Token | Where-Object AbmState -eq 'Assigned')
foreach ($platform in $plan.Keys) {
    $mine = @($devices | Where-Object { "$($_.Platform)" -eq $platform })
    $unassigned = @($mine | Where-Object { -not $_.EnrollmentProfileName })
    if ($AssignUnassigned -and $unassigned.Count -gt 0 -and $profiles[$platform]) {
        $results = @($unassigned | Set-AdeDeviceProfile -Profile $profiles[$platform].Name -Token $Token)
        $unassigned = @($results | Where-Object Status -ne 'Success')
    }
    [pscustomobject]@{
        Platform   = $platform
        Profile    = $profiles[$platform].Name
        Devices    = $mine.Count
        Unassigned = $unassigned.Count
    }
}

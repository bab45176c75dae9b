@{
    RootModule           = 'AdeEnrollment.psm1'
    ModuleVersion        = '0.0.0' # stamped from Directory.Build.props by build.ps1
    CompatiblePSEditions = @('Core')
    GUID                 = 'b0c7f0f4-4f2e-4b6c-9a1d-7e5d8c3a2f10'
    Author               = 'AdeEnrollment contributors'
    CompanyName          = 'AdeEnrollment'
    Copyright            = '(c) AdeEnrollment contributors. MIT License.'
    Description          = 'Apple Automated Device Enrollment (ADE) the way Microsoft Intune does it: ADE tokens, enrollment profiles, device sync and profile assignment, with Intune''s limits and rate limits enforced inside the cmdlets.'
    PowerShellVersion    = '7.6'
    FormatsToProcess     = @('AdeEnrollment.format.ps1xml')
    FunctionsToExport    = @()
    CmdletsToExport      = @(
        'Connect-AdeStore'
        'Copy-AdeStore'
        'Disconnect-AdeStore'
        'Get-AdeStore'
        'Set-AdeStore'
        'Get-AdeDeviceEvent'
        'Clear-AdeDeviceProfile'
        'Update-AdeDevice'
        'Unregister-AdeDevice'
        'Test-AdeHealth'
        'Test-AdeProfile'
        'New-AdeTokenRequest'
        'Get-AdeTokenRequest'
        'New-AdeToken'
        'Get-AdeToken'
        'Get-AdeSetupScreen'
        'Update-AdeToken'
        'Set-AdeToken'
        'Remove-AdeToken'
        'Sync-AdeDevice'
        'Get-AdeSyncStatus'
        'Get-AdeDevice'
        'Remove-AdeDevice'
        'New-AdeProfile'
        'Get-AdeProfile'
        'Set-AdeProfile'
        'Remove-AdeProfile'
        'Export-AdeProfile'
        'Import-AdeProfile'
        'Set-AdeDefaultProfile'
        'Set-AdeDeviceProfile'
        'New-AdeBusinessAccount'
        'Get-AdeBusinessAccount'
        'Set-AdeBusinessAccount'
        'Remove-AdeBusinessAccount'
        'Get-AdeOrgDevice'
        'Get-AdeMdmServer'
        'New-AdeMdmServer'
        'Set-AdeMdmServer'
        'Remove-AdeMdmServer'
        'Set-AdeOrgDeviceServer'
        'Clear-AdeOrgDeviceServer'
        'Remove-AdeOrgDevice'
        'Get-AdeOrgDeviceActivity'
    )
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('Apple', 'ADE', 'DEP', 'ABM', 'ASM', 'Intune', 'MDM', 'iOS', 'iPadOS', 'Enrollment', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            LicenseUri = 'https://opensource.org/licenses/MIT'
        }
    }
}

@{
    RootModule           = 'AdeEnrollment.Simulator.psm1'
    ModuleVersion        = '0.0.0' # stamped from Directory.Build.props by build.ps1
    CompatiblePSEditions = @('Core')
    GUID                 = '6f3d2c1e-8a4b-4e5f-9c7d-2b1a0e9f8d71'
    Author               = 'AdeEnrollment contributors'
    CompanyName          = 'AdeEnrollment'
    Copyright            = '(c) AdeEnrollment contributors. MIT License.'
    Description          = 'A local, loopback-only simulator of Apple''s Automated Device Enrollment (ADE) web service and of the Apple Business Manager actions a test needs, for testing AdeEnrollment scripts offline (Pester).'
    PowerShellVersion    = '7.6'
    RequiredModules      = @('AdeEnrollment')
    FormatsToProcess     = @('AdeEnrollment.Simulator.format.ps1xml')
    FunctionsToExport    = @()
    CmdletsToExport      = @(
        'Start-AdeSimulator'
        'Stop-AdeSimulator'
        'Use-AdeSimulator'
        'New-AdeSimServer'
        'New-AdeSimTenant'
        'Export-AdeSimServerToken'
        'Add-AdeSimDevice'
        'Remove-AdeSimDevice'
        'Get-AdeSimDevice'
        'Set-AdeSimDevice'
        'Set-AdeSimServer'
        'Set-AdeSimProfile'
        'Get-AdeSimProfile'
        'Set-AdeSimFault'
        'Clear-AdeSimFault'
        'Get-AdeSimRequest'
        'Set-AdeSimClock'
        'Get-AdeSimClock'
        'Clear-AdeSimRequest'
        'New-AdeSimBusinessAccount'
        'Add-AdeSimOrgDevice'
        'Get-AdeSimOrgDevice'
        'Set-AdeSimBusinessApi'
    )
    VariablesToExport    = @()
    AliasesToExport      = @()
    PrivateData          = @{
        PSData = @{
            Tags       = @('Apple', 'ADE', 'DEP', 'ABM', 'Simulator', 'Pester', 'Testing', 'PSEdition_Core', 'Windows', 'Linux', 'MacOS')
            LicenseUri = 'https://opensource.org/licenses/MIT'
        }
    }
}

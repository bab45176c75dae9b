# examples/Set-AdeMixedFleetDefaults.ps1 against the simulator: a token holding every device family.
BeforeAll {
    Import-Module AdeEnrollment, AdeEnrollment.Simulator
    $script:savedStore = $env:ADE_ENROLLMENT_STORE # given back in AfterAll, whatever the tests set
    $script:sim = Start-AdeSimulator -Seed 77
    $script:script = Join-Path $PSScriptRoot 'Set-AdeMixedFleetDefaults.ps1'
    Connect-AdeStore -Path (Join-Path $TestDrive 'mixed.db')
    $pem = Join-Path $TestDrive 'mixed.pem'
    $request = New-AdeTokenRequest -AcceptDataSharing -OutFile $pem
    New-AdeSimServer -Name 'Mixed' -PublicKeyPath $pem -OutFile (Join-Path $TestDrive 'mixed.p7m') | Out-Null
    New-AdeToken -Request $request -Path (Join-Path $TestDrive 'mixed.p7m') -AppleId 'ade@contoso.example' -Name 'Mixed' -EnrollmentUrl 'https://mdm.contoso.example/enroll' -ServiceUri $sim.Uri | Out-Null
    foreach ($family in 'iPhone', 'iPad', 'Mac', 'AppleTV', 'Vision') { Add-AdeSimDevice -Server 'Mixed' -Count 3 -DeviceFamily $family | Out-Null }
}

AfterAll {
    # leave the session as it was: no simulator, its own store (the TestDrive and its stores are deleted now)
    Stop-AdeSimulator
    Disconnect-AdeStore
    $env:ADE_ENROLLMENT_STORE = $savedStore
}

Describe 'Set-AdeMixedFleetDefaults.ps1' {
    It 'gives each platform its own default, and each device its own platform''s profile' {
        $first = Sync-AdeDevice -Token 'Mixed'
        $first.DefaultProfileAssigned | Should -Be 0
        ($first.WithoutDefaultProfile | ForEach-Object ToString) | Should -Be @('iOS: 6', 'macOS: 3', 'tvOS: 3', 'visionOS: 3')

        $report = & $script -Token 'Mixed' -SupportEmail 'it-help@contoso.com' -AssignUnassigned

        $report.Platform | Should -Be @('iOS', 'macOS', 'tvOS', 'visionOS')
        $report.Devices | Should -Be @(6, 3, 3, 3)
        $report.Unassigned | Should -Be @(0, 0, 0, 0)
        $token = Get-AdeToken -Name 'Mixed'
        $token.DefaultProfile | Should -Be 'Mixed iPhone and iPad'
        $token.DefaultMacOSProfile | Should -Be 'Mixed Mac'
        $token.DefaultTvOSProfile | Should -Be 'Mixed Apple TV'
        $token.DefaultVisionOSProfile | Should -Be 'Mixed Vision Pro'
        $expected = @{ iPhone = 'Mixed iPhone and iPad'; iPad = 'Mixed iPhone and iPad'; Mac = 'Mixed Mac'; AppleTV = 'Mixed Apple TV'; Vision = 'Mixed Vision Pro' }
        foreach ($device in Get-AdeDevice -Token 'Mixed') {
            $device.EnrollmentProfileName | Should -Be $expected[$device.DeviceFamily] -Because $device.DeviceFamily
        }
        # Apple's side: each simulator device holds the UUID of its own platform's profile.
        $uuids = @{}; Get-AdeProfile -Token 'Mixed' | ForEach-Object { $uuids[$_.Name] = $_.AppleProfileUuid }
        foreach ($device in Get-AdeSimDevice -Server 'Mixed') {
            $device.ProfileUuid | Should -Be $uuids[$expected[$device.DeviceFamily]]
        }

        # Running it again changes nothing, and devices that arrive later get their platform's default in the sync.
        (& $script -Token 'Mixed').Unassigned | Should -Be @(0, 0, 0, 0)
        Add-AdeSimDevice -Server 'Mixed' -Count 2 -DeviceFamily Mac | Out-Null
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 16)
        (Sync-AdeDevice -Token 'Mixed').DefaultProfileAssigned | Should -Be 2
        Set-AdeSimClock -Reset
        @(Get-AdeDevice -Token 'Mixed' | Where-Object { $_.DeviceFamily -eq 'Mac' -and $_.EnrollmentProfileName -ne 'Mixed Mac' }).Count | Should -Be 0
    }
}

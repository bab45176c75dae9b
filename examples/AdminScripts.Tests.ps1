# How an administrator tests a scheduled ADE script offline: Pester + the AdeEnrollment simulator.
# Every scenario runs the real script in its own pwsh process against a simulator and a throw-away store.
BeforeAll {
    Import-Module AdeEnrollment, AdeEnrollment.Simulator
    $script:savedStore = $env:ADE_ENROLLMENT_STORE # the child processes' store is set below; the session's comes back in AfterAll
    $script:sim = Start-AdeSimulator -Seed 11
    $script:script = Join-Path $PSScriptRoot 'Sync-AdeDevicesScheduled.ps1'

    function New-Onboarded([string] $Store, [string] $Name, [int] $Devices) {
        Connect-AdeStore -Path $Store
        $pem = Join-Path $TestDrive "$Name.pem"
        $request = New-AdeTokenRequest -AcceptDataSharing -OutFile $pem
        New-AdeSimServer -Name $Name -PublicKeyPath $pem -OutFile (Join-Path $TestDrive "$Name.p7m") | Out-Null
        New-AdeToken -Request $request -Path (Join-Path $TestDrive "$Name.p7m") -AppleId 'ade@contoso.example' -ServiceUri $sim.Uri | Out-Null
        Add-AdeSimDevice -Server $Name -Count $Devices | Out-Null
    }

    function Invoke-Script([string] $Store, [string] $Log, [string[]] $More = @()) {
        $pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
        $env:ADE_ENROLLMENT_STORE = $Store
        & $pwsh -NoProfile -NonInteractive -File $script -LogPath $Log @More | Out-Null
        $LASTEXITCODE
    }
}

AfterAll {
    # leave the session as it was: no simulator, its own store (the TestDrive and its stores are deleted now)
    Stop-AdeSimulator
    Disconnect-AdeStore
    $env:ADE_ENROLLMENT_STORE = $savedStore
}

Describe 'Sync-AdeDevicesScheduled.ps1' {
    It 'syncs every token on the first run and logs what it did' {
        $store = Join-Path $TestDrive 'first.db'
        New-Onboarded $store 'Scheduled A' 120
        New-Onboarded $store 'Scheduled B' 30
        $log = Join-Path $TestDrive 'first.log'
        Invoke-Script $store $log | Should -Be 0
        $text = Get-Content -Raw $log
        $text | Should -Match 'Scheduled A: Succeeded Full sync \(First\), \+120'
        $text | Should -Match 'Scheduled B: Succeeded Full sync \(First\), \+30'
        Connect-AdeStore -Path $store
        @(Get-AdeDevice).Count | Should -Be 150
    }

    It 'does nothing on the next run (not due) and exits 0' {
        $store = Join-Path $TestDrive 'second.db'
        New-Onboarded $store 'Scheduled C' 10
        $log = Join-Path $TestDrive 'second.log'
        Invoke-Script $store $log | Should -Be 0
        Invoke-Script $store $log | Should -Be 0
        $line = @((Get-Content $log) -match 'Scheduled C: not due')
        $line | Should -HaveCount 1
        # It names when the scheduled (-IfDue) sync really runs: 12 hours after the last successful sync, in UTC.
        Connect-AdeStore -Path $store
        $status = Get-AdeSyncStatus -Token 'Scheduled C'
        $status.NextAutomaticSyncAt | Should -Be $status.LastSuccessfulSyncAt.AddHours(12)
        $line[0] | Should -BeLike "*next scheduled sync at $($status.NextAutomaticSyncAt.ToString('u'))*"
    }

    It 'exits 2 and says so when the store holds no token (a mistyped store path is no successful run)' {
        $store = Join-Path $TestDrive 'empty.db'
        $log = Join-Path $TestDrive 'empty.log'
        Invoke-Script $store $log | Should -Be 2
        Get-Content -Raw $log | Should -Match "ERROR .*holds no ADE token"
        Test-Path $store | Should -BeFalse -Because 'the check creates no store where the path points'
    }

    It 'exits 2 for a mistyped -StorePath and creates no store there' {
        $log = Join-Path $TestDrive 'typo.log'
        $typo = Join-Path $TestDrive 'no-such-store.db'
        Invoke-Script (Join-Path $TestDrive 'unused.db') $log -More '-StorePath', $typo | Should -Be 2
        Get-Content -Raw $log | Should -Match "ERROR .*no store at"
        Test-Path $typo | Should -BeFalse
        Test-Path "$typo.key" | Should -BeFalse
    }

    It 'logs the run''s warnings (a scheduler discards the console) and what it synced' {
        $store = Join-Path $TestDrive 'warned.db'
        New-Onboarded $store 'Scheduled W' 4
        # a default profile Apple refuses to assign once: the sync warns that the devices did not get it (they are
        # offered it again by the next sync), and the log must say so
        Set-AdeToken -Token 'Scheduled W' -EnrollmentUrl 'https://mdm.contoso.example/enroll'
        New-AdeProfile -Token 'Scheduled W' -Name 'Kiosk' -UserAffinity WithoutUserAffinity | Out-Null
        Set-AdeDefaultProfile -Token 'Scheduled W' -Profile 'Kiosk' -Confirm:$false | Out-Null
        Set-AdeSimFault -Endpoint '/profile/devices' -StatusCode 400 -Count 1 | Out-Null
        $log = Join-Path $TestDrive 'warned.log'
        try { Invoke-Script $store $log | Should -Be 0 } finally { Clear-AdeSimFault }
        $text = Get-Content -Raw $log
        $text | Should -Match 'WARN .*default profile'
        $text | Should -Match 'run finished: 1 synced, 0 not due, 0 failed'
    }

    It 'exits 1 and logs the error id when Apple refuses a token, still syncing the others' {
        $store = Join-Path $TestDrive 'refused.db'
        New-Onboarded $store 'Scheduled D' 5
        New-Onboarded $store 'Scheduled E' 5
        Export-AdeSimServerToken -Server 'Scheduled D' -OutFile (Join-Path $TestDrive 'newer.p7m') | Out-Null # ABM: token downloaded again
        $log = Join-Path $TestDrive 'refused.log'
        Invoke-Script $store $log | Should -Be 1
        $text = Get-Content -Raw $log
        $text | Should -Match 'AppleTokenRejected'
        $text | Should -Match 'Scheduled E: Succeeded'
    }
}

Describe 'Test-AdeHealthNightly.ps1 and Get-AdeDeviceChangeReport.ps1' {
    BeforeAll {
        $script:pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
    }

    It 'the health check exits 1 with a WARN line before the first sync, and 0 after it' {
        $store = Join-Path $TestDrive 'health.db'
        New-Onboarded $store 'Nightly A' 3
        $log = Join-Path $TestDrive 'health.log'
        $env:ADE_ENROLLMENT_STORE = $store
        & $pwsh -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'Test-AdeHealthNightly.ps1') -LogPath $log | Out-Null
        $LASTEXITCODE | Should -Be 1
        Get-Content -Raw $log | Should -Match "WARN  Nightly A: LastSync: The token has never synced successfully\. Remedy: Sync-AdeDevice -Token 'Nightly A'"
        Sync-AdeDevice -Token 'Nightly A' | Out-Null
        & $pwsh -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'Test-AdeHealthNightly.ps1') -LogPath $log | Out-Null
        $LASTEXITCODE | Should -Be 0
        (Get-Content $log)[-1] | Should -Match 'INFO  Health: 8 checks, 0 failed, 0 warnings'
    }

    It 'the change report lists what the last sync added, per token and kind' {
        $store = Join-Path $TestDrive 'changes.db'
        New-Onboarded $store 'Changes A' 7
        Sync-AdeDevice -Token 'Changes A' | Out-Null
        $env:ADE_ENROLLMENT_STORE = $store
        $csv = Join-Path $TestDrive 'changes.csv'
        $out = & $pwsh -NoProfile -NonInteractive -File (Join-Path $PSScriptRoot 'Get-AdeDeviceChangeReport.ps1') -CsvPath $csv | Out-String
        $LASTEXITCODE | Should -Be 0
        $out | Should -Match '7 event\(s\)'
        $out | Should -Match 'Changes A\s+Added\s+7'
        @(Import-Csv $csv).Count | Should -Be 7
    }
}

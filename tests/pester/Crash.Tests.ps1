# Reliability through real processes: a pwsh killed in the middle of a multi-page sync loses nothing and duplicates
# nothing, and two pwsh processes syncing one token at once -> exactly one runs.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    Set-AdeSimClock -Reset
    $script:sim = Start-AdeSimulator -Seed 31337
    $script:pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')

    function Start-SyncProcess([string] $Store, [string] $Token, [string] $ResultPath) {
        $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module AdeEnrollment
Connect-AdeStore -Path '$Store'
try {
    `$r = Sync-AdeDevice -Token '$Token' -ErrorAction Stop
    @{ Status = [string]`$r.Status; ErrorId = `$null; Added = `$r.Added } | ConvertTo-Json | Set-Content '$ResultPath'
} catch {
    @{ Status = 'Error'; ErrorId = `$_.FullyQualifiedErrorId; Added = 0 } | ConvertTo-Json | Set-Content '$ResultPath'
}
"@
        $file = Join-Path $TestDrive ("sync-" + [guid]::NewGuid().ToString('N') + '.ps1')
        Set-Content $file $script
        Start-Process -FilePath $pwsh -ArgumentList '-NoProfile', '-NonInteractive', '-File', $file -PassThru
    }

    function Get-DeviceCount([string] $Store) {
        $c = (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::new("Data Source=$Store;Pooling=False;Mode=ReadOnly")
        try { $c.Open(); $cmd = $c.CreateCommand(); $cmd.CommandText = 'SELECT count(*) FROM device'; [int]$cmd.ExecuteScalar() } finally { $c.Dispose() }
    }
}

AfterAll {
    Clear-AdeSimFault
    Set-AdeSimClock -Reset
    Stop-AdeSimulator
}

Describe 'A sync process killed mid-way' {
    It 'keeps every committed page, and the next sync continues to exactly Apple''s set' {
        $store = Join-Path $TestDrive 'killed.db'
        Connect-AdeStore -Path $store
        $t = New-SimToken -Name 'Killed' -Devices 12000
        Set-AdeSimFault -Endpoint '/server/devices' -Latency ([TimeSpan]::FromMilliseconds(400)) -Count 1000 | Out-Null
        $process = Start-SyncProcess $store 'Killed' (Join-Path $TestDrive 'killed.json')
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ((Get-DeviceCount $store) -lt 3000 -and [DateTime]::UtcNow -lt $deadline -and -not $process.HasExited) { Start-Sleep -Milliseconds 100 }
        $process.HasExited | Should -BeFalse -Because 'the sync must still be running when it is killed'
        $process.Kill($true)
        $process.WaitForExit()
        Clear-AdeSimFault

        $committed = Get-DeviceCount $store
        $committed | Should -BeGreaterOrEqual 3000
        $committed % 1000 | Should -Be 0 -Because 'a page and its cursor are committed together or not at all'
        $appleSerials = [Collections.Generic.HashSet[string]]::new([string[]](Get-AdeSimDevice -Server 'Killed').SerialNumber)
        Get-AdeDevice -Token 'Killed' | Where-Object { -not $appleSerials.Contains($_.SerialNumber) } | Should -BeNullOrEmpty

        # The dead process still holds the lease: refused now, lapsed (and counted failed) 15 minutes later.
        { Sync-AdeDevice -Token 'Killed' -ErrorAction Stop } | Should -Throw -ErrorId 'SyncInProgress,AdeEnrollment.Commands.SyncAdeDeviceCommand'
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 15)
        $r = Sync-AdeDevice -Token 'Killed' -WarningAction SilentlyContinue
        $r.Kind | Should -Be 'Full'
        $r.Trigger | Should -Be 'Recovery'
        $r.Added | Should -Be (12000 - $committed)
        $serials = @((Get-AdeDevice -Token 'Killed').SerialNumber)
        $serials.Count | Should -Be 12000
        ($serials | Sort-Object -Unique).Count | Should -Be 12000
        (Get-AdeSyncStatus -Token 'Killed').History.Status | Should -Contain 'Failed'
        Set-AdeSimClock -Reset
    }
}

Describe 'Two processes syncing one token at once' {
    It 'exactly one runs; the other is refused with SyncInProgress' {
        $store = Join-Path $TestDrive 'twice.db'
        Connect-AdeStore -Path $store
        New-SimToken -Name 'Twice' -Devices 8000 | Out-Null
        Set-AdeSimFault -Endpoint '/server/devices' -Latency ([TimeSpan]::FromMilliseconds(500)) -Count 1000 | Out-Null
        $a = Start-SyncProcess $store 'Twice' (Join-Path $TestDrive 'a.json')
        $b = Start-SyncProcess $store 'Twice' (Join-Path $TestDrive 'b.json')
        $a.WaitForExit(120000) | Should -BeTrue
        $b.WaitForExit(120000) | Should -BeTrue
        Clear-AdeSimFault
        $results = @('a', 'b') | ForEach-Object { Get-Content -Raw (Join-Path $TestDrive "$_.json") | ConvertFrom-Json }
        @($results | Where-Object Status -eq 'Succeeded').Count | Should -Be 1
        @($results | Where-Object ErrorId -eq 'SyncInProgress,AdeEnrollment.Commands.SyncAdeDeviceCommand').Count | Should -Be 1
        @(Get-AdeDevice -Token 'Twice').Count | Should -Be 8000
    }
}

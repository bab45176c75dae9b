# Reliability through real processes: a pwsh killed in the middle of a multi-page sync loses nothing and duplicates
# nothing, and two pwsh processes syncing one token at once -> exactly one runs.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    Set-AdeSimClock -Reset
    $script:sim = Start-AdeSimulator -Seed 31337
    $script:pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')

    function Start-SyncProcess([string] $Store, [string] $Token, [string] $ResultPath, [int] $AdvanceMinutes = 0) {
        # -AdvanceMinutes moves that process's engine clock (the simulator module's clock seam), so that a process
        # started after a killed one finds the dead process's lease lapsed and the 15-minute rule met.
        $advance = if ($AdvanceMinutes -gt 0) { "Import-Module AdeEnrollment.Simulator; Set-AdeSimClock -Advance (New-TimeSpan -Minutes $AdvanceMinutes) | Out-Null" } else { '' }
        $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module AdeEnrollment
$advance
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

    function Get-StoreValue([string] $Store, [string] $Sql) {
        $c = (Get-AdeModuleType Microsoft.Data.Sqlite.SqliteConnection)::new("Data Source=$Store;Pooling=False;Mode=ReadOnly")
        try { $c.Open(); $cmd = $c.CreateCommand(); $cmd.CommandText = $Sql; $cmd.ExecuteScalar() } finally { $c.Dispose() }
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
        (Get-AdeSyncStatus -Token 'Killed').History[0].Status | Should -Be 'Running'
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 15)
        # once the lease lapsed the run shows failed, before the next sync records it so
        $lapsed = Get-AdeSyncStatus -Token 'Killed'
        ($lapsed.InProgress, $lapsed.LastStatus, $lapsed.NextSyncIsFull) | Should -Be @($false, 'Failed', $true)
        ($lapsed.History[0].Status, $lapsed.History[0].ErrorId) | Should -Be @('Failed', 'SyncLeaseLost')
        $r = Sync-AdeDevice -Token 'Killed' -WarningAction SilentlyContinue
        $r.Kind | Should -Be 'Full'
        $r.Trigger | Should -Be 'Recovery'
        $r.Added | Should -Be (12000 - $committed)
        $serials = @((Get-AdeDevice -Token 'Killed').SerialNumber)
        $serials.Count | Should -Be 12000
        ($serials | Sort-Object -Unique).Count | Should -Be 12000
        $killed = (Get-AdeSyncStatus -Token 'Killed').History | Where-Object Status -eq 'Failed'
        ($killed.Added, $killed.Pages) | Should -Be @($committed, ($committed / 1000)) -Because 'the killed run''s row shows the pages it committed'
        $killed.ErrorId | Should -Be 'SyncLeaseLost'
        Set-AdeSimClock -Reset
    }
}

Describe 'A sync process ended by SIGTERM (a service manager stopping it)' {
    It 'records the sync Stopped with what it committed and releases the token at once' -Skip:$IsWindows {
        $store = Join-Path $TestDrive 'term.db'
        Connect-AdeStore -Path $store
        New-SimToken -Name 'Term' -Devices 12000 | Out-Null
        Set-AdeSimFault -Endpoint '/server/devices' -Latency ([TimeSpan]::FromMilliseconds(300)) -Count 1000 | Out-Null
        $process = Start-SyncProcess $store 'Term' (Join-Path $TestDrive 'term.json')
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while ((Get-DeviceCount $store) -lt 2000 -and [DateTime]::UtcNow -lt $deadline -and -not $process.HasExited) { Start-Sleep -Milliseconds 100 }
        $process.HasExited | Should -BeFalse -Because 'the sync must still be running when it is told to end'
        & kill -TERM $process.Id
        $process.WaitForExit(30000) | Should -BeTrue
        Clear-AdeSimFault

        $status = Get-AdeSyncStatus -Token 'Term'
        $status.InProgress | Should -BeFalse -Because 'the stopped sync released its lease'
        $last = $status.History[0]
        ($last.Status, $last.ErrorId) | Should -Be @('Stopped', 'OperationStopped')
        $last.Added | Should -Be (Get-DeviceCount $store)
        # no 15-minute lease to wait out: 15 minutes after the attempt, the next sync continues the fetch
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 15)
        try {
            $r = Sync-AdeDevice -Token 'Term'
            $r.Status | Should -Be 'Succeeded'
            @(Get-AdeDevice -Token 'Term').Count | Should -Be 12000
        } finally { Set-AdeSimClock -Reset }
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

Describe 'Removals while another process syncs' {
    It 'the token and its profiles cannot be removed while its sync holds the lease (before its first page too); afterwards they can' {
        $store = Join-Path $TestDrive 'busy.db'
        Connect-AdeStore -Path $store
        New-SimToken -Name 'Busy' -Devices 1500 | Out-Null
        # the first page comes after 8 s: the sync holds the lease with no device written yet
        Set-AdeSimFault -Endpoint '/server/devices' -Latency ([TimeSpan]::FromSeconds(8)) -Count 1 | Out-Null
        $process = Start-SyncProcess $store 'Busy' (Join-Path $TestDrive 'busy.json')
        $deadline = [DateTime]::UtcNow.AddSeconds(60)
        while (-not (Get-AdeSyncStatus -Token 'Busy').InProgress -and [DateTime]::UtcNow -lt $deadline -and -not $process.HasExited) { Start-Sleep -Milliseconds 50 }
        (Get-AdeSyncStatus -Token 'Busy').InProgress | Should -BeTrue -Because 'the other process holds the lease'
        $err = { Remove-AdeToken -Token 'Busy' -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'SyncInProgress,AdeEnrollment.Commands.RemoveAdeTokenCommand' -PassThru
        $err.CategoryInfo.Category | Should -Be 'ResourceBusy'
        New-AdeProfile -Token 'Busy' -Name 'Kiosk' -UserAffinity WithoutUserAffinity | Out-Null
        { Remove-AdeProfile -Token 'Busy' -Profile 'Kiosk' -Confirm:$false -ErrorAction Stop } |
            Should -Throw -ErrorId 'SyncInProgress,AdeEnrollment.Commands.RemoveAdeProfileCommand'
        $process.WaitForExit(60000) | Should -BeTrue
        Clear-AdeSimFault
        (Get-Content -Raw (Join-Path $TestDrive 'busy.json') | ConvertFrom-Json).Status | Should -Be 'Succeeded'
        @(Get-AdeDevice -Token 'Busy').Count | Should -Be 1500
        Remove-AdeProfile -Token 'Busy' -Profile 'Kiosk' -Confirm:$false
        @(Get-AdeProfile -Token 'Busy').Count | Should -Be 0
    }

    It 'a profile another process removes while its assignment is sent is ProfileRemovedDuringAssignment, naming what Apple holds' {
        $store = Join-Path $TestDrive 'removed.db'
        Connect-AdeStore -Path $store
        New-SimToken -Name 'Removed' -Devices 3 | Out-Null
        Sync-AdeDevice -Token 'Removed' | Out-Null
        $serials = @((Get-AdeDevice -Token 'Removed').SerialNumber)
        New-AdeProfile -Token 'Removed' -Name 'Staff' -UserAffinity WithUserAffinity | Out-Null
        New-AdeProfile -Token 'Removed' -Name 'Kiosk' -UserAffinity WithoutUserAffinity | Out-Null
        # Staff defined at Apple and held by no device: nothing stops another process from removing it
        Set-AdeDeviceProfile -SerialNumber $serials[0] -Profile 'Staff' | Out-Null
        Set-AdeDeviceProfile -SerialNumber $serials[0] -Profile 'Kiosk' | Out-Null
        Set-AdeSimFault -Endpoint '/profile/devices' -Latency ([TimeSpan]::FromSeconds(8)) -Count 1 | Out-Null
        $result = Join-Path $TestDrive 'removed.json'
        $file = Join-Path $TestDrive 'assign.ps1'
        Set-Content $file @"
Import-Module AdeEnrollment
Connect-AdeStore -Path '$store'
try {
    Set-AdeDeviceProfile -SerialNumber '$($serials[1])', '$($serials[2])' -Profile 'Staff' -ErrorAction Stop | Out-Null
    @{ ErrorId = `$null } | ConvertTo-Json | Set-Content '$result'
} catch {
    @{ ErrorId = `$_.FullyQualifiedErrorId; Category = [string]`$_.CategoryInfo.Category; Message = `$_.Exception.Message } | ConvertTo-Json | Set-Content '$result'
}
"@
        $before = @(Get-AdeSimRequest).Count
        $process = Start-Process -FilePath $pwsh -ArgumentList '-NoProfile', '-NonInteractive', '-File', $file -PassThru
        # the child's first request to Apple (its session) is answered at once; its assignment then waits 8 s at Apple
        $deadline = [DateTime]::UtcNow.AddSeconds(30)
        while (@(Get-AdeSimRequest).Count -eq $before -and [DateTime]::UtcNow -lt $deadline -and -not $process.HasExited) { Start-Sleep -Milliseconds 50 }
        Start-Sleep -Milliseconds 1000
        $process.HasExited | Should -BeFalse -Because 'the assignment must still be at Apple'
        Remove-AdeProfile -Token 'Removed' -Profile 'Staff' -Confirm:$false
        $process.WaitForExit(60000) | Should -BeTrue
        Clear-AdeSimFault
        $answer = Get-Content -Raw $result | ConvertFrom-Json
        $answer.ErrorId | Should -Be 'ProfileRemovedDuringAssignment,AdeEnrollment.Commands.SetAdeDeviceProfileCommand'
        $answer.Category | Should -Be 'ObjectNotFound'
        $answer.Message | Should -BeLike "*Apple now assigns it to 2 devices*Set-AdeDeviceProfile*"
        @(Get-AdeProfile -Token 'Removed').Name | Should -Be @('Kiosk')
    }
}

Describe 'A sync killed at ten points (fixed seed)' {
    It 'never loses or duplicates a device, keeps the cursor with its page, and the next sync completes' {
        $store = Join-Path $TestDrive 'kill10.db'
        Connect-AdeStore -Path $store
        New-SimToken -Name 'Kill10' -Devices 1000 | Out-Null
        $sim.PageSizeCap = 5 # 200 pages of 5 devices
        $sim.MaxClockSkew = [TimeSpan]::FromDays(1) # the sync processes run with their clocks moved ahead
        Set-AdeSimFault -Endpoint '/server/devices' -Latency ([TimeSpan]::FromMilliseconds(40)) -Count 100000 | Out-Null
        $apple = [Collections.Generic.HashSet[string]]::new([string[]](Get-AdeSimDevice -Server 'Kill10').SerialNumber)
        # ten kill points: page counts drawn with a fixed seed, each after the one before
        $random = [Random]::new(20261130)
        $points = 1..10 | ForEach-Object { $_ * 18 + $random.Next(0, 12) }
        $k = 0
        $previous = 0
        try {
            foreach ($page in $points) {
                $k++
                $process = Start-SyncProcess $store 'Kill10' (Join-Path $TestDrive "kill-$k.json") -AdvanceMinutes (16 * $k)
                $deadline = [DateTime]::UtcNow.AddSeconds(90)
                while ((Get-DeviceCount $store) -lt 5 * $page -and [DateTime]::UtcNow -lt $deadline -and -not $process.HasExited) { Start-Sleep -Milliseconds 20 }
                $process.HasExited | Should -BeFalse -Because "kill point $k (page $page) must hit a running sync ($(Get-Content -Raw (Join-Path $TestDrive "kill-$k.json") -ErrorAction Ignore))"
                $process.Kill($true)
                $process.WaitForExit()

                $count = Get-DeviceCount $store
                $count % 5 | Should -Be 0 -Because "a page and its cursor are committed together or not at all (kill point $k)"
                $count | Should -BeGreaterOrEqual $previous -Because 'a resumed sync continues from its last committed page'
                $serials = @(Get-StoreValue $store 'SELECT group_concat(serial_number) FROM device' | ForEach-Object { $_ -split ',' } | Where-Object { $_ })
                ($serials | Sort-Object -Unique).Count | Should -Be $serials.Count
                $serials | Where-Object { -not $apple.Contains($_) } | Should -BeNullOrEmpty
                Get-StoreValue $store 'SELECT cursor_kind FROM sync_state' | Should -Be 'fetch' -Because 'an unfinished full fetch keeps a fetch cursor to resume from'
                $previous = $count
            }
        } finally {
            Clear-AdeSimFault
            $sim.PageSizeCap = $null
            $sim.MaxClockSkew = [TimeSpan]::FromMinutes(5)
        }
        $previous | Should -BeLessThan 1000 -Because 'the last kill came before the end'

        # The next sync (in this process, after the last dead process's lease) resumes and completes exactly.
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes (16 * ($k + 1)))
        $r = Sync-AdeDevice -Token 'Kill10' -WarningAction SilentlyContinue
        $r.Status | Should -Be 'Succeeded'
        $r.Added | Should -Be (1000 - $previous) -Because 'the resumed fetch starts after the last committed page: nothing twice, nothing skipped'
        $final = @((Get-AdeDevice -Token 'Kill10').SerialNumber)
        $final.Count | Should -Be 1000
        ($final | Sort-Object -Unique).Count | Should -Be 1000
        @($final | Where-Object { -not $apple.Contains($_) }).Count | Should -Be 0
        @((Get-AdeSyncStatus -Token 'Kill10').History | Where-Object ErrorId -eq 'SyncLeaseLost').Count | Should -BeGreaterOrEqual 10
        Set-AdeSimClock -Reset
    }
}

Describe 'An assignment of 20 batches killed at ten points (fixed seed)' {
    It 'keeps every device once, records only batches Apple took, and the next run completes' {
        $store = Join-Path $TestDrive 'assign10.db'
        Connect-AdeStore -Path $store
        New-SimToken -Name 'Assign10' -Devices 20000 | Out-Null
        Sync-AdeDevice -Token 'Assign10' | Out-Null
        New-AdeProfile -Token 'Assign10' -Name 'Kiosk' -UserAffinity WithoutUserAffinity | Out-Null
        Set-AdeSimFault -Endpoint '/profile/devices' -Latency ([TimeSpan]::FromMilliseconds(150)) -Count 100000 | Out-Null
        $random = [Random]::new(5150)
        # ten kill points: after batch 1-2, 3-4, ... 17-18, 19 (the exact batch drawn with a fixed seed)
        $points = 1..10 | ForEach-Object { [Math]::Min(19, 2 * $_ - 2 + $random.Next(1, 3)) }
        $k = 0
        $previous = 0
        try {
            foreach ($batches in $points) {
                $k++
                $script = @"
`$ErrorActionPreference = 'Stop'
Import-Module AdeEnrollment
Connect-AdeStore -Path '$store'
Get-AdeDevice -Token 'Assign10' | Set-AdeDeviceProfile -Profile 'Kiosk' | Out-Null
"@
                $file = Join-Path $TestDrive "assign-$k.ps1"
                Set-Content $file $script
                $process = Start-Process -FilePath $pwsh -ArgumentList '-NoProfile', '-NonInteractive', '-File', $file -PassThru
                $assigned = { [int](Get-StoreValue $store "SELECT count(*) FROM device WHERE profile_id IS NOT NULL") }
                $deadline = [DateTime]::UtcNow.AddSeconds(120)
                while ((& $assigned) -lt [Math]::Max($previous + 1, 1000 * $batches) -and [DateTime]::UtcNow -lt $deadline -and -not $process.HasExited) { Start-Sleep -Milliseconds 20 }
                $process.HasExited | Should -BeFalse -Because "kill point $k (batch $batches) must hit a running assignment"
                $process.Kill($true)
                $process.WaitForExit()

                Get-DeviceCount $store | Should -Be 20000 -Because 'an assignment never adds or drops a device'
                $now = & $assigned
                $now % 1000 | Should -Be 0 -Because "a batch is recorded whole or not at all (kill point $k)"
                # what the store records, Apple holds (Apple may be ahead by the batch in flight, never behind)
                $atApple = [Collections.Generic.HashSet[string]]::new([string[]](Get-AdeSimDevice -Server 'Assign10' | Where-Object ProfileUuid | ForEach-Object SerialNumber))
                $recorded = @(Get-StoreValue $store "SELECT group_concat(serial_number) FROM device WHERE profile_id IS NOT NULL" | ForEach-Object { $_ -split ',' } | Where-Object { $_ })
                @($recorded | Where-Object { -not $atApple.Contains($_) }).Count | Should -Be 0
                $previous = $now
            }
        } finally {
            Clear-AdeSimFault
        }

        $results = @(Get-AdeDevice -Token 'Assign10' | Set-AdeDeviceProfile -Profile 'Kiosk')
        $results.Count | Should -Be 20000
        @($results | Where-Object Status -ne 'Success').Count | Should -Be 0
        @(Get-AdeDevice -Token 'Assign10' -Profile 'Kiosk').Count | Should -Be 20000
        @(Get-AdeSimDevice -Server 'Assign10' | Where-Object ProfileUuid -ne $null).Count | Should -Be 20000
    }
}

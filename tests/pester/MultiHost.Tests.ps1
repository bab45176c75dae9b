# Several automation hosts on one shared store: each host is its own pwsh process that imports the built module
# and opens the same store (a SQLite file on this machine, or a PostgreSQL schema through $env:ADE_ENROLLMENT_STORE),
# all talking to ONE simulator that this process runs (a token keeps the simulator's URL, so every host reaches it).
# The rules that must hold across hosts: one sync per token at a time (the lease), the limits under concurrent
# writers, and a host killed mid-sync losing nothing. The host processes are started once and reused.
BeforeAll {
    . $PSScriptRoot/Common.ps1
    Import-Module AdeEnrollment.Simulator
    Set-AdeSimClock -Reset
    $script:sim = Start-AdeSimulator -Seed 1717
    $script:pwsh = Join-Path $PSHOME ($IsWindows ? 'pwsh.exe' : 'pwsh')
    $script:jobDir = Join-Path $TestDrive 'jobs'
    New-Item -ItemType Directory $jobDir | Out-Null
    $script:cp = 'AdeEnrollment.Commands.'

    # A host: a pwsh that runs job files named on its standard input, one at a time, and writes each job's outcome
    # (its value, or the error's FullyQualifiedErrorId and message) beside the job file as JSON.
    $script:hostScript = Join-Path $TestDrive 'host.ps1'
    Set-Content $hostScript @'
$ErrorActionPreference = 'Stop'
$ProgressPreference = 'SilentlyContinue'
Import-Module AdeEnrollment
Import-Module AdeEnrollment.Simulator
while ($null -ne ($job = [Console]::In.ReadLine())) {
    try {
        $value = & $job 3>$null 6>$null
        $outcome = @{ Ok = $true; Value = $value; ErrorId = $null; Message = $null }
    } catch {
        $outcome = @{ Ok = $false; Value = $null; ErrorId = $_.FullyQualifiedErrorId; Message = $_.Exception.Message }
    }
    $outcome | ConvertTo-Json -Depth 5 -Compress | Set-Content -LiteralPath "$job.tmp"
    Move-Item -LiteralPath "$job.tmp" "$job.json"
}
'@

    function Start-TestHost([int] $Index) {
        $info = [System.Diagnostics.ProcessStartInfo]::new($pwsh)
        foreach ($a in '-NoProfile', '-NonInteractive', '-File', $hostScript) { $info.ArgumentList.Add($a) }
        $info.UseShellExecute = $false
        $info.RedirectStandardInput = $true
        [pscustomobject]@{ Index = $Index; Process = [System.Diagnostics.Process]::Start($info) }
    }

    function Get-StorePreamble($Store) {
        # How a host opens the store: a SQLite file by path; PostgreSQL the way a scheduled script on another machine
        # would, through $env:ADE_ENROLLMENT_STORE with the password in PGPASSWORD and the passphrase in the environment.
        if ($Store.Provider -eq 'SQLite') {
            "`$env:ADE_ENROLLMENT_STORE_KEY = `$null; Connect-AdeStore -Path '$($Store.Path)'"
        } else {
            @"
foreach (`$pair in `$env:ADE_TEST_POSTGRES -split ';') { `$k, `$v = `$pair -split '=', 2; if (`$k -eq 'Password') { `$env:PGPASSWORD = `$v } }
`$env:ADE_ENROLLMENT_STORE_KEY = '$($script:TestStorePassphrase)'
`$env:ADE_ENROLLMENT_STORE = '$($Store.Uri)'
Disconnect-AdeStore
if ((Get-AdeStore).Provider -ne 'PostgreSQL') { throw 'the host did not open the PostgreSQL store' }
"@
        }
    }

    function Wait-ForFiles([string[]] $Paths, $Hosts, [int] $TimeoutSeconds, [string] $What) {
        $deadline = [DateTime]::UtcNow.AddSeconds($TimeoutSeconds)
        while (@($Paths | Where-Object { -not (Test-Path -LiteralPath $_) }).Count -gt 0) {
            $dead = @($Hosts | Where-Object { $_.Process.HasExited })
            if ($dead) { throw "host $($dead[0].Index) exited while waiting for $What" }
            if ([DateTime]::UtcNow -gt $deadline) { throw "timed out after $TimeoutSeconds s waiting for $What" }
            Start-Sleep -Milliseconds 50
        }
    }

    function Invoke-OnHosts {
        <#
        .SYNOPSIS
            Runs $Body on each host against $Store, all at once: every host first opens the store and takes this
            process's clock offset (so simulated time agrees everywhere), then waits at a start line that opens for all
            together. $Body sees $HostIndex. Returns one outcome per host (Ok, Value, ErrorId, Message), or with -NoWait
            the pending jobs (Receive-HostJob collects them).
        #>
        param([Parameter(Mandatory)] [object[]] $Hosts, [Parameter(Mandatory)] $Store, [Parameter(Mandatory)] [string] $Body, [int] $TimeoutSeconds = 300, [switch] $NoWait)
        $go = Join-Path $jobDir ("go-" + [guid]::NewGuid().ToString('N'))
        $offset = (Get-AdeModuleType 'AdeEnrollment.Simulator.SimulatorClock')::Instance.Offset.Ticks
        $jobs = foreach ($h in $Hosts) {
            $file = Join-Path $jobDir ("job-" + [guid]::NewGuid().ToString('N') + '.ps1')
            Set-Content $file @"
`$HostIndex = $($h.Index)
$(Get-StorePreamble $Store)
Set-AdeSimClock -Reset
Set-AdeSimClock -Advance ([TimeSpan]::FromTicks($offset))
Set-Content -LiteralPath '$file.ready' 'ready'
`$until = [DateTime]::UtcNow.AddMinutes(10)
while (-not (Test-Path -LiteralPath '$go')) {
    # A test process that gave up (or died) never opens the start line: leave instead of waiting for ever.
    if ([DateTime]::UtcNow -gt `$until -or -not (Test-Path -LiteralPath '$jobDir')) { [Environment]::Exit(3) }
    Start-Sleep -Milliseconds 25
}
if (Test-Path -LiteralPath '$go.cancel') { throw 'cancelled: not every host reached the start line' }
$Body
"@
            $h.Process.StandardInput.WriteLine($file)
            $h.Process.StandardInput.Flush()
            [pscustomobject]@{ Host = $h; File = $file }
        }
        try {
            Wait-ForFiles ($jobs | ForEach-Object { "$($_.File).ready" }) $Hosts 300 'the hosts to open the store'
        } catch {
            # Release the hosts that are waiting, so that they take the next test's jobs.
            Set-Content "$go.cancel" 'cancel'
            Set-Content $go 'go'
            throw
        }
        Set-Content $go 'go'
        if ($NoWait) { return $jobs }
        Receive-HostJob $jobs $TimeoutSeconds
    }

    function Receive-HostJob([object[]] $Jobs, [int] $TimeoutSeconds = 300) {
        Wait-ForFiles ($Jobs | ForEach-Object { "$($_.File).json" }) ($Jobs | ForEach-Object Host) $TimeoutSeconds 'the hosts to finish'
        foreach ($j in $Jobs) { Get-Content -Raw "$($j.File).json" | ConvertFrom-Json }
    }

    # Eight hosts, started now so that they load while the first test prepares its store.
    $script:hosts = @(1..8 | ForEach-Object { Start-TestHost $_ })
}

AfterAll {
    foreach ($h in $hosts) {
        if (-not $h.Process.HasExited) {
            $h.Process.StandardInput.Close()
            if (-not $h.Process.WaitForExit(10000)) { Stop-Process -Id $h.Process.Id -Force }
        }
    }
    Clear-AdeSimFault
    Set-AdeSimClock -Reset
    Stop-AdeSimulator
}

Describe 'Hosts sharing one <Provider> store' -ForEach @(@{ Provider = 'SQLite' }, @{ Provider = 'PostgreSQL' }) {
    BeforeEach {
        Set-AdeSimClock -Reset
        Clear-AdeSimFault
        $script:store = New-TestStore -Provider $Provider -Connect
    }

    AfterEach {
        Clear-AdeSimFault
        Set-AdeSimClock -Reset
        Remove-TestStore $store
    }

    It '8 hosts creating the 2,000th token at once: exactly one gets it, the others TokenLimitReached, the count is 2,000' {
        $ids = @()
        $requests = foreach ($i in 1..8) {
            $name = "TokRace $Provider $i $([guid]::NewGuid().ToString('N').Substring(0, 6))"
            $pem = Join-Path $TestDrive "$name.pem"
            $p7m = Join-Path $TestDrive "$name.p7m"
            $request = New-AdeTokenRequest -AcceptDataSharing -OutFile $pem
            New-AdeSimServer -Name $name -PublicKeyPath $pem -OutFile $p7m | Out-Null
            "@{ Id = '$($request.Id)'; Path = '$p7m'; Name = '$name' }"
            $ids += $request.Id
        }
        Add-TestStoreTokens $store 1999
        (Get-AdeStore).TokenCount | Should -Be 1999

        $outcomes = Invoke-OnHosts $hosts $store @"
`$r = @($($requests -join ', '))[`$HostIndex - 1]
`$t = New-AdeToken -Request `$r.Id -Path `$r.Path -AppleId 'ade.admin@contoso.example' -Name `$r.Name -ServiceUri '$($sim.Uri)' -ErrorAction Stop
@{ Id = [string]`$t.Id; Name = `$t.Name }
"@
        @($outcomes | Where-Object Ok).Count | Should -Be 1 -Because ($outcomes | ConvertTo-Json -Compress)
        @($outcomes | Where-Object ErrorId -eq "TokenLimitReached,$($cp)NewAdeTokenCommand").Count | Should -Be 7
        (Get-AdeStore).TokenCount | Should -Be 2000
        Invoke-TestStoreSql $store 'SELECT count(*) FROM token' | Should -Be 2000
        $winner = ($outcomes | Where-Object Ok).Value
        (Get-AdeToken -Id $winner.Id).Name | Should -Be $winner.Name
        $used = @($ids | Where-Object { (Get-AdeTokenRequest -Id $_).Status -eq 'Used' })
        $used.Count | Should -Be 1 -Because 'only the winner''s request is used; the others stay Pending'
    }

    It '8 hosts creating the 1,000th profile of a token at once: exactly one gets it, the others ProfileLimitReached, the count is 1,000' {
        $name = "ProfRace $Provider"
        $t = New-SimToken -Name $name
        Add-TestStoreProfiles $store $t.Token.Id 999

        $outcomes = Invoke-OnHosts $hosts $store @"
`$p = New-AdeProfile -Token '$name' -Name "Race `$HostIndex" -UserAffinity WithUserAffinity -ErrorAction Stop
@{ Id = [string]`$p.Id; Name = `$p.Name }
"@
        @($outcomes | Where-Object Ok).Count | Should -Be 1 -Because ($outcomes | ConvertTo-Json -Compress)
        @($outcomes | Where-Object ErrorId -eq "ProfileLimitReached,$($cp)NewAdeProfileCommand").Count | Should -Be 7
        Invoke-TestStoreSql $store "SELECT count(*) FROM profile WHERE token_id = '$($t.Token.Id)'" | Should -Be 1000
        @(Get-AdeProfile -Token $name).Count | Should -Be 1000
        @(Get-AdeProfile -Token $name -Name 'Race *').Name | Should -Be ($outcomes | Where-Object Ok).Value.Name
    }

    It '8 hosts syncing one token at once: exactly one sync runs, the others SyncInProgress; Apple saw one full fetch' {
        $name = "SyncRace $Provider"
        New-SimToken -Name $name -Devices 3000 | Out-Null
        # Slow pages, so that the winner still holds the lease when the slowest host starts.
        Set-AdeSimFault -Endpoint '/server/devices' -Latency ([TimeSpan]::FromMilliseconds(1000)) -Count 1000 | Out-Null

        $outcomes = Invoke-OnHosts $hosts $store @"
`$r = Sync-AdeDevice -Token '$name' -ErrorAction Stop
@{ Status = [string]`$r.Status; Kind = [string]`$r.Kind; Added = `$r.Added; Pages = `$r.Pages }
"@
        @($outcomes | Where-Object Ok).Count | Should -Be 1 -Because ($outcomes | ConvertTo-Json -Compress)
        @($outcomes | Where-Object ErrorId -eq "SyncInProgress,$($cp)SyncAdeDeviceCommand").Count | Should -Be 7
        $winner = ($outcomes | Where-Object Ok).Value
        $winner.Status | Should -Be 'Succeeded'
        $winner.Kind | Should -Be 'Full'
        $winner.Added | Should -Be 3000
        @(Get-AdeSimRequest -Path '/server/devices' | Where-Object Server -eq $name).Count | Should -Be 3 -Because 'one full fetch of 3,000 devices in pages of 1,000, by one host'
        $history = @((Get-AdeSyncStatus -Token $name).History)
        $history.Count | Should -Be 1
        $history[0].Status | Should -Be 'Succeeded'
        Invoke-TestStoreSql $store 'SELECT count(*) FROM device' | Should -Be 3000
    }

    It '8 hosts syncing 8 tokens at once while a script follows the journal with -AfterId: it is shown every event exactly once' {
        # Syncs of different tokens write side by side (on PostgreSQL truly at once): a follower that remembers the last
        # id it saw must never be handed a lower id later, or it would skip those events for good.
        $names = 1..8 | ForEach-Object { "Journal $Provider $_" }
        foreach ($n in $names) { New-SimToken -Name $n -Devices 2500 | Out-Null }
        $jobs = Invoke-OnHosts $hosts $store -NoWait @"
`$r = Sync-AdeDevice -Token "Journal $Provider `$HostIndex" -ErrorAction Stop
@{ Status = [string]`$r.Status; Added = `$r.Added }
"@
        $seen = [Collections.Generic.List[long]]::new()
        $after = 0L
        do {
            # whether every host was done is asked before the read, so the last read follows the last commit
            $done = @($jobs | Where-Object { -not (Test-Path -LiteralPath "$($_.File).json") }).Count -eq 0
            foreach ($e in @(Get-AdeDeviceEvent -AfterId $after)) { $seen.Add($e.Id); $after = $e.Id }
            if (-not $done) { Start-Sleep -Milliseconds 20 }
        } until ($done)
        $outcomes = Receive-HostJob $jobs
        @($outcomes | Where-Object { $_.Ok -and $_.Value.Added -eq 2500 }).Count | Should -Be 8 -Because ($outcomes | ConvertTo-Json -Compress)
        $all = @(Get-AdeDeviceEvent).Id
        $all.Count | Should -Be 20000
        @($seen | Sort-Object -Unique).Count | Should -Be $seen.Count -Because 'no event is shown twice'
        $seen.Count | Should -Be $all.Count -Because 'a follower past an id is shown every event committed after it'
    }

    It '8 hosts assigning 4 profiles to overlapping devices of one token at once: every device holds a race profile, the journal matches, and after the next sync store and Apple agree on every device' {
        # Each device is in the sets of about four hosts with different profiles, so requests for one device from
        # several hosts are in flight at once, and every profile is defined at Apple by two hosts at once (definition
        # is lazy, on first assignment). No host may fail: at this size nothing waits long for the store (StoreBusy
        # would be a failure here, not an accepted outcome), and Apple (the simulator) is not throttling.
        $name = "AssignRace $Provider"
        New-SimToken -Name $name -Devices 300 | Out-Null
        Sync-AdeDevice -Token $name | Out-Null
        foreach ($p in 1..4) { New-AdeProfile -Token $name -Name "Race P$p" -UserAffinity WithUserAffinity | Out-Null }
        $serials = @((Get-AdeDevice -Token $name).SerialNumber | Sort-Object)
        $serials.Count | Should -Be 300
        $list = "@('" + ($serials -join "','") + "')"

        $outcomes = Invoke-OnHosts $hosts $store @"
`$all = $list
`$mine = foreach (`$k in 0..149) { `$all[((`$HostIndex - 1) * 37 + `$k) % `$all.Count] }
`$r = @(Set-AdeDeviceProfile -Token '$name' -Profile "Race P`$((`$HostIndex - 1) % 4 + 1)" -SerialNumber `$mine -ErrorAction Stop)
@{ Success = @(`$r | Where-Object { [string]`$_.Status -eq 'Success' }).Count; Other = @(`$r | Where-Object { [string]`$_.Status -ne 'Success' } | ForEach-Object { "`$(`$_.SerialNumber) `$(`$_.Status)" }) }
"@
        @($outcomes | Where-Object { -not $_.Ok }).Count | Should -Be 0 -Because ($outcomes | Where-Object { -not $_.Ok } | ConvertTo-Json -Compress)
        @($outcomes.Value.Other | Where-Object { $_ }).Count | Should -Be 0 -Because 'Apple accepted every assignment'
        $accepted = ($outcomes.Value.Success | Measure-Object -Sum).Sum
        $accepted | Should -Be (8 * 150)

        # Right after the race every device holds one of the four profiles, at Apple and in the store, and every
        # definition Apple holds is one the store names. Which one can differ for a device that two hosts assigned at
        # the same moment: Apple keeps the request it received last, the store the answer recorded last, and nothing
        # orders the two across hosts (docs/architecture.md, "Assignment across hosts"). The next sync reads Apple's.
        $profiles = @{}
        foreach ($p in Get-AdeProfile -Token $name) { $profiles[$p.Id] = $p }
        $byUuid = @{}
        foreach ($p in $profiles.Values) { if ($p.AppleProfileUuid) { $byUuid[$p.AppleProfileUuid] = $p.Name } }
        $apple = @{}
        foreach ($d in Get-AdeSimDevice -Server $name) { $apple[$d.SerialNumber] = [string]$d.ProfileUuid }
        @($apple.Values | Where-Object { -not $byUuid.ContainsKey($_) }).Count | Should -Be 0 -Because 'every device holds a definition the store knows'
        @(Get-AdeDevice -Token $name | Where-Object { -not $_.ProfileId -or -not $profiles[$_.ProfileId].AppleProfileUuid }).Count | Should -Be 0 -Because 'every device holds a race profile in the store'
        @(Get-AdeDeviceEvent -Token $name -Kind ProfileAssigned).Count | Should -Be $accepted -Because 'one journal row per accepted assignment'

        # After the next sync, store and Apple agree on every device, and the counts per profile are Apple's.
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 16) # past the 15 minutes between manual syncs
        Sync-AdeDevice -Token $name | Out-Null
        $disagree = foreach ($d in Get-AdeDevice -Token $name) {
            $held = if ($d.ProfileId) { $profiles[$d.ProfileId].AppleProfileUuid }
            if (-not $held -or $held -ne $apple[$d.SerialNumber]) { "$($d.SerialNumber): store $($d.EnrollmentProfileName) ($held), Apple $($byUuid[$apple[$d.SerialNumber]]) ($($apple[$d.SerialNumber]))" }
        }
        @($disagree).Count | Should -Be 0 -Because (@($disagree | Select-Object -First 5) -join '; ')
        foreach ($p in $profiles.Values) {
            $atApple = @($apple.Values | Where-Object { $_ -eq $p.AppleProfileUuid }).Count
            @(Get-AdeDevice -Token $name -Profile $p.Name).Count | Should -Be $atApple -Because "devices holding $($p.Name)"
        }
    }

    It 'a host killed mid-sync loses nothing: the lease holds until it lapses, then another host''s sync completes and the killed one counts as failed' {
        $name = "Killed $Provider"
        New-SimToken -Name $name -Devices 5000 | Out-Null
        Set-AdeSimFault -Endpoint '/server/devices' -Latency ([TimeSpan]::FromMilliseconds(600)) -Count 1000 | Out-Null
        $victim = $hosts[0]
        $sync = "`$r = Sync-AdeDevice -Token '$name' -ErrorAction Stop; @{ Status = [string]`$r.Status; Kind = [string]`$r.Kind; Trigger = [string]`$r.Trigger; Added = `$r.Added }"
        $job = Invoke-OnHosts @($victim) $store $sync -NoWait
        $deadline = [DateTime]::UtcNow.AddSeconds(180)
        while ([int](Invoke-TestStoreSql $store 'SELECT count(*) FROM device') -lt 2000 -and [DateTime]::UtcNow -lt $deadline -and
            -not (Test-Path -LiteralPath "$($job.File).json")) { Start-Sleep -Milliseconds 50 }
        $early = if (Test-Path -LiteralPath "$($job.File).json") { Get-Content -Raw "$($job.File).json" }
        $early | Should -BeNullOrEmpty -Because 'the sync must still be running when its host is killed'
        Stop-Process -Id $victim.Process.Id -Force
        $victim.Process.WaitForExit()
        $script:hosts[0] = Start-TestHost 1
        Clear-AdeSimFault

        $committed = [int](Invoke-TestStoreSql $store 'SELECT count(*) FROM device')
        $committed | Should -BeGreaterOrEqual 2000
        $committed | Should -BeLessThan 5000
        $committed % 1000 | Should -Be 0 -Because 'a page and its cursor are committed together or not at all'

        # The dead host's lease still holds on every host ...
        $refused = Invoke-OnHosts @($hosts[1]) $store $sync
        $refused.ErrorId | Should -Be "SyncInProgress,$($cp)SyncAdeDeviceCommand"
        # ... until it lapses: then another host's sync takes over, resumes and completes Apple's set.
        Set-AdeSimClock -Advance (New-TimeSpan -Minutes 16)
        $done = Invoke-OnHosts @($hosts[2]) $store $sync
        $done.Ok | Should -BeTrue -Because $done.Message
        $done.Value.Status | Should -Be 'Succeeded'
        $done.Value.Kind | Should -Be 'Full'
        $done.Value.Trigger | Should -Be 'Recovery'
        $done.Value.Added | Should -Be (5000 - $committed)
        $agg = if ($Provider -eq 'SQLite') { 'group_concat(serial_number)' } else { "string_agg(serial_number, ',')" }
        $serials = @((Invoke-TestStoreSql $store "SELECT $agg FROM device") -split ',')
        $serials.Count | Should -Be 5000
        @($serials | Sort-Object -Unique).Count | Should -Be 5000
        $apple = [Collections.Generic.HashSet[string]]::new([string[]](Get-AdeSimDevice -Server $name).SerialNumber)
        @($serials | Where-Object { -not $apple.Contains($_) }).Count | Should -Be 0
        $history = @((Get-AdeSyncStatus -Token $name).History)
        $history.Count | Should -Be 2
        @($history | Where-Object { $_.Status -eq 'Failed' -and $_.ErrorId -eq 'SyncLeaseLost' }).Count | Should -Be 1 -Because 'the killed sync counts as failed once its lease lapsed'
        @($history | Where-Object Status -eq 'Succeeded').Count | Should -Be 1
    }
}

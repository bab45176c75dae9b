# One benchmark scenario, run by bench/Invoke-Benchmark.ps1 in a fresh pwsh so that the peak working set read at the
# end is this scenario's own. The simulator runs in a second process (bench/SimHost.ps1). Writes one JSON object to
# -ResultPath. Never used by the tests.
[CmdletBinding()]
param(
    [Parameter(Mandatory)]
    [ValidateSet('FullSync', 'RawBaseline', 'RawDefaultBaseline', 'DeltaSync', 'LookupSerial', 'PipeSerials', 'PipeAll', 'Assign', 'DefaultProfileSync', 'MixedDefaultProfileSync', 'ManyTokens', 'OrgInventory', 'OrgAssign', 'MultiHostSync')]
    [string] $Scenario,

    [Parameter(Mandatory)] [string] $Folder,
    # The SQLite store file; with -Provider PostgreSQL only the database's name (for messages): its connection string,
    # password included, comes in $env:ADE_BENCH_POSTGRES_STORE so that it is not on a command line.
    [Parameter(Mandatory)] [string] $StorePath,
    [ValidateSet('SQLite', 'PostgreSQL')] [string] $Provider = 'SQLite',
    [Parameter(Mandatory)] [string] $ResultPath,
    [int] $Devices = 200000,
    [int] $Changes = 1000,
    # FullSync, DefaultProfileSync, RawBaseline and RawDefaultBaseline first run the same work untimed on a token of this many devices, so that the timed
    # run is free of one-off costs (JIT, first connection, first session) and per-device costs compare across sizes.
    [int] $WarmUpDevices = 1000,
    [int] $Seed = 4242,
    # ManyTokens: how many tokens share the -Devices devices (Intune's limit is 2,000 tokens per tenant).
    [int] $Tokens = 2000,
    # MultiHostSync: how many pwsh processes sync at once, each its own token of -Devices devices.
    [int] $Hosts = 10
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'
. (Join-Path $PSScriptRoot 'BenchCommon.ps1')
Import-Module AdeEnrollment

$result = [ordered]@{ scenario = $Scenario; devices = $Devices; provider = $Provider }
# The store: a file path, or the PostgreSQL database's connection string.
$store = if ($Provider -eq 'PostgreSQL') { $env:ADE_BENCH_POSTGRES_STORE } else { $StorePath }
if (-not $store) { throw 'No PostgreSQL store: bench/Invoke-Benchmark.ps1 sets $env:ADE_BENCH_POSTGRES_STORE.' }
$simHost = $null
New-Item -ItemType Directory -Force $Folder | Out-Null

function Connect-FreshStore { Connect-BenchStore -Provider $Provider -Store $store -Fresh }

function Invoke-SyncWarmUp([switch] $DefaultProfile) {
    # The same sync, untimed, on a token of -WarmUpDevices devices in a store of its own: the timed run is then free of
    # one-off costs (JIT and its tiering, first connection, first session), so that scenarios compare per device.
    if ($WarmUpDevices -le 0) { return }
    $script:simHost = Start-SimHost -Seed $Seed
    if ($Provider -eq 'PostgreSQL') {
        # a schema of its own in the scenario's database (the store itself is the default schema)
        Invoke-BenchPostgres -ConnectionString $store -Sql 'CREATE SCHEMA IF NOT EXISTS ade_warm_up' | Out-Null
        Connect-BenchStore -Provider $Provider -Store (Get-BenchPostgresConnectionString -ConnectionString $store -SearchPath 'ade_warm_up')
    } else {
        Connect-BenchStore -Provider $Provider -Store "$StorePath.warm-up.db" -Fresh
    }
    $warm = (New-BenchToken -SimHost $simHost -Name 'Warm-up' -Devices $WarmUpDevices -Folder $Folder).Token
    if ($DefaultProfile) {
        $prof = New-AdeProfile -Token $warm.Name -Name 'Warm-up default' -UserAffinity WithUserAffinity
        Set-AdeDefaultProfile -Token $warm.Name -Profile $prof.Name -Confirm:$false | Out-Null
    }
    Sync-AdeDevice -Token $warm.Name | Out-Null
    $result.warmUpDevices = $WarmUpDevices
}

function Start-Simulated([int] $Count, [string] $Name = 'Bench', [string] $DeviceFamily) {
    if (-not $script:simHost) { $script:simHost = Start-SimHost -Seed $Seed }
    $t = New-BenchToken -SimHost $script:simHost -Name $Name -Devices $Count -Folder $Folder -DeviceFamily $DeviceFamily
    $result.simulatorAddSeconds = $t.SimulatorAddSeconds
    $t.Token
}

function Initialize-RawClient {
    # The engine's Apple client for a fresh simulated token of -Devices devices (and one for a warm-up token of
    # -WarmUpDevices), made exactly as SyncService makes it (AppleClientFactory.ForToken over the token's credentials).
    # The client is internal: it is reached through the engine by reflection. RawBaseline stores nothing, so it runs
    # once, on SQLite, where its token is kept.
    if ($Provider -ne 'SQLite') { throw "$Scenario stores nothing: it runs once, on SQLite (where its token is kept)." }
    Connect-FreshStore
    $token = Start-Simulated $Devices
    $flags = [Reflection.BindingFlags]'Public,NonPublic,Instance'
    $engineStore = Open-BenchEngineStore -Provider $Provider -Store $store
    $engine = (Get-AdeModuleType AdeEnrollment.Engine.AdeEngine)::new($engineStore, (Get-AdeModuleType AdeEnrollment.Engine.Hosting.NullHost)::Instance, $null)
    $factory = (Get-AdeModuleType AdeEnrollment.Engine.AdeEngine).GetProperty('Apple', $flags).GetValue($engine)
    $forToken = $factory.GetType().GetMethod('ForToken', $flags)
    $credentialsOf = $engine.Tokens.GetType().GetMethod('Credentials', $flags) # what SyncService hands the factory
    $clientOf = { param($t) $forToken.Invoke($factory, [object[]]@($credentialsOf.Invoke($engine.Tokens, [object[]]@($t.psobject.BaseObject)))) }
    $warmUp = $null
    if ($WarmUpDevices -gt 0) {
        $warmUp = & $clientOf (New-BenchToken -SimHost $simHost -Name 'Warm-up' -Devices $WarmUpDevices -Folder $Folder).Token
        $result.warmUpDevices = $WarmUpDevices
    }
    [pscustomobject]@{ Client = (& $clientOf $token); WarmUp = $warmUp; ClientType = $forToken.ReturnType; Flags = $flags }
}

function Add-JitFigures($Step) {
    # What of the timed step was compiling (tiering's recompiles included) and collecting garbage.
    $result.jitSeconds = $Step.JitSeconds
    $result.jitMethods = $Step.JitMethods
    $result.gcPauseSeconds = $Step.GcPauseSeconds
    if ($null -ne $Step.SimulatorCpuSeconds) { $result.simulatorStepCpuSeconds = $Step.SimulatorCpuSeconds }
}

function Add-SyncFigures([string] $Prefix, $Step) {
    # Warnings (3>&1) are recorded, not printed; the output keeps only the sync result.
    $warnings = @($Step.Output | Where-Object { $_ -is [Management.Automation.WarningRecord] } | ForEach-Object Message)
    if ($warnings.Count -gt 0) { $result["${Prefix}Warnings"] = $warnings }
    $r = $Step.Output | Where-Object { $_ -is (Get-AdeModuleType AdeEnrollment.Engine.Model.AdeSyncResult) } | Select-Object -First 1
    $Step.Output = $r
    $result["${Prefix}Seconds"] = $Step.Seconds
    $result["${Prefix}CpuSeconds"] = $Step.CpuSeconds
    $result["${Prefix}Status"] = "$($r.Status)"
    $result["${Prefix}Kind"] = "$($r.Kind)"
    $result["${Prefix}Added"] = $r.Added
    $result["${Prefix}Modified"] = $r.Modified
    $result["${Prefix}Removed"] = $r.Removed
    $result["${Prefix}Pages"] = $r.Pages
    $result["${Prefix}DefaultProfileAssigned"] = $r.DefaultProfileAssigned
}

try {
    switch ($Scenario) {
        'FullSync' {
            # Full sync of N devices into a fresh store (the store is kept for LookupSerial and PipeAll).
            # in a store of its own: the synced store holds exactly the N devices (LookupSerial, PipeAll use it)
            Invoke-SyncWarmUp
            Connect-FreshStore
            $token = Start-Simulated $Devices
            $step = Measure-Step -SimulatorHost $simHost { Sync-AdeDevice -Token $token.Name 3>&1 }
            Add-SyncFigures 'sync' $step
            if ($step.Output.Added -ne $Devices) { throw "The full sync added $($step.Output.Added) devices, not $Devices." }
            $result.seconds = $step.Seconds
            $result.cpuSeconds = $step.CpuSeconds
            Add-JitFigures $step
        }

        'RawBaseline' {
            # The engine's Apple client alone: every page fetched and parsed, nothing stored.
            $raw = Initialize-RawClient
            $fetch = $raw.ClientType.GetMethod('FetchDevicesAsync', $raw.Flags)
            $pageType = $fetch.ReturnType.GetGenericArguments()[0]
            $devicesProperty = $pageType.GetProperty('Devices'); $cursorProperty = $pageType.GetProperty('Cursor'); $moreProperty = $pageType.GetProperty('MoreToFollow')
            $fetchAll = {
                param($Client)
                $cursor = $null; $count = 0; $pages = 0
                do {
                    $page = $fetch.Invoke($Client, [object[]]@($cursor, [Nullable[int]]1000, [Threading.CancellationToken]::None)).GetAwaiter().GetResult()
                    $count += $devicesProperty.GetValue($page).Count
                    $cursor = $cursorProperty.GetValue($page)
                    $pages++
                } while ($moreProperty.GetValue($page))
                [pscustomobject]@{ Devices = $count; Pages = $pages }
            }
            if ($raw.WarmUp) { & $fetchAll $raw.WarmUp | Out-Null }
            $step = Measure-Step -SimulatorHost $simHost { & $fetchAll $raw.Client }
            if ($step.Output.Devices -ne $Devices) { throw "The client fetched $($step.Output.Devices) devices, not $Devices." }
            $result.seconds = $step.Seconds
            $result.cpuSeconds = $step.CpuSeconds
            Add-JitFigures $step
            $result.pages = $step.Output.Pages
        }

        'RawDefaultBaseline' {
            # The Apple side of a default-profile sync by the engine's Apple client alone, nothing stored: every page
            # fetched, each page's devices asked to take a profile (one request in flight while the next page is
            # fetched, as the sync does), then Apple's changes since the fetch read to the end (its echo of every
            # assignment). A floor for DefaultProfileSync, as RawBaseline is for FullSync. The loop is C#
            # (bench/RawDefaultBaseline.cs), so no script runs per device.
            Add-Type -Path (Join-Path $PSScriptRoot 'RawDefaultBaseline.cs')
            $raw = Initialize-RawClient
            if ($raw.WarmUp) { [AdeBenchRawDefault]::Run($raw.WarmUp, [AdeBenchRawDefault]::Define($raw.WarmUp, 'Warm-up default')) | Out-Null }
            $profileUuid = [AdeBenchRawDefault]::Define($raw.Client, 'Bench default')
            $step = Measure-Step -SimulatorHost $simHost { , [AdeBenchRawDefault]::Run($raw.Client, $profileUuid) }
            $fetched, $assigned, $echoed, $pages, $deltaPages = $step.Output
            if ($fetched -ne $Devices -or $assigned -ne $Devices -or $echoed -ne $Devices) {
                throw "The client fetched $fetched devices, saw $assigned assigned and $echoed echoed, not $Devices each."
            }
            $result.seconds = $step.Seconds
            $result.cpuSeconds = $step.CpuSeconds
            Add-JitFigures $step
            $result.pages = $pages
            $result.deltaPages = $deltaPages
        }

        'DeltaSync' {
            # A store synced with N devices; then ABM assigns Changes/2 new devices and unassigns Changes/2; 15 minutes
            # later (both clocks: the engine's here, the simulator's in its host) a manual delta sync.
            Connect-FreshStore
            Import-Module AdeEnrollment.Simulator # Set-AdeSimClock: the engine clock of this process
            $token = Start-Simulated $Devices
            $full = Measure-Step { Sync-AdeDevice -Token $token.Name 3>&1 }
            Add-SyncFigures 'setupFullSync' $full
            $half = [int]($Changes / 2)
            Invoke-SimHost $simHost @{ op = 'add'; name = $token.Name; count = $Changes - $half } | Out-Null
            Invoke-SimHost $simHost @{ op = 'remove'; name = $token.Name; count = $half } | Out-Null
            Invoke-SimHost $simHost @{ op = 'advance'; minutes = 15 } | Out-Null
            Set-AdeSimClock -Advance (New-TimeSpan -Minutes 15) -Confirm:$false
            $step = Measure-Step -SimulatorHost $simHost { Sync-AdeDevice -Token $token.Name 3>&1 }
            Add-SyncFigures 'sync' $step
            if ($step.Output.Kind -ne 'Delta' -or $step.Output.Added -ne ($Changes - $half) -or $step.Output.Removed -ne $half) {
                throw "The delta sync was $($step.Output.Kind) with $($step.Output.Added) added and $($step.Output.Removed) removed, not Delta with $($Changes - $half) and $half."
            }
            $result.changes = $Changes
            $result.seconds = $step.Seconds
            $result.cpuSeconds = $step.CpuSeconds
            Add-JitFigures $step
        }

        'LookupSerial' {
            # Get-AdeDevice -SerialNumber: one device among N (the FullSync store), median of distinct serials after a warm-up.
            if ($Provider -eq 'SQLite' -and -not (Test-Path $StorePath)) { throw "The synced store $StorePath is missing (the FullSync scenario failed?)." }
            Connect-BenchStore -Provider $Provider -Store $store
            $serials = Invoke-StoreScalarList -Provider $Provider -Path $store -Sql 'SELECT serial_number FROM device ORDER BY random() LIMIT 25'
            foreach ($s in $serials[0..4]) { Get-AdeDevice -SerialNumber $s | Out-Null }
            $runs = foreach ($s in $serials[5..24]) {
                $step = Measure-Step { Get-AdeDevice -SerialNumber $s }
                if ($step.Output.SerialNumber -ne $s) { throw "Get-AdeDevice -SerialNumber $s found nothing." }
                $step.Seconds
            }
            $sorted = @($runs | Sort-Object)
            $result.runs = $sorted.Count
            $result.warmUpRuns = 5
            $result.seconds = ($sorted[[int][math]::Floor(($sorted.Count - 1) / 2)] + $sorted[[int][math]::Ceiling(($sorted.Count - 1) / 2)]) / 2
            $result.minSeconds = $sorted[0]
            $result.maxSeconds = $sorted[-1]
        }

        'PipeSerials' {
            # A list of serial numbers (a CSV's column) piped to Get-AdeDevice: 10,000 distinct serials of the FullSync
            # store in random order, one device each.
            if ($Provider -eq 'SQLite' -and -not (Test-Path $StorePath)) { throw "The synced store $StorePath is missing (the FullSync scenario failed?)." }
            Connect-BenchStore -Provider $Provider -Store $store
            $count = 10000
            $serials = Invoke-StoreScalarList -Provider $Provider -Path $store -Sql "SELECT serial_number FROM device ORDER BY random() LIMIT $count"
            $serials[0..9] | Get-AdeDevice | Out-Null # loads and jits the cmdlet; the pipe itself is timed cold
            $step = Measure-Step { $serials | Get-AdeDevice | Measure-Object }
            if ($step.Output.Count -ne $count) { throw "`$serials | Get-AdeDevice found $($step.Output.Count) of $count devices." }
            $result.serials = $count
            $result.seconds = $step.Seconds
            $result.cpuSeconds = $step.CpuSeconds
            Add-JitFigures $step
        }

        'PipeAll' {
            # Get-AdeDevice | Measure-Object over the N devices of the FullSync store.
            if ($Provider -eq 'SQLite' -and -not (Test-Path $StorePath)) { throw "The synced store $StorePath is missing (the FullSync scenario failed?)." }
            Connect-BenchStore -Provider $Provider -Store $store
            $one = Invoke-StoreScalarList -Provider $Provider -Path $store -Sql 'SELECT serial_number FROM device LIMIT 1'
            Get-AdeDevice -SerialNumber $one[0] | Out-Null # loads and jits the cmdlet; the pipe itself is timed cold
            $step = Measure-Step { Get-AdeDevice | Measure-Object }
            if ($step.Output.Count -ne $Devices) { throw "Get-AdeDevice | Measure-Object counted $($step.Output.Count), not $Devices." }
            $result.seconds = $step.Seconds
            $result.cpuSeconds = $step.CpuSeconds
            Add-JitFigures $step
        }

        'Assign' {
            # Set-AdeDeviceProfile of one profile to all N synced devices (the profile is defined at Apple on first use).
            Connect-FreshStore
            $token = Start-Simulated $Devices
            $full = Measure-Step { Sync-AdeDevice -Token $token.Name 3>&1 }
            Add-SyncFigures 'setupFullSync' $full
            $prof = New-AdeProfile -Token $token.Name -Name 'Bench assignment' -UserAffinity WithUserAffinity
            $serials = Invoke-StoreScalarList -Provider $Provider -Path $store -Sql 'SELECT serial_number FROM device'
            $step = Measure-Step -SimulatorHost $simHost { $r = Set-AdeDeviceProfile -Profile $prof.Name -Token $token.Name -SerialNumber $serials; , $r }
            $results = @($step.Output)
            $success = @($results.Where({ $_.Status -eq 'Success' })).Count
            $result.results = $results.Count
            $result.success = $success
            if ($success -ne $Devices) { throw "Set-AdeDeviceProfile succeeded for $success devices, not $Devices." }
            $result.seconds = $step.Seconds
            $result.cpuSeconds = $step.CpuSeconds
            Add-JitFigures $step
        }

        'OrgInventory' {
            # Get-AdeOrgDevice | Measure-Object over an organisation of N devices, half of them assigned to a server
            # (the serial -> server index of assigned devices is part of the read). The engine's own request budget
            # is raised for this account (-GetPerMinute): Apple publishes no limit, the 20 GET/min default is one
            # observation, and N/1000 pages would otherwise wait for it. The simulator enforces no budget here.
            Connect-FreshStore
            $assigned = [int]($Devices / 2)
            $token = Start-Simulated $assigned
            $sim = Invoke-SimHost -SimHost $simHost -Command @{ op = 'orgdevices'; count = $Devices - $assigned }
            $result.simulatorOrgAddSeconds = $sim.addSeconds
            $biz = Invoke-SimHost -SimHost $simHost -Command @{ op = 'bizaccount'; pem = (Join-Path $Folder 'api-key.pem') }
            New-AdeBusinessAccount -ClientId $biz.clientId -KeyId $biz.keyId -KeyPath (Join-Path $Folder 'api-key.pem') -TokenUri $biz.tokenUri -ServiceUri $biz.serviceUri -GetPerMinute 6000 | Out-Null
            $result.engineGetsPerMinute = 6000
            $result.simulatorGetsPerMinute = 'unlimited'
            $step = Measure-Step { Get-AdeOrgDevice | Measure-Object }
            $result.counted = $step.Output.Count
            if ($step.Output.Count -ne $Devices) { throw "Get-AdeOrgDevice counted $($step.Output.Count) devices, not $Devices." }
            $result.assignedDevices = $assigned
            $result.seconds = $step.Seconds
            $result.cpuSeconds = $step.CpuSeconds
            Add-JitFigures $step
        }

        'OrgAssign' {
            # N bought devices assigned to the token's server in activities of 1,000 devices, each waited for (-Wait;
            # the simulator completes an activity on its own clock, at once). N = 10,000 fits the engine's default
            # budget of 10 activities an hour, so nothing is raised here.
            Connect-FreshStore
            $token = Start-Simulated 0
            $sim = Invoke-SimHost -SimHost $simHost -Command @{ op = 'orgdevices'; count = $Devices; serials = $true }
            $serials = @($sim.serials)
            $biz = Invoke-SimHost -SimHost $simHost -Command @{ op = 'bizaccount'; pem = (Join-Path $Folder 'api-key.pem') }
            New-AdeBusinessAccount -ClientId $biz.clientId -KeyId $biz.keyId -KeyPath (Join-Path $Folder 'api-key.pem') -TokenUri $biz.tokenUri -ServiceUri $biz.serviceUri | Out-Null
            $step = Measure-Step { $r = $serials | Set-AdeOrgDeviceServer -Token $token.Name -Wait; , $r }
            $activities = @($step.Output)
            $succeeded = ($activities | Measure-Object -Property Succeeded -Sum).Sum
            $result.activities = $activities.Count
            $result.succeeded = $succeeded
            if ($succeeded -ne $Devices) { throw "Set-AdeOrgDeviceServer assigned $succeeded devices, not $Devices." }
            $result.seconds = $step.Seconds
            $result.cpuSeconds = $step.CpuSeconds
            Add-JitFigures $step
        }

        'DefaultProfileSync' {
            # Full sync of N devices into a fresh store with a default profile set before: every device is assigned it.
            # Warmed up as FullSync is (a default-profile sync of -WarmUpDevices first): the two compare per device.
            Invoke-SyncWarmUp -DefaultProfile
            Connect-FreshStore
            $token = Start-Simulated $Devices
            $prof = New-AdeProfile -Token $token.Name -Name 'Bench default' -UserAffinity WithUserAffinity
            Set-AdeDefaultProfile -Token $token.Name -Profile $prof.Name -Confirm:$false | Out-Null
            $step = Measure-Step -SimulatorHost $simHost { Sync-AdeDevice -Token $token.Name 3>&1 }
            Add-SyncFigures 'sync' $step
            if ($step.Output.DefaultProfileAssigned -ne $Devices) { throw "The sync assigned the default profile to $($step.Output.DefaultProfileAssigned) devices, not $Devices." }
            $result.seconds = $step.Seconds
            $result.cpuSeconds = $step.CpuSeconds
            Add-JitFigures $step
        }

        'MixedDefaultProfileSync' {
            # A mixed token (iPhones, iPads, Macs, Apple TVs, Vision Pros) with a default profile for every platform:
            # each arriving device gets the default of its own platform.
            Connect-FreshStore
            $token = Start-Simulated $Devices -DeviceFamily Mixed
            foreach ($platform in 'iOS', 'macOS', 'tvOS', 'visionOS') {
                $affinity = if ($platform -eq 'iOS') { @{ UserAffinity = 'WithUserAffinity' } } else { @{} }
                $prof = New-AdeProfile -Token $token.Name -Name "Bench $platform" -Platform $platform @affinity
                Set-AdeDefaultProfile -Token $token.Name -Profile $prof.Name -Confirm:$false | Out-Null
            }
            $step = Measure-Step -SimulatorHost $simHost { Sync-AdeDevice -Token $token.Name 3>&1 }
            Add-SyncFigures 'sync' $step
            if ($step.Output.DefaultProfileAssigned -ne $Devices) { throw "The sync assigned a default profile to $($step.Output.DefaultProfileAssigned) devices, not $Devices." }
            $result.seconds = $step.Seconds
            $result.cpuSeconds = $step.CpuSeconds
            Add-JitFigures $step
        }

        'MultiHostSync' {
            # Several hosts syncing at once against one shared store: $Hosts pwsh processes (bench/SyncWorker.ps1),
            # each syncing its own token of -Devices devices, all served by one simulator. Each worker connects and
            # loads the cmdlets first, then all are told to go together; the wall time runs from that signal to the
            # last worker's end. Afterwards every token must hold its -Devices devices, or the scenario fails.
            Connect-FreshStore
            $script:simHost = Start-SimHost -Seed $Seed
            $names = foreach ($i in 1..$Hosts) {
                $name = 'Host {0:D2}' -f $i
                New-BenchToken -SimHost $simHost -Name $name -Devices $Devices -Folder $Folder | Out-Null
                $name
            }
            Disconnect-AdeStore # this process only checks, afterwards
            $workers = foreach ($name in $names) {
                $resultFile = Join-Path $Folder ("worker-{0}.json" -f ($name -replace '\W', ''))
                $process = Start-BenchPwsh -Script (Join-Path $PSScriptRoot 'SyncWorker.ps1') -Arguments @('-Token', $name, '-ResultPath', $resultFile, '-Provider', $Provider, '-StorePath', $StorePath)
                [pscustomobject]@{ Name = $name; Process = $process; ResultPath = $resultFile }
            }
            try {
                foreach ($w in $workers) {
                    do { $line = $w.Process.StandardOutput.ReadLine() } while ($null -ne $line -and $line -notin '@@READY', '@@FAILED')
                    if ($line -ne '@@READY') { $w.Process.WaitForExit(60000) | Out-Null; $failed = if (Test-Path $w.ResultPath) { (Get-Content -Raw $w.ResultPath | ConvertFrom-Json).error } else { 'no result' }; throw "Worker for '$($w.Name)' did not get ready: $failed" }
                }
                $go = [DateTime]::UtcNow
                foreach ($w in $workers) { $w.Process.StandardInput.WriteLine('go'); $w.Process.StandardInput.Flush() }
                # drain stdout (a worker must never block on a full pipe), then wait for all
                $drains = foreach ($w in $workers) { $w.Process.StandardOutput.ReadToEndAsync() }
                foreach ($w in $workers) { $w.Process.WaitForExit() }
                $lastEnd = [DateTime]::UtcNow
                $null = $drains
            } finally {
                foreach ($w in $workers) { if (-not $w.Process.HasExited) { $w.Process.Kill() } }
            }
            $reports = foreach ($w in $workers) {
                if (-not (Test-Path $w.ResultPath)) { throw "Worker for '$($w.Name)' wrote no result (exit code $($w.Process.ExitCode))." }
                Get-Content -Raw $w.ResultPath | ConvertFrom-Json -AsHashtable
            }
            $result.hosts = $Hosts
            $result.devicesPerHost = $Devices
            $result.workers = @($reports)
            $bad = @($reports | Where-Object { -not $_.ok })
            if ($bad.Count -gt 0) {
                if (@($bad | Where-Object { $_.Contains('notSupported') }).Count -gt 0) { $result.notSupported = $true }
                throw "$($bad.Count) of $Hosts workers failed; first: $($bad[0].token): $($bad[0].error)"
            }
            $wrong = @($reports | Where-Object { $_.status -ne 'Succeeded' -or $_.added -ne $Devices })
            if ($wrong.Count -gt 0) { throw "$($wrong.Count) of $Hosts syncs did not add $Devices devices; first: $($wrong[0].token): $($wrong[0].status), $($wrong[0].added) added." }
            # The whole: from the start signal to the end of the last sync (each worker's own clock reading).
            $end = [DateTime]::new(($reports | Measure-Object -Maximum endTicks).Maximum, [DateTimeKind]::Utc)
            $result.seconds = ($end - $go).TotalSeconds
            $result.waitedSeconds = ($lastEnd - $go).TotalSeconds
            $result.devicesPerSecond = $Hosts * $Devices / $result.seconds
            $result.slowestHostSeconds = ($reports | Measure-Object -Maximum seconds).Maximum
            $result.fastestHostSeconds = ($reports | Measure-Object -Minimum seconds).Minimum
            $result.workerPeakWorkingSetMaxBytes = ($reports | Measure-Object -Maximum peakWorkingSetBytes).Maximum
            $result.workerPeakWorkingSetMeanBytes = ($reports | Measure-Object -Average peakWorkingSetBytes).Average
            $result.workerCpuSeconds = ($reports | Measure-Object -Sum cpuSeconds).Sum
            # Verify in the store, through the cmdlets: every token holds its devices.
            Connect-BenchStore -Provider $Provider -Store $store
            $counts = [ordered]@{}
            foreach ($name in $names) { $counts[$name] = (Get-AdeDevice -Token $name | Measure-Object).Count }
            $result.devicesPerToken = $counts
            $short = @($counts.Keys | Where-Object { $counts[$_] -ne $Devices })
            if ($short.Count -gt 0) { throw "After the syncs, $($short.Count) tokens do not hold $Devices devices: $(($short | ForEach-Object { "$_ = $($counts[$_])" }) -join ', ')." }
            $result.cpuSeconds = $result.workerCpuSeconds
        }

        'ManyTokens' {
            # Intune's limit: $Tokens tokens (2,000) sharing the -Devices devices (100 each at 200,000), then a scheduler's
            # run `Get-AdeToken | Sync-AdeDevice -IfDue` twice: first every token is due (its first sync, a full one),
            # then none is. Setup (untimed): see New-ManyBenchTokens in BenchCommon.ps1.
            if ($Devices % $Tokens -ne 0) { throw "-Devices $Devices does not split evenly over $Tokens tokens." }
            Connect-FreshStore
            $script:simHost = Start-SimHost -Seed $Seed
            $setup = Measure-Step { New-ManyBenchTokens -SimHost $simHost -Provider $Provider -Store $store -Count $Tokens -DevicesEach ($Devices / $Tokens) -Folder $Folder }
            $result.tokens = $Tokens
            $result.devicesPerToken = $Devices / $Tokens
            $result.setupSeconds = $setup.Seconds
            $result.setupRequestsSeconds = $setup.Output.RequestSeconds
            $result.setupSimulatorSeconds = $setup.Output.SimulatorSeconds
            $result.setupNewTokenSeconds = $setup.Output.NewTokenSeconds
            $sync = { Get-AdeToken | Sync-AdeDevice -IfDue 3>$null }
            # The untimed setup (thousands of New-AdeToken calls, Add-Type) leaves garbage whose finalizers would run
            # during the timed pass: collect it first, so the pass measures the sync (bench/README.md).
            Clear-BenchGarbage
            $first = Measure-Step $sync
            $firstResults = @($first.Output)
            $synced = @($firstResults.Where({ "$($_.Status)" -eq 'Succeeded' -and "$($_.Kind)" -eq 'Full' }))
            $added = ($synced | Measure-Object -Sum Added).Sum
            if ($synced.Count -ne $Tokens -or $added -ne $Devices) { throw "The first pass synced $($synced.Count) tokens fully ($added devices), not $Tokens ($Devices devices)." }
            Clear-BenchGarbage
            $second = Measure-Step $sync
            $notDue = @(@($second.Output).Where({ "$($_.Status)" -eq 'NotDue' }))
            if ($notDue.Count -ne $Tokens) { throw "The second pass found $($notDue.Count) tokens not due, not $Tokens." }
            # Where the second pass spends its time, per token (not a target; for whoever optimises it): the same work
            # without the pipeline, straight on the engine, and its parts. PowerShell loops add ~10-50 µs per call.
            $flags = [Reflection.BindingFlags]'Public,NonPublic,Instance'
            $engineStore = Open-BenchEngineStore -Provider $Provider -Store $store
            $engine = (Get-AdeModuleType AdeEnrollment.Engine.AdeEngine)::new($engineStore, (Get-AdeModuleType AdeEnrollment.Engine.Hosting.NullHost)::Instance, $null)
            $ids = @($engine.Tokens.GetTokens() | ForEach-Object { $_.Id.ToString() })
            $forSync = $engine.Tokens.GetType().GetMethod('ForSync', $flags, $null, [type[]]@([string]), $null)
            $perToken = { param($s) [math]::Round($s / $Tokens * 1e6, 1) }
            $result.breakdownMicrosecondsPerToken = [ordered]@{
                getAdeTokenCmdlet = & $perToken (Measure-Step { Get-AdeToken | Out-Null }).Seconds
                engineTokenList = & $perToken (Measure-Step { $engine.Tokens.GetTokens() | Out-Null }).Seconds
                powershellLoopOnly = & $perToken (Measure-Step { foreach ($id in $ids) { $null = $id.Length } }).Seconds
                engineForSync = & $perToken (Measure-Step { foreach ($id in $ids) { $null = $forSync.Invoke($engine.Tokens, [object[]]@($id)) } }).Seconds
                engineSyncIfDueNotDue = & $perToken (Measure-Step { foreach ($id in $ids) { $null = $engine.Sync.Sync($id, $false, $true) } }).Seconds
                cmdletSecondPass = & $perToken $second.Seconds
                cmdletFirstPass = & $perToken $first.Seconds
            }
            $result.firstPassSeconds = $first.Seconds
            $result.firstPassCpuSeconds = $first.CpuSeconds
            $result.secondPassSeconds = $second.Seconds
            $result.secondPassCpuSeconds = $second.CpuSeconds
            $result.seconds = $first.Seconds
            $result.cpuSeconds = $first.CpuSeconds
        }
    }

    $peak = Get-PeakMemory
    $result.peakWorkingSetBytes = $peak.PeakWorkingSetBytes
    $result.vmHwmBytes = $peak.VmHwmBytes
    if ($Scenario -eq 'MultiHostSync') {
        # the engine's figure is that of each syncing host; this process only started them and counted afterwards
        $result.coordinatorPeakWorkingSetBytes = $peak.PeakWorkingSetBytes
        $result.peakWorkingSetBytes = $result.workerPeakWorkingSetMaxBytes
    }
    $result.ok = $true
} catch {
    $result.ok = $false
    $result.error = "$_"
    # A part of the store this provider does not have yet: reported as not available, not as a broken bench.
    if (Test-StoreNotSupported $_) { $result.notSupported = $true }
    Write-Host "Scenario $Scenario failed: $_" -ForegroundColor Red
    Write-Host $_.ScriptStackTrace
} finally {
    if ($simHost) {
        $stats = Stop-SimHost $simHost
        if ($stats) { $result.simulatorPeakWorkingSetBytes = $stats.peakWorkingSetBytes; $result.simulatorCpuSeconds = $stats.cpuSeconds }
    }
}

$result | ConvertTo-Json -Depth 4 | Set-Content -Path $ResultPath
exit ([int](-not $result.ok))

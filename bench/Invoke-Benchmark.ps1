#Requires -Version 7.4
<#
.SYNOPSIS
    The AdeEnrollment benchmark: the real cmdlets against the simulator, each scenario in a fresh pwsh.
.DESCRIPTION
    Started by `build.ps1 Bench` with $env:ADE_BENCH_OUT = out/ (the built modules). Every scenario runs in a pwsh
    process of its own (bench/Invoke-Scenario.ps1) so that the peak working set it reports is that scenario's own; the
    simulator runs in a further process (bench/SimHost.ps1) so that its in-memory devices are not counted as the
    engine's. Writes bench/results/latest.json and bench/results/latest.md and prints the table. Targets come from
    issue 4 (Benchmark) and issue 5. A missed target is a result, not a failure; a scenario that cannot run fails
    the benchmark. Never part of the test run.

    Every scenario with a store runs on SQLite and then on PostgreSQL (bench/README.md, "PostgreSQL"), each in a
    fresh database of the server in $env:ADE_TEST_POSTGRES, else of a throw-away server started here with
    tests/postgres/test-postgres.sh and stopped at the end. $env:ADE_BENCH_PROVIDER = SQLite | PostgreSQL | Both
    (default Both) selects the providers. Without a server the SQLite runs still happen and the table says so; a
    scenario whose store part PostgreSQL does not have yet (StoreNotSupported) is reported as not available there.
#>
[CmdletBinding()]
param(
    # Devices of the large scenarios (the targets are for 200,000; smaller values are for trying the harness).
    [int] $Devices = 200000,
    [int] $SmallDevices = 10000,
    # The organisation inventory is compared at 20,000 and $Devices; 10,000 devices are assigned in activities.
    [int] $OrgSmallDevices = 20000,
    [int] $OrgAssignDevices = 10000,
    # Tokens of ManyTokens, which share the -Devices devices (2,000 is Intune's limit; fewer for trying the harness).
    [int] $Tokens = 2000,
    # MultiHostSync: this many pwsh processes at once, each syncing its own token of $MultiHostDevices devices.
    [int] $MultiHostHosts = 10,
    [int] $MultiHostDevices = 20000,
    # How often the full syncs (of -SmallDevices and of -Devices), the default-profile sync and the two raw baselines
    # run (fresh stores each time); the median run counts.
    [ValidateRange(1, 9)] [int] $Repeat = $(if ($env:ADE_BENCH_REPEAT) { [int]$env:ADE_BENCH_REPEAT } else { 3 }),
    [string] $ResultsFolder = (Join-Path $PSScriptRoot 'results')
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$out = $env:ADE_BENCH_OUT
if (-not $out -or -not (Test-Path (Join-Path $out 'AdeEnrollment/AdeEnrollment.psd1'))) { throw 'Set $env:ADE_BENCH_OUT to the build output (out/) first: build.ps1 Bench does.' }
$out = (Resolve-Path $out).Path
$root = Split-Path $PSScriptRoot -Parent

# Everything in a throw-away folder; the user's store and modules are never touched.
$scratch = Join-Path ([IO.Path]::GetTempPath()) ('ade-bench-' + [guid]::NewGuid().ToString('N'))
New-Item -ItemType Directory $scratch | Out-Null
$saved = @{}
$environment = @{
    PSModulePath = $out + [IO.Path]::PathSeparator + $env:PSModulePath
    XDG_DATA_HOME = $scratch
    ADE_ENROLLMENT_STORE = (Join-Path $scratch 'default.db')
    ADE_ENROLLMENT_STORE_KEY = $null
}
foreach ($k in $environment.Keys) { $saved[$k] = [Environment]::GetEnvironmentVariable($k); [Environment]::SetEnvironmentVariable($k, $environment[$k]) }

# $env:ADE_BENCH_PROVIDER: which stores the scenarios run on (RawBaseline and RawDefaultBaseline have no store and run
# on no provider but once per repeat).
$providerChoice = if ($env:ADE_BENCH_PROVIDER) { $env:ADE_BENCH_PROVIDER.Trim() } else { 'Both' }
if ($providerChoice -notin 'SQLite', 'PostgreSQL', 'Both') { throw "`$env:ADE_BENCH_PROVIDER is '$providerChoice': use SQLite, PostgreSQL or Both." }
$runSqlite = $providerChoice -in 'SQLite', 'Both'
$runPostgres = $providerChoice -in 'PostgreSQL', 'Both'

function Get-LoadAverage {
    if (Test-Path /proc/loadavg) { [double]((Get-Content /proc/loadavg -Raw) -split ' ')[0] } else { $null }
}

# $env:ADE_BENCH_ONLY = 'Assign,DeltaSync' runs only those scenarios (a scenario that reads another's store runs
# that one too) and writes its results to a scratch folder (or -ResultsFolder) instead of bench/results: for trying one
# change quickly.
# (An array even for one name: `$only += 'FullSyncBig'` on a lone string would append text, not an element.)
[string[]] $only = if ($env:ADE_BENCH_ONLY) { @($env:ADE_BENCH_ONLY -split ',' | ForEach-Object Trim) } else { $null }
if ($only) {
    if ($only -contains 'LookupSerial' -or $only -contains 'PipeSerials' -or $only -contains 'PipeAll') { $only += 'FullSyncBig' }
    if ($only -contains 'OrgInventory') { $only += 'OrgInventorySmall' }
    if (-not $PSBoundParameters.ContainsKey('ResultsFolder')) { $ResultsFolder = Join-Path ([IO.Path]::GetTempPath()) 'ade-bench-partial' }
}

function Invoke-Scenario {
    param([string] $Id, [string] $Scenario, [int] $Count, [string] $StorePath, [string[]] $Extra = @(), [string] $Provider = 'SQLite', [string] $ConnectionString)
    $label = if ($Provider -eq 'PostgreSQL') { "$Id (PostgreSQL)" } else { $Id }
    $resultPath = Join-Path $scratch "$Id.$Provider.json"
    $arguments = @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'Invoke-Scenario.ps1'),
        '-Scenario', $Scenario, '-Devices', $Count, '-Folder', (Join-Path $scratch "$Id.$Provider"), '-StorePath', $StorePath,
        '-ResultPath', $resultPath, '-Provider', $Provider) + $Extra
    Write-Host ("{0,-35} {1,9:N0} devices ... " -f $label, $Count) -NoNewline
    $load = Get-LoadAverage
    $watch = [Diagnostics.Stopwatch]::StartNew()
    # The PostgreSQL store's connection string (password included) goes by the environment, not the command line.
    [Environment]::SetEnvironmentVariable('ADE_BENCH_POSTGRES_STORE', $ConnectionString)
    try {
        # Under `dotnet pwsh` the process is dotnet itself: start pwsh.dll through the same dotnet host.
        & dotnet (Join-Path $PSHOME 'pwsh.dll') @arguments | Out-Host
        $code = $LASTEXITCODE
    } finally { [Environment]::SetEnvironmentVariable('ADE_BENCH_POSTGRES_STORE', $null) }
    $r = if (Test-Path $resultPath) { Get-Content -Raw $resultPath | ConvertFrom-Json -AsHashtable } else { [ordered]@{ ok = $false; error = "no result (exit code $code)" } }
    $r.id = $Id
    $r.provider = $Provider
    $r.processSeconds = $watch.Elapsed.TotalSeconds
    $r.loadAverageBefore = $load
    if ($r.ok -and $r.Contains('devicesPerSecond')) { Write-Host ("{0:N3} s, {1:N0} devices/s, largest process {2:N0} MB (process {3:N0} s)" -f $r.seconds, $r.devicesPerSecond, ($r.workerPeakWorkingSetMaxBytes / 1MB), $r.processSeconds) }
    elseif ($r.ok) { Write-Host ("{0:N3} s (process {1:N0} s)" -f $r.seconds, $r.processSeconds) }
    elseif ($r.Contains('notSupported')) { Write-Host 'not available on PostgreSQL (StoreNotSupported)' -ForegroundColor Yellow }
    else { Write-Host "FAILED: $($r.error)" -ForegroundColor Red }
    $r
}

# ---- PostgreSQL server and databases --------------------------------------------------------------------------------

$postgres = [ordered]@{ requested = $runPostgres; available = $false; reason = $null; server = $null; serverVersion = $null; startedHere = $false }
$pgAdmin = $null; $pgFolder = $null
$pgDatabases = [ordered]@{} # store name -> database

function Start-BenchPostgres {
    # The server of build.ps1 Test: $env:ADE_TEST_POSTGRES when set, else a throw-away one (stopped in the finally below).
    if ($env:ADE_TEST_POSTGRES) { $script:pgAdmin = $env:ADE_TEST_POSTGRES }
    elseif ($IsWindows) { $postgres.reason = 'no server: set $env:ADE_TEST_POSTGRES to a connection string'; return }
    else {
        $lines = & bash (Join-Path $root 'tests/postgres/test-postgres.sh') start
        if ($LASTEXITCODE -ne 0) { $postgres.reason = "tests/postgres/test-postgres.sh start failed (exit code $LASTEXITCODE; is PostgreSQL installed?)"; return }
        $values = @{}
        foreach ($line in $lines) { if ($line -match "^(\w+)='(.*)'$") { $values[$Matches[1]] = $Matches[2] } }
        $script:pgAdmin = $values.ADE_TEST_POSTGRES
        $script:pgFolder = $values.ADE_TEST_POSTGRES_DIR
        $postgres.startedHere = $true
    }
    try {
        # The module's Npgsql (its AssemblyLoadContext) talks to the server; the scenario processes load their own.
        Import-Module AdeEnrollment
        $postgres.serverVersion = "$(Invoke-BenchPostgres -ConnectionString $pgAdmin -Sql 'SHOW server_version')"
        $b = (Get-BenchNpgsqlType 'Npgsql.NpgsqlConnectionStringBuilder')::new($pgAdmin)
        $postgres.server = "$($b.Host):$($b.Port)"
        $postgres.available = $true
    } catch {
        $postgres.reason = "the server does not answer: $($_.Exception.Message)"
    }
}

function Get-BenchDatabase([string] $StoreName) {
    # A fresh database per store (FullSyncBig's is read again by LookupSerial and PipeAll, as its SQLite file is).
    if (-not $pgDatabases.Contains($StoreName)) {
        $db = 'ade_bench_' + ($StoreName.ToLowerInvariant() -replace '[^a-z0-9]', '_') + '_' + [guid]::NewGuid().ToString('N').Substring(0, 8)
        Invoke-BenchPostgres -ConnectionString $pgAdmin -Sql "CREATE DATABASE $db" | Out-Null
        $pgDatabases[$StoreName] = $db
    }
    $pgDatabases[$StoreName]
}

function Remove-BenchDatabase([string] $StoreName) {
    if (-not $pgDatabases.Contains($StoreName)) { return }
    try { Invoke-BenchPostgres -ConnectionString $pgAdmin -Sql "DROP DATABASE IF EXISTS $($pgDatabases[$StoreName]) WITH (FORCE)" | Out-Null }
    catch { Write-Warning "Could not drop the bench database $($pgDatabases[$StoreName]): $($_.Exception.Message)" }
    $pgDatabases.Remove($StoreName)
}

$runs = [ordered]@{}   # SQLite (and the raw baselines), by scenario id
$pgRuns = [ordered]@{} # PostgreSQL, by scenario id

$repeated = @{} # every run of a scenario run more than once, by provider and id

function Add-Run([Collections.Specialized.OrderedDictionary] $Table, [string] $Provider, [string] $Id, $Run) {
    # A scenario run again (-Repeat) is reported by its median run, with every run's wall time beside it; a failed
    # run is reported as such.
    $key = "$Provider/$Id"
    if (-not $repeated.ContainsKey($key)) { $repeated[$key] = [Collections.Generic.List[object]]::new() }
    $list = $repeated[$key]; $list.Add($Run)
    $failed = @($list | Where-Object { -not $_.ok })
    if ($failed) { $Table[$Id] = $failed[-1]; return }
    $seconds = @($list | ForEach-Object { $_.seconds })
    foreach ($r in $list) { $r.repeatSeconds = $seconds }
    $Table[$Id] = @($list | Sort-Object { $_.seconds })[[math]::Floor(($list.Count - 1) / 2)]
}

function Invoke-Pair {
    <#
    .SYNOPSIS
        One scenario on SQLite, then on PostgreSQL, each in a fresh store named -Store (unless another scenario's,
        -Keep keeps the PostgreSQL database for a later scenario). -Single: no store (the raw baselines), run once. Called
        again for the same -Id, it runs the scenario again in fresh stores and the median run counts (Add-Run).
    #>
    param([string] $Id, [string] $Scenario, [int] $Count, [string] $Store, [string[]] $Extra = @(), [switch] $Keep, [switch] $Single)
    if ($only -and $only -notcontains $Id) { $runs[$Id] = [ordered]@{ id = $Id; ok = $false; skipped = $true; error = 'skipped'; processSeconds = 0 }; return }
    if ($Single -or $runSqlite) { Add-Run $runs 'SQLite' $Id (Invoke-Scenario $Id $Scenario $Count (Join-Path $scratch "$Store.db") -Extra $Extra) }
    else { $runs[$Id] = [ordered]@{ id = $Id; ok = $false; skipped = $true; error = 'skipped (ADE_BENCH_PROVIDER)'; processSeconds = 0 } }
    if ($Single -or -not $runPostgres) { return }
    if (-not $postgres.available) {
        $pgRuns[$Id] = [ordered]@{ id = $Id; provider = 'PostgreSQL'; ok = $false; unavailable = $true; error = "no PostgreSQL server ($($postgres.reason))"; processSeconds = 0 }
        return
    }
    if ($pgRuns.Contains($Id)) { Remove-BenchDatabase $Store } # a repeat starts from a fresh database too
    $db = Get-BenchDatabase $Store
    try {
        Add-Run $pgRuns 'PostgreSQL' $Id (Invoke-Scenario $Id $Scenario $Count $db -Extra $Extra -Provider PostgreSQL `
            -ConnectionString (Get-BenchPostgresConnectionString -ConnectionString $pgAdmin -Database $db))
    } finally {
        if (-not $Keep) { Remove-BenchDatabase $Store }
    }
}

function Get-Machine {
    $cpu = if (Test-Path /proc/cpuinfo) { (Select-String -Path /proc/cpuinfo -Pattern '^model name\s*:\s*(.+)$' | Select-Object -First 1).Matches[0].Groups[1].Value } else { $env:PROCESSOR_IDENTIFIER }
    $memory = if (Test-Path /proc/meminfo) { [long]((Select-String -Path /proc/meminfo -Pattern '^MemTotal:\s+(\d+)').Matches[0].Groups[1].Value) * 1024 } else { $null }
    $commit = try { (& git -C $root rev-parse --short HEAD 2>$null) } catch { $null }
    [ordered]@{
        name = [Environment]::MachineName
        os = [Runtime.InteropServices.RuntimeInformation]::OSDescription
        architecture = [Runtime.InteropServices.RuntimeInformation]::OSArchitecture.ToString()
        cpu = $cpu
        logicalProcessors = [Environment]::ProcessorCount
        memoryBytes = $memory
        dotnet = [Runtime.InteropServices.RuntimeInformation]::FrameworkDescription
        powershell = $PSVersionTable.PSVersion.ToString()
        commit = "$commit"
        loadAverage = Get-LoadAverage
    }
}

$started = [DateTimeOffset]::UtcNow
$machine = Get-Machine
Write-Host "AdeEnrollment benchmark on $($machine.cpu) ($($machine.logicalProcessors) logical processors), load average $($machine.loadAverage)" -ForegroundColor Cyan
try {
    if ($runPostgres) {
        . (Join-Path $PSScriptRoot 'BenchCommon.ps1')
        Start-BenchPostgres
        if ($postgres.available) { Write-Host "PostgreSQL $($postgres.serverVersion) at $($postgres.server): a fresh database per scenario" -ForegroundColor Cyan }
        else { Write-Host "No PostgreSQL: $($postgres.reason); the scenarios run on SQLite only." -ForegroundColor Yellow }
    }
    # The figures the ratio targets compare (full sync ÷ raw baseline, default-profile ÷ plain sync, PostgreSQL ÷ SQLite)
    # move by a fifth between runs of the same build with where the tiered JIT's recompiles fall, the sync of 10,000 (a
    # window of under a second) by up to half: these run $Repeat times, alternately, and the median run counts.
    foreach ($i in 1..$Repeat) {
        Invoke-Pair 'FullSyncSmall' 'FullSync' $SmallDevices 'small'
        Invoke-Pair 'FullSyncBig' 'FullSync' $Devices 'synced-big' -Keep
        Invoke-Pair 'RawBaseline' 'RawBaseline' $Devices 'raw' -Single
        Invoke-Pair 'RawDefaultBaseline' 'RawDefaultBaseline' $Devices 'raw-default' -Single
        Invoke-Pair 'DefaultProfileSync' 'DefaultProfileSync' $Devices 'default'
    }
    Invoke-Pair 'DeltaSync' 'DeltaSync' $Devices 'delta'
    Invoke-Pair 'LookupSerial' 'LookupSerial' $Devices 'synced-big' -Keep
    Invoke-Pair 'PipeSerials' 'PipeSerials' $Devices 'synced-big' -Keep
    Invoke-Pair 'PipeAll' 'PipeAll' $Devices 'synced-big'
    Invoke-Pair 'Assign' 'Assign' $Devices 'assign'
    Invoke-Pair 'MixedDefaultProfileSync' 'MixedDefaultProfileSync' $Devices 'mixed'
    Invoke-Pair 'OrgInventorySmall' 'OrgInventory' $OrgSmallDevices 'org-small'
    Invoke-Pair 'OrgInventory' 'OrgInventory' $Devices 'org'
    Invoke-Pair 'OrgAssign' 'OrgAssign' $OrgAssignDevices 'org-assign'
    Invoke-Pair 'ManyTokens' 'ManyTokens' $Devices 'many-tokens' -Extra @('-Tokens', $Tokens)
    Invoke-Pair 'MultiHostSync' 'MultiHostSync' $MultiHostDevices 'multi-host' -Extra @('-Hosts', $MultiHostHosts)
} finally {
    foreach ($name in @($pgDatabases.Keys)) { Remove-BenchDatabase $name }
    if ($pgFolder) { & bash (Join-Path $root 'tests/postgres/test-postgres.sh') stop $pgFolder }
    foreach ($k in $saved.Keys) { [Environment]::SetEnvironmentVariable($k, $saved[$k]) }
    Remove-Item -Recurse -Force $scratch -ErrorAction SilentlyContinue
}

# ---- figures and targets -------------------------------------------------------------------------------------------

function Get-Figure($Run, [string] $Name = 'seconds') { if ($Run -and $Run.ok -and $Run.Contains($Name)) { $Run[$Name] } else { $null } }

$small = $runs.FullSyncSmall; $big = $runs.FullSyncBig
$perDeviceSmall = if (Get-Figure $small) { $small.seconds / $SmallDevices } else { $null }
$perDeviceBig = if (Get-Figure $big) { $big.seconds / $Devices } else { $null }
$perDeviceRatio = if ($perDeviceSmall -and $perDeviceBig) { $perDeviceBig / $perDeviceSmall } else { $null }
$memoryRatio = if ((Get-Figure $small 'peakWorkingSetBytes') -and (Get-Figure $big 'peakWorkingSetBytes')) { $big.peakWorkingSetBytes / $small.peakWorkingSetBytes } else { $null }
$rawRatio = if ((Get-Figure $big) -and (Get-Figure $runs.RawBaseline)) { $big.seconds / $runs.RawBaseline.seconds } else { $null }
$rawDefault = Get-Figure $runs.RawDefaultBaseline
$rawDefaultVsPlain = if ($rawDefault -and (Get-Figure $big)) { $rawDefault / $big.seconds } else { $null }
$defaultVsRawDefault = if ($rawDefault -and (Get-Figure $runs.DefaultProfileSync)) { $runs.DefaultProfileSync.seconds / $rawDefault } else { $null }
$nos = '{0:N0}' -f $OrgSmallDevices; $noa = '{0:N0}' -f $OrgAssignDevices
$orgMemoryRatio = if ((Get-Figure $runs.OrgInventorySmall 'peakWorkingSetBytes') -and (Get-Figure $runs.OrgInventory 'peakWorkingSetBytes')) { $runs.OrgInventory.peakWorkingSetBytes / $runs.OrgInventorySmall.peakWorkingSetBytes } else { $null }
$nmh = '{0:N0}' -f $MultiHostHosts; $nmd = '{0:N0}' -f $MultiHostDevices
$n = '{0:N0}' -f $Devices; $ns = '{0:N0}' -f $SmallDevices; $nt = '{0:N0}' -f $Tokens; $perToken = '{0:N0}' -f [math]::Floor($Devices / $Tokens)
$mb = { param($b) if ($null -eq $b) { 'n/a' } else { '{0:N0} MB' -f ($b / 1MB) } }
$sec = { param($s) if ($null -eq $s) { 'n/a' } elseif ($s -lt 1) { '{0:N1} ms' -f ($s * 1000) } else { '{0:N2} s' -f $s } }
$x = { param($r) if ($null -eq $r) { 'n/a' } else { '{0:N2}×' -f $r } }
$rate = { param($r) if ($null -eq $r) { 'n/a' } else { '{0:N0}/s' -f $r } }

# id, scenario, measured value, unit kind, target (null = reported only), limit, source
$rows = @(
    @{ id = 'fullSyncSmall'; scenario = "Full sync of $ns devices"; value = (Get-Figure $small); kind = 'seconds'; limit = $null; target = '—' }
    @{ id = 'fullSyncSmallPeakMemory'; scenario = "Peak working set, full sync of $ns"; value = (Get-Figure $small 'peakWorkingSetBytes'); kind = 'bytes'; limit = $null; target = '—' }
    @{ id = 'fullSyncBig'; scenario = "Full sync of $n devices"; value = (Get-Figure $big); kind = 'seconds'; limit = 15; target = '≤ 15 s'; source = 'issue 4' }
    @{ id = 'fullSyncBigPeakMemory'; scenario = "Peak working set, full sync of $n"; value = (Get-Figure $big 'peakWorkingSetBytes'); kind = 'bytes'; limit = $null; target = '—' }
    @{ id = 'rawBaseline'; scenario = "Raw baseline: Apple client fetches and parses $n (no store)"; value = (Get-Figure $runs.RawBaseline); kind = 'seconds'; limit = $null; target = '—' }
    @{ id = 'fullSyncVsRaw'; scenario = "Full sync $n ÷ raw baseline"; value = $rawRatio; kind = 'ratio'; limit = 1.3; target = '≤ 1.3×'; source = 'issue 12 (was ≤ 2.5×, issue 4)' }
    @{ id = 'perDeviceCostRatio'; scenario = "Per-device cost $n ÷ $ns"; value = $perDeviceRatio; kind = 'ratio'; limit = 1.3; target = '≤ 1.3×'; source = 'issue 4' }
    @{ id = 'peakMemoryRatio'; scenario = "Peak working set $n ÷ $ns"; value = $memoryRatio; kind = 'ratio'; limit = 1.5; target = '≤ 1.5×'; source = 'issue 4' }
    @{ id = 'deltaSync'; scenario = "Delta sync of 1,000 changes on $n"; value = (Get-Figure $runs.DeltaSync); kind = 'seconds'; limit = 1; target = '≤ 1 s'; source = 'issue 4' }
    @{ id = 'lookupSerial'; scenario = "Get-AdeDevice -SerialNumber, one among $n (median)"; value = (Get-Figure $runs.LookupSerial); kind = 'seconds'; limit = 0.05; target = '≤ 50 ms'; source = 'issue 4' }
    @{ id = 'pipeSerials'; scenario = "10,000 serial numbers \| Get-AdeDevice, among $n (read 500 at a time)"; value = (Get-Figure $runs.PipeSerials); kind = 'seconds'; limit = $null; target = '—' }
    @{ id = 'pipeAll'; scenario = "Get-AdeDevice \| Measure-Object over $n"; value = (Get-Figure $runs.PipeAll); kind = 'seconds'; limit = 10; target = '≤ 10 s'; source = 'issue 4' }
    @{ id = 'assign'; scenario = "Set-AdeDeviceProfile, $n devices"; value = (Get-Figure $runs.Assign); kind = 'seconds'; limit = 3; target = '≤ 3 s'; source = 'issue 12 (was ≤ 15 s, issue 5)' }
    @{ id = 'defaultProfileSync'; scenario = "Full sync of $n with a default profile"; value = (Get-Figure $runs.DefaultProfileSync); kind = 'seconds'; limit = 30; target = '≤ 30 s'; source = 'issue 5' }
    @{ id = 'defaultVsPlainSync'; scenario = "Full sync of $n with a default profile ÷ plain full sync"; value = $(if ((Get-Figure $runs.DefaultProfileSync) -and (Get-Figure $big)) { $runs.DefaultProfileSync.seconds / $big.seconds } else { $null }); kind = 'ratio'; limit = 1.5; target = '≤ 1.5×'; source = 'issue 12' }
    @{ id = 'rawDefaultBaseline'; scenario = "Raw default-profile baseline: Apple client fetches $n, asks a profile for every page, reads Apple's echo (no store)"; value = $rawDefault; kind = 'seconds'; limit = $null; target = '—' }
    @{ id = 'rawDefaultVsPlainSync'; scenario = "Raw default-profile baseline ÷ plain full sync (Apple's side alone, nothing stored, against the whole plain sync)"; value = $rawDefaultVsPlain; kind = 'ratio'; limit = $null; target = '—' }
    @{ id = 'defaultVsRawDefault'; scenario = "Full sync of $n with a default profile ÷ raw default-profile baseline"; value = $defaultVsRawDefault; kind = 'ratio'; limit = $null; target = '—' }
    @{ id = 'mixedDefaultProfileSync'; scenario = "Full sync of a mixed token of $n, a default per platform"; value = (Get-Figure $runs.MixedDefaultProfileSync); kind = 'seconds'; limit = 30; target = '≤ 30 s'; source = 'issue 10' }
    @{ id = 'orgInventorySmall'; scenario = "Get-AdeOrgDevice \| Measure-Object over $nos org devices (half assigned; engine budget raised to 6,000 GET/min, simulator unlimited)"; value = (Get-Figure $runs.OrgInventorySmall); kind = 'seconds'; limit = $null; target = '—' }
    @{ id = 'orgInventory'; scenario = "Get-AdeOrgDevice \| Measure-Object over $n org devices (half assigned; engine budget raised to 6,000 GET/min, simulator unlimited)"; value = (Get-Figure $runs.OrgInventory); kind = 'seconds'; limit = $null; target = '—' }
    @{ id = 'orgInventoryPeakMemory'; scenario = "Peak working set, org inventory of $n"; value = (Get-Figure $runs.OrgInventory 'peakWorkingSetBytes'); kind = 'bytes'; limit = $null; target = '—' }
    @{ id = 'orgInventoryMemoryRatio'; scenario = "Peak working set, org inventory $n ÷ $nos"; value = $orgMemoryRatio; kind = 'ratio'; limit = 1.5; target = '≤ 1.5×'; source = 'issue 14' }
    @{ id = 'orgAssign'; scenario = "Set-AdeOrgDeviceServer -Wait, $noa devices in activities of 1,000 (simulator clock, engine's default budget)"; value = (Get-Figure $runs.OrgAssign); kind = 'seconds'; limit = $null; target = '—' }
    @{ id = 'manyTokensFirstPass'; scenario = "Get-AdeToken \| Sync-AdeDevice -IfDue, $nt tokens × $perToken devices, all due (full syncs)"; value = (Get-Figure $runs.ManyTokens 'firstPassSeconds'); kind = 'seconds'; limit = 10; target = '≤ 10 s'; source = 'issue 12' }
    @{ id = 'manyTokensSecondPass'; scenario = "Get-AdeToken \| Sync-AdeDevice -IfDue, $nt tokens, none due"; value = (Get-Figure $runs.ManyTokens 'secondPassSeconds'); kind = 'seconds'; limit = 1; target = '≤ 1 s'; source = 'issue 12' }
    @{ id = 'multiHostSync'; scenario = "$nmh processes at once, each Sync-AdeDevice of its own token of $nmd devices, one store (wall of the whole)"; value = (Get-Figure $runs.MultiHostSync); kind = 'seconds'; limit = $null; target = '—' }
    @{ id = 'multiHostSyncRate'; scenario = "$nmh processes at once: devices stored per second, all together"; value = (Get-Figure $runs.MultiHostSync 'devicesPerSecond'); kind = 'rate'; limit = $null; target = '—' }
    @{ id = 'multiHostSyncPeakMemory'; scenario = "$nmh processes at once: peak working set of the largest process"; value = (Get-Figure $runs.MultiHostSync 'workerPeakWorkingSetMaxBytes'); kind = 'bytes'; limit = $null; target = '—' }
)
foreach ($row in $rows) {
    $row.met = if ($null -eq $row.limit) { $null } elseif ($null -eq $row.value) { $false } else { $row.value -le $row.limit }
    $row.display = switch ($row.kind) { 'seconds' { & $sec $row.value } 'bytes' { & $mb $row.value } 'ratio' { & $x $row.value } 'rate' { & $rate $row.value } }
}

# ---- PostgreSQL ÷ SQLite (issue 13: every scenario with a store at most twice its SQLite figure) ---------------------

$pgLimit = 2
# scenario id, figure, what is measured
$pgFigures = @(
    @{ id = 'FullSyncSmall'; figure = 'seconds'; scenario = "Full sync of $ns devices" }
    @{ id = 'FullSyncBig'; figure = 'seconds'; scenario = "Full sync of $n devices" }
    @{ id = 'DeltaSync'; figure = 'seconds'; scenario = "Delta sync of 1,000 changes on $n" }
    @{ id = 'LookupSerial'; figure = 'seconds'; scenario = "Get-AdeDevice -SerialNumber, one among $n (median)" }
    @{ id = 'PipeSerials'; figure = 'seconds'; scenario = "10,000 serial numbers \| Get-AdeDevice, among $n" }
    @{ id = 'PipeAll'; figure = 'seconds'; scenario = "Get-AdeDevice \| Measure-Object over $n" }
    @{ id = 'Assign'; figure = 'seconds'; scenario = "Set-AdeDeviceProfile, $n devices" }
    @{ id = 'DefaultProfileSync'; figure = 'seconds'; scenario = "Full sync of $n with a default profile" }
    @{ id = 'MixedDefaultProfileSync'; figure = 'seconds'; scenario = "Full sync of a mixed token of $n, a default per platform" }
    @{ id = 'OrgInventorySmall'; figure = 'seconds'; scenario = "Get-AdeOrgDevice \| Measure-Object over $nos org devices" }
    @{ id = 'OrgInventory'; figure = 'seconds'; scenario = "Get-AdeOrgDevice \| Measure-Object over $n org devices" }
    @{ id = 'OrgAssign'; figure = 'seconds'; scenario = "Set-AdeOrgDeviceServer -Wait, $noa devices" }
    @{ id = 'ManyTokens'; figure = 'firstPassSeconds'; scenario = "Get-AdeToken \| Sync-AdeDevice -IfDue, $nt tokens, all due" }
    @{ id = 'ManyTokens'; figure = 'secondPassSeconds'; scenario = "Get-AdeToken \| Sync-AdeDevice -IfDue, $nt tokens, none due" }
    @{ id = 'MultiHostSync'; figure = 'seconds'; scenario = "$nmh processes × $nmd devices syncing at once (wall)" }
)
$pgRows = @(foreach ($f in $pgFigures) {
    if (-not $pgRuns.Contains($f.id)) { continue } # not selected (ADE_BENCH_ONLY) or PostgreSQL not requested
    $sqliteRun = $runs[$f.id]; $pgRun = $pgRuns[$f.id]
    $sqliteValue = Get-Figure $sqliteRun $f.figure
    $pgValue = Get-Figure $pgRun $f.figure
    $ratio = if ($null -ne $sqliteValue -and $null -ne $pgValue -and $sqliteValue -gt 0) { $pgValue / $sqliteValue } else { $null }
    # Not measured on PostgreSQL (no server, or a store part it lacks) is said so, not counted as met or missed.
    $status = if ($pgRun.Contains('unavailable')) { 'unavailable' } elseif ($pgRun.Contains('notSupported')) { 'notSupported' } elseif ($pgRun.ok) { 'measured' } else { 'failed' }
    $pgDisplay = switch ($status) {
        'unavailable' { 'not run: no PostgreSQL server' }
        'notSupported' { 'not available on PostgreSQL (StoreNotSupported)' }
        'failed' { 'failed' }
        default { & $sec $pgValue }
    }
    # Without a SQLite run (ADE_BENCH_PROVIDER=PostgreSQL) there is nothing to compare with: not measured either.
    $sqliteSkipped = $sqliteRun -and $sqliteRun.Contains('skipped')
    $met = if ($status -in 'unavailable', 'notSupported' -or $sqliteSkipped) { $null } elseif ($null -eq $ratio) { $false } else { $ratio -le $pgLimit }
    [ordered]@{
        id = "postgres$($f.id)$(if ($f.figure -ne 'seconds') { $f.figure.Substring(0, 1).ToUpper() + $f.figure.Substring(1) })Ratio"
        scenario = $f.scenario; status = $status; sqlite = $sqliteValue; postgres = $pgValue; ratio = $ratio
        sqliteDisplay = $(if ($null -ne $sqliteValue) { & $sec $sqliteValue } elseif ($sqliteRun -and $sqliteRun.Contains('skipped')) { 'not run' } else { 'failed' })
        postgresDisplay = $pgDisplay; ratioDisplay = (& $x $ratio); target = '≤ 2×'; limit = $pgLimit; met = $met; source = 'issue 13'
    }
})

$finished = [DateTimeOffset]::UtcNow
$report = [ordered]@{
    date = $started.ToString('o')
    durationSeconds = ($finished - $started).TotalSeconds
    machine = $machine
    loadAverageAfter = Get-LoadAverage
    devices = $Devices
    smallDevices = $SmallDevices
    figures = [ordered]@{
        fullSyncSmallSeconds = Get-Figure $small
        fullSyncBigSeconds = Get-Figure $big
        perDeviceSmallMicroseconds = if ($perDeviceSmall) { $perDeviceSmall * 1e6 } else { $null }
        perDeviceBigMicroseconds = if ($perDeviceBig) { $perDeviceBig * 1e6 } else { $null }
        perDeviceCostRatio = $perDeviceRatio
        peakWorkingSetSmallBytes = Get-Figure $small 'peakWorkingSetBytes'
        peakWorkingSetBigBytes = Get-Figure $big 'peakWorkingSetBytes'
        peakMemoryRatio = $memoryRatio
        rawBaselineSeconds = Get-Figure $runs.RawBaseline
        fullSyncVsRawRatio = $rawRatio
        rawDefaultBaselineSeconds = $rawDefault
        rawDefaultVsPlainSyncRatio = $rawDefaultVsPlain
        defaultVsRawDefaultRatio = $defaultVsRawDefault
        deltaSyncSeconds = Get-Figure $runs.DeltaSync
        lookupSerialMedianSeconds = Get-Figure $runs.LookupSerial
        pipeSerialsSeconds = Get-Figure $runs.PipeSerials
        pipeAllSeconds = Get-Figure $runs.PipeAll
        assignSeconds = Get-Figure $runs.Assign
        defaultProfileSyncSeconds = Get-Figure $runs.DefaultProfileSync
        mixedDefaultProfileSyncSeconds = Get-Figure $runs.MixedDefaultProfileSync
        orgInventorySmallSeconds = Get-Figure $runs.OrgInventorySmall
        orgInventorySeconds = Get-Figure $runs.OrgInventory
        orgInventoryMemoryRatio = $orgMemoryRatio
        orgAssignSeconds = Get-Figure $runs.OrgAssign
        manyTokensFirstPassSeconds = Get-Figure $runs.ManyTokens 'firstPassSeconds'
        manyTokensSecondPassSeconds = Get-Figure $runs.ManyTokens 'secondPassSeconds'
        multiHostSyncSeconds = Get-Figure $runs.MultiHostSync
        multiHostSyncDevicesPerSecond = Get-Figure $runs.MultiHostSync 'devicesPerSecond'
        multiHostSyncWorkerPeakWorkingSetMaxBytes = Get-Figure $runs.MultiHostSync 'workerPeakWorkingSetMaxBytes'
    }
    targets = @($rows | Where-Object { $null -ne $_.limit } | ForEach-Object {
        [ordered]@{ id = $_.id; scenario = $_.scenario; measured = $_.value; display = $_.display; target = $_.target; limit = $_.limit; met = $_.met; source = $_.source }
    })
    allTargetsMet = -not ($rows | Where-Object { $_.met -eq $false })
    scenarios = $runs
    postgres = [ordered]@{
        requested = $postgres.requested
        available = $postgres.available
        reason = $postgres.reason
        serverVersion = $postgres.serverVersion
        startedHere = $postgres.startedHere
        provider = $providerChoice
        ratios = $pgRows
        notMeasured = @($pgRows | Where-Object { $_.status -in 'unavailable', 'notSupported' } | ForEach-Object scenario)
        scenarios = $pgRuns
    }
}
$report.targets += @($pgRows | ForEach-Object {
    [ordered]@{ id = $_.id; scenario = "PostgreSQL ÷ SQLite: $($_.scenario)"; measured = $_.ratio; display = $_.ratioDisplay; target = $_.target; limit = $_.limit; met = $_.met; source = $_.source }
})
$report.allTargetsMet = $report.allTargetsMet -and -not ($pgRows | Where-Object { $_.met -eq $false })

New-Item -ItemType Directory -Force $ResultsFolder | Out-Null
$report | ConvertTo-Json -Depth 6 | Set-Content -Path (Join-Path $ResultsFolder 'latest.json')

$table = [Text.StringBuilder]::new()
[void]$table.AppendLine('| Scenario | Measured | Target | Met? |')
[void]$table.AppendLine('|---|---:|---:|:---:|')
foreach ($row in $rows) {
    $met = if ($null -eq $row.met) { '' } elseif ($row.met) { 'yes' } else { '**no**' }
    [void]$table.AppendLine("| $($row.scenario) | $($row.display) | $($row.target) | $met |")
}

$pgTable = [Text.StringBuilder]::new()
if ($postgres.requested) {
    if (-not $postgres.available) { [void]$pgTable.AppendLine("No PostgreSQL server ($($postgres.reason)): every scenario ran on SQLite only.") ; [void]$pgTable.AppendLine() }
    [void]$pgTable.AppendLine('| Scenario | SQLite | PostgreSQL | PostgreSQL ÷ SQLite | Target | Met? |')
    [void]$pgTable.AppendLine('|---|---:|---:|---:|---:|:---:|')
    foreach ($row in $pgRows) {
        $met = if ($null -eq $row.met) { '' } elseif ($row.met) { 'yes' } else { '**no**' }
        [void]$pgTable.AppendLine("| $($row.scenario) | $($row.sqliteDisplay) | $($row.postgresDisplay) | $($row.ratioDisplay) | $($row.target) | $met |")
    }
    foreach ($mh in @(@{ name = 'SQLite'; run = $runs['MultiHostSync'] }, @{ name = 'PostgreSQL'; run = $pgRuns['MultiHostSync'] })) {
        if (-not ($mh.run -and $mh.run.ok)) { continue }
        [void]$pgTable.AppendLine()
        [void]$pgTable.AppendLine("$nmh processes at once on $($mh.name): $(& $rate $mh.run.devicesPerSecond) devices stored all together; " +
            "peak working set per process $(& $mb $mh.run.workerPeakWorkingSetMeanBytes) on average, $(& $mb $mh.run.workerPeakWorkingSetMaxBytes) at most; " +
            "each host's own sync took $(& $sec $mh.run.fastestHostSeconds) to $(& $sec $mh.run.slowestHostSeconds).")
    }
}

$details = [Text.StringBuilder]::new()
[void]$details.AppendLine('| Run | Wall | CPU (engine process) | CPU (simulator, same window) | Peak working set (engine) | Peak working set (simulator) | Process total |')
[void]$details.AppendLine('|---|---:|---:|---:|---:|---:|---:|')
# each scenario's SQLite run, then its PostgreSQL run
$ordered = foreach ($id in $runs.Keys) { $runs[$id]; if ($pgRuns.Contains($id)) { $pgRuns[$id] } }
foreach ($r in @($ordered | Where-Object { -not $_.Contains('skipped') -and -not $_.Contains('unavailable') })) {
    $cpu = if ($r.Contains('cpuSeconds')) { & $sec $r.cpuSeconds } else { '' }
    $simCpu = if ($r.Contains('simulatorStepCpuSeconds')) { & $sec $r.simulatorStepCpuSeconds } else { '' }
    $simPeak = if ($r.Contains('simulatorPeakWorkingSetBytes')) { & $mb $r.simulatorPeakWorkingSetBytes } else { '' }
    $wall = if ($r.ok -and $r.Contains('repeatSeconds') -and @($r.repeatSeconds).Count -gt 1) { "$(& $sec $r.seconds) (median of $((@($r.repeatSeconds) | ForEach-Object { & $sec $_ }) -join ', '))" }
    elseif ($r.ok) { & $sec $r.seconds } elseif ($r.Contains('notSupported')) { 'not available on PostgreSQL (StoreNotSupported)' } else { 'failed: ' + $r.error }
    $runName = if ($r.Contains('provider') -and $r.provider -eq 'PostgreSQL') { "$($r.id) (PostgreSQL)" } else { $r.id }
    [void]$details.AppendLine("| $runName | $wall | $cpu | $simCpu | $(& $mb (Get-Figure $r 'peakWorkingSetBytes')) | $simPeak | $('{0:N0} s' -f $r.processSeconds) |")
}

$missed = @(@($rows) + @($pgRows | ForEach-Object { @{ scenario = "PostgreSQL ÷ SQLite, $($_.scenario)"; display = $_.ratioDisplay; target = $_.target; met = $_.met } }) | Where-Object { $_.met -eq $false })
$analysisPath = Join-Path $PSScriptRoot 'Analysis.md'
$md = [Text.StringBuilder]::new()
[void]$md.AppendLine('# AdeEnrollment benchmark — latest run')
[void]$md.AppendLine()
[void]$md.AppendLine("$($started.ToString('yyyy-MM-dd HH:mm')) UTC, commit $($machine.commit), $($machine.cpu), $($machine.logicalProcessors) logical processors, " +
    "$(& $mb $machine.memoryBytes) RAM, $($machine.os), $($machine.dotnet), PowerShell $($machine.powershell). " +
    "Load average $($machine.loadAverage) before, $($report.loadAverageAfter) after; the run took $('{0:N0}' -f $report.durationSeconds) s.")
[void]$md.AppendLine()
[void]$md.AppendLine('Produced by `build.ps1 Bench` (bench/Invoke-Benchmark.ps1): the real cmdlets against the simulator; each scenario in a fresh pwsh ' +
    'process, the simulator in a process of its own, so the peak working set is that of the pwsh process running the cmdlet. ' +
    'Wall times are Stopwatch around the cmdlet call. The full syncs (the default-profile sync too) and the raw baselines first do the same work untimed for ' +
    '1,000 devices of another token in the same process (JIT, first connection, first session), so the per-device costs ' +
    'compare across sizes; the other scenarios are timed as run. The full syncs of ' + ('{0:N0}' -f $SmallDevices) + ' and ' + ('{0:N0}' -f $Devices) + ' and the default-profile sync (on each store) and the two raw ' +
    "baselines run $Repeat times each, alternately and in fresh stores; their median run counts (all runs' wall times in the Runs table). " +
    'The lookup is the median of 20 distinct serials after 5 ' +
    'warm-up lookups. CPU is the pwsh process running the cmdlet (all its threads); the simulator runs in another process ' +
    'on the same cores, and its CPU time during the same window is shown beside it for the syncs, the raw baseline and the assignment.')
[void]$md.AppendLine()
[void]$md.Append($table.ToString())
[void]$md.AppendLine()
if ($postgres.requested) {
    [void]$md.AppendLine('## PostgreSQL')
    [void]$md.AppendLine()
    [void]$md.AppendLine("The same scenarios on a PostgreSQL store$(if ($postgres.available) { " (PostgreSQL $($postgres.serverVersion) on this machine, loopback; a fresh database per scenario)" }), " +
        'each after its SQLite run in the same benchmark run; the target is at most twice the SQLite figure. A scenario ' +
        'that needs a part of the store PostgreSQL does not provide yet is shown as not available there (StoreNotSupported).')
    [void]$md.AppendLine()
    [void]$md.Append($pgTable.ToString())
    [void]$md.AppendLine()
}
[void]$md.AppendLine('## Runs')
[void]$md.AppendLine()
[void]$md.Append($details.ToString())
[void]$md.AppendLine()
[void]$md.AppendLine('## Missed targets')
[void]$md.AppendLine()
if ($missed.Count -eq 0) { [void]$md.AppendLine('None in this run.') } else { foreach ($m in $missed) { [void]$md.AppendLine("- $($m.scenario): $($m.display), target $($m.target).") } }
$notMeasured = @($pgRows | Where-Object { $_.status -in 'unavailable', 'notSupported' })
if ($notMeasured.Count -gt 0) {
    [void]$md.AppendLine()
    [void]$md.AppendLine("Not measured on PostgreSQL ($($notMeasured.Count)): " + (($notMeasured | ForEach-Object { "$($_.scenario) ($($_.postgresDisplay))" }) -join '; ') + '.')
}
if (Test-Path $analysisPath) {
    [void]$md.AppendLine()
    [void]$md.Append((Get-Content -Raw $analysisPath))
}
Set-Content -Path (Join-Path $ResultsFolder 'latest.md') -Value $md.ToString()

Write-Host
Write-Host $table.ToString()
if ($postgres.requested) { Write-Host $pgTable.ToString() }
Write-Host "Results: $(Join-Path $ResultsFolder 'latest.json'), $(Join-Path $ResultsFolder 'latest.md')"
# Not available on PostgreSQL (StoreNotSupported) and no server at all are reported, not failures of the benchmark.
$failed = @(@($runs.Values) + @($pgRuns.Values) | Where-Object { -not $_.ok -and -not $_.Contains('skipped') -and -not $_.Contains('notSupported') -and -not $_.Contains('unavailable') })
if ($failed.Count -gt 0) {
    Write-Host "$($failed.Count) scenario(s) could not run: $(($failed | ForEach-Object { if ($_.provider -eq 'PostgreSQL') { "$($_.id) (PostgreSQL)" } else { $_.id } }) -join ', ')" -ForegroundColor Red
    exit 1
}
exit 0

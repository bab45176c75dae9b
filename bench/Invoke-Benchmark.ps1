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

function Get-LoadAverage {
    if (Test-Path /proc/loadavg) { [double]((Get-Content /proc/loadavg -Raw) -split ' ')[0] } else { $null }
}

# $env:ADE_BENCH_ONLY = 'Assign,DeltaSync' runs only those scenarios (a scenario that reads another's store runs
# that one too) and writes its results to a scratch folder instead of bench/results: for trying one change quickly.
$only = if ($env:ADE_BENCH_ONLY) { @($env:ADE_BENCH_ONLY -split ',' | ForEach-Object Trim) } else { $null }
if ($only) {
    if ($only -contains 'LookupSerial' -or $only -contains 'PipeAll') { $only += 'FullSyncBig' }
    if ($only -contains 'OrgInventory') { $only += 'OrgInventorySmall' }
    $ResultsFolder = Join-Path ([IO.Path]::GetTempPath()) 'ade-bench-partial'
}

function Invoke-Scenario {
    param([string] $Id, [string] $Scenario, [int] $Count, [string] $StorePath, [string[]] $Extra = @())
    if ($only -and $only -notcontains $Id) { return [ordered]@{ id = $Id; ok = $false; skipped = $true; error = 'skipped'; processSeconds = 0 } }
    $resultPath = Join-Path $scratch "$Id.json"
    $arguments = @('-NoProfile', '-NonInteractive', '-File', (Join-Path $PSScriptRoot 'Invoke-Scenario.ps1'),
        '-Scenario', $Scenario, '-Devices', $Count, '-Folder', (Join-Path $scratch $Id), '-StorePath', $StorePath, '-ResultPath', $resultPath) + $Extra
    Write-Host ("{0,-22} {1,9:N0} devices ... " -f $Id, $Count) -NoNewline
    $load = Get-LoadAverage
    $watch = [Diagnostics.Stopwatch]::StartNew()
    # Under `dotnet pwsh` the process is dotnet itself: start pwsh.dll through the same dotnet host.
    & dotnet (Join-Path $PSHOME 'pwsh.dll') @arguments | Out-Host
    $code = $LASTEXITCODE
    $r = if (Test-Path $resultPath) { Get-Content -Raw $resultPath | ConvertFrom-Json -AsHashtable } else { [ordered]@{ ok = $false; error = "no result (exit code $code)" } }
    $r.id = $Id
    $r.processSeconds = $watch.Elapsed.TotalSeconds
    $r.loadAverageBefore = $load
    if ($r.ok) { Write-Host ("{0:N3} s (process {1:N0} s)" -f $r.seconds, $r.processSeconds) } else { Write-Host "FAILED: $($r.error)" -ForegroundColor Red }
    $r
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
$bigStore = Join-Path $scratch 'synced-big.db'
$runs = [ordered]@{}
try {
    $runs.FullSyncSmall = Invoke-Scenario 'FullSyncSmall' 'FullSync' $SmallDevices (Join-Path $scratch 'small.db')
    $runs.FullSyncBig = Invoke-Scenario 'FullSyncBig' 'FullSync' $Devices $bigStore
    $runs.RawBaseline = Invoke-Scenario 'RawBaseline' 'RawBaseline' $Devices (Join-Path $scratch 'raw.db')
    $runs.DeltaSync = Invoke-Scenario 'DeltaSync' 'DeltaSync' $Devices (Join-Path $scratch 'delta.db')
    $runs.LookupSerial = Invoke-Scenario 'LookupSerial' 'LookupSerial' $Devices $bigStore
    $runs.PipeAll = Invoke-Scenario 'PipeAll' 'PipeAll' $Devices $bigStore
    $runs.Assign = Invoke-Scenario 'Assign' 'Assign' $Devices (Join-Path $scratch 'assign.db')
    $runs.DefaultProfileSync = Invoke-Scenario 'DefaultProfileSync' 'DefaultProfileSync' $Devices (Join-Path $scratch 'default.db')
    $runs.MixedDefaultProfileSync = Invoke-Scenario 'MixedDefaultProfileSync' 'MixedDefaultProfileSync' $Devices (Join-Path $scratch 'mixed.db')
    $runs.OrgInventorySmall = Invoke-Scenario 'OrgInventorySmall' 'OrgInventory' $OrgSmallDevices (Join-Path $scratch 'org-small.db')
    $runs.OrgInventory = Invoke-Scenario 'OrgInventory' 'OrgInventory' $Devices (Join-Path $scratch 'org.db')
    $runs.OrgAssign = Invoke-Scenario 'OrgAssign' 'OrgAssign' $OrgAssignDevices (Join-Path $scratch 'org-assign.db')
    $runs.ManyTokens = Invoke-Scenario 'ManyTokens' 'ManyTokens' $Devices (Join-Path $scratch 'many-tokens.db') -Extra @('-Tokens', $Tokens)
} finally {
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
$nos = '{0:N0}' -f $OrgSmallDevices; $noa = '{0:N0}' -f $OrgAssignDevices
$orgMemoryRatio = if ((Get-Figure $runs.OrgInventorySmall 'peakWorkingSetBytes') -and (Get-Figure $runs.OrgInventory 'peakWorkingSetBytes')) { $runs.OrgInventory.peakWorkingSetBytes / $runs.OrgInventorySmall.peakWorkingSetBytes } else { $null }
$n = '{0:N0}' -f $Devices; $ns = '{0:N0}' -f $SmallDevices; $nt = '{0:N0}' -f $Tokens; $perToken = '{0:N0}' -f [math]::Floor($Devices / $Tokens)
$mb = { param($b) if ($null -eq $b) { 'n/a' } else { '{0:N0} MB' -f ($b / 1MB) } }
$sec = { param($s) if ($null -eq $s) { 'n/a' } elseif ($s -lt 1) { '{0:N1} ms' -f ($s * 1000) } else { '{0:N2} s' -f $s } }
$x = { param($r) if ($null -eq $r) { 'n/a' } else { '{0:N2}×' -f $r } }

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
    @{ id = 'pipeAll'; scenario = "Get-AdeDevice \| Measure-Object over $n"; value = (Get-Figure $runs.PipeAll); kind = 'seconds'; limit = 10; target = '≤ 10 s'; source = 'issue 4' }
    @{ id = 'assign'; scenario = "Set-AdeDeviceProfile, $n devices"; value = (Get-Figure $runs.Assign); kind = 'seconds'; limit = 3; target = '≤ 3 s'; source = 'issue 12 (was ≤ 15 s, issue 5)' }
    @{ id = 'defaultProfileSync'; scenario = "Full sync of $n with a default profile"; value = (Get-Figure $runs.DefaultProfileSync); kind = 'seconds'; limit = 30; target = '≤ 30 s'; source = 'issue 5' }
    @{ id = 'defaultVsPlainSync'; scenario = "Full sync of $n with a default profile ÷ plain full sync"; value = $(if ((Get-Figure $runs.DefaultProfileSync) -and (Get-Figure $big)) { $runs.DefaultProfileSync.seconds / $big.seconds } else { $null }); kind = 'ratio'; limit = 1.5; target = '≤ 1.5×'; source = 'issue 12' }
    @{ id = 'mixedDefaultProfileSync'; scenario = "Full sync of a mixed token of $n, a default per platform"; value = (Get-Figure $runs.MixedDefaultProfileSync); kind = 'seconds'; limit = 30; target = '≤ 30 s'; source = 'issue 10' }
    @{ id = 'orgInventorySmall'; scenario = "Get-AdeOrgDevice \| Measure-Object over $nos org devices (half assigned; engine budget raised to 6,000 GET/min, simulator unlimited)"; value = (Get-Figure $runs.OrgInventorySmall); kind = 'seconds'; limit = $null; target = '—' }
    @{ id = 'orgInventory'; scenario = "Get-AdeOrgDevice \| Measure-Object over $n org devices (half assigned; engine budget raised to 6,000 GET/min, simulator unlimited)"; value = (Get-Figure $runs.OrgInventory); kind = 'seconds'; limit = $null; target = '—' }
    @{ id = 'orgInventoryPeakMemory'; scenario = "Peak working set, org inventory of $n"; value = (Get-Figure $runs.OrgInventory 'peakWorkingSetBytes'); kind = 'bytes'; limit = $null; target = '—' }
    @{ id = 'orgInventoryMemoryRatio'; scenario = "Peak working set, org inventory $n ÷ $nos"; value = $orgMemoryRatio; kind = 'ratio'; limit = 1.5; target = '≤ 1.5×'; source = 'issue 14' }
    @{ id = 'orgAssign'; scenario = "Set-AdeOrgDeviceServer -Wait, $noa devices in activities of 1,000 (simulator clock, engine's default budget)"; value = (Get-Figure $runs.OrgAssign); kind = 'seconds'; limit = $null; target = '—' }
    @{ id = 'manyTokensFirstPass'; scenario = "Get-AdeToken \| Sync-AdeDevice -IfDue, $nt tokens × $perToken devices, all due (full syncs)"; value = (Get-Figure $runs.ManyTokens 'firstPassSeconds'); kind = 'seconds'; limit = 10; target = '≤ 10 s'; source = 'issue 12' }
    @{ id = 'manyTokensSecondPass'; scenario = "Get-AdeToken \| Sync-AdeDevice -IfDue, $nt tokens, none due"; value = (Get-Figure $runs.ManyTokens 'secondPassSeconds'); kind = 'seconds'; limit = 1; target = '≤ 1 s'; source = 'issue 12' }
)
foreach ($row in $rows) {
    $row.met = if ($null -eq $row.limit) { $null } elseif ($null -eq $row.value) { $false } else { $row.value -le $row.limit }
    $row.display = switch ($row.kind) { 'seconds' { & $sec $row.value } 'bytes' { & $mb $row.value } 'ratio' { & $x $row.value } }
}

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
        deltaSyncSeconds = Get-Figure $runs.DeltaSync
        lookupSerialMedianSeconds = Get-Figure $runs.LookupSerial
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
    }
    targets = @($rows | Where-Object { $null -ne $_.limit } | ForEach-Object {
        [ordered]@{ id = $_.id; scenario = $_.scenario; measured = $_.value; display = $_.display; target = $_.target; limit = $_.limit; met = $_.met; source = $_.source }
    })
    allTargetsMet = -not ($rows | Where-Object { $_.met -eq $false })
    scenarios = $runs
}

New-Item -ItemType Directory -Force $ResultsFolder | Out-Null
$report | ConvertTo-Json -Depth 6 | Set-Content -Path (Join-Path $ResultsFolder 'latest.json')

$table = [Text.StringBuilder]::new()
[void]$table.AppendLine('| Scenario | Measured | Target | Met? |')
[void]$table.AppendLine('|---|---:|---:|:---:|')
foreach ($row in $rows) {
    $met = if ($null -eq $row.met) { '' } elseif ($row.met) { 'yes' } else { '**no**' }
    [void]$table.AppendLine("| $($row.scenario) | $($row.display) | $($row.target) | $met |")
}

$details = [Text.StringBuilder]::new()
[void]$details.AppendLine('| Run | Wall | CPU (engine process) | Peak working set (engine) | Peak working set (simulator) | Process total |')
[void]$details.AppendLine('|---|---:|---:|---:|---:|---:|')
foreach ($r in @($runs.Values | Where-Object { -not $_.Contains('skipped') })) {
    $cpu = if ($r.Contains('cpuSeconds')) { & $sec $r.cpuSeconds } else { '' }
    $simPeak = if ($r.Contains('simulatorPeakWorkingSetBytes')) { & $mb $r.simulatorPeakWorkingSetBytes } else { '' }
    $wall = if ($r.ok) { & $sec $r.seconds } else { 'failed: ' + $r.error }
    [void]$details.AppendLine("| $($r.id) | $wall | $cpu | $(& $mb (Get-Figure $r 'peakWorkingSetBytes')) | $simPeak | $('{0:N0} s' -f $r.processSeconds) |")
}

$missed = @($rows | Where-Object { $_.met -eq $false })
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
    'Wall times are Stopwatch around the cmdlet call. The full syncs and the raw baseline first do the same work untimed for ' +
    '1,000 devices of another token in the same process (JIT, first connection, first session), so the per-device costs ' +
    'compare across sizes; the other scenarios are timed as run. The lookup is the median of 20 distinct serials after 5 ' +
    'warm-up lookups. CPU is the pwsh process running the cmdlet (all its threads); the simulator runs in another process.')
[void]$md.AppendLine()
[void]$md.Append($table.ToString())
[void]$md.AppendLine()
[void]$md.AppendLine('## Runs')
[void]$md.AppendLine()
[void]$md.Append($details.ToString())
[void]$md.AppendLine()
[void]$md.AppendLine('## Missed targets')
[void]$md.AppendLine()
if ($missed.Count -eq 0) { [void]$md.AppendLine('None in this run.') } else { foreach ($m in $missed) { [void]$md.AppendLine("- $($m.scenario): $($m.display), target $($m.target).") } }
if (Test-Path $analysisPath) {
    [void]$md.AppendLine()
    [void]$md.Append((Get-Content -Raw $analysisPath))
}
Set-Content -Path (Join-Path $ResultsFolder 'latest.md') -Value $md.ToString()

Write-Host
Write-Host $table.ToString()
Write-Host "Results: $(Join-Path $ResultsFolder 'latest.json'), $(Join-Path $ResultsFolder 'latest.md')"
$failed = @($runs.Values | Where-Object { -not $_.ok -and -not $_.Contains('skipped') })
if ($failed.Count -gt 0) {
    Write-Host "$($failed.Count) scenario(s) could not run: $(($failed | ForEach-Object id) -join ', ')" -ForegroundColor Red
    exit 1
}
exit 0

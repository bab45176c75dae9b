# One host of the MultiHostSync scenario (bench/Invoke-Scenario.ps1): a pwsh process of its own that connects to the
# shared store, says '@@READY' on stdout, waits for a line 'go' on stdin, syncs its token, and writes one JSON object
# to -ResultPath (start and end as UTC ticks, so the scenario can take the wall time of all hosts together, the sync
# result, and this process's peak working set). Never used by the tests.
[CmdletBinding()]
param(
    [Parameter(Mandatory)] [string] $Token,
    [Parameter(Mandatory)] [string] $ResultPath,
    [ValidateSet('SQLite', 'PostgreSQL')] [string] $Provider = 'SQLite',
    # The SQLite file; a PostgreSQL store comes in $env:ADE_BENCH_POSTGRES_STORE.
    [string] $StorePath
)

$ErrorActionPreference = 'Stop'
Set-StrictMode -Version Latest
$ProgressPreference = 'SilentlyContinue'
. (Join-Path $PSScriptRoot 'BenchCommon.ps1')
$result = [ordered]@{ token = $Token; provider = $Provider; pid = $PID }
try {
    Import-Module AdeEnrollment
    $store = if ($Provider -eq 'PostgreSQL') { $env:ADE_BENCH_POSTGRES_STORE } else { $StorePath }
    Connect-BenchStore -Provider $Provider -Store $store
    $null = Get-AdeToken -Name $Token # loads the cmdlets and opens the store before the start signal
    [Console]::Out.WriteLine('@@READY')
    [Console]::Out.Flush()
    $line = [Console]::In.ReadLine()
    if ($line -ne 'go') { throw "Expected 'go' on stdin, got '$line'." }
    $result.startTicks = [DateTime]::UtcNow.Ticks
    $step = Measure-Step { Sync-AdeDevice -Token $Token 3>&1 }
    $result.endTicks = [DateTime]::UtcNow.Ticks
    $warnings = @($step.Output | Where-Object { $_ -is [Management.Automation.WarningRecord] } | ForEach-Object Message)
    if ($warnings.Count -gt 0) { $result.warnings = $warnings }
    $r = $step.Output | Where-Object { $_ -isnot [Management.Automation.WarningRecord] } | Select-Object -First 1
    $result.seconds = $step.Seconds
    $result.cpuSeconds = $step.CpuSeconds
    $result.status = "$($r.Status)"
    $result.kind = "$($r.Kind)"
    $result.added = $r.Added
    $result.pages = $r.Pages
    $result.ok = $true
} catch {
    $result.ok = $false
    $result.error = "$_"
    if (Test-StoreNotSupported $_) { $result.notSupported = $true }
    [Console]::Out.WriteLine('@@FAILED')
    [Console]::Out.Flush()
}
$peak = Get-PeakMemory
$result.peakWorkingSetBytes = $peak.PeakWorkingSetBytes
$result.vmHwmBytes = $peak.VmHwmBytes
$result | ConvertTo-Json -Depth 4 | Set-Content -Path $ResultPath
exit ([int](-not $result.ok))
